from shop.exceptions import ShopError


class AccountError(ShopError):
    code = "account_error"


class AddressNotFound(AccountError):
    """The address does not exist or belongs to someone else (the two are never told apart)."""

    code = "address_not_found"
    message = "No such address."
