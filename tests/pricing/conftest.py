import pytest

from pricing.models import ShippingMethod, ShippingZone, TaxRate


@pytest.fixture
def rates(db):
    """Germany's and Austria's VAT rates, as the demo loads them."""
    for country, standard, reduced in (("DE", 1900, 700), ("AT", 2000, 1000)):
        TaxRate.objects.create(country=country, tax_class="standard", rate_bp=standard)
        TaxRate.objects.create(country=country, tax_class="reduced", rate_bp=reduced)


@pytest.fixture
def zones(db):
    """Germany with standard (free from 50.00) and express shipping; the rest of the EU with one method."""
    germany = ShippingZone.objects.create(name="Germany", countries="DE")
    europe = ShippingZone.objects.create(name="Europe", countries="AT, FR")
    return {
        "standard": ShippingMethod.objects.create(
            zone=germany, name="Standard", price_minor=490, free_over_minor=5000, estimate="2-3 days"
        ),
        "express": ShippingMethod.objects.create(zone=germany, name="Express", price_minor=1290, estimate="1 day"),
        "europe": ShippingMethod.objects.create(zone=europe, name="EU Standard", price_minor=990, estimate="4-6 days"),
    }
