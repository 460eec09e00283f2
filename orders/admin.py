"""Orders in the admin: staff run orders through their life cycle; sellers read the order lines of their own items.

`OrderAdmin` is defined here but registered by `payments.admin`, which subclasses it to add the refund action: a
refund needs `payments.services`, and orders must not import payments (the import layers). Every action calls an
`orders.services` function per order, so the life cycle (`orders.models.TRANSITIONS`) decides; an order the life
cycle refuses is skipped and named in a message with the reason. Shipping asks first, on a page of its own, for the
carrier and each order's tracking number. Each order's change page ends with its timeline (`OrderEvent`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from orders.exceptions import IllegalTransition
from orders.forms import ShipOrdersForm
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Refund
from orders.services import can_ship, cancel_order, clear_flag, mark_delivered, mark_shipped
from shop.admin_mixins import ReadOnlyAdminMixin
from shop.exceptions import ShopError
from shop.money import format_money
from shop.templatetags.money import rate as format_rate

# A long selection must not flood the page: name this many skipped orders, then count the rest.
MAX_SKIPS_LISTED = 10

LINE_BREAK = mark_safe("<br>")  # between the parts of a read-only value (VAT rates, refunded lines)

# The order lines admin shows the buyer's address only while it is needed: the order is paid and to ship (partly
# refunded ones too: the rest may still ship), or shipped (for questions). Staff find every address on the order.
SHIPPING_VISIBLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def is_scoped_seller(user) -> bool:
    """For `orders.dashboard`: the user model's `is_scoped_seller` (a seller who is not a superuser sees only their own
    order lines and sales; staff see everything)."""
    return bool(getattr(user, "is_scoped_seller", False))


@dataclass
class ActionReport:
    """What a bulk action did: the order numbers it changed and those it skipped, each with a reason."""

    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def skip_reason(err: ShopError | ValidationError) -> str:
    """Why the service refused, worded for a sentence starting 'Skipped ABC123: ...'."""
    if isinstance(err, ValidationError):
        return " ".join(err.messages)
    if isinstance(err, IllegalTransition) and {"status", "requested"} <= err.extra.keys():
        now, wanted = (OrderStatus(err.extra[key]).label.lower() for key in ("status", "requested"))
        return f"it is {now} and cannot become {wanted}"
    return str(err)


def run_per_order(
    queryset: QuerySet[Order],
    service: Callable[[Order], object],
    *,
    reason: Callable[[ShopError | ValidationError], str] = skip_reason,
) -> ActionReport:
    """Calls `service` on each selected order (by number); a `ShopError` or a `ValidationError` (input the service
    refused) skips that order with its reason."""
    report = ActionReport()
    for order in queryset.order_by("number"):
        try:
            service(order)
        except (ShopError, ValidationError) as err:
            report.skipped.append((order.number, reason(err)))
        else:
            report.done.append(order.number)
    return report


def orders_phrase(count: int) -> str:
    return f"{count} order" if count == 1 else f"{count} orders"


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The order's frozen lines: what each cost, its discount share and VAT, and what was refunded of it."""

    model = OrderLine
    extra = 0
    fields = ("title", "sku", "unit_price", "quantity", "line_total", "discount", "vat_rate", "vat",
              "refunded_quantity", "refunded", "restocked_quantity", "seller")  # fmt: skip
    readonly_fields = fields
    ordering = ("title", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("order", "seller")

    @admin.display(description="unit price")
    def unit_price(self, line: OrderLine) -> str:
        return format_money(line.unit_price_minor, line.order.currency)

    @admin.display(description="line total")
    def line_total(self, line: OrderLine) -> str:
        return format_money(line.line_total_minor, line.order.currency)

    @admin.display(description="discount")
    def discount(self, line: OrderLine) -> str:
        return format_money(line.discount_minor, line.order.currency) if line.discount_minor else "—"

    @admin.display(description="VAT rate")
    def vat_rate(self, line: OrderLine) -> str:
        return format_rate(line.tax_rate_bp)

    @admin.display(description="VAT")
    def vat(self, line: OrderLine) -> str:
        return format_money(line.tax_minor, line.order.currency)

    @admin.display(description="refunded")
    def refunded(self, line: OrderLine) -> str:
        return format_money(line.refunded_minor, line.order.currency)


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The order's refunds, oldest first: how much, of which lines, whether under way, done or failed, who and when.
    Made by `payments.services.refund_payment` (the order admin's refund page and action), never here."""

    model = Refund
    extra = 0
    fields = ("created_at", "amount", "refunded_lines", "restock", "status", "created_by", "completed_at", "note",
              "gateway_reference")  # fmt: skip
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return super().get_queryset(request).select_related("order", "created_by").prefetch_related("lines__order_line")

    @admin.display(description="amount")
    def amount(self, refund: Refund) -> str:
        return format_money(refund.amount_minor, refund.order.currency)

    @admin.display(description="lines")
    def refunded_lines(self, refund: Refund) -> str:
        lines = sorted(refund.lines.all(), key=lambda line: line.order_line.title)
        if not lines:
            return "an amount"
        return format_html_join(
            LINE_BREAK,
            "{} x {} ({})",
            (
                (line.quantity, line.order_line.title, format_money(line.amount_minor, refund.order.currency))
                for line in lines
            ),
        )


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The order's timeline, oldest first: what happened, when, who did it (the name kept when it happened; "the shop"
    for the worker and the payment provider) and the details. Recorded by the services, never here."""

    model = OrderEvent
    extra = 0
    fields = ("created_at", "kind", "who", "details")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    verbose_name = "event"
    verbose_name_plural = "timeline"

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("order")

    @admin.display(description="who")
    def who(self, event: OrderEvent) -> str:
        return event.actor_name or ("the buyer (guest)" if event.kind == "placed" else "the shop")

    @admin.display(description="details")
    def details(self, event: OrderEvent) -> str:
        rows = []
        for key, value in event.data.items():
            if key.endswith("_minor") and isinstance(value, int):
                key, value = key.removesuffix("_minor"), format_money(value, event.order.currency)
            elif isinstance(value, list):
                value = ", ".join(str(part) for part in value)
            rows.append((key.replace("_", " "), value))
        return format_html_join(LINE_BREAK, "{}: {}", rows) or "—"


class OrderAdmin(admin.ModelAdmin):
    """Staff's orders: a read-only record plus the life-cycle actions. Registered by `payments.admin`."""

    list_display = ("number", "email", "status", "total", "created_at", "paid_at", "needs_attention")
    list_filter = ("status", "created_at", "needs_attention")
    search_fields = ("number", "email")
    list_per_page = 50
    inlines = [OrderLineInline, RefundInline, OrderEventInline]
    actions = ["mark_shipped", "mark_delivered", "cancel_orders", "clear_attention_flag"]
    fieldsets = (
        (None, {"fields": ("number", "status", "buyer", "email", "currency")}),
        (
            "Price breakdown (frozen when the order was placed)",
            {"fields": ("subtotal", "discount", "shipping", "shipping_vat", "vat", "total", "refunded")},
        ),
        ("Attention", {"fields": ("needs_attention", "attention_reason")}),
        (
            "Shipping",
            {
                "fields": (
                    "shipping_name",
                    "shipping_line1",
                    "shipping_line2",
                    "shipping_postal_code",
                    "shipping_city",
                    "shipping_country",
                    "carrier",
                    "tracking_number",
                )
            },
        ),
        ("History", {"fields": ("created_at", "paid_at", "shipped_at", "delivered_at", "refunded_at", "closed_at")}),
    )
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    # Orders are history: never added or deleted here, and changed only through the actions (services), so the
    # change form of one order is a read-only view; a forged POST to it is refused (403).
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.display(description="total", ordering="total_minor")
    def total(self, order: Order) -> str:
        return format_money(order.total_minor, order.currency)

    @admin.display(description="subtotal")
    def subtotal(self, order: Order) -> str:
        return format_money(order.subtotal_minor, order.currency)

    @admin.display(description="discount")
    def discount(self, order: Order) -> str:
        amount = f"-{format_money(order.discount_minor, order.currency)}" if order.discount_minor else "—"
        return f"{amount} (code {order.discount_code})" if order.discount_code else amount

    @admin.display(description="shipping")
    def shipping(self, order: Order) -> str:
        if not order.shipping_method:
            return format_money(order.shipping_minor, order.currency) if order.shipping_minor else "—"
        amount = format_money(order.shipping_minor, order.currency) if order.shipping_minor else "free"
        return f"{order.shipping_method}: {amount}"

    @admin.display(description="shipping VAT")
    def shipping_vat(self, order: Order) -> str:
        if not order.shipping_tax_minor:
            return "—"
        return f"{format_money(order.shipping_tax_minor, order.currency)} at {format_rate(order.shipping_tax_rate_bp)}"

    @admin.display(description="VAT per rate")
    def vat(self, order: Order) -> str:
        how = "included in the prices" if order.prices_include_tax else "added to the prices"
        per_rate = format_html_join(
            LINE_BREAK,
            "{}: {}",
            ((format_rate(rate_bp), format_money(amount, order.currency)) for rate_bp, amount in order.taxes),
        )
        return format_html(
            "{}{}{} in all, {}",
            per_rate,
            LINE_BREAK if per_rate else "",
            format_money(order.tax_minor, order.currency),
            how,
        )

    @admin.display(description="refunded so far")
    def refunded(self, order: Order) -> str:
        return format_money(order.refunded_minor, order.currency)

    def report(self, request: HttpRequest, result: ActionReport, *, done: str) -> None:
        """One success message for what changed, one warning per skipped order (the first few) saying why."""
        if result.done:
            self.message_user(request, f"{orders_phrase(len(result.done))} {done}.", messages.SUCCESS)
        for number, reason in result.skipped[:MAX_SKIPS_LISTED]:
            self.message_user(request, f"Skipped {number}: {reason}.", messages.WARNING)
        unlisted = len(result.skipped) - MAX_SKIPS_LISTED
        if unlisted > 0:
            self.message_user(request, f"Skipped {orders_phrase(unlisted)} more.", messages.WARNING)

    @admin.action(description="Mark selected orders shipped (asks for carrier and tracking numbers)",
                  permissions=["change"])  # fmt: skip
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]):
        """The first POST shows a page asking for the carrier and a tracking number per order that may ship; its
        POST ships them through `mark_shipped` (orders that may not are skipped with the reason). A missing value
        shows the page again with the error, and nothing changes."""
        orders = list(queryset.order_by("number"))
        shippable = [order for order in orders if can_ship(order=order)]  # each asked for a tracking number
        form = ShipOrdersForm(request.POST if request.POST.get("ship") == "yes" else None, orders=shippable)
        if shippable and not (form.is_bound and form.is_valid()):
            context = {
                **self.admin_site.each_context(request),
                "title": "Ship orders",
                "opts": self.model._meta,
                "form": form,
                "rows": form.rows(),
                "skipped": [order for order in orders if not can_ship(order=order)],
                "orders": orders,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/order/ship_form.html", context)
        carrier = form.cleaned_data["carrier"] if shippable else ""

        def ship(order: Order) -> None:
            tracking = form.tracking_number(order) if shippable else ""
            mark_shipped(order=order, carrier=carrier, tracking_number=tracking, actor=request.user)

        self.report(request, run_per_order(queryset, ship), done="marked shipped")
        return None

    @admin.action(description="Mark selected orders delivered", permissions=["change"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        result = run_per_order(queryset, lambda order: mark_delivered(order=order, actor=request.user))
        self.report(request, result, done="marked delivered")

    @admin.action(description="Cancel selected orders (releases their stock)", permissions=["change"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        result = run_per_order(queryset, lambda order: cancel_order(order=order, actor=request.user))
        self.report(request, result, done="cancelled, their stock released")

    @admin.action(description="Clear the needs-attention flag", permissions=["change"])
    def clear_attention_flag(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        result = run_per_order(queryset, lambda order: clear_flag(order=order, actor=request.user))
        self.report(request, result, done="cleared")


def shipping_detail(line: OrderLine, name: str) -> str:
    """The order's shipping field `name` while its address is needed (`SHIPPING_VISIBLE`), else a dash."""
    if line.order.status not in SHIPPING_VISIBLE:
        return "—"
    return getattr(line.order, name)


class ShippingColumn:
    """A read-only admin column showing the order's shipping field of the attribute's own name (`shipping_detail`):
    `shipping_city = ShippingColumn("city")` is the "city" column of `order.shipping_city`."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.name = ""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, model_admin, owner=None) -> Callable[[OrderLine], str]:
        name = self.name

        @admin.display(description=self.description)
        def column(line: OrderLine) -> str:
            return shipping_detail(line, name)

        column.__name__ = name
        return column


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Order lines, read-only: a seller sees only the lines of their own items, with the buyer's shipping details
    while the order is to ship or shipped (nothing else about the buyer); staff see every line. Scoping is in
    `get_queryset`, which every admin URL goes through, so another seller's line answers as a missing one does."""

    list_display = ["order_number", "order_date", "order_status", "title", "quantity", "unit_price", "line_total",
                    "ship_to"]  # fmt: skip
    list_select_related = ["order"]
    list_filter = ["order__status"]
    search_fields = ["order__number", "title", "sku"]
    ordering = ["-order__created_at", "-pk"]
    list_per_page = 50
    fields = [
        "order_number",
        "order_date",
        "order_status",
        "title",
        "sku",
        "quantity",
        "unit_price",
        "line_total",
        "shipping_name",
        "shipping_line1",
        "shipping_line2",
        "shipping_postal_code",
        "shipping_city",
        "shipping_country",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        lines = super().get_queryset(request)
        if request.user.is_scoped_seller:
            return lines.filter(seller_id=request.user.pk)
        return lines

    def get_list_display(self, request: HttpRequest):
        if request.user.is_scoped_seller:
            return self.list_display
        return [*self.list_display, "seller"]

    def get_list_select_related(self, request: HttpRequest):
        if request.user.is_scoped_seller:
            return self.list_select_related
        return [*self.list_select_related, "seller"]

    def get_fields(self, request: HttpRequest, obj=None):
        if request.user.is_scoped_seller:
            return self.fields
        return [*self.fields, "seller"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="order", ordering="order__number")
    def order_number(self, line: OrderLine) -> str:
        return line.order.number

    @admin.display(description="date", ordering="order__created_at")
    def order_date(self, line: OrderLine):
        return line.order.created_at

    @admin.display(description="status", ordering="order__status")
    def order_status(self, line: OrderLine) -> str:
        return line.order.get_status_display()

    @admin.display(description="unit price", ordering="unit_price_minor")
    def unit_price(self, line: OrderLine) -> str:
        return format_money(line.unit_price_minor, line.order.currency)

    @admin.display(description="line total", ordering="line_total_minor")
    def line_total(self, line: OrderLine) -> str:
        return format_money(line.line_total_minor, line.order.currency)

    @admin.display(description="ship to")
    def ship_to(self, line: OrderLine) -> str:
        return shipping_detail(line, "shipping_address").replace("\n", ", ")

    shipping_name = ShippingColumn("name")
    shipping_line1 = ShippingColumn("address")
    shipping_line2 = ShippingColumn("address (line 2)")
    shipping_postal_code = ShippingColumn("postal code")
    shipping_city = ShippingColumn("city")
    shipping_country = ShippingColumn("country")
