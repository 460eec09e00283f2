"""The base of every domain exception: a business rule refused the request."""

from typing import Any


class ShopError(Exception):
    """A refusal with a human message, a stable `code` and optional data in `extra`."""

    code = "shop_error"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        if code:
            self.code = code
        self.extra = extra
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
