from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from catalog.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

MAX_DEMO_ITEMS = 1_000_000  # a demo that big takes minutes and a few hundred MB; more is a typo
MAX_DEMO_ORDERS = 100_000


class Command(AuditedCommand):
    help = (
        "Creates the demo catalog, the demo logins, the demo prices (VAT, shipping, discount codes) and past orders "
        "over 60 days in every status; safe to run again (it only adds what is missing, and orders only once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=60, help="How many demo items the catalog holds (default 60).")
        parser.add_argument("--orders", type=int, default=300, help="How many past demo orders (default 300; 0: none).")
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off (production).")

    def handle(self, *args, items: int, orders: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo data with DJANGO_DEBUG off; pass --force if you mean it.")
        if items < 0 or orders < 0:
            raise CommandError("--items and --orders must be zero or more.")
        if items > MAX_DEMO_ITEMS or orders > MAX_DEMO_ORDERS:
            raise CommandError(f"--items may be at most {MAX_DEMO_ITEMS:,} and --orders {MAX_DEMO_ORDERS:,}.")
        result = load_demo(items=items, progress=lambda message: self.stdout.write(message))
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {result['items_created']} new items."))
        self.stdout.write(f"Logins (password {DEMO_PASSWORD}):")
        for role, email in DEMO_USERS.items():
            self.stdout.write(f"  {role:8} {email}")
        # By name, not by import: pricing and orders sit above catalog, which must not import them. The first prints
        # the demo codes; the second needs the items and prices, and places the past orders.
        output = {
            "force": force,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "verbosity": options["verbosity"],
            "no_color": options["no_color"],
        }
        call_command("load_pricing_demo", **output)
        call_command("load_orders_demo", orders=orders, **output)
