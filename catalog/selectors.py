"""Reads on the catalog. Shoppers only ever see active items."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum

from catalog.models import CatalogRevision, Category, Item, StockMove, StockReason
from shop.db import unique_row
from shop.fragments import version_token

PAGE_SIZE = 24
SEARCH_MAX_LENGTH = 100

# Every order ends on the primary key so that pages never overlap; each pair is served by one single-column index
# (scanned backwards for the descending ones).
SORTS = {
    "newest": ("-created_at", "-pk"),
    "price": ("price_minor", "pk"),
    "-price": ("-price_minor", "-pk"),
    "title": ("title", "pk"),
}
DEFAULT_SORT = "newest"

# Scopes: the parts of the catalog a page shows, each with a version (see `catalog_version`).
ITEMS = "items"  # items of every category: home, all items, search, and carts
STOCK = "stock"  # exact stock counts, which move far more often than anything catalog pages show: carts only
EVERYTHING = "catalog"  # without a shared cache, one more revision row that moves with every scope


def visible_items() -> QuerySet[Item]:
    """Items a shopper may see: active ones."""
    return Item.objects.filter(is_active=True)


def featured_items(*, limit: int = 8) -> list[Item]:
    """The newest active items that are in stock, for the home page."""
    return list(visible_items().filter(stock__gt=0).select_related("category").order_by(*SORTS["newest"])[:limit])


def top_categories() -> list[Category]:
    """Categories without a parent, by name."""
    return list(Category.objects.filter(parent__isnull=True).order_by("name"))


def category_list() -> list[Category]:
    """Every category, by name, for menus and filters (a small table: one query)."""
    return list(Category.objects.order_by("name"))


def category_family_ids(*, slug: str) -> list:
    """The primary keys of the category and of its children; empty when the slug is unknown."""
    return list(Category.objects.filter(Q(slug=slug) | Q(parent__slug=slug)).values_list("pk", flat=True))


def item_list(
    *,
    q: str = "",
    category_slug: str | None = None,
    min_price_minor: int | None = None,
    max_price_minor: int | None = None,
    in_stock: bool = False,
    sort: str = DEFAULT_SORT,
) -> QuerySet[Item]:
    """Active items matching every given filter, in a stable order.

    `q` matches title or description, case-insensitively; a parent category includes its children; prices are in
    minor units, both bounds inclusive; an unknown `sort` falls back to newest first.
    """
    items = visible_items()
    q = (q or "").strip()[:SEARCH_MAX_LENGTH]
    if q:
        items = items.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if category_slug:
        items = items.filter(category_id__in=category_family_ids(slug=category_slug))
    if min_price_minor is not None:
        items = items.filter(price_minor__gte=min_price_minor)
    if max_price_minor is not None:
        items = items.filter(price_minor__lte=max_price_minor)
    if in_stock:
        items = items.filter(stock__gt=0)
    return items.select_related("category").order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def item_page(*, items: QuerySet[Item], page: object, per_page: int = PAGE_SIZE) -> Page:
    """One page of `items`: a page number that is not one gives the first page, one past the end the last."""
    return Paginator(items, per_page).get_page(page if _is_page_number(page) else 1)


def _is_page_number(page: object) -> bool:
    return isinstance(page, int) or (isinstance(page, str) and page.isdigit() and int(page) >= 1)


def _valid_pks(ids) -> list:
    pk_field = Item._meta.pk
    valid = []
    for raw in ids:
        try:
            pk = pk_field.to_python(str(raw))
            pk_field.run_validators(pk)  # the backend's integer range: a 30-digit "id" would overflow SQLite
            valid.append(pk)
        except (ValidationError, TypeError, ValueError):
            continue
    return valid


def items_by_ids(*, ids) -> dict[str, Item]:
    """The items with these primary keys, active or not, keyed by the id as a string; malformed ids are skipped."""
    pks = _valid_pks(ids)
    items = Item.objects.filter(pk__in=pks).select_related("category")  # priced with their category's tax class
    return {str(item.pk): item for item in items} if pks else {}


def sellable_item(*, item_id: object) -> Item | None:
    """The active item with this id (with its category: carts price it), or None (unknown, inactive or malformed id)."""
    pks = _valid_pks([item_id]) if item_id not in (None, "") else []
    return unique_row(visible_items().filter(pk=pks[0]).select_related("category")) if pks else None


def item_by_slug(*, slug: str) -> Item | None:
    """The active item with this slug (with its category), or None."""
    return visible_items().select_related("category__parent").filter(slug=slug).first()


def related_items(*, item: Item, limit: int = 4) -> list[Item]:
    """A few other active, in-stock items of the same category, newest first."""
    others = visible_items().filter(category_id=item.category_id, stock__gt=0).exclude(pk=item.pk)
    return list(others.select_related("category").order_by(*SORTS["newest"])[:limit])


def category_scope(slug: str) -> str:
    """The scope of a category's page (its items and its children's), and of its items' pages (their related items).
    A digest, so that it fits a revision row's name whatever the slug."""
    return "c:" + hashlib.blake2b(slug.encode(), digest_size=8).hexdigest()


def item_page_scopes(*, slug: str) -> tuple[str, ...]:
    """What an item page shows changes with its category's scope (the item and related items); a missing item's page
    with every item's (one may take the slug)."""
    category_slug = Item.objects.filter(slug=slug).values_list("category__slug", flat=True).first()
    return (category_scope(category_slug),) if category_slug else (ITEMS,)


def catalog_version(*scopes: str) -> str | None:
    """The current version of these scopes of the catalog: equal versions, equal pages. None when it cannot be read
    (the cache does not answer): then nothing may be cached.

    Every change a shopper could see moves the scopes it touches (`catalog.services.catalog_changed`). With
    `CACHE_IS_SHARED` each scope's version is a token in the shared cache (one cache read per scope); otherwise a
    revision row, read together with the one every change to the whole catalog moves (one query).
    """
    if settings.CACHE_IS_SHARED:
        tokens = [version_token(f"catalog:{scope}") for scope in scopes]
        return None if None in tokens else "t" + "-".join(tokens)
    names = [EVERYTHING, *scopes]
    # The cheapest read the ORM offers (no ordering, no datetime parsing).
    numbers = dict(CatalogRevision.objects.filter(name__in=names).values_list("name", "number"))
    return "r" + "-".join(str(numbers.get(name, 0)) for name in names)


def low_stock_items(*, below: int = 5, seller=None, limit: int = 20) -> list[Item]:
    """Active items with fewer than `below` in stock (sold out included), fewest first; only the seller's own when
    `seller` is given. At most `limit`, one query."""
    items = visible_items().filter(stock__lt=below)
    if seller is not None:
        items = items.filter(seller_id=seller.pk)
    return list(items.order_by("stock", "title", "pk")[:limit])


# The moves that make up what an order holds: it took units (RESERVED) and gave some back (the rest).
ORDER_HOLDING_REASONS = [StockReason.RESERVED, StockReason.RELEASED, StockReason.RETURNED, StockReason.REPAIR]


def _moves_of(item_ids) -> QuerySet[StockMove]:
    moves = StockMove.objects.order_by()
    return moves if item_ids is None else moves.filter(item_id__in=list(item_ids))


def ledger_totals(*, item_ids=None) -> dict:
    """The sum of the stock moves of each item that has any (of the given items, or of all), keyed by primary key.

    An item's `stock` must equal its total; an item with no moves is missing from the result (its total is 0).
    """
    totals = _moves_of(item_ids).values("item_id").annotate(total=Sum("delta")).values_list("item_id", "total")
    return dict(totals)


@dataclass(frozen=True)
class StockMismatch:
    item_id: object
    sku: str
    title: str
    stock: int  # what the item's stock column says
    ledger: int  # what the sum of its moves says


def stock_mismatches(*, item_ids=None) -> list[StockMismatch]:
    """Every item (of the given ones, or of all) whose stock column differs from the sum of its stock moves, by SKU;
    empty when all agree."""
    totals = ledger_totals(item_ids=item_ids)
    items = Item.objects.order_by("sku")
    if item_ids is not None:
        items = items.filter(pk__in=list(item_ids))
    return [
        StockMismatch(item_id=pk, sku=sku, title=title, stock=stock, ledger=totals.get(pk, 0))
        for pk, sku, title, stock in items.values_list("pk", "sku", "title", "stock").iterator()
        if stock != totals.get(pk, 0)
    ]


def held_by_orders(*, item_ids=None) -> dict[tuple, int]:
    """The units each order still holds of each item, keyed by (item pk, order number): what its RESERVED moves took
    less what its RELEASED, RETURNED and REPAIR moves gave back. Orders that hold nothing of an item are left out."""
    moves = _moves_of(item_ids).exclude(order_number="").filter(reason__in=ORDER_HOLDING_REASONS)
    totals = moves.values("item_id", "order_number").annotate(total=Sum("delta"))
    return {(row["item_id"], row["order_number"]): -row["total"] for row in totals if row["total"]}
