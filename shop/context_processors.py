from django.conf import settings


def shop(request) -> dict:
    """The shop's name for every template."""
    return {"SHOP_NAME": settings.SHOP_NAME}
