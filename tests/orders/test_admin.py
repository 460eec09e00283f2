import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import Order, OrderLine, OrderStatus
from orders.services import flag_order, mark_order_paid, mark_shipped
from tests.factories import ItemFactory, UserFactory
from tests.orders.helpers import PARCEL, place, stock_of

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")
LINES = reverse("admin:orders_orderline_changelist")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client, action: str, *orders: Order):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [order.pk for order in orders]})


def paid(user, *lines) -> Order:
    return mark_order_paid(order=place(user, *lines))


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_staff_order_list_formats_totals_and_filters_by_status_and_searches_email(staff_client, item):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    paid_order, pending_order = paid(alice, (item, 2)), place(bob, (item, 1))

    html = staff_client.get(CHANGELIST, {"status__exact": "paid"}).content.decode()
    assert paid_order.number in html and "€25.00" in html and pending_order.number not in html

    found = staff_client.get(CHANGELIST, {"q": "bob@"}).context["cl"].result_list
    assert [order.number for order in found] == [pending_order.number]


def test_mark_shipped_moves_paid_orders_and_reports_each_skipped_one(staff_client, user, item):
    first, second, pending = paid(user, (item, 1)), paid(user, (item, 1)), place(user, (item, 1))

    response = run_action(staff_client, "mark_shipped", first, second, pending)
    assert response.status_code == 200 and Order.objects.filter(status="shipped").count() == 0  # the ship form first
    tracking = {f"tracking_{order.pk}": f"T-{order.number}" for order in (first, second)}
    response = staff_client.post(
        CHANGELIST,
        {"action": "mark_shipped", "_selected_action": [o.pk for o in (first, second, pending)], "ship": "yes",
         "carrier": "DHL", **tracking},
    )  # fmt: skip

    assert response.status_code == 302
    assert messages_of(response) == [
        "2 orders marked shipped.",
        f"Skipped {pending.number}: it is pending payment and cannot become shipped.",
    ]
    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses == {first.number: "shipped", second.number: "shipped", pending.number: "pending_payment"}


def test_mark_delivered_moves_shipped_orders_and_skips_paid_ones(staff_client, user, item):
    shipped, still_paid = mark_shipped(order=paid(user, (item, 1)), **PARCEL), paid(user, (item, 1))

    response = run_action(staff_client, "mark_delivered", shipped, still_paid)

    assert messages_of(response) == [
        "1 order marked delivered.",
        f"Skipped {still_paid.number}: it is paid and cannot become delivered.",
    ]
    shipped.refresh_from_db()
    still_paid.refresh_from_db()
    assert shipped.status == OrderStatus.DELIVERED and shipped.delivered_at is not None
    assert still_paid.status == OrderStatus.PAID


def test_cancel_releases_the_stock_of_pending_orders_and_skips_paid_ones(staff_client, user, item):
    pending, paid_order = place(user, (item, 3)), paid(user, (item, 2))
    assert stock_of(item) == 5

    response = run_action(staff_client, "cancel_orders", pending, paid_order)

    assert messages_of(response) == [
        "1 order cancelled, their stock released.",
        f"Skipped {paid_order.number}: it is paid and cannot become cancelled.",
    ]
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert stock_of(item) == 8
    # Cancelling again releases nothing twice.
    again = messages_of(run_action(staff_client, "cancel_orders", pending))
    assert again[-1] == f"Skipped {pending.number}: it is cancelled and cannot become cancelled."
    assert stock_of(item) == 8


def test_clear_attention_flag_resolves_flagged_orders(staff_client, user, item):
    order = flag_order(order=place(user, (item, 1)), reason="Paid twice")
    assert staff_client.get(CHANGELIST, {"needs_attention__exact": "1"}).context["cl"].result_count == 1

    response = run_action(staff_client, "clear_attention_flag", order)

    order.refresh_from_db()
    assert messages_of(response) == ["1 order cleared."]
    assert not order.needs_attention and order.attention_reason == ""


def test_orders_cannot_be_added_edited_or_deleted_in_the_admin(staff_client, user, item):
    order = paid(user, (item, 1))
    change = reverse("admin:orders_order_change", args=[order.pk])

    page = staff_client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # a read-only view
    assert staff_client.post(change, {"total_minor": 1, "status": "delivered"}).status_code == 403
    assert staff_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert staff_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    actions = [name for name, _ in staff_client.get(CHANGELIST).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "refund_orders" in actions
    order.refresh_from_db()
    assert (order.status, order.total_minor) == (OrderStatus.PAID, 1250)


def test_sellers_are_refused_the_order_admin(client, item):
    order = place(UserFactory(), (item, 1))
    client.force_login(item.seller)

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 403
    response = run_action(client, "mark_shipped", order)
    assert response.status_code == 403 and Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


@pytest.fixture
def two_sellers_lines(db):
    """One paid order holding a line of each seller's item, and a pending order of the first seller's item."""
    mine, theirs = ItemFactory(title="Mine mug"), ItemFactory(title="Their teapot")
    buyer = UserFactory(email="buyer@example.com")
    order = paid(buyer, (mine, 2), (theirs, 1))
    pending = place(buyer, (mine, 1))
    return {
        "seller": mine.seller,
        "other": theirs.seller,
        "mine": OrderLine.objects.get(order=order, item_id=mine.pk),
        "theirs": OrderLine.objects.get(order=order, item_id=theirs.pk),
        "pending_mine": OrderLine.objects.get(order=pending),
    }


def test_seller_sees_only_own_lines_with_the_shipping_details_and_not_the_buyers_email(client, two_sellers_lines):
    client.force_login(two_sellers_lines["seller"])

    response = client.get(LINES, {"q": "e"})  # even a search matching both sellers' titles
    html = response.content.decode()
    assert {line.pk for line in response.context["cl"].result_list} == {
        two_sellers_lines["mine"].pk,
        two_sellers_lines["pending_mine"].pk,
    }
    assert "Mine mug" in html and "Their teapot" not in html
    assert "Ann Buyer, 1 Main Street, 10115 Berlin, DE" in html and "€25.00" in html
    assert "buyer@example.com" not in html

    detail = client.get(reverse("admin:orders_orderline_change", args=[two_sellers_lines["mine"].pk]))
    assert detail.status_code == 200 and "Berlin" in detail.content.decode()
    assert "buyer@example.com" not in detail.content.decode()


def test_seller_sees_no_address_on_a_line_of_an_unpaid_order(client, two_sellers_lines):
    client.force_login(two_sellers_lines["seller"])
    detail = client.get(reverse("admin:orders_orderline_change", args=[two_sellers_lines["pending_mine"].pk]))
    assert detail.status_code == 200 and "Main Street" not in detail.content.decode()


def test_seller_forging_another_sellers_line_url_is_told_it_does_not_exist(client, two_sellers_lines):
    client.force_login(two_sellers_lines["seller"])
    theirs = two_sellers_lines["theirs"].pk

    for url in (
        reverse("admin:orders_orderline_change", args=[theirs]),
        reverse("admin:orders_orderline_history", args=[theirs]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("admin:index")
        assert any("doesn\u2019t exist" in message for message in messages_of(response))
    assert client.post(reverse("admin:orders_orderline_change", args=[theirs]), {"quantity": 9}).status_code == 403
    assert OrderLine.objects.get(pk=theirs).quantity == 1


def test_staff_see_every_line_with_its_seller_and_cannot_change_lines(staff_client, two_sellers_lines):
    response = staff_client.get(LINES)
    assert response.context["cl"].result_count == 3
    assert str(two_sellers_lines["other"]) in response.content.decode()
    change = reverse("admin:orders_orderline_change", args=[two_sellers_lines["mine"].pk])
    assert staff_client.post(change, {"quantity": 9}).status_code == 403
    assert staff_client.get(reverse("admin:orders_orderline_add")).status_code == 403


def test_a_user_outside_the_sellers_group_cannot_read_order_lines(client, two_sellers_lines):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(LINES).status_code == 403


def test_clearing_a_flag_that_is_not_there_records_nothing(staff_client, user, item):
    order = place(user, (item, 1))
    response = run_action(staff_client, "clear_attention_flag", order)
    assert messages_of(response)[-1] == f"Skipped {order.number}: Order {order.number} has no flag to clear."
    assert not order.events.filter(kind="flag_cleared").exists()
