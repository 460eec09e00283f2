"""Catalog pages. The shopper-independent body of each page comes from `catalog.page_cache`; the views only parse
input, call selectors on a cache miss, and render."""

import dataclasses

from django.conf import settings
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.generic import TemplateView

from catalog.forms import ItemFilterDisplayForm, ItemFilterForm, ItemFilters
from catalog.page_cache import ANONYMOUS_PAGE, cached_fragment, is_anonymous_visitor
from catalog.selectors import (
    ITEMS,
    catalog_version,
    category_list,
    category_scope,
    featured_items,
    item_by_slug,
    item_list,
    item_page,
    item_page_scopes,
    related_items,
    top_categories,
)
from shop.fragments import RenderedMemo, placeholder
from shop.views import CachedPageMixin


class CachedFragmentMixin(CachedPageMixin):
    """Serves catalog pages from the cache, keyed by the catalog version read once per request.

    A visitor without a session or messages cookie (anonymous, empty cart, nothing to tell) sees exactly what every
    such visitor sees for this URL, so the whole page is cached. Anyone else gets the shopper-independent body from
    the cache inside a freshly rendered page (their cart badge, messages, account menu). Subclasses name the
    fragment and its parameters, and `build_fragment()` returns the body's template context, or None for a 404.
    """

    fragment_name = ""
    fragment_template_name = ""

    def get_fragment_params(self) -> str:
        return ""

    def build_fragment(self) -> dict | None:
        raise NotImplementedError

    def _render_fragment(self) -> dict:
        context = self.build_fragment()
        if context is None:
            return {"missing": True}
        html = render_to_string(self.fragment_template_name, context)
        return {"title": context["page_title"], "html": html}

    page_cache_name = ANONYMOUS_PAGE  # shared by every catalog view: the URL tells pages apart (see page_cache)

    def cache_scopes(self) -> tuple[str, ...]:
        """The parts of the catalog this page shows (see `catalog.selectors.catalog_version`): every item's."""
        return (ITEMS,)

    @cached_property
    def _scopes(self) -> tuple[str, ...]:
        return self.cache_scopes()

    @cached_property
    def _version(self) -> str | None:
        return catalog_version(*self._scopes)  # read once, before the page and its body are built

    def _version_of(self, *scopes: str) -> str | None:
        return self._version if scopes == self._scopes else catalog_version(*scopes)

    def page_cache_parts(self, request) -> tuple | None:
        return () if is_anonymous_visitor(request) else None

    def page_cache_versions(self) -> dict:
        return {"scopes": lambda: self._scopes, "version_of": self._version_of}

    def get_context_data(self, **kwargs):
        fragment = cached_fragment(
            name=self.fragment_name,
            params=self.get_fragment_params(),
            scopes=lambda: self._scopes,
            version_of=self._version_of,
            build=self._render_fragment,
        )
        if fragment.get("missing"):
            raise Http404("No such page in the catalog.")
        kwargs.update(page_title=fragment["title"], body=mark_safe(fragment["html"]))  # noqa: S308 (HTML we rendered)
        return super().get_context_data(**kwargs)


def _category_choices(categories) -> list[tuple[str, str]]:
    """Parents followed by their children (indented), for the category filter."""
    children: dict = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    choices = []
    for parent in children.get(None, []):
        choices.append((parent.slug, parent.name))
        choices.extend((child.slug, f"\u2014 {child.name}") for child in children.get(parent.pk, []))
    return choices


# A cart line's limit (`cart.services.MAX_LINE_QUANTITY`; the cart app sits above the catalog, which cannot import it).
MAX_QUANTITY = 999
# The filter form is the costliest part of a results page and differs between searches only by the search text.
FILTER_FORMS = RenderedMemo(size=500)
# HTML escaping leaves it as it is, and no label of the form can hold it (category names are sellers' text).
SEARCH_PLACEHOLDER = f"\u00a7{placeholder('search')}\u00a7"


def _filter_form_html(*, filters: ItemFilters, category_choices: list, with_category: bool) -> SafeString:
    """The crispy filter form for these filters, rendered once per distinct filters other than the search text,
    which is then filled in, escaped as the form would."""
    shared = dataclasses.replace(filters, q=SEARCH_PLACEHOLDER if filters.q else "")

    def render() -> str:
        form = ItemFilterDisplayForm(filters=shared, category_choices=category_choices, with_category=with_category)
        return render_to_string("catalog/partials/_filter_form.html", {"filter_form": form})

    html = FILTER_FORMS.get_or_render((shared, tuple(category_choices), with_category), render)
    return mark_safe(html.replace(SEARCH_PLACEHOLDER, escape(filters.q)))  # noqa: S308 (HTML we rendered)


class HomeView(CachedFragmentMixin, TemplateView):
    template_name = "catalog/home.html"
    fragment_name = "home"
    fragment_template_name = "catalog/partials/_home_body.html"

    def build_fragment(self) -> dict:
        return {
            "page_title": "Welcome",
            "shop_name": settings.SHOP_NAME,
            "featured": featured_items(),
            "categories": top_categories(),
            "next_url": reverse("catalog:home"),
        }


class ItemListView(CachedFragmentMixin, TemplateView):
    """`/items/`: search, filters, sort and pages; a bad parameter is reported and ignored."""

    template_name = "catalog/item_list.html"
    fragment_name = "items"
    fragment_template_name = "catalog/partials/_item_list_body.html"

    # Parsed lazily: a whole page served from the cache needs none of it.
    @cached_property
    def form(self) -> ItemFilterForm:
        return ItemFilterForm(self.request.GET)

    @cached_property
    def filters(self) -> ItemFilters:
        return self.form.filters(category_slug=self.url_category_slug())

    @cached_property
    def page_number(self) -> str:
        page = self.request.GET.get("page", "1")
        return page if page.isdigit() and len(page) < 10 else "1"

    def url_category_slug(self) -> str | None:
        return None

    def get_fragment_params(self) -> str:
        return f"{self.filters.querystring()}|{self.page_number}"

    def results_path(self) -> str:
        return reverse("catalog:item_list")

    def heading(self, category) -> str:
        if self.filters.q:
            return f"Results for \u201c{self.filters.q}\u201d"
        return category.name if category else "All items"

    def build_fragment(self) -> dict | None:
        categories = category_list()
        category = next((c for c in categories if c.slug == self.filters.category_slug), None)
        if category is None and self.url_category_slug():
            return None
        page = item_page(items=item_list(**self.filters.selector_kwargs()), page=self.page_number)
        with_category = self.url_category_slug() is None
        base_query = self.filters.querystring(with_category=with_category)
        path = self.results_path()
        return {
            "page_title": self.heading(category),
            "heading": self.heading(category),
            "category": category,
            "children": [c for c in categories if category and c.parent_id == category.pk],
            "parent": next((c for c in categories if category and c.pk == category.parent_id), None),
            "filters": self.filters,
            "filter_form": _filter_form_html(
                filters=self.filters, category_choices=_category_choices(categories), with_category=with_category
            ),
            "page_obj": page,
            "page_range": list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
            "page_query": f"{base_query}&" if base_query else "",
            "results_path": path,
            "next_url": f"{path}?{base_query}&page={page.number}" if base_query else f"{path}?page={page.number}",
            "ellipsis": page.paginator.ELLIPSIS,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(problems=self.form.problems(), **kwargs)


class CategoryDetailView(ItemListView):
    """`/categories/<slug>/`: the list restricted to a category and its children; 404 for an unknown slug."""

    fragment_name = "category"

    def url_category_slug(self) -> str | None:
        return self.kwargs["slug"]

    def cache_scopes(self) -> tuple[str, ...]:
        return (category_scope(self.kwargs["slug"]),)

    def results_path(self) -> str:
        return reverse("catalog:category", kwargs={"slug": self.kwargs["slug"]})


class ItemDetailView(CachedFragmentMixin, TemplateView):
    """`/items/<slug>/`: an active item, its stock, the add-to-cart form and a few others from its category."""

    template_name = "catalog/item_detail.html"
    fragment_name = "item"
    fragment_template_name = "catalog/partials/_item_detail_body.html"

    def get_fragment_params(self) -> str:
        return self.kwargs["slug"]

    def cache_scopes(self) -> tuple[str, ...]:
        return item_page_scopes(slug=self.kwargs["slug"])

    def build_fragment(self) -> dict | None:
        item = item_by_slug(slug=self.kwargs["slug"])
        if item is None:
            return None
        return {
            "page_title": item.title,
            "item": item,
            # The exact stock only where the page shows it ("Only 3 left"): a sale that leaves an item "In stock" must
            # not change its page. Adding more than there is is refused with a message anyway.
            "max_quantity": item.stock if item.is_low_stock else MAX_QUANTITY,
            "related": related_items(item=item),
        }
