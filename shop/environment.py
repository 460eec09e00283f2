"""Reading settings from the environment without misreading them.

django-environ reads an on/off variable as off unless it is one of its true words, so `SHOP_REQUIRE_2FA=enabled`
(or a typo of "true") would silently turn two-factor logins off; it reads an empty value (`CACHE_IS_SHARED=` or
`DJANGO_MEDIA_ROOT=` in a copied .env) as off, or as the current folder, instead of the default; and a number that is
not one stops the start with a bare ValueError that names no variable. `StrictEnv` refuses the first and the last
with a message naming the variable, and reads an empty value as unset.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

ON = {"1", "true", "yes", "on", "y", "ok"}
OFF = {"0", "false", "no", "off", "n"}


class StrictEnv(environ.Env):
    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if self._raw(var) is None and var in self.ENVIRON:  # set, but empty: as if unset
            if default is environ.Env.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable.")
            return self.parse_value(default, cast) if parse_default and default is not None else default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)

    def _raw(self, var: str) -> str | None:
        value = self.ENVIRON.get(var)
        return None if value is None or not value.strip() else value.strip()

    def bool(self, var, default=environ.Env.NOTSET):
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        if raw.lower() not in ON | OFF:
            raise ImproperlyConfigured(f"{var}={raw!r} is neither on nor off: use 1 or 0 (true/false, yes/no, on/off).")
        return raw.lower() in ON

    def int(self, var, default=environ.Env.NOTSET, *, minimum: int | None = None):
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{var}={raw!r} is not a whole number.") from None
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{var}={value} is too small: at least {minimum}.")
        return value

    def _default(self, var: str, default):
        if default is environ.Env.NOTSET:
            raise ImproperlyConfigured(f"Set the {var} environment variable.")
        return default
