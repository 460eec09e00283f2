from django.conf import settings
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from pricing.demo import DISCOUNT_CODES, load_pricing_demo
from pricing.models import DiscountKind


def _describe(code: dict) -> str:
    if code["kind"] == DiscountKind.PERCENT:
        return f"{code['value']}% off, no limit"
    if code["kind"] == DiscountKind.FREE_SHIPPING:
        return "free shipping"
    return f"{code['value']} off (minor units)"


class Command(AuditedCommand):
    help = (
        "Creates the demo VAT rates, shipping zones and methods and discount codes for the countries the shop ships "
        "to; safe to run again (it only adds what is missing). `load_demo` runs it too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off (production).")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo data with DJANGO_DEBUG off; pass --force if you mean it.")
        counts = load_pricing_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo prices ready: {counts['tax_rates']} VAT rates, {counts['zones']} shipping zones with "
                f"{counts['methods']} methods, {counts['codes']} discount codes ({counts['created']} new rows)."
            )
        )
        self.stdout.write("Discount codes:")
        for code in DISCOUNT_CODES:
            self.stdout.write(f"  {code['code']:10} {_describe(code)}")
