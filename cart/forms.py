"""Input of the cart's actions. The forms only read and validate; `cart.services` decides."""

from django import forms

from cart.services import MAX_LINE_QUANTITY

QUANTITY_ERRORS = {
    "required": "Enter a quantity.",
    "invalid": "Quantity must be a whole number.",
    "min_value": "Quantity must be at least 1.",
    "max_value": f"Quantity can be at most {MAX_LINE_QUANTITY}.",
}


class CartItemForm(forms.Form):
    """Which item: its id as the page rendered it. Anything else posted (a price, say) is ignored."""

    item = forms.CharField(max_length=64, error_messages={"required": "Choose an item."})


class CartQuantityForm(CartItemForm):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, error_messages=QUANTITY_ERRORS)


class CartAddForm(CartQuantityForm):
    quantity = forms.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, required=False, error_messages=QUANTITY_ERRORS
    )

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data["quantity"]
        return 1 if quantity is None else quantity


class DiscountCodeForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        strip=True,
        error_messages={"required": "Enter a discount code.", "max_length": "No code is that long."},
    )
