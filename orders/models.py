from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from shop.money import fraction_of
from shop.text import SingleLineCharField, clean_single_line


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


# The order life cycle, in one place: from-status -> the statuses it may move to. Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    # Part of the money went back; the rest of the order may still ship, or be refunded too.
    OrderStatus.PARTIALLY_REFUNDED: frozenset(
        {OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
    ),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

# The timestamp field each target status sets.
STATUS_TIMESTAMPS: dict[str, str] = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.CANCELLED: "closed_at",
    OrderStatus.EXPIRED: "closed_at",
    OrderStatus.REFUNDED: "refunded_at",
    OrderStatus.PARTIALLY_REFUNDED: "refunded_at",
}


class Order(models.Model):
    """A buyer's order. Totals are integers in minor units of `currency`, fixed when the order is placed."""

    number = models.CharField(max_length=16, unique=True, help_text="Short human-friendly reference.")
    checkout_token = models.CharField(
        max_length=64, unique=True, help_text="One-time token of the checkout form: a double submit finds this order."
    )
    request_digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="An API order's request: its Idempotency-Key may repeat only it.",
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="Empty for a guest's order (until the guest makes an account with its email).",
    )
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    total_minor = models.PositiveIntegerField("total (minor units)")
    currency = models.CharField(max_length=3)
    # The price breakdown as it was when the order was placed (`pricing.selectors.price`); the lines hold theirs.
    subtotal_minor = models.PositiveIntegerField("subtotal (minor units)", default=0)
    discount_code = SingleLineCharField(max_length=40, blank=True)
    discount_minor = models.PositiveIntegerField("discount (minor units)", default=0)
    shipping_method = SingleLineCharField(max_length=100, blank=True)
    shipping_minor = models.PositiveIntegerField("shipping (minor units)", default=0)
    shipping_tax_rate_bp = models.PositiveIntegerField("shipping VAT rate (basis points)", default=0)
    shipping_tax_minor = models.PositiveIntegerField("shipping VAT (minor units)", default=0)
    tax_minor = models.PositiveIntegerField("VAT (minor units)", default=0)
    prices_include_tax = models.BooleanField(default=True, help_text="Whether the prices included VAT.")
    refunded_minor = models.PositiveIntegerField(
        "refunded (minor units)", default=0, help_text="Refunds made or under way; never more than the total."
    )

    shipping_name = SingleLineCharField(max_length=200, blank=True)
    shipping_line1 = SingleLineCharField("address", max_length=200, blank=True)
    shipping_line2 = SingleLineCharField("address (line 2)", max_length=200, blank=True)
    shipping_postal_code = SingleLineCharField("postal code", max_length=20, blank=True)
    shipping_city = SingleLineCharField("city", max_length=100, blank=True)
    shipping_country = SingleLineCharField("country", max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")

    carrier = SingleLineCharField(max_length=100, blank=True, help_text="Who carries the parcel, set when shipped.")
    tracking_number = SingleLineCharField(max_length=100, blank=True, help_text="The carrier's tracking number.")

    needs_attention = models.BooleanField(default=False, help_text="Staff must look at this order.")
    attention_reason = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was cancelled or expired.")
    restocked_at = models.DateTimeField(null=True, blank=True, help_text="When a refund put its units back in stock.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_newest"),
            models.Index(fields=["status", "created_at"], name="order_status_created"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"number": self.number})

    @property
    def is_pending(self) -> bool:
        return self.status == OrderStatus.PENDING_PAYMENT

    @property
    def holds_stock(self) -> bool:
        """Whether its units are out of stock on its account: reserved while pending, sold once paid, back in stock
        once cancelled, expired or refunded with a restock."""
        if self.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            return False
        return self.restocked_at is None

    @property
    def left_to_refund_minor(self) -> int:
        return max(self.total_minor - self.refunded_minor, 0)

    @property
    def taxes(self) -> list[tuple[int, int]]:
        """(rate in basis points, VAT) per rate, highest rate first, from the frozen lines and shipping."""
        by_rate: dict[int, int] = {}
        for line in self.lines.all():
            by_rate[line.tax_rate_bp] = by_rate.get(line.tax_rate_bp, 0) + line.tax_minor
        if self.shipping_tax_minor:
            by_rate[self.shipping_tax_rate_bp] = by_rate.get(self.shipping_tax_rate_bp, 0) + self.shipping_tax_minor
        return sorted(((rate, amount) for rate, amount in by_rate.items() if amount), reverse=True)

    @property
    def shipping_address(self) -> str:
        """The address as lines of text, one per part (empty when none was given). Each part is cleaned again
        (`shop.text.clean_single_line`): rows stored before the fields were single-line may hold line breaks or
        control characters, which must not add lines to the plain-text emails that show it."""
        city = " ".join(part for part in (self.shipping_postal_code, self.shipping_city) if part)
        parts = (self.shipping_name, self.shipping_line1, self.shipping_line2, city, self.shipping_country)
        return "\n".join(part for part in map(clean_single_line, parts) if part)


class OrderLine(models.Model):
    """What was bought, copied at order time so that history never changes when the item does."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey("catalog.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sold_lines"
    )
    title = SingleLineCharField(max_length=200)
    sku = SingleLineCharField("SKU", max_length=64)
    unit_price_minor = models.PositiveIntegerField("unit price (minor units)")
    quantity = models.PositiveIntegerField()
    line_total_minor = models.PositiveIntegerField("line total (minor units)", help_text="Unit price x quantity.")
    discount_minor = models.PositiveIntegerField("discount (minor units)", default=0)
    tax_rate_bp = models.PositiveIntegerField("VAT rate (basis points)", default=0)
    tax_minor = models.PositiveIntegerField("VAT (minor units)", default=0)
    refunded_quantity = models.PositiveIntegerField(default=0)
    refunded_minor = models.PositiveIntegerField("refunded (minor units)", default=0)
    restocked_quantity = models.PositiveIntegerField(default=0, help_text="Units a refund put back in stock.")

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["seller", "order"], name="orderline_seller_order")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"

    @property
    def paid_minor(self) -> int:
        """What the buyer paid for the line: after its discount share, with its VAT."""
        return self.line_total_minor - self.discount_minor + (0 if self.order.prices_include_tax else self.tax_minor)

    @property
    def refund_per_unit_minor(self) -> int:
        """What refunding one unit gives back (`orders.services.reserve_refund` rounds the same way)."""
        return fraction_of(self.paid_minor, 1, self.quantity)


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Under way"
    DONE = "done", "Refunded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    """Money given back on an order: chosen lines and quantities, or an amount. Recorded (its amount reserved on the
    order by a conditional update, so refunds never exceed the total) before the gateway is asked; done when the
    gateway did it; failed (the amount given back to the order) when it refused."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveIntegerField("amount (minor units)")
    restock = models.BooleanField(default=False, help_text="Put the refunded lines' units back in stock.")
    note = SingleLineCharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    gateway_reference = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Refund {self.pk} of order {self.order.number}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    amount_minor = models.PositiveIntegerField("amount (minor units)")

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line_id}"


class OrderEventKind(models.TextChoices):
    PLACED = "placed", "Placed"
    PAYMENT_STARTED = "payment_started", "Payment started"
    PAID = "paid", "Paid"
    EMAIL_SENT = "email_sent", "Email sent"
    EMAIL_FAILED = "email_failed", "Email failed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    REFUND_REQUESTED = "refund_requested", "Refund requested"
    REFUNDED = "refunded", "Refunded"
    REFUND_FAILED = "refund_failed", "Refund failed"
    RESTOCKED = "restocked", "Units back in stock"
    FLAGGED = "flagged", "Flagged for staff"
    FLAG_CLEARED = "flag_cleared", "Flag cleared"


# What the buyer sees of the timeline, in one place: these kinds, and of their data only these keys (no staff names,
# no flags, no failing emails, no gateway references).
BUYER_VISIBLE: dict[str, tuple[str, ...]] = {
    OrderEventKind.PLACED: (),
    OrderEventKind.PAID: (),
    OrderEventKind.SHIPPED: ("carrier", "tracking_number"),
    OrderEventKind.DELIVERED: (),
    OrderEventKind.CANCELLED: (),
    OrderEventKind.EXPIRED: (),
    OrderEventKind.REFUNDED: ("amount_minor",),
}


class OrderEvent(models.Model):
    """One thing that happened to an order, recorded in the same transaction as the change it describes (so an event
    exists exactly when its change committed; emails when the worker sent them or gave up). Append-only: written by
    `orders.services.record_event`, never changed or deleted."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=OrderEventKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Staff or the buyer; empty for the shop (worker, payment provider) and for guests.",
    )
    actor_name = SingleLineCharField(
        max_length=200, blank=True, help_text="The actor's name then, kept when the account is deleted."
    )
    data = models.JSONField(default=dict, blank=True, help_text="Details: carrier, amounts in minor units, email...")

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id})"

    @property
    def buyer_data(self) -> dict:
        """The part of `data` the buyer may see."""
        return {key: self.data[key] for key in BUYER_VISIBLE.get(self.kind, ()) if key in self.data}
