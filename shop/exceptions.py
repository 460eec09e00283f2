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


class ShopBusy(ShopError):
    """A write kept losing conflicts with others for longer than a request may wait (`shop.db.unit_of_work`); nothing
    was changed and the same request may simply be sent again (the API answers 503 with Retry-After)."""

    code = "busy"
    message = "The shop is very busy right now and nothing was changed. Please try again in a moment."
