from collections import defaultdict

from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from accounts.signals import personal_data_erased, personal_data_requested
from cart.selectors import CartOwner, cart_for_user
from cart.services import empty_cart
from orders.models import Order, OrderEvent, OrderLine, Refund
from orders.services import claim_guest_orders


def attach_guest_orders(sender, request, email_address, **kwargs) -> None:
    """allauth confirmed that the user owns this address: the orders a guest placed under it are now theirs."""
    claim_guest_orders(user=email_address.user, email=email_address.email)


# The personal data of accounts (GDPR). Connected here, when OrdersConfig.ready() imports this module: accounts sends
# the signals and may not import orders. The cart's part lives here too, as cart connects to no accounts signal.

# Order fields that are the shop's own bookkeeping, not the buyer's data.
_ORDER_FIELDS_NOT_EXPORTED = {"id", "buyer", "checkout_token", "needs_attention", "attention_reason"}
_LINE_FIELDS_NOT_EXPORTED = {"id", "order", "item", "seller"}
# What an erased buyer's orders keep for the accounts: number, dates, status, amounts, VAT, lines, refunds and the
# destination country (the VAT rate depends on it). These lose the person.
_ORDER_ADDRESS_FIELDS = ("shipping_name", "shipping_line1", "shipping_line2", "shipping_postal_code", "shipping_city")


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(instance, *, skip: set[str]) -> dict:
    return {
        field.name: _jsonable(field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }


def _orders_of(*, user, emails: list[str]):
    """The user's orders, and the guest orders placed under an address the user proved they own."""
    mine = Q(buyer_id=user.pk)
    for email in emails:
        mine |= Q(buyer__isnull=True, email__iexact=email)
    return Order.objects.filter(mine).order_by("created_at", "pk")


@receiver(personal_data_requested, dispatch_uid="orders.export_personal_data")
def export_orders_and_cart(sender, user, emails, **kwargs) -> dict:
    """The user's orders (with lines, payment state and refunds) and cart, for `accounts.selectors.export_personal_data`
    (one query each for orders, lines and refunds, however many orders)."""
    orders = list(_orders_of(user=user, emails=emails))
    order_ids = [order.pk for order in orders]
    lines, refunds = defaultdict(list), defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).order_by("title", "pk"):
        lines[line.order_id].append(_row(line, skip=_LINE_FIELDS_NOT_EXPORTED))
    for refund in Refund.objects.filter(order_id__in=order_ids).order_by("created_at", "pk"):
        refunds[refund.order_id].append(
            {
                "amount_minor": refund.amount_minor,
                "status": refund.status,
                "created_at": _jsonable(refund.created_at),
                "completed_at": _jsonable(refund.completed_at),
            }
        )
    exported = []
    for order in orders:
        row = _row(order, skip=_ORDER_FIELDS_NOT_EXPORTED)
        row["payment"] = {"paid": order.paid_at is not None, "paid_at": row["paid_at"], "refunds": refunds[order.pk]}
        row["lines"] = lines[order.pk]
        exported.append(row)
    cart = cart_for_user(user=user)
    return {
        "orders": exported,
        "cart": {
            "discount_code": cart.discount_code,
            "lines": [
                {
                    "sku": line.item.sku,
                    "title": line.item.title,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price_minor,
                }
                for line in cart.lines
            ],
        },
    }


@receiver(personal_data_erased, dispatch_uid="orders.anonymise_orders")
def anonymise_orders(sender, user, emails, placeholder, **kwargs) -> None:
    """An erased user's orders stay for the accounts with the buyer anonymised: their email becomes the user's
    anonymous placeholder and the shipping address is blanked but for the country (see _ORDER_ADDRESS_FIELDS). On
    their timelines, the address emails went to and the user's own name as the actor go too (the events stay)."""
    orders = _orders_of(user=user, emails=emails)
    order_ids = list(orders.values_list("pk", flat=True))
    orders.update(email=placeholder, updated_at=timezone.now(), **dict.fromkeys(_ORDER_ADDRESS_FIELDS, ""))
    for event in OrderEvent.objects.filter(order_id__in=order_ids):
        changes = {}
        if "to" in event.data:
            changes["data"] = {**event.data, "to": [placeholder]}
        if event.actor_id == user.pk and event.actor_name:
            changes["actor_name"] = ""
        if changes:
            OrderEvent.objects.filter(pk=event.pk).update(**changes)


@receiver(personal_data_erased, dispatch_uid="orders.empty_cart_of_erased_user")
def empty_cart_of_erased_user(sender, user, **kwargs) -> None:
    """An erased user's stored cart is emptied."""
    empty_cart(owner=CartOwner(user=user))
