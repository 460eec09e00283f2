from http import HTTPStatus

from shop.exceptions import ShopError


class AccountError(ShopError):
    code = "account_error"


class AddressNotFound(AccountError):
    """The address does not exist or belongs to someone else (the two are never told apart)."""

    code = "address_not_found"
    message = "No such address."


class NotAllowed(AccountError):
    """Only staff may do this (change roles); `extra["fields"]` names the fields refused."""

    code = "not_allowed"
    message = "You may not do this."
    http_status = HTTPStatus.FORBIDDEN
    client_extra = ("fields",)
