from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from catalog.demo import DEMO_PASSWORD, DEMO_USERS, load_demo


class Command(BaseCommand):
    help = (
        "Creates the demo catalog, the demo logins and the demo prices (VAT, shipping, discount codes); safe to run "
        "again (it only adds what is missing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=60, help="How many demo items the catalog holds (default 60).")
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off (production).")

    def handle(self, *args, items: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo data with DJANGO_DEBUG off; pass --force if you mean it.")
        if items < 0:
            raise CommandError("--items must be zero or more.")
        result = load_demo(items=items, progress=lambda message: self.stdout.write(message))
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {result['items_created']} new items."))
        self.stdout.write(f"Logins (password {DEMO_PASSWORD}):")
        for role, email in DEMO_USERS.items():
            self.stdout.write(f"  {role:8} {email}")
        # By name, not by import: pricing sits above catalog, which must not import it. It prints the demo codes.
        call_command(
            "load_pricing_demo",
            force=force,
            stdout=self.stdout,
            stderr=self.stderr,
            verbosity=options["verbosity"],
            no_color=options["no_color"],
        )
