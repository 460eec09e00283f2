"""Payments in the admin: attempts and processed webhook events, read-only; and the staff order admin with refunds.

The Order admin is registered here rather than in `orders.admin`: refunding needs `payments.services`, and payments
may import orders but not the reverse. `PaymentsOrderAdmin` is `orders.admin.OrderAdmin` plus the order's payment
attempts (read-only), the "refund what is left" action for many orders, and a refund page for one order (chosen
units per line, or an amount) linked from its change page. Both refund through `payments.services`, which works out
every amount; the admin only passes on what staff asked and shows what the service did.
"""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, AdminForm
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from orders.admin import OrderAdmin, run_per_order, skip_reason
from orders.models import Order, Refund, RefundStatus
from orders.selectors import order_lines
from orders.services import REFUNDABLE
from payments.exceptions import PaymentGatewayError
from payments.forms import RefundForm
from payments.models import Payment, PaymentEvent
from payments.services import refund_order, refund_payment
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
        return f"the payment provider refused the refund ({gateway_detail(err)}); it failed and the order is flagged"
    return skip_reason(err)


def gateway_detail(err: PaymentGatewayError) -> str:
    return err.detail or err.message


@admin.register(Order)
class PaymentsOrderAdmin(OrderAdmin):
    inlines = [*OrderAdmin.inlines, PaymentInline]
    actions = [*OrderAdmin.actions, "refund_orders"]

    def get_urls(self):
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_refund",
        )
        return [refund, *super().get_urls()]  # before the catch-all "<path:object_id>/"

    def can_refund(self, request: HttpRequest, order: Order) -> bool:
        """The refund page is offered for an order that took money and has some left, to staff who may change
        orders (the change page itself is read-only: `has_change_permission` without an order)."""
        return order.status in REFUNDABLE and self.has_change_permission(request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.can_refund(request, obj):
            context["refund_url"] = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_refund",
                                            args=[quote(obj.pk)], current_app=self.admin_site.name)  # fmt: skip
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Refunds chosen units of the order's lines, or an amount, through `refund_payment`. Bad input and the
        service's refusals re-show the form with the reason and change nothing; the outcome of a refund the service
        recorded (done, under way, failed at the gateway) is a message on the order's change page."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        refundable = order.status in REFUNDABLE
        form = RefundForm(request.POST if request.method == "POST" and refundable else None,
                          order=order, lines=order_lines(order=order))  # fmt: skip
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                refund = refund_payment(
                    order=order,
                    actor=request.user,
                    lines=data["lines"] or None,
                    amount_minor=data["amount"],
                    restock=data["restock"],
                    note=data["note"],
                )
            except PaymentGatewayError as err:
                self.report_gateway_failure(request, order, err)
                return self.back_to_order(order)
            except ShopError as err:
                form.add_error(None, str(err))
            else:
                self.report_refund(request, order, refund, units=sum(quantity for _, quantity in data["lines"]))
                return self.back_to_order(order)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.number}",
            "opts": self.opts,
            "original": order,
            "refundable": refundable,
            "form": form,
            "line_rows": form.line_rows,
            "options": AdminForm(form, [(None, {"fields": ["amount", "restock", "note"]})], {}, model_admin=self),
            "left_minor": order.left_to_refund_minor,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/orders/order/refund_form.html", context)

    def back_to_order(self, order: Order) -> HttpResponseRedirect:
        change = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        return HttpResponseRedirect(reverse(change, args=[quote(order.pk)], current_app=self.admin_site.name))

    def report_refund(self, request: HttpRequest, order: Order, refund: Refund, *, units: int) -> None:
        amount = format_money(refund.amount_minor, order.currency)
        if refund.status == RefundStatus.FAILED:
            self.message_user(request, f"The refund of {amount} of order {order.number} failed.", messages.ERROR)
            return
        if refund.status == RefundStatus.PENDING:
            self.message_user(request, f"The refund of {amount} of order {order.number} is under way.",
                              messages.WARNING)  # fmt: skip
            return
        restocked = ""
        if refund.restock and units:
            restocked = f"; {units} unit{'' if units == 1 else 's'} back in stock"
        status = order.get_status_display().lower()
        self.message_user(request, f"Refunded {amount} of order {order.number}; it is {status} now{restocked}.",
                          messages.SUCCESS)  # fmt: skip

    def report_gateway_failure(self, request: HttpRequest, order: Order, err: PaymentGatewayError) -> None:
        detail = gateway_detail(err)
        if err.retryable:
            message = (
                f"The payment provider did not answer ({detail}). The refund of order {order.number} is recorded and "
                "under way: it will be retried until the provider answers. Nothing more to do."
            )
            self.message_user(request, message, messages.WARNING)
        else:
            message = (
                f"The payment provider refused the refund of order {order.number} ({detail}): nothing was refunded, "
                "the refund is marked failed and the order is flagged for attention."
            )
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Refund selected orders through the payment gateway", permissions=["change"])
    def refund_orders(self, request: HttpRequest, queryset: QuerySet[Order]):
        """Money leaves the shop: the first POST shows what would be refunded (what is left of each order); the
        confirmation POST refunds it. A refund the gateway did not answer is under way (retried), not skipped."""
        if request.POST.get("confirm") != "yes":
            orders = list(queryset.order_by("number"))
            # What will leave the shop: an order that cannot be refunded is skipped, so it counts for nothing.
            rows = [(order, order.left_to_refund_minor if order.status in REFUNDABLE else None) for order in orders]
            context = {
                **self.admin_site.each_context(request),
                "title": "Refund orders",
                "opts": self.model._meta,
                "rows": rows,
                "total": format_money(sum(left for _, left in rows if left is not None)),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/order/refund_confirmation.html", context)
        restock = request.POST.get("restock") == "yes"
        under_way: list[str] = []

        def refund(order: Order) -> None:
            try:
                refund_order(order=order, restock=restock, actor=request.user)
            except PaymentGatewayError as err:
                if not err.retryable:
                    raise
                under_way.append(order.number)

        result = run_per_order(queryset, refund, reason=refund_skip_reason)
        result.done = [number for number in result.done if number not in under_way]
        done = "refunded in full through the payment gateway" + (", their units back in stock" if restock else "")
        self.report(request, result, done=done)
        for number in under_way:
            message = (
                f"The refund of {number} is under way: the payment provider did not answer; it will be retried "
                "until it does."
            )
            self.message_user(request, message, messages.WARNING)
        return None
