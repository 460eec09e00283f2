from allauth.account.adapter import DefaultAccountAdapter

from accounts.models import normalize_email


class AccountAdapter(DefaultAccountAdapter):
    """Stores every email lower-cased, so that Ann@X.org and ann@x.org are one account."""

    def clean_email(self, email: str) -> str:
        return normalize_email(super().clean_email(email))
