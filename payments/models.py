from django.db import models


class PaymentStatus(models.TextChoices):
    CREATING = "creating", "Creating"  # the row exists, the gateway session is being made (or that failed, retryably)
    OPEN = "open", "Open"  # the shopper may pay at checkout_url
    PROCESSING = "processing", "Processing"  # the session completed with an asynchronous payment still pending
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded"
    MISMATCH = "mismatch", "Amount mismatch"  # paid a different amount or currency: not fulfilled, order flagged
    DUPLICATE = "duplicate", "Paid twice"  # paid when another attempt had paid the order: refunded, order flagged


class Gateway(models.TextChoices):
    STRIPE = "stripe", "Stripe Checkout"
    DEMO = "demo", "Demo gateway"


class Payment(models.Model):
    """One attempt to pay an order through a gateway: one Checkout Session (Stripe) or demo page."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    attempt = models.PositiveIntegerField(help_text="1, 2, ... per order; part of the idempotency key.")
    session_id = models.CharField(
        max_length=255, unique=True, help_text="The gateway's session id (a placeholder while creating)."
    )
    checkout_url = models.URLField(max_length=2000, blank=True)
    amount_minor = models.PositiveIntegerField("amount (minor units)")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.CREATING)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    amount_refunded_minor = models.PositiveIntegerField("refunded (minor units)", default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["order", "attempt"], name="payment_unique_attempt")]

    def __str__(self) -> str:
        return f"{self.get_gateway_display()} attempt {self.attempt} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"order-{self.order.number}-checkout-{self.attempt}"


class PaymentEvent(models.Model):
    """A webhook event we accepted. Inserted first, on its unique id, so a replay finds it and does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
