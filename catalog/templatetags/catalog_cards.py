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
    """The card of an item: rendered once per distinct look (what it shows of the item, and whether it has the
    add-to-cart form, which comes back to `next_url`), then reused on every page that lists it."""
    key = (str(item.pk), item.slug, item.title, item.category.name, item.image.name, item.price_minor, item.stock_label)
    html = CARDS.get_or_render((*key, bool(next_url)), lambda: _render(item, with_form=bool(next_url)))
    return mark_safe(html.replace(NEXT_PLACEHOLDER, escape(next_url)))  # noqa: S308 (HTML we rendered)


def _render(item, *, with_form: bool) -> str:
    context = {
        "item": item,
        "next_url": NEXT_PLACEHOLDER if with_form else "",
        "add_url": reverse("cart:add"),
    }
    return render_to_string("catalog/partials/_item_card.html", context)
