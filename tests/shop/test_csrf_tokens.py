"""CSRF tokens from one read of the random source (shop/csrf.py): the same strings Django would draw, accepted by
Django's CSRF check."""

import collections
import re

import pytest
from django.middleware import csrf as django_csrf
from django.test import Client

from shop.csrf import random_string


def test_random_strings_have_the_length_and_alphabet_asked_and_are_uniform():
    alphabet = django_csrf.CSRF_ALLOWED_CHARS
    drawn = [random_string(32, alphabet) for _ in range(2000)]
    assert all(len(text) == 32 and set(text) <= set(alphabet) for text in drawn)
    assert len(set(drawn)) == len(drawn)
    counts = collections.Counter("".join(drawn))
    expected = 2000 * 32 / len(alphabet)  # about 1,032 of each of the 62 characters
    assert len(counts) == len(alphabet) and all(0.8 * expected < n < 1.2 * expected for n in counts.values())


def test_djangos_csrf_uses_them_and_a_cached_pages_token_is_accepted(make_item):
    assert django_csrf.get_random_string is random_string
    item = make_item(stock=5)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(item.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    added = browser.post("/cart/add/", {"item": item.pk, "quantity": 1, "csrfmiddlewaretoken": token})

    assert added.status_code == 302
    assert Client(enforce_csrf_checks=True).post("/cart/add/", {"item": item.pk}).status_code == 403


pytestmark = pytest.mark.django_db
