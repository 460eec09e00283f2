from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from payments.services import expire_stale_orders


class Command(AuditedCommand):
    help = (
        "Expires orders still unpaid after the payment window: expires their open Stripe Checkout Sessions, "
        "then the orders, releasing their stock. Orders whose payment provider cannot be reached are retried on "
        "the next run, and make the command exit with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--minutes",
            type=int,
            default=getattr(settings, "ORDER_PAYMENT_WINDOW_MINUTES", 60),
            help="Expire orders placed more than this many minutes ago (default: ORDER_PAYMENT_WINDOW_MINUTES, 60).",
        )

    def handle(self, *args, minutes: int, **options):
        if minutes < 1:
            raise CommandError("--minutes must be at least 1.")

        def progress(number: str, outcome: str) -> None:
            self.stdout.write(f"  {number}: {outcome}")

        self.stdout.write(f"Expiring orders unpaid for more than {minutes} minutes...")
        report = expire_stale_orders(older_than=timedelta(minutes=minutes), progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Expired {len(report.expired)} order(s); skipped {len(report.skipped)}; failed {len(report.failed)}."
            )
        )
        if report.failed:
            numbers = ", ".join(number for number, _ in report.failed)
            raise CommandError(f"Could not expire {len(report.failed)} order(s), retry later: {numbers}")
