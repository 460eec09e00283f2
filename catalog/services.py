"""Writes on the catalog.

Stock moves only as deltas: each change is one conditional update of the item's `stock` (`F()` arithmetic, so two
writers never overwrite each other) plus one `StockMove` row saying why, in one unit of work (`shop.db.unit_of_work`:
a transaction on either backend, joined when the caller already runs one). So an item's stock always equals the sum of
its moves. `Item.save()` never writes `stock` back on an existing row.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from audit.services import is_audited, record_change, record_instance_change, snapshot
from catalog.exceptions import CatalogError, ItemNotFound, NotEnoughStock, StockTooLarge
from catalog.models import LOW_STOCK, MAX_STOCK, CatalogRevision, Category, Item, StockMove, StockReason, stock_label
from catalog.selectors import EVERYTHING, ITEMS, STOCK, category_scope, ledger_totals
from shop.db import TransientError, checkpoint, on_commit, unit_of_work
from shop.fragments import replace_version_tokens

# The reasons a release may give: units coming back from an order, or a repair of a reservation.
RELEASE_REASONS = {StockReason.RELEASED, StockReason.RETURNED, StockReason.REPAIR}


def catalog_changed(*, category_ids=(), category_slugs=(), everything: bool = False, stock: bool = False) -> None:
    """Tells every worker which part of the shopper-visible catalog changed, once the caller's transaction commits
    (at once outside one), so cached pages showing it are rendered again (see `catalog.selectors.catalog_version`).

    Items of `category_ids` changed: every list of items (`ITEMS`) and those categories' pages and their parents'
    (a parent's page lists its children's items) move; other categories' pages and their items' pages stay cached.
    `everything` (a category changed, an import, the demo loader) moves every scope, `category_slugs` names
    categories gone or renamed, and `stock` the exact stock counts that only carts show.

    After commit, because a version moved earlier would let another worker cache the old data under the new version;
    and outside the transaction, because on MongoDB concurrent orders would all conflict on one revision row.
    """
    scopes = {STOCK} if stock else set()
    if everything or category_ids or category_slugs:
        scopes |= {ITEMS, *map(category_scope, category_slugs)}
    if category_ids and not everything:
        scopes |= {category_scope(slug) for slug in _category_family_slugs(category_ids)}
    if settings.CACHE_IS_SHARED:
        on_commit(lambda: replace_version_tokens(_token_keys(scopes, everything=everything)))
    else:
        on_commit(lambda: _increment_revision_rows([*scopes, EVERYTHING] if everything else scopes))


def _category_family_slugs(category_ids) -> set[str]:
    rows = Category.objects.filter(pk__in=[pk for pk in category_ids if pk is not None])
    return {slug for pair in rows.values_list("slug", "parent__slug") for slug in pair if slug}


def _token_keys(scopes: set[str], *, everything: bool) -> list[str]:
    if everything:  # read after the commit: a category created by the change has its token moved too
        scopes = scopes | {category_scope(slug) for slug in Category.objects.values_list("slug", flat=True)}
    return [f"catalog:{scope}" for scope in sorted(scopes)]


def _increment_revision_rows(names) -> None:
    # Single-row atomic updates, after the change committed (no transaction: none is needed, and concurrent
    # transactions would all conflict on these rows).
    for name in names:
        bumped = CatalogRevision.objects.filter(name=name).update(number=F("number") + 1, changed_at=timezone.now())
        if not bumped:
            try:
                CatalogRevision.objects.create(name=name, number=1)
            except IntegrityError:  # another worker created it first
                CatalogRevision.objects.filter(name=name).update(number=F("number") + 1, changed_at=timezone.now())


def _stock_moved(*, item_id: object, delta: int, after: int | None = None) -> None:
    """Stock moved by `delta`: the exact stock counts always change (carts compare lines with them); the item's
    category only when what catalog pages show of it changed (`stock_label`: in stock, only N left, out of stock)."""
    if after is None:
        after = _current_stock(item_id) or 0
    changed = _label_changed(after=after, delta=delta)
    category_ids = Item.objects.filter(pk=item_id).values_list("category_id", flat=True) if changed else ()
    catalog_changed(category_ids=list(category_ids), stock=True)


def _label_changed(*, after: int, delta: int) -> bool:
    """Whether a move of `delta` that left `after` units changed what catalog pages show of the item."""
    return stock_label(after) != stock_label(after - delta)


def _record_move(
    *, item_id: object, delta: int, reason: str, order_number: str = "", actor=None, note: str = ""
) -> StockMove:
    return StockMove.objects.create(
        item_id=item_id,
        delta=delta,
        reason=StockReason(reason),
        order_number=order_number,
        actor_id=getattr(actor, "pk", None),
        note=note[: StockMove._meta.get_field("note").max_length],
    )


def _current_stock(item_id: object) -> int | None:
    return Item.objects.filter(pk=item_id).values_list("stock", flat=True).first()


def _audit_stock(*, item_id: object, before: int, after: int, actor=None) -> None:
    """Stock moves by `QuerySet.update()`, which sends no signal: a change by staff, a seller or a command is put in
    the audit trail here, in the same transaction."""
    if not is_audited(actor=actor):
        return
    title = Item.objects.filter(pk=item_id).values_list("title", flat=True).first() or ""
    record_change(
        action="update",
        model=Item,
        object_id=item_id,
        object_repr=title,
        before={"stock": before},
        after={"stock": after},
        actor=actor,
    )


@unit_of_work
def reserve_stock(*, item_id: object, quantity: int, order_number: str = "") -> bool:
    """Takes `quantity` units of an active item if that many are there and records a RESERVED move for the order
    (`reserve_stocks` for one item). Returns whether it did.

    Raises: ValueError when `quantity` is below 1.
    """
    return not reserve_stocks(quantities={item_id: quantity}, order_number=order_number)


@unit_of_work
def reserve_stocks(*, quantities: dict, order_number: str = "") -> list:
    """Takes each item's quantity ({item id: units}) of the active items that have that many, one conditional update
    per item (two when it leaves LOW_STOCK units or fewer; in item id order, so that two orders of the same items take
    them in the same sequence), and records a RESERVED move for each. Stock never goes below zero, however many
    buyers race. Returns the ids of the items that had too few (or are no longer sold): their stock is untouched; the
    caller decides whether the others stand.

    Raises: ValueError when a quantity is below 1.
    """
    if any(quantity < 1 for quantity in quantities.values()):
        raise ValueError("quantity must be at least 1")
    short, taken, relabelled = [], {}, []
    for item_id, quantity in sorted(quantities.items(), key=lambda pair: str(pair[0])):
        if _take(item_id, quantity, leaving_more_than=LOW_STOCK):  # the common case: still "In stock" after
            taken[item_id] = quantity
        elif _take(item_id, quantity):  # what pages show changes: "Only N left" or "Out of stock" after
            taken[item_id] = quantity
            relabelled.append(item_id)
        else:
            short.append(item_id)
            continue
        checkpoint("catalog.stock_updated")
    if taken:
        StockMove.objects.bulk_create(
            StockMove(item_id=pk, delta=-n, reason=StockReason.RESERVED, order_number=order_number)
            for pk, n in taken.items()
        )
        category_ids = (
            Item.objects.filter(pk__in=relabelled).values_list("category_id", flat=True) if relabelled else ()
        )
        catalog_changed(category_ids=list(category_ids), stock=True)
    return short


def _take(item_id: object, quantity: int, *, leaving_more_than: int = -1) -> bool:
    """One conditional update: takes `quantity` units of the active item if more than `leaving_more_than` units
    would be left. Whether it did. So a reservation learns whether the item's stock label changed (its stock left at
    or below LOW_STOCK) without reading the stock back."""
    return bool(
        Item.objects.filter(pk=item_id, is_active=True, stock__gte=quantity + leaving_more_than + 1).update(
            stock=F("stock") - quantity, updated_at=timezone.now()
        )
    )


@unit_of_work
def release_stock(
    *,
    item_id: object,
    quantity: int,
    order_number: str = "",
    reason: str = StockReason.RELEASED,
    note: str = "",
) -> None:
    """Puts `quantity` units back (an order was cancelled or expired, refunded with restock, or a repair) and records
    the move. Nothing happens when the item was deleted meanwhile.

    Raises: ValueError when `quantity` is below 1 or `reason` is not RELEASED, RETURNED or REPAIR.
    """
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    if reason not in RELEASE_REASONS:
        raise ValueError(f"{reason!r} is not a reason to release stock")
    if not Item.objects.filter(pk=item_id).update(stock=F("stock") + quantity, updated_at=timezone.now()):
        return
    checkpoint("catalog.stock_updated")
    _record_move(item_id=item_id, delta=quantity, reason=reason, order_number=order_number, note=note)
    _stock_moved(item_id=item_id, delta=quantity)
    if reason == StockReason.REPAIR:  # a person's or a command's fix; units an order gives back are the order's story
        after = _current_stock(item_id) or 0
        _audit_stock(item_id=item_id, before=after - quantity, after=after)


@unit_of_work
def adjust_stock(
    *, item_id: object, delta: int, actor=None, reason: str = StockReason.ADJUSTMENT, note: str = ""
) -> int:
    """Adds `delta` units (negative: takes them) in one conditional update, whatever else moved the stock meanwhile,
    and records the move; returns the new stock. A delta of 0 changes and records nothing.

    Raises: NotEnoughStock (code "stock_below_zero") when the stock would go below zero, StockTooLarge above
    MAX_STOCK, stock unchanged; ItemNotFound; ValueError for an unknown reason.
    """
    reason = StockReason(reason)
    if delta == 0:
        current = _current_stock(item_id)
        if current is None:
            raise ItemNotFound(item_id=str(item_id))
        return current
    items = Item.objects.filter(pk=item_id)
    items = items.filter(stock__gte=-delta) if delta < 0 else items.filter(stock__lte=MAX_STOCK - delta)
    if not items.update(stock=F("stock") + delta, updated_at=timezone.now()):
        found = Item.objects.filter(pk=item_id).values_list("title", "stock").first()
        if found is None:
            raise ItemNotFound(item_id=str(item_id))
        title, stock = found
        if delta > 0:
            raise StockTooLarge(
                f"{title} has {stock} in stock: adding {delta} would make {stock + delta}, more than the "
                f"{MAX_STOCK:,} units an item may hold. Stock was not changed.",
                item_id=str(item_id), title=title, stock=stock, delta=delta,
            )  # fmt: skip
        raise NotEnoughStock(
            f"{title} has {stock} in stock: taking {-delta} would leave {stock + delta}. Stock was not changed.",
            item_id=str(item_id),
            title=title,
            stock=stock,
            delta=delta,
        )
    checkpoint("catalog.stock_updated")
    _record_move(item_id=item_id, delta=delta, reason=reason, actor=actor, note=note)
    after = _current_stock(item_id)
    _stock_moved(item_id=item_id, delta=delta, after=after)
    _audit_stock(item_id=item_id, before=after - delta, after=after, actor=actor)
    return after


@unit_of_work
def set_stock(*, item_id: object, stock: int, actor=None, reason: str = StockReason.ADJUSTMENT, note: str = "") -> int:
    """Sets the stock to `stock` (someone counted the shelf), recording the difference as one move; returns it.

    Raises: ItemNotFound; ValueError for a negative stock or an unknown reason; TransientError when the stock moved
    between the read and the write (the unit of work then runs again).
    """
    reason = StockReason(reason)
    if stock < 0:
        raise ValueError("stock cannot be negative")
    if stock > MAX_STOCK:
        raise ValueError(f"stock cannot be more than {MAX_STOCK:,}")
    current = _current_stock(item_id)
    if current is None:
        raise ItemNotFound(item_id=str(item_id))
    if stock == current:
        return current
    if not Item.objects.filter(pk=item_id, stock=current).update(stock=stock, updated_at=timezone.now()):
        raise TransientError(f"the stock of item {item_id} moved while it was being set")
    checkpoint("catalog.stock_updated")
    _record_move(item_id=item_id, delta=stock - current, reason=reason, actor=actor, note=note)
    _stock_moved(item_id=item_id, delta=stock - current, after=stock)
    _audit_stock(item_id=item_id, before=current, after=stock, actor=actor)
    return stock


@unit_of_work
def repair_stock(*, item_id: object, actor=None) -> int | None:
    """Sets the stock column to the sum of the item's ledger, recording a REPAIR move of delta 0 that says what the
    column held. Returns the new stock, or None when there was nothing to fix (or no such item).

    Raises: CatalogError(code="ledger_below_zero") when the ledger sums to less than zero (moves are missing: no stock
    column can match it); TransientError when the stock moved meanwhile (the unit runs again).
    """
    current = _current_stock(item_id)
    if current is None:
        return None
    pk = Item._meta.pk.to_python(item_id)
    ledger = ledger_totals(item_ids=[pk]).get(pk, 0)
    if ledger == current:
        return None
    if ledger < 0:
        raise CatalogError(
            f"The ledger of item {item_id} sums to {ledger}: moves are missing, so there is no stock to set.",
            code="ledger_below_zero",
            item_id=str(item_id),
            ledger=ledger,
            stock=current,
        )
    if not Item.objects.filter(pk=item_id, stock=current).update(stock=ledger, updated_at=timezone.now()):
        raise TransientError(f"the stock of item {item_id} moved while it was being repaired")
    checkpoint("catalog.stock_updated")
    _record_move(
        item_id=item_id,
        delta=0,
        reason=StockReason.REPAIR,
        actor=actor,
        note=f"stock column was {current}, ledger says {ledger}",
    )
    _stock_moved(item_id=item_id, delta=ledger - current, after=ledger)
    _audit_stock(item_id=item_id, before=current, after=ledger, actor=actor)
    return ledger


def record_opening_stock(*, item: Item, actor=None, note: str = "") -> None:
    """Records the stock a just-created item starts with as its first move (nothing when it starts with none).

    Called by the item receiver for every item created through `save()`; bulk creations record their own.
    """
    if item.stock > 0:
        _record_move(item_id=item.pk, delta=item.stock, reason=StockReason.OPENING, actor=actor, note=note)


UPDATABLE_FIELDS = {"price_minor", "stock", "is_active", "title", "description", "category_id"}


@unit_of_work
def update_items(*, item_ids: list, actor=None, **changes: object) -> int:
    """Sets the same fields on many items at once and tells cached pages of their categories (`catalog_changed`).
    A `stock` is set item by item through `set_stock` (a recorded adjustment by `actor`). Returns how many items
    were matched.

    Bulk edits must come through here (or `save()`): a bare `QuerySet.update()` would leave the catalog cache stale.
    Each value is checked as the model's field checks it (a price of at least 0.01, an existing category...), since
    `QuerySet.update()` skips the model's validation; the caller decides whose items `item_ids` may name.
    Raises: ValueError for a field it may not set; ValidationError naming each bad value (nothing is changed).
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot bulk-update {', '.join(sorted(unknown))}")
    if not changes or not item_ids:
        return 0
    errors = {}
    for name, value in changes.items():
        if name == "stock":  # set_stock's own checks
            continue
        try:
            changes[name] = Item._meta.get_field(name).clean(value, None)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    stock = changes.pop("stock", None)
    matched = 0
    if changes:
        items = Item.objects.filter(pk__in=list(item_ids))
        category_ids = {*items.values_list("category_id", flat=True), changes.get("category_id")}
        # QuerySet.update() sends no signal: the audit trail gets each item's values before and after from here.
        before = list(items.values("pk", "title", *changes)) if is_audited(actor=actor) else []
        matched = items.update(**changes, updated_at=timezone.now())
        if matched:
            catalog_changed(category_ids=category_ids)
        for values in before:
            pk, title = values.pop("pk"), values.pop("title")
            record_change(
                action="update",
                model=Item,
                object_id=pk,
                object_repr=changes.get("title", title),
                before=_by_field_name(values),
                after=_by_field_name(changes),
                actor=actor,
            )
    if stock is not None:
        pks = list(Item.objects.filter(pk__in=list(item_ids)).values_list("pk", flat=True))
        for pk in pks:
            set_stock(item_id=pk, stock=stock, actor=actor)
        matched = max(matched, len(pks))
    return matched


def _by_field_name(values: dict) -> dict:
    """Values by attribute (`category_id`) re-keyed by field name (`category`), as the audit trail names fields."""
    names = {field.attname: field.name for field in Item._meta.concrete_fields}
    return {names.get(key, key): value for key, value in values.items()}


def record_bulk_item_writes(*, created=(), updated=(), actor=None) -> None:
    """Puts items written by `bulk_create`/`bulk_update` (imports, which send no signals) in the audit trail, within
    the caller's transaction: each created item with its values, and each `(stored, item)` of `updated` with the fields
    whose stored values (a dict by attribute or field name, read before the write) differ from the item's. Nothing
    when no staff member, seller or command is writing."""
    if not is_audited(actor=actor):
        return
    for item in created:
        record_instance_change(action="create", instance=item, after=snapshot(item), actor=actor)
    for stored, item in updated:
        after = snapshot(item)
        before = {name: value for name, value in _by_field_name(stored).items() if name in after}
        after = {name: after[name] for name in before}
        record_instance_change(action="update", instance=item, before=before, after=after, actor=actor)


# Item writes by their seller or by staff (the JSON API; the admin has its own forms).

ITEM_WRITABLE_FIELDS = {"title", "description", "price_minor", "stock", "category", "is_active", "sku", "slug"}


def _check_can_manage(*, item: Item, actor) -> None:
    if not (actor.role == "staff" or (actor.is_seller and item.seller_id == actor.pk)):
        raise CatalogError("You may only change your own items.", code="not_allowed")


def _free_slug(title: str, *, exclude_pk: object = None) -> str:
    base = slugify(title)[:200] or "item"
    taken = Item.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    taken_slugs = set(taken.values_list("slug", flat=True))
    if base not in taken_slugs:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken_slugs) + 3) if f"{base}-{n}" not in taken_slugs)


@unit_of_work
def create_item(
    *,
    actor,
    category,
    title: str,
    price_minor: int,
    stock: int = 0,
    description: str = "",
    sku: str = "",
    slug: str = "",
    is_active: bool = True,
) -> Item:
    """A new item sold by `actor` (a seller or staff), with its opening stock move; a missing slug is made from the
    title, a missing SKU drawn.

    Raises: CatalogError(code="not_allowed") for anyone else; ValidationError (bad values, slug or SKU taken).
    """
    if not (actor.role == "staff" or actor.is_seller):
        raise CatalogError("Only sellers and staff may add items.", code="not_allowed")
    item = Item(
        seller=actor,
        category=category,
        title=title,
        description=description,
        price_minor=price_minor,
        stock=stock,
        sku=sku or f"ITEM-{secrets.token_hex(5).upper()}",
        slug=slug or _free_slug(title),
        is_active=is_active,
    )
    item.full_clean()
    item.opening_actor = actor  # the item receiver records the opening move, naming who created the item
    item.save()
    return item


@unit_of_work
def update_item(*, item: Item, actor, expected_stock: int | None = None, **changes: object) -> Item:
    """Changes the given fields of the item, for its seller or staff; the seller never changes.

    Stock is a count that buyers change all the time, so it is never written back: a `stock` that differs from the
    stock now is applied as the difference from `expected_stock` (the count the caller read), an adjustment by
    `actor`. Without `expected_stock` only the current count is accepted (a client sending back what it read), so a
    stale copy can never undo a sale. The item returned carries the stock stored.

    Raises: CatalogError(code="not_allowed"); CatalogError(code="stock_changed") for a stock that differs from the
    current one without `expected_stock`; NotEnoughStock; ValueError for a field that may not be set;
    ValidationError; ItemNotFound when the item was deleted meanwhile.
    """
    _check_can_manage(item=item, actor=actor)
    unknown = set(changes) - ITEM_WRITABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot set {', '.join(sorted(unknown))}")
    stock = changes.pop("stock", None)
    for name, value in changes.items():
        setattr(item, name, value)
    item.full_clean(exclude=["stock"])
    try:
        item.save()
    except DatabaseError as error:  # saved with update_fields: no row left to update
        if not Item.objects.filter(pk=item.pk).exists():
            raise ItemNotFound(item_id=str(item.pk)) from error
        raise
    current = _current_stock(item.pk)
    if stock is not None and stock != current:
        if expected_stock is None:
            raise CatalogError(
                f"The stock of {item.title} is now {current}, not {stock}: buyers change it as they order. To change "
                "it, send expected_stock (the stock you read) with stock; the difference is applied.",
                code="stock_changed",
                stock=current,
            )
        current = adjust_stock(
            item_id=item.pk, delta=stock - expected_stock, actor=actor, note=f"api: {expected_stock} -> {stock}"
        )
    item.stock = current
    return item


def _kept_by_history(item: Item) -> bool:
    """Whether a record meant to outlive the item refers to it: a reverse relation that does not cascade (an order
    line keeps its copy of the item and only loses the link; PROTECT would refuse). Found through the model's own
    relations, so the catalog needs to know no higher app."""
    for relation in Item._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and relation.one_to_many) or relation.on_delete is models.CASCADE:
            continue
        if relation.related_model._base_manager.filter(**{relation.field.name: item.pk}).exists():
            return True
    return False


@unit_of_work
def delete_item(*, item: Item, actor) -> bool:
    """Deletes the item, or, when order history refers to it, deactivates it instead so that history keeps its link.

    Returns True when the item was deleted, False when it was deactivated. Raises: CatalogError(code="not_allowed").
    """
    _check_can_manage(item=item, actor=actor)
    if _kept_by_history(item):
        if item.is_active:
            item.is_active = False
            item.save(update_fields=["is_active", "updated_at"])
        return False
    item.delete()
    return True
