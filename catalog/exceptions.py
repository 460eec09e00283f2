from shop.exceptions import ShopError


class CatalogError(ShopError):
    code = "catalog_error"


class ItemNotFound(CatalogError):
    """The item is gone (deleted meanwhile, or never existed)."""

    code = "item_not_found"
    message = "This item no longer exists."


class NotEnoughStock(CatalogError):
    """A stock change would take the item below zero; `extra` names the item, its stock and the change refused."""

    code = "stock_below_zero"
