"""Item cards, the fragment most repeated across the catalog's pages."""

import functools

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from shop.fragments import placeholder

register = template.Library()

NEXT_PLACEHOLDER = mark_safe(f"<!--{placeholder('next-url')}-->")  # noqa: S308 (hex digits only from outside)


@register.simple_tag
def item_card(item, next_url: str = "") -> SafeString:
    """The card of an item: rendered once per distinct look in each process, then reused on every page that lists it,
    with the add-to-cart form coming back to `next_url` (none without it).

    The key names no field by hand: every write to an item moves its `updated_at` (saves, stock moves, bulk updates,
    imports), and every save of a category its own, so a field of either added to the card template is covered."""
    html = _card(item, item.updated_at, item.category.updated_at, bool(next_url), get_language())
    return mark_safe(html.replace(NEXT_PLACEHOLDER, escape(next_url)))  # noqa: S308 (HTML we rendered)


# Keyed by the item (its model and primary key) and the times of its last writes; every card of a 10,000-item
# catalog fits (a card is about 1.2 KB).
@functools.lru_cache(maxsize=12_000)
def _card(item, updated_at, category_updated_at, with_form: bool, language: str) -> str:
    context = {"item": item, "next_url": NEXT_PLACEHOLDER if with_form else "", "add_url": reverse("cart:add")}
    return render_to_string("catalog/partials/_item_card.html", context)
