"""The login, refresh and logout bodies of the API (accounts/api/views.py)."""

from rest_framework import serializers

from accounts.api.serializers import UserOutputSerializer
from shop.api import StrictSerializer


class LoginInputSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="For an account with two-factor authentication: the authenticator app's current code, or a "
        "recovery code.",
    )


class LoginOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserOutputSerializer()


class RefreshInputSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=4096)


class RefreshOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="The refresh token to use next time: the one sent is spent.")


class LogoutOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
