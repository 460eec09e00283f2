"""Payments in the admin: attempts and processed webhook events, read-only; and the staff order admin with refunds.

The Order admin is registered here rather than in `orders.admin`: refunding needs `payments.services.refund_order`,
and payments may import orders but not the reverse. `PaymentsOrderAdmin` is `orders.admin.OrderAdmin` plus the
refund action (and the order's payment attempts, read-only).
"""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from orders.admin import OrderAdmin, run_per_order, skip_reason
from orders.models import Order
from payments.exceptions import PaymentGatewayError
from payments.models import Payment, PaymentEvent
from payments.services import refund_order
from shop.admin_mixins import ReadOnlyAdminMixin
from shop.exceptions import ShopError
from shop.money import format_money


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("session_id", "order", "gateway", "attempt", "status", "amount", "refunded", "created_at")
    list_filter = ("gateway", "status")
    list_select_related = ("order",)
    search_fields = ("session_id", "payment_intent", "order__number")
    fields = ("order", "gateway", "attempt", "status", "session_id", "payment_intent", "amount", "refunded",
              "currency", "checkout_url", "last_error", "created_at", "updated_at")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, payment: Payment) -> str:
        return format_money(payment.amount_minor, payment.currency)

    @admin.display(description="refunded", ordering="amount_refunded_minor")
    def refunded(self, payment: Payment) -> str:
        return format_money(payment.amount_refunded_minor, payment.currency)


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event_id", "type", "outcome", "received_at")
    list_filter = ("type", "outcome")
    search_fields = ("event_id",)
    fields = ("event_id", "type", "outcome", "detail", "received_at")
    readonly_fields = fields


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ("gateway", "attempt", "status", "amount", "refunded", "payment_intent", "created_at")
    readonly_fields = fields
    ordering = ("attempt",)

    @admin.display(description="amount")
    def amount(self, payment: Payment) -> str:
        return format_money(payment.amount_minor, payment.currency)

    @admin.display(description="refunded")
    def refunded(self, payment: Payment) -> str:
        return format_money(payment.amount_refunded_minor, payment.currency)


def refund_skip_reason(err: ShopError) -> str:
    if isinstance(err, PaymentGatewayError):
        detail = err.extra.get("detail") or err.extra.get("gateway_error") or err.message
        return f"the payment provider failed ({detail}); nothing changed, try again"
    return skip_reason(err)


@admin.register(Order)
class PaymentsOrderAdmin(OrderAdmin):
    inlines = [*OrderAdmin.inlines, PaymentInline]
    actions = [*OrderAdmin.actions, "refund_orders"]

    @admin.action(description="Refund selected orders through the payment gateway", permissions=["change"])
    def refund_orders(self, request: HttpRequest, queryset: QuerySet[Order]):
        """Money leaves the shop: the first POST shows what would be refunded; the confirmation POST refunds."""
        if request.POST.get("confirm") != "yes":
            orders = list(queryset.order_by("number"))
            context = {
                **self.admin_site.each_context(request),
                "title": "Refund orders",
                "opts": self.model._meta,
                "orders": orders,
                "total": format_money(sum(order.total_minor for order in orders)),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/order/refund_confirmation.html", context)
        restock = request.POST.get("restock") == "yes"
        result = run_per_order(
            queryset, lambda order: refund_order(order=order, restock=restock), reason=refund_skip_reason
        )
        done = "refunded in full through the payment gateway" + (", their units back in stock" if restock else "")
        self.report(request, result, done=done)
        return None
