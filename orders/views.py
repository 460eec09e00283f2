from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView

from accounts.selectors import addresses_for
from accounts.services import keep_address
from cart.selectors import cart_for, owner_for
from orders.forms import CheckoutForm
from orders.selectors import (
    cart_fingerprint,
    checkout_breakdown,
    is_payable,
    order_by_guest_token,
    order_for_viewer,
    order_lines,
    order_timeline,
    orders_for_buyer,
)
from orders.services import (
    ShippingAddress,
    can_cancel,
    cancel_order,
    new_checkout_token,
    place_order,
    remember_guest_order,
)
from shop.exceptions import ShopError


class CheckoutView(FormView):
    """Shipping address and order summary; placing the order reserves stock and hands over to payment. Visitors
    without an account buy with their email address (`SHOP_GUEST_CHECKOUT`); signed-in shoppers pick a saved address
    and may save a new one."""

    form_class = CheckoutForm
    template_name = "orders/checkout.html"

    def dispatch(self, request, *args, **kwargs):
        self.is_guest = not request.user.is_authenticated
        if self.is_guest and not settings.SHOP_GUEST_CHECKOUT:
            return redirect_to_login(request.get_full_path())
        self.cart = cart_for(owner=owner_for(request))
        # A POST goes on to place_order even with an empty cart: a double submit must find its order.
        if self.cart.is_empty and request.method == "GET":
            messages.info(request, "Your cart is empty: add something before checking out.")
            return redirect("cart:detail")
        self.addresses = [] if self.is_guest else addresses_for(user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "guest": self.is_guest, "addresses": self.addresses}

    def get_initial(self):
        initial = {
            "checkout_token": new_checkout_token(),
            "cart_fingerprint": cart_fingerprint(cart=self.cart),
            "discount_code": self.cart.discount_code,
        }
        if not self.is_guest:
            initial["name"] = self.request.user.get_full_name()
            if self.addresses:
                initial["use_address"] = str(self.addresses[0].pk)  # the default comes first
        return initial

    def get_context_data(self, **kwargs):
        form = kwargs.setdefault("form", self.get_form())  # on a GET, FormMixin would only make it later
        data = form.data if form.is_bound else form.initial
        chosen = form.addresses.get(data.get("use_address") or "")
        breakdown, problem = checkout_breakdown(
            cart=self.cart,
            country=chosen.country if chosen else data.get("country") or None,
            shipping_method_id=data.get("shipping_method") or None,
            code=data.get("discount_code", ""),
        )
        return super().get_context_data(
            cart=self.cart, breakdown=breakdown, pricing_problem=problem, is_guest=self.is_guest, **kwargs
        )

    def form_valid(self, form):
        data = form.cleaned_data
        address = ShippingAddress(**form.address_fields())
        choices = {
            "address": address,
            "checkout_token": data["checkout_token"],
            "expected_fingerprint": data["cart_fingerprint"],
            "shipping_method_id": data["shipping_method"] or None,
            "discount_code": data["discount_code"],
        }
        try:
            if self.is_guest:
                order = place_order(guest=owner_for(self.request), guest_email=data["email"], **choices)
            else:
                order = place_order(buyer=self.request.user, **choices)
        except ValidationError as err:
            return self._refuse(form, " ".join(err.messages))
        except ShopError as err:
            return self._refuse(form, str(err))
        if self.is_guest:
            remember_guest_order(session=self.request.session, order=order)
        elif data.get("save_address") and not data.get("use_address"):
            keep_address(user=self.request.user, **form.address_fields())
        # 307, not 302: the browser repeats this POST (the form with its CSRF token) at the payment start, which
        # opens a gateway session on POST only; the order page's Pay button posts there too.
        return HttpResponseRedirect(reverse("payments:start", kwargs={"number": order.number}), status=307)

    def _refuse(self, form, message: str):
        """Shows the form again over the cart as it is now, so the shopper reviews what changed."""
        self.cart = cart_for(owner=owner_for(self.request))
        data = form.data.copy()
        data["cart_fingerprint"] = cart_fingerprint(cart=self.cart)
        fresh = self.get_form_class()(data, guest=self.is_guest, addresses=self.addresses)
        fresh.is_valid()
        fresh.add_error(None, message)
        return self.form_invalid(fresh)


class OrderListView(LoginRequiredMixin, ListView):
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 20

    def get_queryset(self):
        return orders_for_buyer(buyer=self.request.user)


def _viewed_order(request, number: str):
    """The order this browser may see (its buyer's, or a guest order of this session), else None."""
    return order_for_viewer(user=request.user, session=request.session, number=number)


class OrderDetailView(DetailView):
    """A buyer's order, or a guest's (this session placed it, or opened it through the emailed link)."""

    template_name = "orders/order_detail.html"
    context_object_name = "order"

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated and _viewed_order(request, kwargs["number"]) is None:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)

    def get_object(self, queryset=None):
        order = _viewed_order(self.request, self.kwargs["number"])
        if order is None:
            raise Http404("No such order.")
        return order

    def get_context_data(self, **kwargs):
        order = self.object
        return super().get_context_data(
            lines=order_lines(order=order),
            timeline=order_timeline(order=order, for_buyer=True),
            is_guest_order=order.buyer_id is None,
            can_cancel=can_cancel(order=order, actor=self.request.user),
            can_pay=is_payable(order=order),
            payment_cancelled=self.request.GET.get("payment") == "cancelled",
            **kwargs,
        )


@require_POST
def order_cancel_view(request, number: str):
    """The buyer (or the guest) cancels their pending order; its stock goes back on the shelf."""
    order = _viewed_order(request, number)
    if order is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404("No such order.")
    try:
        cancel_order(order=order, actor=request.user)
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"Order {order.number} is cancelled.")
    return redirect(order)


def guest_order_view(request, token: str):
    """The signed link of a guest's order email: this browser may see, pay and cancel the order from now on."""
    order = order_by_guest_token(token=token)
    if order is None:
        messages.error(
            request, "This order link is not valid, or the order now belongs to an account: log in to see it."
        )
        return redirect("catalog:home")
    remember_guest_order(session=request.session, order=order)
    return redirect(order)
