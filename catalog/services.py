"""Writes on the catalog. Stock moves only through conditional single-row updates (no transaction needed)."""

import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from catalog.exceptions import CatalogError
from catalog.models import CatalogRevision, Item
from catalog.selectors import REVISION_NAME, VERSION_CACHE_KEY
from shop.fragments import replace_version_token


def bump_catalog_revision() -> None:
    """Tells every worker that the shopper-visible catalog changed: one atomic increment of a shared row, then a new
    version token in the shared cache (see `catalog.selectors.catalog_version`). Call it after the change is stored.

    Called after each write that bypasses `save()`/`delete()` (those are covered by catalog receivers).
    """
    _increment_revision_row()
    if settings.CACHE_IS_SHARED:
        replace_version_token(VERSION_CACHE_KEY)


def _increment_revision_row() -> None:
    bumped = CatalogRevision.objects.filter(name=REVISION_NAME).update(
        number=F("number") + 1, changed_at=timezone.now()
    )
    if not bumped:
        try:
            with transaction.atomic():  # a savepoint on SQLite; on MongoDB the unique index alone decides
                CatalogRevision.objects.create(name=REVISION_NAME, number=1)
        except IntegrityError:  # another worker created it first
            _increment_revision_row()


def reserve_stock(*, item_id: object, quantity: int) -> bool:
    """Takes `quantity` units of an active item if that many are there, in one conditional update.

    Returns whether it did; stock never goes below zero, however many buyers race for the last units.
    """
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    taken = Item.objects.filter(pk=item_id, is_active=True, stock__gte=quantity).update(
        stock=F("stock") - quantity, updated_at=timezone.now()
    )
    if taken:
        bump_catalog_revision()
    return bool(taken)


def release_stock(*, item_id: object, quantity: int) -> None:
    """Puts `quantity` units back (an order was cancelled or a reservation undone)."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    if Item.objects.filter(pk=item_id).update(stock=F("stock") + quantity, updated_at=timezone.now()):
        bump_catalog_revision()


UPDATABLE_FIELDS = {"price_minor", "stock", "is_active", "title", "description", "category_id"}


def update_items(*, item_ids: list, **changes: object) -> int:
    """Sets the same fields on many items at once and bumps the catalog revision, so every cached page sees it.

    Bulk edits must come through here (or `save()`): a bare `QuerySet.update()` would leave the catalog cache stale.
    Returns how many items changed.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot bulk-update {', '.join(sorted(unknown))}")
    if not changes or not item_ids:
        return 0
    changed = Item.objects.filter(pk__in=list(item_ids)).update(**changes, updated_at=timezone.now())
    if changed:
        bump_catalog_revision()
    return changed


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
    """A new item sold by `actor` (a seller or staff); a missing slug is made from the title, a missing SKU drawn.

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
    item.save()
    return item


def update_item(*, item: Item, actor, **changes: object) -> Item:
    """Changes the given fields of the item, for its seller or staff; the seller never changes.

    Raises: CatalogError(code="not_allowed"); ValueError for a field that may not be set; ValidationError.
    """
    _check_can_manage(item=item, actor=actor)
    unknown = set(changes) - ITEM_WRITABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot set {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
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
