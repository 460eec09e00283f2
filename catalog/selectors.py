"""Reads on the catalog."""

from django.db.models import QuerySet

from catalog.models import Category, Item


def visible_items() -> QuerySet[Item]:
    """Items a shopper may see: active ones."""
    return Item.objects.filter(is_active=True)


def featured_items(*, limit: int = 8) -> list[Item]:
    """The newest active items that are in stock, for the home page."""
    return list(visible_items().filter(stock__gt=0).select_related("category").order_by("-created_at")[:limit])


def top_categories() -> list[Category]:
    """Categories without a parent, by name."""
    return list(Category.objects.filter(parent__isnull=True).order_by("name"))
