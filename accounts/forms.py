from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.internal.flows.login import perform_login
from allauth.account.internal.flows.signup import complete_signup
from allauth.account.models import EmailAddress, Login
from allauth.core.exceptions import ImmediateHttpResponse
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row, Submit
from django import forms
from django.contrib import messages
from django.contrib.auth.hashers import make_password

from accounts.models import normalize_postal_code, validate_postal_code
from accounts.selectors import email_in_use
from accounts.services import request_email_change
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


class SignupForm(allauth_forms.SignupForm):
    """allauth's signup (ACCOUNT_FORMS["signup"]) that never says an address is taken. A new account and an address
    already in use get the same answer, allauth's "we sent you a confirmation link" page: a new account waits for its
    address to be confirmed before it is signed in (allauth's mandatory verification, for signups only, whatever
    ACCOUNT_EMAIL_VERIFICATION says for logins), and the owner of a taken address is mailed that they have an account
    (allauth's ACCOUNT_PREVENT_ENUMERATION behaviour, which allauth offers only under mandatory verification).

    allauth's form saves (its `try_save` contract); the rule of what is taken is `accounts.selectors.email_in_use`.
    """

    def validate_unique_email(self, value: str) -> str:
        self.account_already_exists = email_in_use(email=value)
        return value

    def try_save(self, request):
        mandatory = EmailVerificationMethod.MANDATORY
        try:
            if self.account_already_exists:
                make_password(self.cleaned_data.get("password1") or "")  # a real signup's time, so timing tells nothing
                login = Login(user=None, email=self.cleaned_data["email"], signup=True, email_verification=mandatory)
                return None, perform_login(request, login)
            user = self.save(request)
            return user, complete_signup(request, user=user, email_verification=mandatory)
        except ImmediateHttpResponse as response:
            return None, response.response


class ChangeEmailForm(allauth_forms.AddEmailForm):
    """allauth's email page form (ACCOUNT_FORMS["add_email"]) through `accounts.services.request_email_change`: the
    new address takes over only once confirmed, and an address of another account is answered like a free one."""

    def save(self, request) -> EmailAddress:
        email = self.cleaned_data["email"]
        address = request_email_change(request=request, user=self.user, email=email)
        get_adapter(request).add_message(
            request,
            messages.INFO,
            "account/messages/email_confirmation_sent.txt",
            {"email": email, "login": False, "signup": False},
        )
        # allauth announces `email_added` for a stored row only: an unsaved one for a taken address announces nothing.
        return address or EmailAddress(user=self.user, email=email)


class DeleteAccountForm(forms.Form):
    """Confirms with the password that the signed-in person means to erase their account."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to delete your account."},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "delete-account-form"
        self.helper.layout = Layout(
            Field("password"),
            Submit("delete", "Delete my account", css_class="btn-danger"),
        )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.", code="wrong_password")
        return password
