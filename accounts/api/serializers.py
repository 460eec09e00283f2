from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import User, normalize_email
from shop.api import StrictBooleanField, StrictSerializer, Timestamp


class UserOutputSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_seller = serializers.BooleanField()
    is_staff = serializers.BooleanField(help_text="Admin access: true for staff and for sellers.")
    is_active = serializers.BooleanField()
    role = serializers.ChoiceField(choices=["shopper", "seller", "staff"])
    date_joined = Timestamp()


class SignupInputSerializer(StrictSerializer):
    """The web signup's rules: an email (stored lower-cased) and a password Django's validators accept. Whether the
    address is taken is never checked here: the answer must not tell (see `accounts.services.sign_up`)."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        return normalize_email(value)

    def validate(self, attrs: dict) -> dict:
        candidate = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as err:
            raise serializers.ValidationError({"password": err.messages}) from err
        return attrs


class UserUpdateInputSerializer(StrictSerializer):
    """PUT needs the profile fields, PATCH any subset; the roles are optional in both and only staff change them.

    The fields of a user as read that are not written here are read-only: sent back with the value of the context's
    `current` (the user's representation) they are ignored, with another value (or without `current`) refused,
    naming the field (`shop.api.StrictSerializer`)."""

    read_only_fields = ("id", "is_active", "role", "date_joined")

    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, allow_blank=True)
    last_name = serializers.CharField(max_length=150, allow_blank=True)
    is_seller = StrictBooleanField(required=False)
    is_staff = StrictBooleanField(required=False)
    current_password = serializers.CharField(required=False, write_only=True, trim_whitespace=False, max_length=4096)


class UserDeleteOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
    user = UserOutputSerializer()


SIGNUP_DETAIL = (
    "Check your mailbox: we sent a link to confirm {email}. If that address already has an account, we sent a "
    "message saying so instead."
)


class SignupOutputSerializer(serializers.Serializer):
    """The same for a new account and for an address already in use, so that it tells nothing about the address:
    built from the request alone (no id: log in for the account, `POST /api/auth/login`)."""

    detail = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField(help_text='Always "shopper": signup makes shoppers.')


EMAIL_CHANGE_DETAIL = (
    "Check your mailbox: we sent a link to confirm {email}. Your email changes once you open it; until then it "
    "stays {current}."
)


class UserEmailChangeOutputSerializer(UserOutputSerializer):
    """The user as saved (their email still the current one) while the new address waits for confirmation; the
    same whether or not another account holds that address."""

    detail = serializers.CharField()
    pending_email = serializers.EmailField()


class PersonalDataSerializer(serializers.Serializer):
    """A GDPR export (`accounts.selectors.export_personal_data`): amounts in minor units, times ISO 8601."""

    format = serializers.CharField()
    exported_at = Timestamp()
    account = serializers.DictField()
    email_addresses = serializers.ListField(child=serializers.DictField())
    addresses = serializers.ListField(child=serializers.DictField())
    mfa_authenticators = serializers.ListField(child=serializers.DictField())
    social_accounts = serializers.ListField(child=serializers.DictField())
    orders = serializers.ListField(child=serializers.DictField(), help_text="With lines, payment state and refunds.")
    cart = serializers.DictField()
    discount_codes_used = serializers.ListField(
        child=serializers.DictField(), help_text="Code, order number, when used, when given back (null: still counted)."
    )
