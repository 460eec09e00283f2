from http import HTTPStatus

from shop.exceptions import ShopError


class CatalogError(ShopError):
    code = "catalog_error"


class ItemNotFound(CatalogError):
    """The item is gone (deleted meanwhile, or never existed)."""

    code = "item_not_found"
    message = "This item no longer exists."
    client_extra = ("item_id",)


class NotEnoughStock(CatalogError):
    """A stock change would take the item below zero; `extra` names the item, its stock and the change refused."""

    code = "stock_below_zero"
    http_status = HTTPStatus.CONFLICT
    client_extra = ("item_id", "title", "stock", "delta")


class StockTooLarge(CatalogError):
    """A stock change would take the item above `catalog.models.MAX_STOCK`; `extra` as for NotEnoughStock."""

    code = "stock_too_large"
    http_status = HTTPStatus.BAD_REQUEST
    client_extra = ("item_id", "title", "stock", "delta")


class NotAllowed(CatalogError):
    """The caller may not manage this item (not its seller, nor staff), or add items at all."""

    code = "not_allowed"
    message = "You may only change your own items."
    http_status = HTTPStatus.FORBIDDEN


class StockChanged(CatalogError):
    """A stock sent without `expected_stock` differs from the stock now; `extra["stock"]` is the stock now."""

    code = "stock_changed"
    http_status = HTTPStatus.CONFLICT
    client_extra = ("stock",)


class LedgerBelowZero(CatalogError):
    """The stock ledger of an item sums to less than zero: moves are missing, so there is no stock to set."""

    code = "ledger_below_zero"
    client_extra = ("item_id", "stock")
