from shop.exceptions import ShopError


class AccountError(ShopError):
    code = "account_error"
