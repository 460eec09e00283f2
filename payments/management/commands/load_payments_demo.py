from django.conf import settings
from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from payments.demo import record_demo_payments


class Command(AuditedCommand):
    help = (
        "Records the demo gateway's payment of every paid demo order that has none (`load_orders_demo` runs it); "
        "safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off (production).")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo data with DJANGO_DEBUG off; pass --force if you mean it.")
        created = record_demo_payments()
        self.stdout.write(self.style.SUCCESS(f"Demo payments: {created} recorded."))
