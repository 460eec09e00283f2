from django.conf import settings
from django.db import models


class Cart(models.Model):
    """A signed-in shopper's stored cart; anonymous shoppers keep theirs in the session."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    discount_code = models.CharField(max_length=40, blank=True, help_text="The code the shopper applied.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart of {self.user}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        constraints = [models.UniqueConstraint(fields=["cart", "item"], name="cartline_unique_item")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item_id}"
