"""The base of every domain exception: a business rule refused the request."""

from collections.abc import Iterator
from typing import Any


def _subclasses(cls: type) -> Iterator[type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


class ShopError(Exception):
    """A refusal with a human message, a stable `code` and optional data in `extra`.

    Each class says how the JSON API answers it (`shop.api.exception_handler`, after HackSoft Styleguide-Example's
    `api/exception_handlers.py`): `http_status`, and `client_extra`, the keys of `extra` a client may see. Anything
    else in `extra` (names of keys, ledgers, reports) stays on the server, for the code that caught it and the log.

    Raising a class with another `code` (`CatalogError("...", code="not_allowed")`) raises its subclass that
    declares that code, when there is one, so the status and the client fields still come from a class.
    """

    code = "shop_error"
    message = "The request could not be completed."
    http_status = 400
    client_extra: tuple[str, ...] = ()
    retry_after: int | None = None  # seconds, for a refusal the same request may simply be sent again after

    def __new__(cls, *args: Any, code: str | None = None, **extra: Any):
        if code is not None and code != cls.code:
            cls = next((sub for sub in _subclasses(cls) if sub.__dict__.get("code") == code), cls)
        return super().__new__(cls, *args)

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        if code:
            self.code = code
        self.extra = extra
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def client_data(self) -> dict[str, Any]:
        """The part of `extra` meant for clients (`client_extra`)."""
        return {key: self.extra[key] for key in self.client_extra if key in self.extra}


class ShopBusy(ShopError):
    """A write kept losing conflicts with others for longer than a request may wait (`shop.db.unit_of_work`); nothing
    was changed and the same request may simply be sent again (the API answers 503 with Retry-After)."""

    code = "busy"
    message = "The shop is very busy right now and nothing was changed. Please try again in a moment."
    http_status = 503
    retry_after = 1
