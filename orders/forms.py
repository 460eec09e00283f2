from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms

from accounts.forms import AddressFields
from pricing.selectors import shipping_method_choices


class CheckoutForm(AddressFields):
    """The shipping address (typed, or one of the shopper's saved ones), the shipping method, a discount code, and two
    hidden fields: the one-time token and the fingerprint of the reviewed cart."""

    email = forms.EmailField(
        label="Email", help_text="We send the order and a link to it there.", required=False, max_length=254
    )
    use_address = forms.ChoiceField(label="Ship to", required=False, widget=forms.RadioSelect)
    shipping_method = forms.ChoiceField(label="Shipping method", required=False)
    discount_code = forms.CharField(label="Discount code", max_length=40, required=False)
    save_address = forms.BooleanField(label="Save this address in my address book", required=False)
    checkout_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    cart_fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, guest: bool = False, addresses=(), **kwargs) -> None:
        """`guest`: a visitor without an account (asks for the email); `addresses`: a signed-in shopper's saved
        addresses, offered first (the default is chosen), with "a new address" below."""
        super().__init__(*args, **kwargs)
        self.addresses = {str(address.pk): address for address in addresses}
        self.fields["shipping_method"].choices = shipping_method_choices()
        self.fields["shipping_method"].help_text = "Each method delivers to the countries named with it."
        self.fields["discount_code"].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        extra = []
        if guest:
            self.fields["email"].required = True
            self.fields["email"].error_messages["required"] = "Enter the email address we should send your order to."
            extra.append(Field("email"))
        else:
            del self.fields["email"]
        if self.addresses:
            self.fields["use_address"].choices = [
                *((pk, str(address)) for pk, address in self.addresses.items()),
                ("", "A new address (below)"),
            ]
            extra.append(Field("use_address"))
            # The new address's fields are needed only when no saved one is chosen: the server checks that; the
            # browser, which would refuse to send the form with them empty, must not.
            self.use_required_attribute = False
            if self.data.get(self.add_prefix("use_address")):  # a saved address: the fields below are not needed
                for name in self.ADDRESS_FIELDS:
                    self.fields[name].required = False
        else:
            del self.fields["use_address"]
        if guest:
            del self.fields["save_address"]
        self.helper = FormHelper()
        self.helper.form_id = "checkout-form"
        self.helper.layout = Layout(
            *extra,
            Field("name"),
            Field("line1"),
            Field("line2"),
            Row(Column("postal_code", css_class="col-sm-4"), Column("city", css_class="col-sm-8")),
            Field("country"),
            Field("shipping_method"),
            Field("discount_code"),
            *([Field("save_address")] if "save_address" in self.fields else []),
            "checkout_token",
            "cart_fingerprint",
            Submit("place_order", "Place order", css_class="btn-primary btn-lg w-100 mt-2"),
        )

    def clean_use_address(self) -> str:
        chosen = self.cleaned_data.get("use_address", "")
        if chosen and chosen not in self.addresses:
            raise forms.ValidationError("Choose one of your addresses, or a new one.")
        return chosen

    def address_fields(self) -> dict[str, str]:
        """The address to ship to: the saved one chosen, else the one typed."""
        chosen = self.addresses.get(self.cleaned_data.get("use_address") or "")
        if chosen is not None:
            return {name: getattr(chosen, name) for name in self.ADDRESS_FIELDS}
        return {name: self.cleaned_data[name] for name in self.ADDRESS_FIELDS}


class ShipOrdersForm(forms.Form):
    """Staff ship orders from the admin: one carrier for the parcels, and a tracking number for each order that may
    ship now (`orders`: those orders). It only checks the input; `orders.services.mark_shipped` ships each."""

    carrier = forms.CharField(
        label="Carrier",
        max_length=100,
        error_messages={"required": "Enter the carrier that takes the parcels."},
    )

    def __init__(self, *args, orders=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.orders = list(orders)
        for order in self.orders:
            self.fields[self.tracking_field(order)] = forms.CharField(
                label=f"Tracking number of {order.number}",
                max_length=100,
                error_messages={"required": f"Enter the tracking number of order {order.number}."},
            )

    @staticmethod
    def tracking_field(order) -> str:
        return f"tracking_{order.pk}"

    def rows(self) -> list[tuple[object, forms.BoundField]]:
        """(order, its tracking number field) per order."""
        return [(order, self[self.tracking_field(order)]) for order in self.orders]

    def tracking_number(self, order) -> str:
        """The tracking number entered for `order` ("" for an order that was not on the form)."""
        return self.cleaned_data.get(self.tracking_field(order), "")
