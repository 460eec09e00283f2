"""django-csp's middleware, with the shop's one policy built once per process instead of twice per response.

django-csp rebuilds the `Content-Security-Policy` header for every response (from settings, twice: the policy and
the report-only one, each through `dataclasses.asdict`): about 50 microseconds, a tenth of a cached catalog page's
whole cost. The shop's pages all carry the same policy, so a response that no view customised (django-csp's
decorators), that used no nonce and that no report-only policy or excluded prefix concerns gets the header built
once; anything else goes through django-csp unchanged.
"""

import functools

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What django-csp's decorators (`@csp_update`, `@csp_exempt`...) leave on a response.
CUSTOMISED = tuple(
    f"_csp_{name}{suffix}" for name in ("config", "update", "replace", "exempt") for suffix in ("", "_ro")
)


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        if not _is_fixed(request, response):
            return super().process_response(request, response)
        policy = _fixed_policy()
        if policy and HEADER not in response:
            response[HEADER] = policy
        # As django-csp does: a nonce asked for after the header was written is an error, not a silent no-op.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def _is_fixed(request, response) -> bool:
    return not (
        settings.DEBUG  # django-csp leaves the debug pages (404, 500) without a policy
        or getattr(request, "_csp_nonce", None) is not None
        or any(hasattr(response, name) for name in CUSTOMISED)
        or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        or (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("EXCLUDE_URL_PREFIXES")
    )


@functools.cache
def _fixed_policy() -> str:
    return build_policy()


@receiver(setting_changed, dispatch_uid="shop.csp.forget_policy")
def _forget_policy(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _fixed_policy.cache_clear()
