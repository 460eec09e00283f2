from allauth.account.adapter import DefaultAccountAdapter

from accounts.models import normalize_email


class AccountAdapter(DefaultAccountAdapter):
    """Stores every email lower-cased, so that Ann@X.org and ann@x.org are one account."""

    def clean_email(self, email: str) -> str:
        return normalize_email(super().clean_email(email))

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """The per-account lock's key (accounts.security): the normalised email alone. allauth prefixes the site's
        domain, which without django.contrib.sites is the request's Host header: each allowed host name would
        otherwise grant an attacker another round of attempts."""
        return "login:" + normalize_email(credentials.get("email", credentials.get("username", "")))
