"""`{{ line.title|single_line }}`: seller text in plain-text emails on one line, without control characters, whatever
was stored before `shop.text` cleaned it on the way in (rows written earlier are not migrated)."""

from django import template

from shop.text import clean_single_line

register = template.Library()


@register.filter
def single_line(value: object) -> str:
    return clean_single_line(str(value))
