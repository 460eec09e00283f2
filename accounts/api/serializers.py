from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import User, normalize_email
from accounts.selectors import user_by_email
from shop.api import StrictBooleanField, StrictSerializer

EMAIL_TAKEN = "A user is already registered with this email address."


class UserOutputSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_seller = serializers.BooleanField()
    is_staff = serializers.BooleanField(help_text="Admin access: true for staff and for sellers.")
    is_active = serializers.BooleanField()
    role = serializers.ChoiceField(choices=["shopper", "seller", "staff"])
    date_joined = serializers.DateTimeField()


class SignupInputSerializer(StrictSerializer):
    """The web signup's rules: a new email in any letter case and a password Django's validators accept."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        email = normalize_email(value)
        if user_by_email(email=email) is not None:
            raise serializers.ValidationError(EMAIL_TAKEN)
        return email

    def validate(self, attrs: dict) -> dict:
        candidate = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as err:
            raise serializers.ValidationError({"password": err.messages}) from err
        return attrs


class LoginInputSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class LoginOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserOutputSerializer()


class RefreshInputSerializer(StrictSerializer):
    refresh = serializers.CharField()


class RefreshOutputSerializer(serializers.Serializer):
    access = serializers.CharField()


class UserUpdateInputSerializer(StrictSerializer):
    """PUT needs the profile fields, PATCH any subset; the roles are optional in both and only staff change them."""

    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, allow_blank=True)
    last_name = serializers.CharField(max_length=150, allow_blank=True)
    is_seller = StrictBooleanField(required=False)
    is_staff = StrictBooleanField(required=False)


class UserDeleteOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
    user = UserOutputSerializer()
