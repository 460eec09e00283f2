from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView

from cart.selectors import cart_for_user
from orders.forms import CheckoutForm
from orders.selectors import (
    cart_fingerprint,
    checkout_breakdown,
    is_payable,
    order_for_buyer,
    order_lines,
    orders_for_buyer,
)
from orders.services import ShippingAddress, can_cancel, cancel_order, new_checkout_token, place_order
from shop.exceptions import ShopError


class CheckoutView(LoginRequiredMixin, FormView):
    """Shipping address and order summary; placing the order reserves stock and hands over to payment."""

    form_class = CheckoutForm
    template_name = "orders/checkout.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.cart = cart_for_user(user=request.user)
            # A POST goes on to place_order even with an empty cart: a double submit must find its order.
            if self.cart.is_empty and request.method == "GET":
                messages.info(request, "Your cart is empty: add something before checking out.")
                return redirect("cart:detail")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        user = self.request.user
        return {
            "name": user.get_full_name(),
            "checkout_token": new_checkout_token(),
            "cart_fingerprint": cart_fingerprint(cart=self.cart),
            "discount_code": self.cart.discount_code,
        }

    def get_context_data(self, **kwargs):
        form = kwargs.get("form")
        data = form.data if form is not None and form.is_bound else form.initial if form is not None else {}
        breakdown, problem = checkout_breakdown(
            cart=self.cart,
            country=data.get("country") or None,
            shipping_method_id=data.get("shipping_method") or None,
            code=data.get("discount_code", ""),
        )
        return super().get_context_data(cart=self.cart, breakdown=breakdown, pricing_problem=problem, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        address = ShippingAddress(
            name=data["name"],
            line1=data["line1"],
            line2=data["line2"],
            postal_code=data["postal_code"],
            city=data["city"],
            country=data["country"],
        )
        try:
            order = place_order(
                buyer=self.request.user,
                address=address,
                checkout_token=data["checkout_token"],
                expected_fingerprint=data["cart_fingerprint"],
                shipping_method_id=data["shipping_method"] or None,
                discount_code=data["discount_code"],
            )
        except ShopError as err:
            return self._refuse(form, str(err))
        return redirect(reverse("payments:start", kwargs={"number": order.number}))

    def _refuse(self, form, message: str):
        """Shows the form again over the cart as it is now, so the shopper reviews what changed."""
        self.cart = cart_for_user(user=self.request.user)
        data = form.data.copy()
        data["cart_fingerprint"] = cart_fingerprint(cart=self.cart)
        fresh = self.get_form_class()(data)
        fresh.is_valid()
        fresh.add_error(None, message)
        return self.form_invalid(fresh)


class OrderListView(LoginRequiredMixin, ListView):
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 20

    def get_queryset(self):
        return orders_for_buyer(buyer=self.request.user)


class OrderDetailView(LoginRequiredMixin, DetailView):
    template_name = "orders/order_detail.html"
    context_object_name = "order"

    def get_object(self, queryset=None):
        order = order_for_buyer(buyer=self.request.user, number=self.kwargs["number"])
        if order is None:
            raise Http404("No such order.")
        return order

    def get_context_data(self, **kwargs):
        order = self.object
        return super().get_context_data(
            lines=order_lines(order=order),
            can_cancel=can_cancel(order=order, actor=self.request.user),
            can_pay=is_payable(order=order),
            payment_cancelled=self.request.GET.get("payment") == "cancelled",
            **kwargs,
        )


@login_required
@require_POST
def order_cancel_view(request, number: str):
    """The buyer cancels their pending order; its stock goes back on the shelf."""
    order = order_for_buyer(buyer=request.user, number=number)
    if order is None:
        raise Http404("No such order.")
    try:
        cancel_order(order=order, actor=request.user)
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"Order {order.number} is cancelled.")
    return redirect(order)
