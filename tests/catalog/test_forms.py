import pytest

from catalog.forms import ItemFilterForm, ItemFilters


def test_filter_form_reads_prices_in_major_units_and_swaps_a_reversed_range():
    form = ItemFilterForm({"q": "  Copper   wok ", "min_price": "30", "max_price": "12.50", "in_stock": "1"})
    filters = form.filters()
    assert filters == ItemFilters(q="Copper wok", min_price_minor=1250, max_price_minor=3000, in_stock=True)
    assert form.problems() == []
    assert filters.querystring() == "q=Copper+wok&min_price=12.50&max_price=30.00&in_stock=1"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"min_price": "abc"}, "Min price: Enter an amount such as 12.50."),
        ({"max_price": "-5"}, "Max price: Enter an amount such as 12.50."),
        ({"sort": "zzz"}, "Sort by: Unknown sort order; showing the newest first."),
        ({"category": "no such!"}, "Category: Choose a category from the list."),
    ],
)
def test_filter_form_reports_a_bad_field_and_ignores_only_that_one(params, problem):
    form = ItemFilterForm({"q": "wok", **params})
    assert form.filters() == ItemFilters(q="wok")
    assert form.problems() == [problem]


def test_filter_form_shortens_a_very_long_search_instead_of_refusing_it():
    filters = ItemFilterForm({"q": "x" * 5000}).filters()
    assert filters.q == "x" * 100


def test_category_from_the_url_wins_and_stays_out_of_the_page_links():
    filters = ItemFilterForm({"category": "books", "sort": "price"}).filters(category_slug="kitchen")
    assert filters.category_slug == "kitchen"
    assert filters.querystring(with_category=False) == "sort=price"
