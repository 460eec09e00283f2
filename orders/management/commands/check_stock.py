from django.core.management.base import CommandError

from audit.commands import AuditedCommand
from orders.services import check_stock


class Command(AuditedCommand):
    help = (
        "Checks that every item's stock equals the sum of its stock ledger and that the units each order holds match "
        "its state (pending, paid, shipped and delivered orders hold theirs; cancelled, expired and restocked ones "
        "none). Exits 1 when anything differs. --repair gives back stranded units and resets drifted stock columns "
        "from the ledger, each with a recorded reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Fix what can be fixed from the ledger.")

    def handle(self, *args, repair: bool, **options):
        report = check_stock(repair=repair)
        for mismatch in report.stock_mismatches:
            self.stdout.write(
                f"  item {mismatch.sku} ({mismatch.title}): stock {mismatch.stock}, ledger {mismatch.ledger}"
            )
        for mismatch in report.held_mismatches:
            self.stdout.write(
                f"  order {mismatch.order_number}, item {mismatch.item_id}: holds {mismatch.expected} units, "
                f"ledger shows {mismatch.held}"
            )
        for line in report.repaired:
            self.stdout.write(self.style.SUCCESS(f"  repaired: {line}"))
        for line in report.problems:
            self.stdout.write(self.style.WARNING(f"  left for a person: {line}"))
        if report.clean:
            self.stdout.write(self.style.SUCCESS("Stock agrees with the ledger and with the orders."))
            return
        found = len(report.stock_mismatches) + len(report.held_mismatches)
        if repair and not report.problems:
            self.stdout.write(self.style.SUCCESS(f"Found {found} difference(s); all repaired."))
            return
        raise CommandError(
            f"Found {found} difference(s)"
            + (f"; {len(report.problems)} need a person." if repair else "; run with --repair to fix them.")
        )
