from rest_framework import serializers


class CheckoutOutputSerializer(serializers.Serializer):
    checkout_url = serializers.URLField(help_text="Stripe Checkout's page, or the demo gateway's.")
    gateway = serializers.CharField()
