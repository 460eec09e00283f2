"""Cart pages and actions. Every change is a CSRF-protected POST; refusals become messages and leave the cart as it
was."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from cart.forms import CartAddForm, CartItemForm, CartQuantityForm, DiscountCodeForm
from cart.selectors import cart_breakdown, cart_for, cart_version, owner_for
from cart.services import add_to_cart, apply_discount, empty_cart, remove_discount, remove_from_cart, set_quantity
from catalog.selectors import ITEMS, STOCK, catalog_version
from pricing.selectors import pricing_version
from shop.exceptions import ShopError
from shop.views import CachedPageMixin


class CartView(CachedPageMixin, TemplateView):
    """The cart with current prices and stock. The whole page is cached under the versions of what it shows (the
    catalog's items and stock, the cart, the prices) when they can be read without a query (a shared cache)."""

    template_name = "cart/cart_detail.html"
    page_cache_name = "cart"

    def page_cache_parts(self, request) -> tuple | None:
        """With every version at hand and no message to show, the whole page comes from the cache."""
        owner = owner_for(request)
        versions = (catalog_version(ITEMS, STOCK), cart_version(owner=owner), pricing_version())
        if None in versions or len(messages.get_messages(request)):
            return None
        viewer = (str(request.user.pk), request.user.email, request.user.is_staff) if owner.is_stored else None
        return (*versions, viewer)

    def get_context_data(self, **kwargs):
        cart = cart_for(owner=owner_for(self.request))
        breakdown, discount_problem = cart_breakdown(cart=cart)
        # The badge reuses the cart's count instead of counting again.
        context = {"cart": cart, "breakdown": breakdown, "discount_problem": discount_problem, "cart_count": cart.count}
        return super().get_context_data(**context, **kwargs)


def _back(request, fallback: str = "cart:detail"):
    """Where the form came from if that is a page of ours, else `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def _report_invalid(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@require_POST
def cart_add_view(request):
    form = CartAddForm(request.POST)
    if not form.is_valid():
        _report_invalid(request, form)
        return _back(request)
    try:
        change = add_to_cart(
            owner=owner_for(request), item_id=form.cleaned_data["item"], quantity=form.cleaned_data["quantity"]
        )
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"Added to your cart; it now holds {change.quantity} of this item.")
    return _back(request)


@require_POST
def cart_update_view(request):
    form = CartQuantityForm(request.POST)
    if not form.is_valid():
        _report_invalid(request, form)
        return redirect("cart:detail")
    try:
        set_quantity(
            owner=owner_for(request), item_id=form.cleaned_data["item"], quantity=form.cleaned_data["quantity"]
        )
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, "Quantity updated.")
    return redirect("cart:detail")


@require_POST
def cart_remove_view(request):
    form = CartItemForm(request.POST)
    if form.is_valid() and remove_from_cart(owner=owner_for(request), item_id=form.cleaned_data["item"]):
        messages.success(request, "Removed from your cart.")
    else:
        messages.info(request, "That item was not in your cart.")
    return redirect("cart:detail")


@require_POST
def cart_empty_view(request):
    empty_cart(owner=owner_for(request))
    messages.success(request, "Your cart is empty now.")
    return redirect("cart:detail")


@require_POST
def cart_discount_view(request):
    """Applies the typed discount code to the cart, or says why it cannot be used; `remove` takes it off."""
    owner = owner_for(request)
    if "remove" in request.POST:
        remove_discount(owner=owner)
        messages.success(request, "Discount code removed.")
        return redirect("cart:detail")
    form = DiscountCodeForm(request.POST)
    if not form.is_valid():
        _report_invalid(request, form)
        return redirect("cart:detail")
    try:
        breakdown = apply_discount(owner=owner, code=form.cleaned_data["code"])
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"Code {breakdown.discount_code} applied.")
    return redirect("cart:detail")
