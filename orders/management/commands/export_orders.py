import csv
import os
import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from audit.commands import AuditedCommand
from orders.models import Order, OrderLine, OrderStatus
from orders.selectors import orders_for_export
from shop.money import currency_places

COLUMNS = [
    "order_number",
    "created_at",
    "paid_at",
    "status",
    "email",
    "sku",
    "title",
    "quantity",
    "unit_price",
    "line_total",
    "order_total",
    "currency",
]
CHUNK_SIZE = 500  # orders per query (plus one query for their lines)
PROGRESS_EVERY = 1000  # orders
# A cell starting with one of these is a formula to a spreadsheet: titles and emails come from other people.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


def _major(minor: int, currency: str) -> str:
    return format(Decimal(minor).scaleb(-currency_places(currency)), "f")


def _when(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _rows(order: Order):
    """One row per order line (an order without lines still gets one), the order's columns repeated."""
    head = [order.number, _when(order.created_at), _when(order.paid_at), order.status, _text(order.email)]
    tail = [_major(order.total_minor, order.currency), order.currency]
    lines: list[OrderLine] = list(order.lines.all())
    if not lines:
        yield [*head, "", "", "", "", "", *tail]
    for line in lines:
        yield [
            *head,
            _text(line.sku),
            _text(line.title),
            line.quantity,
            _major(line.unit_price_minor, order.currency),
            _major(line.line_total_minor, order.currency),
            *tail,
        ]


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date like 2026-01-31, not {value!r}.") from None


def _parse_statuses(values: list[str] | None) -> list[str]:
    statuses = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    unknown = [status for status in statuses if status not in OrderStatus.values]
    if unknown:
        raise CommandError(f"Unknown status {', '.join(unknown)}; choose from {', '.join(OrderStatus.values)}.")
    return statuses


class Command(AuditedCommand):
    help = (
        "Writes orders as CSV, one row per order line (an order's columns repeat on each of its lines): "
        f"{', '.join(COLUMNS)}. Amounts are in major units (12.50), times in the shop's time zone. Streams the orders "
        "in chunks, so memory stays bounded however many there are; progress goes to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="Orders placed on or after this day.")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="Orders placed on or before this day.")
        parser.add_argument(
            "--status",
            action="append",
            metavar="STATUS",
            help=f"Only orders in this status; repeat it or use commas. One of: {', '.join(OrderStatus.values)}.",
        )
        parser.add_argument(
            "--output", "-o", type=Path, metavar="FILE", help="Write to FILE (put in place when done), not stdout."
        )

    def handle(self, *args, since, until, status, output: Path | None, **options):
        since_day, until_day = _parse_day(since, "--since"), _parse_day(until, "--until")
        if since_day and until_day and since_day > until_day:
            raise CommandError(f"--since {since_day} is after --until {until_day}.")
        orders = orders_for_export(since=since_day, until=until_day, statuses=_parse_statuses(status))
        verbose = options["verbosity"] >= 1
        if output is None:
            try:
                count, lines = self._write(self.stdout, orders, verbose=verbose)
            except BrokenPipeError:  # `export_orders | head`: the reader has all it wants
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
                return
            destination = "stdout"
        else:
            count, lines = self._write_file(output, orders, verbose=verbose)
            destination = str(output)
        if verbose:
            self.stderr.write(f"Exported {count} order(s), {lines} line(s), to {destination}.")

    def _write_file(self, output: Path, orders, *, verbose: bool) -> tuple[int, int]:
        """Writes to a temporary file beside `output`, then renames it: a failed export never leaves half a file."""
        try:
            descriptor, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
        except OSError as err:
            raise CommandError(f"Cannot write {output}: {err.strerror or err}.") from err
        partial = Path(name)
        try:
            with open(descriptor, "w", newline="", encoding="utf-8") as handle:
                result = self._write(handle, orders, verbose=verbose)
            os.replace(partial, output)
        except OSError as err:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Cannot write {output}: {err.strerror or err}.") from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return result

    def _write(self, stream, orders, *, verbose: bool) -> tuple[int, int]:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        count = lines = 0
        for order in orders.iterator(chunk_size=CHUNK_SIZE):
            writer.writerows(_rows(order))
            lines += len(order.lines.all())  # prefetched: no query
            count += 1
            if verbose and count % PROGRESS_EVERY == 0:
                self.stderr.write(f"  {count:,} orders...")
        return count, lines
