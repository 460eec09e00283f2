"""Issue 14's cleanup: the footer's link (`.link-secondary`, #6c757d on the light footer's #f8f9fa) had a contrast
of 4.45:1 on every page, below WCAG AA's 4.5:1 for normal text."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

FOOTER_BACKGROUND = "#f8f9fa"  # Bootstrap 5.3's .bg-body-tertiary in the light theme
BOOTSTRAP_LINK_COLOURS = {"link-secondary": "#6c757d"}  # the utility classes a footer link has used


class FooterLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_footer = False
        self.classes: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "footer":
            self.in_footer = True
        elif tag == "a" and self.in_footer:
            self.classes.append((dict(attrs).get("class") or "").split())

    def handle_endtag(self, tag):
        if tag == "footer":
            self.in_footer = False


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def link_colour(classes: list[str], css: str) -> str:
    for name in classes:
        rule = re.search(rf"\.{re.escape(name)}\s*\{{\s*color:\s*(#[0-9a-fA-F]{{6}})", css)
        if rule:
            return rule.group(1)
    for name in classes:
        if name in BOOTSTRAP_LINK_COLOURS:
            return BOOTSTRAP_LINK_COLOURS[name]
    raise AssertionError(f"no known colour for a footer link with classes {classes}")


@pytest.mark.django_db
def test_every_footer_link_meets_wcag_aa_contrast(client):
    page = FooterLinks()
    page.feed(client.get(reverse("catalog:item_list")).content.decode())
    with open(finders.find("css/shop.css"), encoding="utf-8") as handle:
        css = handle.read()

    assert page.classes
    for classes in page.classes:
        assert contrast(link_colour(classes, css), FOOTER_BACKGROUND) >= 4.5, classes
