import re
from datetime import date, timedelta

import pytest
from django.urls import include, path, reverse
from django.utils import timezone

from orders.dashboard import CHART_HEIGHT, PLOT_BOTTOM, PLOT_TOP, sales_chart
from orders.models import Order
from orders.selectors import DaySales
from orders.services import mark_order_paid, mark_refunded, mark_shipped
from shop.urls import urlpatterns as shop_urlpatterns
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import PARCEL, place
from tests.payments.conftest import demo_paid

# The line shop/urls.py needs, before the admin's own URLs.
urlpatterns = [path("admin/dashboard/", include("orders.dashboard")), *shop_urlpatterns]
pytestmark = pytest.mark.urls(__name__)

DASHBOARD = "/admin/dashboard/"
PLOT_HEIGHT = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM


def test_chart_draws_one_bar_per_day_scaled_to_a_round_maximum():
    days = [DaySales(day=date(2026, 3, 1) + timedelta(days=n), orders=n % 2, revenue_minor=n * 1000) for n in range(30)]

    chart = sales_chart(days)

    assert len(chart.bars) == 30
    assert chart.bars[0].height == 0 and chart.bars[0].y == chart.baseline
    assert chart.bars[-1].height == pytest.approx(PLOT_HEIGHT * 29000 / 50000, abs=0.1)  # axis tops out at €500
    assert [line.label for line in chart.grid] == ["€0.00", "€125.00", "€250.00", "€375.00", "€500.00"]
    assert chart.bars[-1].day_label == "30 Mar" and chart.bars[-2].day_label == ""
    assert chart.bars[-1].tooltip == "Mon 30 Mar: €290.00, 1 order"


def test_chart_of_days_without_sales_is_flat():
    chart = sales_chart([DaySales(day=date(2026, 3, 1), orders=0, revenue_minor=0)])
    assert chart.bars[0].height == 0 and chart.grid[-1].label == "€10.00"


@pytest.fixture
def shop(db):
    """Two sellers' sales: seller A sells mugs (12.50), seller B teapots (40.00) and a nearly sold-out kettle."""
    mug = ItemFactory(title="Mug", sku="MUG", price_minor=1250, stock=50)
    teapot = ItemFactory(title="Teapot", sku="TEA", price_minor=4000, stock=50)
    kettle = ItemFactory(title="Kettle", sku="KET", price_minor=3000, stock=3, seller=teapot.seller)
    ItemFactory(title="Hidden", stock=0, is_active=False, seller=teapot.seller)
    buyer = UserFactory()
    both = mark_shipped(order=mark_order_paid(order=place(buyer, (mug, 2), (teapot, 1))), **PARCEL)  # 25.00 + 40.00
    mugs = mark_order_paid(order=place(buyer, (mug, 4)))  # 50.00
    refunded = mark_refunded(order=mark_order_paid(order=place(buyer, (teapot, 2))))  # 80.00, refunded
    old = mark_order_paid(order=place(buyer, (teapot, 5)))  # paid 40 days ago: outside the window
    Order.objects.filter(pk=old.pk).update(paid_at=timezone.now() - timedelta(days=40))
    Order.objects.filter(pk=mugs.pk).update(paid_at=timezone.now() - timedelta(days=3))
    place(buyer, (mug, 1))  # pending
    return {"mug": mug, "teapot": teapot, "kettle": kettle, "both": both, "mugs": mugs, "refunded": refunded}


def bar_heights(html: str) -> list[float]:
    return [float(height) for height in re.findall(r'<rect class="chart-bar"[^>]* height="([\d.]+)"', html)]


def test_staff_dashboard_shows_the_shops_figures_in_bounded_queries(client, staff, shop, django_assert_max_num_queries):
    client.force_login(staff)

    with django_assert_max_num_queries(12):
        response = client.get(DASHBOARD)

    context, html = response.context, response.content.decode()
    assert response.status_code == 200
    revenue = context["revenue"]
    assert (revenue.gross_minor, revenue.refunded_minor, revenue.net_minor) == (19500, 8000, 11500)
    assert (revenue.orders, revenue.refunded_orders) == (3, 1)
    assert dict(context["per_status"]) == {
        "Pending payment": 1, "Paid": 2, "Shipped": 1, "Delivered": 0, "Cancelled": 0, "Expired": 0,
        "Partially refunded": 0, "Refunded": 1,
    }  # fmt: skip
    assert [(row.sku, row.units, row.revenue_minor) for row in context["best_sellers"]] == [
        ("MUG", 6, 7500),
        ("TEA", 1, 4000),
    ]
    assert [item.title for item in context["low_stock"]] == ["Kettle"]
    heights = bar_heights(html)
    assert len(heights) == 30 and heights[-1] > 0 and heights[-4] > 0 and heights.count(0) == 28
    # CSP: no inline styles or scripts; presentation attributes only.
    assert "style=" not in html and "<style" not in html and "<script>" not in html
    assert "css/admin-dashboard.css" in html


def test_seller_dashboard_counts_only_their_own_lines_and_items(client, shop):
    client.force_login(shop["teapot"].seller)

    context = client.get(DASHBOARD).context

    revenue = context["revenue"]
    assert (revenue.gross_minor, revenue.refunded_minor, revenue.net_minor) == (12000, 8000, 4000)
    assert dict(context["per_status"])["Shipped"] == 1 and dict(context["per_status"])["Paid"] == 1
    assert dict(context["per_status"])["Pending payment"] == 0  # the pending order holds only a mug
    assert [row.sku for row in context["best_sellers"]] == ["TEA"]
    assert [item.title for item in context["low_stock"]] == ["Kettle"]
    assert context["chart"].bars[-1].tooltip.endswith("€40.00, 1 order")

    client.force_login(shop["mug"].seller)
    context = client.get(DASHBOARD).context
    assert context["revenue"].net_minor == 7500 and context["low_stock"] == []


def test_dashboard_is_refused_to_staff_without_order_access_and_to_visitors(client, db):
    assert client.get(DASHBOARD).status_code == 302  # to the admin login
    client.force_login(UserFactory(is_staff=True))
    assert client.get(DASHBOARD).status_code == 403


def test_admin_index_links_to_the_dashboard(client, staff):
    client.force_login(staff)
    assert f'href="{reverse("dashboard:index")}"' in client.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("for_seller", [False, True])
def test_the_sales_chart_adds_up_to_the_net_revenue_after_discounts_and_refunds(user, staff, settings, for_seller):
    """The chart's days and the revenue figures beside it tell one story: what buyers paid (after a discount), less
    what went back (in part by lines, in part by an amount, or all of an order by an amount)."""
    from orders.dashboard import window
    from orders.selectors import revenue, sales_by_day
    from payments.services import refund_payment
    from pricing.models import DiscountCode
    from tests.factories import SellerFactory

    settings.PAYMENTS_DEMO_GATEWAY, settings.STRIPE_SECRET_KEY = True, ""
    seller = SellerFactory()
    mug = ItemFactory(title="Mug", sku="MUG", price_minor=1000, stock=50, seller=seller)
    DiscountCode.objects.create(code="HALF", kind="percent", value=50)
    demo_paid(user, (mug, 1))
    demo_paid(user, (mug, 2), discount_code="HALF")
    by_lines = demo_paid(user, (mug, 3))
    refund_payment(order=by_lines, actor=staff, lines=[(by_lines.lines.get().pk, 2)])
    gone = demo_paid(user, (mug, 2))
    refund_payment(order=gone, actor=staff, amount_minor=gone.total_minor)

    since, until = window()
    who = seller if for_seller else None
    figures = revenue(since=since, until=until, seller=who)
    chart = sum(day.revenue_minor for day in sales_by_day(since=since, until=until, seller=who))
    assert chart == figures.net_minor
    if for_seller:  # 10.00 + 10.00 (20.00 at half) + 10.00 (30.00, 2 units back); the order refunded in full: 0
        assert (figures.gross_minor, figures.net_minor) == (1000 + 1000 + 3000 + 2000, 3000)
