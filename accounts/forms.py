from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row, Submit
from django import forms

from accounts.models import normalize_postal_code, validate_postal_code
from shop.countries import shipping_country_choices


class AddressFields(forms.Form):
    """A postal address we ship to: its fields, labels, rules and autocomplete hints, once for the address book and
    for checkout (`orders.forms.CheckoutForm`)."""

    ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country")
    AUTOCOMPLETE = {
        "name": "name",
        "line1": "address-line1",
        "line2": "address-line2",
        "postal_code": "postal-code",
        "city": "address-level2",
        "country": "country",
    }

    name = forms.CharField(label="Full name", max_length=200)
    line1 = forms.CharField(label="Street and number", max_length=200)
    line2 = forms.CharField(label="Apartment, suite, etc.", max_length=200, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=20, validators=[validate_postal_code])
    city = forms.CharField(label="City", max_length=100)
    # A callable, so that the list follows settings.SHOP_SHIPPING_COUNTRIES as it is when the form is made.
    country = forms.ChoiceField(label="Country", choices=shipping_country_choices)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("name", "line1", "city"):
            self.fields[name].error_messages["required"] = f"Enter your {self.fields[name].label.lower()}."
        self.fields["country"].error_messages["required"] = "Choose the country to ship to."
        for name, hint in self.AUTOCOMPLETE.items():
            self.fields[name].widget.attrs["autocomplete"] = hint

    def clean_postal_code(self) -> str:
        return normalize_postal_code(self.cleaned_data["postal_code"])


class AddressForm(AddressFields):
    """An address of the address book, and whether it is the default. `is_default_address` says the address being
    edited already is the default: it stays so (another address must be made the default instead), and the box shows
    that."""

    is_default = forms.BooleanField(label="Make this my default address", required=False)

    def __init__(self, *args, is_default_address: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if is_default_address:
            box = self.fields["is_default"]
            box.initial, box.disabled = True, True
            box.help_text = "This is your default address. To change that, make another one the default."
        self.helper = FormHelper()
        self.helper.form_id = "address-form"
        self.helper.layout = Layout(
            Field("name"),
            Field("line1"),
            Field("line2"),
            Row(Column("postal_code", css_class="col-sm-4"), Column("city", css_class="col-sm-8")),
            Field("country"),
            Field("is_default"),
            Div(
                Submit("save", "Save address"),
                HTML('<a class="btn btn-outline-secondary" href="{% url \'accounts:address_list\' %}">Cancel</a>'),
                css_class="d-flex gap-2 mt-2",
            ),
        )
