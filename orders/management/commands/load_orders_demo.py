from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from catalog.demo import DEMO_PASSWORD
from orders.demo import DAYS, DEFAULT_ORDERS, load_orders_demo


class Command(AuditedCommand):
    help = (
        f"Creates the demo shoppers and {DEFAULT_ORDERS} past orders over the last {DAYS} days in every status, with "
        "their timelines and demo payments; skipped when the demo's orders exist. Needs the demo catalog and prices: "
        "`load_demo` runs it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders",
            type=int,
            default=DEFAULT_ORDERS,
            help=f"How many demo orders (default {DEFAULT_ORDERS}; 0: none).",
        )
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off (production).")

    def handle(self, *args, orders: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo data with DJANGO_DEBUG off; pass --force if you mean it.")
        if orders < 0:
            raise CommandError("--orders must be zero or more.")
        result = load_orders_demo(orders=orders, progress=lambda message: self.stdout.write(message))
        self.stdout.write(f"Demo shoppers: {result['shoppers']} (password {DEMO_PASSWORD}).")
        if result["skipped"]:
            self.stdout.write("Demo orders: already there, none added.")
        else:
            statuses = ", ".join(f"{count} {status}" for status, count in sorted(result["by_status"].items()))
            self.stdout.write(self.style.SUCCESS(f"Demo orders: {result['created']} created ({statuses or 'none'})."))
        # By name, not by import: payments sits above orders. It records the demo gateway's payments of these orders.
        call_command(
            "load_payments_demo",
            force=force,
            stdout=self.stdout,
            stderr=self.stderr,
            verbosity=options["verbosity"],
            no_color=options["no_color"],
        )
