"""Writes on pricing: a discount code's uses, counted by conditional updates so that however many buyers race for
the last use, exactly as many orders as the limit allows get it. Called inside the order's unit of work."""

from django.db.models import F, Q
from django.utils import timezone

from pricing.exceptions import DiscountRefused
from pricing.models import DiscountCode, DiscountRedemption


def redeem_code(*, code: str, order_number: str, email: str) -> None:
    """Counts one use of `code` for the order, within the caller's transaction.

    Raises: DiscountRefused when the last use went meanwhile or the customer reached their limit (the caller's unit
    then undoes everything: no order, no use).
    """
    discount = DiscountCode.objects.get(code=code)
    email = email.lower()
    if discount.per_customer_limit is not None:
        used = DiscountRedemption.objects.filter(code=discount, email=email, released_at__isnull=True).count()
        if used >= discount.per_customer_limit:
            raise DiscountRefused(f"You have already used the code {code}.", reason="used_by_you", discount_code=code)
    room = Q(usage_limit__isnull=True) | Q(used_count__lt=F("usage_limit"))
    if not DiscountCode.objects.filter(room, pk=discount.pk).update(used_count=F("used_count") + 1):
        raise DiscountRefused(
            f"The code {code} was just used up. Nothing was ordered; remove it to order without it.",
            reason="used_up",
            discount_code=code,
        )
    DiscountRedemption.objects.create(code=discount, order_number=order_number, email=email)


def release_code(*, order_number: str) -> bool:
    """Gives back the use an order made of its code (it was cancelled or expired), once. Returns whether it did."""
    redemption = DiscountRedemption.objects.filter(order_number=order_number, released_at__isnull=True).first()
    if redemption is None:
        return False
    if not DiscountRedemption.objects.filter(pk=redemption.pk, released_at__isnull=True).update(
        released_at=timezone.now()
    ):
        return False
    DiscountCode.objects.filter(pk=redemption.code_id, used_count__gt=0).update(used_count=F("used_count") - 1)
    return True
