"""Writes on pricing: a discount code's uses, counted by conditional updates so that however many buyers race for
the last use, exactly as many orders as the limit allows get it. Called inside the order's unit of work."""

from django.conf import settings
from django.db.models import F, ProtectedError, Q
from django.utils import timezone

from audit.services import is_audited, record_change, record_instance_change
from pricing.exceptions import DiscountCodeInUse, DiscountRefused
from pricing.models import DiscountCode, DiscountRedemption
from pricing.selectors import PRICING_VERSION_KEY, redemptions_under
from shop.db import checkpoint, on_commit, unit_of_work
from shop.fragments import replace_version_token
from shop.outbox import enqueue, handler

PRICES_CHANGED = "pricing.prices_changed"


def prices_changed(*, at=()) -> None:
    """Cached cart pages show prices, shipping and discount codes: once the caller's transaction commits (at once
    outside one) they are priced again, and again at each moment of `at` still to come (a code's start or end, when
    it begins or stops applying with nobody writing anything)."""
    if not settings.CACHE_IS_SHARED:
        return
    on_commit(lambda: replace_version_token(PRICING_VERSION_KEY))
    now = timezone.now()
    for moment in at:
        if moment is not None and moment > now:
            key = f"{PRICES_CHANGED}:{moment.isoformat()}"
            enqueue(PRICES_CHANGED, dedupe_key=key, after_seconds=(moment - now).total_seconds())


@handler(PRICES_CHANGED)
def _prices_changed_now(payload: dict) -> None:
    replace_version_token(PRICING_VERSION_KEY)


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
    _audit_used_count(discount, change=+1)
    if discount.usage_limit is not None and _is_used_up(discount):
        prices_changed()  # carts showing the code can no longer have it


def _is_used_up(discount: DiscountCode) -> bool:
    return DiscountCode.objects.filter(pk=discount.pk, used_count__gte=F("usage_limit")).exists()


def _audit_used_count(discount: DiscountCode, *, change: int) -> None:
    """`used_count` moves by `QuerySet.update()`, which sends no signal: when staff or a command move it (an order
    they place or cancel), the audit trail learns it here, in the caller's transaction."""
    if not is_audited():
        return
    after = DiscountCode.objects.filter(pk=discount.pk).values_list("used_count", flat=True).first()
    if after is not None:
        record_change(
            action="update",
            model=DiscountCode,
            object_id=discount.pk,
            object_repr=discount.code,
            before={"used_count": after - change},
            after={"used_count": after},
        )


def release_code(*, order_number: str) -> bool:
    """Gives back the use an order made of its code (it was cancelled or expired), once. Returns whether it did."""
    redemption = DiscountRedemption.objects.filter(order_number=order_number, released_at__isnull=True).first()
    if redemption is None:
        return False
    if not DiscountRedemption.objects.filter(pk=redemption.pk, released_at__isnull=True).update(
        released_at=timezone.now()
    ):
        return False
    given_back = DiscountCode.objects.filter(pk=redemption.code_id, used_count__gt=0).update(
        used_count=F("used_count") - 1
    )
    if given_back and redemption.code.usage_limit is not None:
        prices_changed()  # a used-up code may apply again
    if is_audited():
        record_instance_change(
            action="update",
            instance=redemption,
            before={"released_at": None},
            after={"released_at": DiscountRedemption.objects.get(pk=redemption.pk).released_at},
        )
        if given_back:
            _audit_used_count(redemption.code, change=-1)
    return True


@unit_of_work
def anonymise_redemptions(*, emails: list[str], placeholder: str) -> int:
    """An erased person's uses of discount codes stay (they count against the codes' usage limits) under
    `placeholder` instead of their addresses; per-customer limits no longer know them. Returns how many."""
    return redemptions_under(emails=emails).update(email=placeholder.lower())


@unit_of_work
def save_discount_code(*, code: DiscountCode, fields: dict, categories: list | None = None) -> DiscountCode:
    """Sets `fields` on a new or stored code and stores it, validated by the model (value range, dates, upper-case,
    unique); `categories` (when given) replaces the categories it is limited to.
    Raises: ValidationError; IntegrityError when the same code was created meanwhile."""
    for name, value in fields.items():
        setattr(code, name, value)
    code.full_clean()
    code.save()
    checkpoint("save_discount_code.saved")
    if categories is not None:
        code.categories.set(categories)
    code.refresh_from_db()  # as stored: MongoDB keeps milliseconds of created_at
    return code


@unit_of_work
def delete_discount_code(*, code: DiscountCode) -> None:
    """Raises: DiscountCodeInUse when orders used it (deactivate it instead)."""
    try:
        code.delete()
    except ProtectedError as error:
        raise DiscountCodeInUse(
            f"Orders have used the code {code.code}, so it cannot be deleted; deactivate it instead (is_active false).",
            discount_code=code.code,
        ) from error
