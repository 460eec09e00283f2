from django.conf import settings

from pricing.selectors import PRICING_VERSION_KEY, personal_redemptions
from pricing.services import anonymise_redemptions
from shop.db import on_commit
from shop.fragments import replace_version_token


def pricing_changed(sender, **kwargs) -> None:
    """A rate, zone, method, tier or code was saved or deleted: cached carts must be priced again (after commit)."""
    if settings.CACHE_IS_SHARED:
        on_commit(lambda: replace_version_token(PRICING_VERSION_KEY))


def export_redemptions(sender, user, emails: list[str], **kwargs) -> dict:
    """The codes the person used, for `accounts.selectors.export_personal_data` (GDPR)."""
    return {"discount_codes_used": personal_redemptions(emails=emails)}


def anonymise_redemptions_of_erased_person(sender, user, emails: list[str], placeholder: str, **kwargs) -> None:
    """An erased person's uses of codes keep no address of theirs (GDPR)."""
    anonymise_redemptions(emails=emails, placeholder=placeholder)
