from pathlib import Path

from django.core.management.base import CommandError

from accounts.selectors import user_by_email
from audit.commands import AuditedCommand
from catalog.imports import BATCH_SIZE, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, ImportReport, InvalidRows, import_items
from shop.exceptions import ShopError


class Command(AuditedCommand):
    help = (
        "Creates or updates items from a CSV or JSON file, matching on SKU. "
        f"Columns: {', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)}. "
        "Prices are in major units (12.50); category is a category slug. JSON is an array of objects or JSON Lines. "
        "Every row is checked first: if any is bad, each is reported with its line number and nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .csv, .json, .jsonl or .ndjson file, UTF-8.")
        parser.add_argument("--seller", metavar="EMAIL", help="The seller of new items; existing ones must be theirs.")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the valid rows, report the bad ones.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report, writing nothing.")
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=f"Rows per write (default {BATCH_SIZE})."
        )

    def handle(
        self, *args, file: Path, seller: str | None, skip_invalid: bool, dry_run: bool, batch_size: int, **options
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        seller_user = None
        if seller:
            seller_user = user_by_email(email=seller)
            if seller_user is None:
                raise CommandError(f"No user with email {seller}; create one with `manage.py createseller`.")
        progress = self._progress if options["verbosity"] >= 1 else (lambda message: None)
        try:
            report = import_items(
                path=file,
                seller=seller_user,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=progress,
            )
        except InvalidRows as err:
            self._list_errors(err.extra["report"])
            raise CommandError(str(err)) from err
        except ShopError as err:
            raise CommandError(str(err)) from err
        self._list_errors(report)
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {report.rows - report.invalid} of {report.rows} rows: {report.created} new, "
                f"{report.updated} updated, {report.unchanged} unchanged, {report.invalid} skipped as invalid."
            )
        )
        self.stdout.write(f"{report.seconds:.1f} s, {report.rows_per_second:,.0f} rows/s.")

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _list_errors(self, report: ImportReport) -> None:
        for error in report.errors:
            self.stderr.write(str(error))
        unlisted = report.invalid - len(report.errors)
        if unlisted:
            self.stderr.write(f"... and {unlisted} more invalid rows.")
