"""Parsing of the catalog's query string. The forms only read input; selectors do the filtering."""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django import forms

from catalog.selectors import DEFAULT_SORT, SEARCH_MAX_LENGTH, SORTS
from shop.money import currency_places, parse_major

SORT_LABELS = {
    "newest": "Newest first",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "title": "Title: A to Z",
}
SORT_CHOICES = [(value, SORT_LABELS[value]) for value in SORTS]


def major_text(minor: int) -> str:
    """An amount in minor units as a shopper would type it: 1250 -> '12.50'."""
    return str(Decimal(minor).scaleb(-currency_places()))


@dataclass(frozen=True)
class ItemFilters:
    """The catalog filters after parsing: plain values that `catalog.selectors.item_list` takes as they are."""

    q: str = ""
    category_slug: str = ""
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    in_stock: bool = False
    sort: str = DEFAULT_SORT

    def selector_kwargs(self) -> dict:
        return {
            "q": self.q,
            "category_slug": self.category_slug or None,
            "min_price_minor": self.min_price_minor,
            "max_price_minor": self.max_price_minor,
            "in_stock": self.in_stock,
            "sort": self.sort,
        }

    def query_params(self, *, with_category: bool = True) -> dict[str, str]:
        """The query-string parameters that reproduce these filters, defaults left out, in a fixed order."""
        params = {
            "q": self.q,
            "category": self.category_slug if with_category else "",
            "min_price": major_text(self.min_price_minor) if self.min_price_minor is not None else "",
            "max_price": major_text(self.max_price_minor) if self.max_price_minor is not None else "",
            "in_stock": "1" if self.in_stock else "",
            "sort": self.sort if self.sort != DEFAULT_SORT else "",
        }
        return {key: value for key, value in params.items() if value}

    def querystring(self, *, with_category: bool = True) -> str:
        return urlencode(self.query_params(with_category=with_category))

    @property
    def is_filtered(self) -> bool:
        return self.query_params(with_category=True).keys() - {"sort"} != set()


class PriceField(forms.CharField):
    """An amount in the currency's major units as typed ('12.50'), cleaned to minor units (1250)."""

    default_error_messages = {"invalid": "Enter an amount such as 12.50."}

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        minor = parse_major(text)
        if minor is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return minor


class ItemFilterForm(forms.Form):
    """The catalog's query string. An invalid field is reported and then ignored; the others still apply."""

    q = forms.CharField(label="Search", required=False)
    category = forms.SlugField(
        label="Category",
        required=False,
        max_length=120,
        widget=forms.Select,
        error_messages={"invalid": "Choose a category from the list."},
    )
    min_price = PriceField(label="Min price", required=False)
    max_price = PriceField(label="Max price", required=False)
    in_stock = forms.BooleanField(label="In stock only", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        choices=SORT_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Unknown sort order; showing the newest first."},
    )

    def clean_q(self) -> str:
        # A search longer than anything useful is shortened rather than refused: the shopper still gets results.
        return " ".join(self.cleaned_data["q"].split())[:SEARCH_MAX_LENGTH]

    def filters(self, *, category_slug: str | None = None) -> ItemFilters:
        """The valid part of the input; `category_slug` (from the URL of a category page) wins over the query."""
        self.is_valid()
        data = self.cleaned_data
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            low, high = high, low
        return ItemFilters(
            q=data.get("q") or "",
            category_slug=category_slug or data.get("category") or "",
            min_price_minor=low,
            max_price_minor=high,
            in_stock=bool(data.get("in_stock")),
            sort=data.get("sort") or DEFAULT_SORT,
        )

    def problems(self) -> list[str]:
        """One sentence per ignored field, for the page to show."""
        return [
            f"{self.fields[name].label}: {' '.join(errors)}" if name in self.fields else " ".join(errors)
            for name, errors in self.errors.items()
        ]


class ItemFilterDisplayForm(ItemFilterForm):
    """The filter sidebar, bound to already-parsed filters, with the categories to pick from."""

    def __init__(self, *, filters: ItemFilters, category_choices: list[tuple[str, str]], with_category: bool = True):
        super().__init__(data=filters.query_params(), auto_id="filter_%s")
        if with_category:
            self.fields["category"].widget.choices = [("", "All categories"), *category_choices]
        else:
            del self.fields["category"]
