"""Staff see an order's frozen breakdown in the admin and refund chosen units or an amount of it from its refund page;
bad input is shown on the form and changes nothing, and only staff who may change orders reach the page."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import Order, OrderLine, OrderStatus, Refund, RefundStatus
from orders.services import check_stock
from payments.models import Payment
from payments.services import confirm_checkout_session, pay_demo_session, refund_payment, start_payment
from pricing.models import DiscountCode
from tests.factories import UserFactory
from tests.orders.helpers import place, stock_of
from tests.payments.conftest import SITE

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def change_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def refund_url(order: Order) -> str:
    return reverse("admin:orders_order_refund", args=[order.pk])


def field(line: OrderLine) -> str:
    return f"line_{line.pk}"


def placed(user, make_item, express) -> dict:
    """A pan at 20.00 (19% VAT) and two books at 10.00 (7%), 10% off with TEN, sent by express (12.90): 48.90."""
    DiscountCode.objects.create(code="TEN", kind="percent", value=10)
    pan, book = make_item(title="Pan", price_minor=2000, stock=10), make_item(title="Book", price_minor=1000, stock=10)
    book.tax_class = "reduced"
    book.save()
    order = place(user, (pan, 1), (book, 2), discount_code="TEN", shipping_method_id=str(express.pk))
    lines = {line.title: line for line in order.lines.all()}
    return {"order": order, "pan": pan, "book": book, "Pan": lines["Pan"], "Book": lines["Book"]}


@pytest.fixture
def bought(user, make_item, rates, zones) -> dict:
    """The order of `placed`, paid through the demo gateway."""
    data = placed(user, make_item, zones["express"])
    payment = start_payment(order=data["order"], site_url=SITE)
    pay_demo_session(session_id=payment.session_id)
    data["order"] = Order.objects.get(pk=data["order"].pk)
    return data


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def nothing_changed(bought: dict) -> bool:
    order = Order.objects.get(pk=bought["order"].pk)
    return (
        order.status == OrderStatus.PAID
        and order.refunded_minor == 0
        and not Refund.objects.filter(order=order).exists()
        and not OrderLine.objects.filter(order=order, refunded_quantity__gt=0).exists()
        and (stock_of(bought["pan"]), stock_of(bought["book"])) == (9, 8)
    )


def test_the_change_page_shows_the_frozen_breakdown_with_vat_per_rate_and_the_refund_link(staff_client, bought):
    order = bought["order"]
    assert order.total_minor == 4890

    html = staff_client.get(change_url(order)).content.decode()

    for shown in (
        "€40.00",  # subtotal
        "-€4.00 (code TEN)",
        "Express: €12.90",
        "€2.06 at 19%",  # the shipping's VAT
        "19%: €4.93",  # the pan's 2.87 and the shipping's 2.06
        "7%: €1.18",
        "€6.11 in all, included in the prices",
        "€48.90",
        "Refunded so far",
        "Refund lines or an amount",
        refund_url(order),
    ):
        assert shown in html, shown
    # The lines inline: unit price, discount share, VAT rate and VAT of each line.
    assert all(text in html for text in ("€10.00", "€2.00", "7%", "€1.18", "€2.87"))


def test_the_refund_page_lists_each_line_with_what_is_left_and_about_what_a_unit_refunds(staff_client, bought):
    refund_payment(order=bought["order"], lines=[(bought["Book"].pk, 1)])

    response = staff_client.get(refund_url(bought["order"]))

    assert response.status_code == 200
    rows = [(row.line.title, row.left, row.about_each) for row in response.context["line_rows"]]
    assert rows == [("Book", 1, "€9.00"), ("Pan", 1, "€18.00")]  # each line after its 10% share of the code
    html = response.content.decode()
    assert "left to refund €39.90" in html and 'name="csrfmiddlewaretoken"' in html
    assert f'name="{field(bought["Book"])}"' in html and 'max="1"' in html


def test_refunding_one_line_with_restock_updates_the_order_the_stock_and_the_refund_inline(staff_client, staff, bought):
    order, book = bought["order"], bought["Book"]

    response = staff_client.post(refund_url(order), {field(book): "1", "restock": "on", "note": "Cover torn"})

    assert response.status_code == 302 and response.url == change_url(order)
    assert messages_of(response) == [
        f"Refunded €9.00 of order {order.number}; it is partially refunded now; 1 unit back in stock."
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.refunded_minor == 900
    refund = Refund.objects.get(order=order)
    assert (refund.amount_minor, refund.status, refund.restock) == (900, RefundStatus.DONE, True)
    assert (refund.note, refund.created_by) == ("Cover torn", staff)
    refunded = [(line.order_line_id, line.quantity, line.amount_minor) for line in refund.lines.all()]
    assert refunded == [(book.pk, 1, 900)]
    assert (stock_of(bought["book"]), stock_of(bought["pan"])) == (9, 9) and check_stock().clean
    assert Payment.objects.get(order=order).amount_refunded_minor == 900

    html = staff_client.get(change_url(order)).content.decode()
    assert "1 x Book (€9.00)" in html and "Cover torn" in html and "Partially refunded" in html
    assert str(staff) in html


def test_an_amount_refund_refunds_that_amount_and_no_units(staff_client, bought):
    order = bought["order"]

    response = staff_client.post(refund_url(order), {"amount": "12.5", "note": "Late delivery"})

    assert messages_of(response) == [f"Refunded €12.50 of order {order.number}; it is partially refunded now."]
    refund = Refund.objects.get(order=order)
    assert (refund.amount_minor, refund.status, refund.lines.count()) == (1250, RefundStatus.DONE, 0)
    assert Order.objects.get(pk=order.pk).refunded_minor == 1250
    assert (stock_of(bought["pan"]), stock_of(bought["book"])) == (9, 8)


def test_refunding_what_is_left_of_every_line_and_shipping_as_an_amount_refunds_the_order(staff_client, bought):
    order = bought["order"]
    staff_client.post(refund_url(order), {field(bought["Pan"]): "1", field(bought["Book"]): "2", "restock": "on"})

    response = staff_client.post(refund_url(order), {"amount": "12.90"})  # the express shipping

    assert messages_of(response)[-1] == f"Refunded €12.90 of order {order.number}; it is refunded now."
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.refunded_minor == order.total_minor == 4890
    assert (stock_of(bought["pan"]), stock_of(bought["book"])) == (10, 10) and check_stock().clean
    assert "Refund lines or an amount" not in staff_client.get(change_url(order)).content.decode()


@pytest.mark.parametrize(
    "data, error",
    [
        ({"Pan": "2"}, "Only 1 left to refund."),
        ({"Book": "-1"}, "Enter 0 or more units."),
        ({"Book": "two"}, "Enter a whole number of units."),
        ({"Book": "1", "amount": "5"}, "Refund chosen units or an amount, not both."),
        ({}, "Choose the units to refund, or enter an amount."),
        ({"Book": "0", "amount": " "}, "Choose the units to refund, or enter an amount."),
        ({"amount": "ten euros"}, "Enter an amount in major units"),
        ({"amount": "-5"}, "Enter an amount in major units"),
        ({"amount": "0"}, "A refund is at least 0.01."),  # the service's refusal
        ({"amount": "48.91"}, "Only €48.90 of order"),  # the service's refusal
    ],
)
def test_bad_input_is_shown_on_the_form_and_changes_nothing(staff_client, bought, data, error):
    post = {field(bought[key]) if key in ("Pan", "Book") else key: value for key, value in data.items()}

    response = staff_client.post(refund_url(bought["order"]), post)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(error in message for messages in errors.values() for message in messages), errors
    assert "Please correct the error below." in response.content.decode()
    assert not messages_of(response) and nothing_changed(bought)


def test_a_refund_beyond_what_is_left_after_an_earlier_one_is_refused_on_the_form(staff_client, bought):
    order = bought["order"]
    refund_payment(order=order, lines=[(bought["Pan"].pk, 1)])

    response = staff_client.post(refund_url(order), {field(bought["Pan"]): "1"})  # the field is disabled now
    assert "Choose the units to refund, or enter an amount." in response.context["form"].non_field_errors()

    response = staff_client.post(refund_url(order), {"amount": "31"})
    assert f"Only €30.90 of order {order.number} is left to refund." in response.context["form"].non_field_errors()
    assert Order.objects.get(pk=order.pk).refunded_minor == 1800 and Refund.objects.filter(order=order).count() == 1


def test_an_unpaid_order_has_no_refund_link_and_its_page_says_it_cannot_be_refunded(
    staff_client, user, make_item, rates, zones
):
    order = placed(user, make_item, zones["express"])["order"]

    assert "Refund lines or an amount" not in staff_client.get(change_url(order)).content.decode()
    page = staff_client.get(refund_url(order))
    assert page.status_code == 200 and "is pending payment and cannot be refunded" in page.content.decode()
    assert 'name="amount"' not in page.content.decode()
    posted = staff_client.post(refund_url(order), {"amount": "1"})
    assert posted.status_code == 200 and "cannot be refunded" in posted.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and not Refund.objects.filter(order=order).exists()


def test_visitors_sellers_and_staff_who_may_not_change_orders_cannot_refund(client, bought):
    order, book = bought["order"], bought["Book"]

    response = client.get(refund_url(order))  # not logged in
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    client.force_login(UserFactory())  # a shopper
    assert client.post(refund_url(order), {field(book): "1"}).status_code == 302
    client.force_login(bought["book"].seller)
    assert client.get(refund_url(order)).status_code == 403
    assert client.post(refund_url(order), {field(book): "1"}).status_code == 403

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    change = client.get(change_url(order))
    assert change.status_code == 200 and "Refund lines or an amount" not in change.content.decode()
    assert client.post(refund_url(order), {field(book): "1"}).status_code == 403
    assert nothing_changed(bought)


def test_an_unknown_order_redirects_to_the_admin_index(staff_client, bought):
    response = staff_client.get(refund_url(bought["order"]).replace(str(bought["order"].pk), "0"))
    assert response.status_code == 302 and response.url == reverse("admin:index")


@pytest.fixture
def stripe_bought(user, make_item, rates, zones, fake_stripe) -> dict:
    data = placed(user, make_item, zones["express"])
    payment = start_payment(order=data["order"], site_url=SITE)
    fake_stripe.complete_session(payment.session_id)
    confirm_checkout_session(session_id=payment.session_id)
    data["order"] = Order.objects.get(pk=data["order"].pk)
    return data


def test_stripe_not_answering_leaves_the_refund_under_way_with_a_warning(staff_client, stripe_bought, fake_stripe):
    order = stripe_bought["order"]
    fake_stripe.fail_next(status=500)

    response = staff_client.post(refund_url(order), {field(stripe_bought["Book"]): "1"})

    assert response.status_code == 302 and response.url == change_url(order)
    (message,) = messages_of(response)
    assert message.startswith("The payment provider did not answer (") and "under way" in message
    assert "will be retried" in message
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING and refund.amount_minor == 900
    assert Order.objects.get(pk=order.pk).refunded_minor == 900  # reserved: nobody can refund it twice meanwhile


def test_stripe_refusing_fails_the_refund_with_an_error_and_flags_the_order(staff_client, stripe_bought, fake_stripe):
    order = stripe_bought["order"]
    fake_stripe.fail_next(status=400, error_type="invalid_request_error", message="Charge is disputed")

    response = staff_client.post(refund_url(order), {"amount": "5"})

    (message,) = messages_of(response)
    assert message.startswith(f"The payment provider refused the refund of order {order.number}")
    assert "Charge is disputed" in message
    order.refresh_from_db()
    assert Refund.objects.get(order=order).status == RefundStatus.FAILED and order.refunded_minor == 0
    assert order.needs_attention and order.status == OrderStatus.PAID


def test_the_refund_action_confirms_and_refunds_what_is_left_after_a_partial_refund(staff_client, bought):
    order = bought["order"]
    refund_payment(order=order, amount_minor=1000)
    selected = {"action": "refund_orders", "_selected_action": [order.pk]}

    confirmation = staff_client.post(CHANGELIST, selected).content.decode()
    assert "€38.90 in all" in confirmation and "€38.90 left to refund" in confirmation

    response = staff_client.post(CHANGELIST, {**selected, "confirm": "yes", "restock": "yes"})

    assert messages_of(response) == ["1 order refunded in full through the payment gateway, their units back in stock."]
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.refunded_minor == 4890
    assert [refund.amount_minor for refund in Refund.objects.filter(order=order).order_by("created_at", "pk")] == [
        1000,
        3890,
    ]
    assert (stock_of(bought["pan"]), stock_of(bought["book"])) == (10, 10) and check_stock().clean
