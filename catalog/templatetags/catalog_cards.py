"""Item cards, the fragment most repeated across the catalog's pages."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from shop.fragments import RenderedMemo, placeholder

register = template.Library()

NEXT_PLACEHOLDER = mark_safe(f"<!--{placeholder('next-url')}-->")  # noqa: S308 (hex digits only from outside)
# Every card of a 10,000-item catalog fits (a card is about 1.2 KB).
CARDS = RenderedMemo(size=12_000)


@register.simple_tag
def item_card(item, next_url: str = "") -> SafeString:
    """The card of an item: rendered once per distinct look, then reused on every page that lists it.

    The key names no field by hand: every write to an item moves its `updated_at` (saves, stock moves, bulk updates,
    imports), and every save of a category its own, so a field of either added to the card template is covered.
    And whether it has the add-to-cart form, which comes back to `next_url`."""
    key = (str(item.pk), item.updated_at, item.category_id, item.category.updated_at)
    html = CARDS.get_or_render((*key, bool(next_url)), lambda: _render(item, with_form=bool(next_url)))
    return mark_safe(html.replace(NEXT_PLACEHOLDER, escape(next_url)))  # noqa: S308 (HTML we rendered)


def _render(item, *, with_form: bool) -> str:
    context = {
        "item": item,
        "next_url": NEXT_PLACEHOLDER if with_form else "",
        "add_url": reverse("cart:add"),
    }
    return render_to_string("catalog/partials/_item_card.html", context)
