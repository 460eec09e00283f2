"""Catalog pages. The views parse input, call selectors and render; an anonymous visitor's page comes from the cache
(`CatalogPageMixin`, `catalog.page_cache`)."""

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from catalog.forms import ItemFilterDisplayForm, ItemFilterForm, ItemFilters
from catalog.page_cache import ANONYMOUS_PAGE, is_anonymous_visitor
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
from shop.views import CachedPageMixin


class CatalogPageMixin(CachedPageMixin):
    """A catalog page: `build_page()` returns its template context (None for a 404), read from the database.

    A visitor with nothing personal on the page (see `catalog.page_cache`) gets the page from the cache, stored under
    the URL with the version of the catalog scopes it shows (`cache_scopes()`); anyone else gets it rendered.
    """

    page_cache_name = ANONYMOUS_PAGE  # shared by every catalog view: the URL tells pages apart (see page_cache)

    def build_page(self) -> dict | None:
        raise NotImplementedError

    def cache_scopes(self) -> tuple[str, ...]:
        """The parts of the catalog this page shows (see `catalog.selectors.catalog_version`): every item's."""
        return (ITEMS,)

    def page_cache_parts(self, request) -> tuple | None:
        return () if is_anonymous_visitor(request) else None

    def page_cache_versions(self) -> dict:
        return {"scopes": self.cache_scopes, "version_of": catalog_version}

    def get_context_data(self, **kwargs):
        context = self.build_page()
        if context is None:
            raise Http404("No such page in the catalog.")
        return super().get_context_data(**context, **kwargs)


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


class HomeView(CatalogPageMixin, TemplateView):
    template_name = "catalog/home.html"

    def build_page(self) -> dict:
        return {
            "page_title": "Welcome",
            "shop_name": settings.SHOP_NAME,
            "featured": featured_items(),
            "categories": top_categories(),
            "next_url": reverse("catalog:home"),
        }


class ItemListView(CatalogPageMixin, TemplateView):
    """`/items/`: search, filters, sort and pages; a bad parameter is reported and ignored."""

    template_name = "catalog/item_list.html"

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

    def results_path(self) -> str:
        return reverse("catalog:item_list")

    def heading(self, category) -> str:
        if self.filters.q:
            return f"Results for \u201c{self.filters.q}\u201d"
        return category.name if category else "All items"

    def build_page(self) -> dict | None:
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
            "filter_form": ItemFilterDisplayForm(
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

    def url_category_slug(self) -> str | None:
        return self.kwargs["slug"]

    def cache_scopes(self) -> tuple[str, ...]:
        return (category_scope(self.kwargs["slug"]),)

    def results_path(self) -> str:
        return reverse("catalog:category", kwargs={"slug": self.kwargs["slug"]})


class ItemDetailView(CatalogPageMixin, TemplateView):
    """`/items/<slug>/`: an active item, its stock, the add-to-cart form and a few others from its category."""

    template_name = "catalog/item_detail.html"

    def cache_scopes(self) -> tuple[str, ...]:
        return item_page_scopes(slug=self.kwargs["slug"])

    def build_page(self) -> dict | None:
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
