from shop.exceptions import ShopError


class CatalogError(ShopError):
    code = "catalog_error"
