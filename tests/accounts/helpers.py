"""Helpers shared by the tests of two factors (factories stay in tests/factories.py)."""

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)


def totp_code(secret: str) -> str:
    """The authenticator app's current code, computed with allauth's own TOTP helpers."""
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def with_totp(user) -> str:
    """Turns TOTP on for `user`; its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret
