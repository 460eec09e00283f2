from django.db.models.signals import post_delete

from pricing.models import DiscountCode
from pricing.selectors import personal_redemptions
from pricing.services import anonymise_redemptions, prices_changed


def pricing_changed(sender, instance=None, **kwargs) -> None:
    """A rate, zone, method, tier or code was saved or deleted: cached carts must be priced again (after commit), and
    again when a saved code starts or stops applying."""
    code = instance if isinstance(instance, DiscountCode) and kwargs.get("signal") is not post_delete else None
    prices_changed(at=(code.starts_at, code.ends_at) if code is not None else ())


def export_redemptions(sender, user, emails: list[str], **kwargs) -> dict:
    """The codes the person used, for `accounts.selectors.export_personal_data` (GDPR)."""
    return {"discount_codes_used": personal_redemptions(emails=emails)}


def anonymise_redemptions_of_erased_person(sender, user, emails: list[str], placeholder: str, **kwargs) -> None:
    """An erased person's uses of codes keep no address of theirs (GDPR)."""
    anonymise_redemptions(emails=emails, placeholder=placeholder)
