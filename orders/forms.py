from babel import Locale
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator

from pricing.selectors import shipping_method_choices


def _country_choices() -> list[tuple[str, str]]:
    """The countries the shop ships to (settings.SHOP_SHIPPING_COUNTRIES, ISO 3166 alpha-2) with English names,
    sorted by name. A real shop ships to a known list; it also keeps the select small and quick to render."""
    names = Locale("en").territories
    countries = [(code, names.get(code, code)) for code in settings.SHOP_SHIPPING_COUNTRIES]
    return [("", "Choose a country"), *sorted(countries, key=lambda pair: pair[1])]


COUNTRY_CHOICES = _country_choices()


class CheckoutForm(forms.Form):
    """The shipping address plus two hidden fields: the one-time token and the fingerprint of the reviewed cart."""

    email = forms.EmailField(
        label="Email", help_text="We send the order and a link to it there.", required=False, max_length=254
    )
    use_address = forms.ChoiceField(label="Ship to", required=False, widget=forms.RadioSelect)
    name = forms.CharField(label="Full name", max_length=200)
    line1 = forms.CharField(label="Street and number", max_length=200)
    line2 = forms.CharField(label="Apartment, suite, etc.", max_length=200, required=False)
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9 -]{1,18}[A-Za-z0-9]$",
                message="Enter a postal code of letters, digits, spaces or dashes.",
                code="invalid_postal_code",
            )
        ],
    )
    city = forms.CharField(label="City", max_length=100)
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES)
    shipping_method = forms.ChoiceField(label="Shipping method", required=False)
    discount_code = forms.CharField(label="Discount code", max_length=40, required=False)
    save_address = forms.BooleanField(label="Save this address in my address book", required=False)
    checkout_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    cart_fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)

    ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country")

    def __init__(self, *args, guest: bool = False, addresses=(), **kwargs) -> None:
        """`guest`: a visitor without an account (asks for the email); `addresses`: a signed-in shopper's saved
        addresses, offered first (the default is chosen), with "a new address" below."""
        super().__init__(*args, **kwargs)
        self.addresses = {str(address.pk): address for address in addresses}
        for name in ("name", "line1", "city"):
            self.fields[name].error_messages["required"] = f"Enter your {self.fields[name].label.lower()}."
        self.fields["country"].error_messages["required"] = "Choose the country to ship to."
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["line1"].widget.attrs["autocomplete"] = "address-line1"
        self.fields["line2"].widget.attrs["autocomplete"] = "address-line2"
        self.fields["postal_code"].widget.attrs["autocomplete"] = "postal-code"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["country"].widget.attrs["autocomplete"] = "country"
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

    def clean_postal_code(self) -> str:
        return " ".join(self.cleaned_data["postal_code"].split()).upper()

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
