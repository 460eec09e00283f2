"""CSRF tokens drawn with one read of the operating system's random source instead of one per character.

Every page with a form carries a masked CSRF token, and a visitor without the cookie gets a new secret too: Django
draws each of those 32-character strings with `secrets.choice`, one `os.urandom` call per character, 64 calls per
cookie-less page. Measured on a cached catalog page served by gunicorn, that was a third of the whole request.
`random_string` draws the same strings (uniform over the alphabet, from the same source) from one `os.urandom`
read, by rejection sampling; Django's CSRF module is pointed at it when the shop starts (`ShopConfig.ready`).
"""

import os

from django.middleware import csrf
from django.utils.crypto import get_random_string


def random_string(length: int, allowed_chars: str) -> str:
    """`length` characters of `allowed_chars` (at most 256 of them), each uniformly and independently random."""
    size = len(allowed_chars)
    if not 0 < size <= 256:
        return get_random_string(length, allowed_chars)
    limit = 256 - 256 % size  # bytes below it map onto the alphabet uniformly; the rest are drawn again
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(allowed_chars[byte % size] for byte in os.urandom(2 * length) if byte < limit)
    return "".join(chars[:length])


def install() -> None:
    """Points Django's CSRF token generation at `random_string` (the same contract as `get_random_string`)."""
    csrf.get_random_string = random_string
