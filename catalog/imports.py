"""Bulk import of items from CSV or JSON, upserting by SKU, in bounded memory.

The file is read twice, streaming: the first pass validates every row and keeps only the errors (plus the set of SKUs
and slugs seen, to catch duplicates); the second pass validates again and writes each batch of valid rows with one
`bulk_create` and one `bulk_update`. So nothing is written when any row is bad (unless invalid rows are to be skipped),
and memory grows with the number of distinct SKUs, not with the file; a JSON array (not JSON Lines) also holds its
text while it is read (see `_json_records`).
"""

import csv
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import reset_queries
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog.exceptions import CatalogError
from catalog.models import MAX_STOCK, Category, Item, StockMove, StockReason
from catalog.services import catalog_changed, record_bulk_item_writes
from shop.db import unit_of_work
from shop.money import parse_major
from shop.text import describe, forbidden_characters, single_line

REQUIRED_COLUMNS = ("sku", "title", "description", "price", "stock", "category")
OPTIONAL_COLUMNS = ("active", "slug")
BATCH_SIZE = 1000
MAX_LISTED_ERRORS = 1000
MAX_INTEGER = 2_147_483_647  # the range Django gives a PositiveIntegerField on every backend
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}
SINGLE_LINE_COLUMNS = ("sku", "title")  # SingleLineCharFields (`shop.text`)
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
_FIELD_LIMIT = {name: Item._meta.get_field(name).max_length for name in ("sku", "title", "slug")}

Progress = Callable[[str], None]


class ImportFileError(CatalogError):
    """The file as a whole cannot be read (encoding, syntax, missing columns); nothing was written."""

    code = "import_file_error"


class InvalidRows(CatalogError):
    """Some rows are invalid and invalid rows were not to be skipped; nothing was written. `extra["report"]`."""

    code = "import_invalid_rows"


class SellerRequired(CatalogError):
    code = "import_seller_required"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    rows: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_LISTED_ERRORS of them
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def unchanged(self) -> int:
        return self.rows - self.invalid - self.created - self.updated

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def add_error(self, error: RowError) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)


@dataclass
class _Row:
    line: int
    sku: str
    title: str
    description: str
    price_minor: int
    stock: int
    category_id: object
    active: bool | None  # None: the file does not say (new items are active, existing ones keep their flag)
    slug: str  # "" when the file gives none
    current: dict | None = None  # the existing item's values, once looked up; None for a new SKU


def import_items(
    *,
    path: Path,
    seller: User | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress = lambda message: None,
) -> ImportReport:
    """Upserts the file's items by SKU; all rows or none unless `skip_invalid`, which writes just the valid ones.
    Rows are checked, then written batch by batch (a transaction each): a row that was valid when checked but not when
    its batch is written (another change took its SKU or slug meanwhile) is not written, and is reported as such
    (InvalidRows without `skip_invalid`, after the other batches were written).

    With a `seller`, new items are theirs and existing items must already be theirs; without one, only existing
    items can be updated (they keep their seller). Raises: ImportFileError, InvalidRows, SellerRequired.
    """
    if seller is not None and not seller.is_seller:
        raise SellerRequired(f"{seller.email} is not a seller.", email=seller.email)
    started = time.monotonic()
    report = ImportReport(dry_run=dry_run)
    categories = dict(Category.objects.values_list("slug", "pk"))
    invalid_lines = set()
    for valid, errors in _checked_batches(path, categories=categories, seller=seller, batch_size=batch_size):
        report.rows += len(valid) + len(errors)
        for error in errors:
            report.add_error(error)
            invalid_lines.add(error.line)
        if dry_run:
            report.created += sum(row.current is None for row in valid)
            report.updated += sum(row.current is not None and bool(_changes(row)) for row in valid)
        if report.rows % (batch_size * 10) < batch_size:
            progress(f"Checked {report.rows} rows...")
    progress(f"Checked {report.rows} rows: {report.invalid} invalid.")
    if report.invalid and not skip_invalid:
        report.seconds = time.monotonic() - started
        raise InvalidRows(f"{report.invalid} of {report.rows} rows are invalid; nothing was imported.", report=report)
    if not dry_run:
        written, late = 0, []
        for valid, errors in _checked_batches(path, categories=categories, seller=seller, batch_size=batch_size):
            created, updated = _write_batch(valid, seller=seller)
            report.created += created
            report.updated += updated
            late += [error for error in errors if error.line not in invalid_lines]
            written += len(valid) + len(errors)
            if written % (batch_size * 10) < batch_size or written == report.rows:
                progress(f"Imported {written}/{report.rows} rows ({100 * written // max(report.rows, 1)}%).")
        for error in late:  # valid when checked, not when written: someone took its SKU or slug meanwhile
            report.add_error(RowError(error.line, f"{error.reason} (changed while importing; not imported)"))
        if late and not skip_invalid:
            report.seconds = time.monotonic() - started
            raise InvalidRows(
                f"{len(late)} of {report.rows} rows became invalid while importing and were not imported; the "
                f"other {report.created + report.updated} changes were.",
                report=report,
            )
    report.seconds = time.monotonic() - started
    return report


def _checked_batches(
    path: Path, *, categories: dict, seller: User | None, batch_size: int
) -> Iterator[tuple[list[_Row], list[RowError]]]:
    """The file's rows, validated batch by batch: (valid rows with their existing pks known, errors)."""
    seen_skus: dict[str, int] = {}
    seen_slugs: dict[str, int] = {}
    records = _records(path)
    while True:
        reset_queries()  # with DEBUG on, Django keeps every query's SQL: bounded memory needs them dropped
        parsed: list[_Row] = []
        errors: list[RowError] = []
        for line, record in records:
            row, error = _parse(line, record, categories=categories)
            if error is None and row.sku in seen_skus:
                error = RowError(line, f"duplicate SKU {row.sku!r} (first on line {seen_skus[row.sku]})")
            if error is not None:
                errors.append(error)
            else:
                seen_skus[row.sku] = line
                parsed.append(row)
            if len(parsed) + len(errors) >= batch_size:
                break
        if not parsed and not errors:
            return
        valid = _check_against_database(parsed, errors, seller=seller, seen_slugs=seen_slugs)
        yield valid, sorted(errors, key=lambda error: error.line)


# What an upsert may change on an existing item, as (model attribute, row attribute).
UPDATED_FIELDS = (
    ("title", "title"),
    ("slug", "slug"),
    ("description", "description"),
    ("price_minor", "price_minor"),
    ("stock", "stock"),
    ("category_id", "category_id"),
    ("is_active", "active"),
)


def _check_against_database(
    rows: list[_Row], errors: list[RowError], *, seller: User | None, seen_slugs: dict[str, int]
) -> list[_Row]:
    """Rows that fit the database: ownership, a seller for new items, free slugs. Sets `current` on existing ones."""
    existing = {
        values["sku"]: values
        for values in Item.objects.filter(sku__in=[row.sku for row in rows]).values(
            "pk", "sku", "seller_id", *(attribute for attribute, _ in UPDATED_FIELDS)
        )
    }
    for row in rows:
        row.current = existing.get(row.sku)
        if not row.slug:
            row.slug = row.current["slug"] if row.current else _generated_slug(row)
    taken = dict(Item.objects.filter(slug__in=[row.slug for row in rows]).values_list("slug", "sku"))
    valid = []
    for row in rows:
        reason = None
        if row.current is None and seller is None:
            reason = f"SKU {row.sku!r} is new and no seller was given (--seller)"
        elif row.current is not None and seller is not None and row.current["seller_id"] != seller.pk:
            reason = f"SKU {row.sku!r} belongs to another seller"
        elif taken.get(row.slug, row.sku) != row.sku:
            reason = f"slug {row.slug!r} is already used by SKU {taken[row.slug]!r}"
        elif row.slug in seen_slugs:
            reason = f"slug {row.slug!r} is also on line {seen_slugs[row.slug]}"
        if reason:
            errors.append(RowError(row.line, reason))
            continue
        seen_slugs[row.slug] = row.line
        valid.append(row)
    return valid


def _generated_slug(row: _Row) -> str:
    suffix = slugify(row.sku) or "item"
    base = slugify(row.title)[: _FIELD_LIMIT["slug"] - len(suffix) - 1].strip("-")
    return f"{base}-{suffix}" if base else suffix


def _changes(row: _Row) -> set[str]:
    """The model attributes this row changes on its existing item; an unsaid `active` keeps the item's flag."""
    return {
        attribute
        for attribute, name in UPDATED_FIELDS
        if getattr(row, name) is not None and getattr(row, name) != row.current[attribute]
    }


@unit_of_work
def _write_batch(rows: list[_Row], *, seller: User | None) -> tuple[int, int]:
    """Creates the new rows and updates the changed ones, with their IMPORT stock moves, in one unit of work; returns
    (created, updated). Unchanged items keep `updated_at`, so the catalog cache stays warm after a re-import of the
    same data."""
    now = timezone.now()
    new, changed, stored, fields = [], [], [], set()
    restocked: set = set()  # items whose row sets a new stock count
    for row in rows:
        if row.current is None:
            new.append(_item(row, seller_id=seller.pk, is_active=True if row.active is None else row.active))
            continue
        row_changes = _changes(row)
        if row_changes:
            fields |= row_changes
            if "stock" in row_changes:
                restocked.add(row.current["pk"])
            is_active = row.current["is_active"] if row.active is None else row.active
            changed.append(_item(row, pk=row.current["pk"], seller_id=row.current["seller_id"], is_active=is_active))
            stored.append(row.current)
    moves = []
    if new:
        Item.objects.bulk_create(new)
        moves += [_import_move(item.pk, item.stock, note="opening") for item in new if item.stock]
    if changed:
        if "stock" in fields:
            # The stock checked earlier may have moved since (orders): the ledger records the change from the stock
            # as it is now, read inside this unit. A reservation that lands after this read conflicts with the update
            # below (SQLite queues writers; MongoDB aborts one of the two transactions and the unit runs again).
            stocks = dict(Item.objects.filter(pk__in=[item.pk for item in changed]).values_list("pk", "stock"))
            for item in changed:
                if item.pk not in restocked:  # its row changes something else: its stock is written back as it is
                    item.stock = stocks.get(item.pk, item.stock)
            moves += [
                _import_move(item.pk, item.stock - stocks[item.pk])
                for item in changed
                if item.pk in stocks and item.stock != stocks[item.pk]
            ]
        for item in changed:
            item.updated_at = now
        # Only the columns some row changes: Django's bulk_update costs about rows x columns (one CASE per column).
        Item.objects.bulk_update(changed, [*sorted(field.removesuffix("_id") for field in fields), "updated_at"])
    if moves:
        StockMove.objects.bulk_create(moves)
    record_bulk_item_writes(created=new, updated=zip(stored, changed, strict=True))
    if new or changed:
        # Bulk writes send no signals; cached catalog pages (and cart pages, for stock) must see each batch.
        catalog_changed(everything=True, stock=bool(moves))
    return len(new), len(changed)


def _import_move(item_id: object, delta: int, *, note: str = "") -> StockMove:
    return StockMove(item_id=item_id, delta=delta, reason=StockReason.IMPORT, note=note)


def _item(row: _Row, **fields) -> Item:
    return Item(
        sku=row.sku,
        title=row.title,
        slug=row.slug,
        description=row.description,
        price_minor=row.price_minor,
        stock=row.stock,
        category_id=row.category_id,
        **fields,
    )


def _parse(line: int, record: dict, *, categories: dict) -> tuple[_Row | None, RowError | None]:
    """One record checked on its own: every problem of the row named in one reason."""
    if "__error__" in record:
        return None, RowError(line, f"the row {record['__error__']}")
    problems = []
    nested = sorted(str(key) for key, value in record.items() if isinstance(value, list | dict))
    if nested:  # JSON: a list or an object where text or a number belongs
        problems.append(f"{', '.join(nested)} must be text or a number")
    values = {key: ("" if value is None else str(value).strip()) for key, value in record.items()}
    missing = [name for name in REQUIRED_COLUMNS if name not in record]
    if missing:
        return None, RowError(line, f"missing {', '.join(missing)}")
    with_nul = sorted(name for name, value in values.items() if "\x00" in value)
    if with_nul:
        problems.append(f"{', '.join(with_nul)} holds a NUL character")
    for name in SINGLE_LINE_COLUMNS:  # as their model fields clean them: bulk writes skip the models' validation
        values[name] = single_line(values[name])
        hidden = [char for char in forbidden_characters(values[name]) if char != "\x00"]
        if hidden:
            problems.append(f"{name} holds control characters ({describe(hidden)})")
    for name in ("sku", "title"):
        if not values[name]:
            problems.append(f"{name} is empty")
        elif len(values[name]) > _FIELD_LIMIT[name]:
            problems.append(f"{name} is longer than {_FIELD_LIMIT[name]} characters")
    price = parse_major(values["price"])
    if price is None or isinstance(record["price"], bool):
        problems.append(f"bad price {values['price']!r} (expected an amount like 12.50)")
    elif price < 1:
        problems.append(f"bad price {values['price']!r} (must be more than zero)")
    elif price > MAX_INTEGER:
        problems.append(f"price {_shortened(values['price'])} is too large")
    stock = _whole_number(values["stock"])
    if stock is None or isinstance(record["stock"], bool):
        problems.append(f"bad stock {values['stock']!r} (expected a whole number)")
    elif stock < 0:
        problems.append(f"negative stock {_shortened(values['stock'])}")
    elif stock > MAX_STOCK:
        problems.append(f"stock {_shortened(values['stock'])} is too large (at most {MAX_STOCK:,})")
    category_id = categories.get(values["category"])
    if category_id is None:
        problems.append(f"unknown category {values['category']!r}")
    active = _flag(record.get("active"))
    if active == "bad":
        problems.append(f"bad active flag {values['active']!r} (expected true/false)")
    slug = values.get("slug", "")
    if slug:
        try:
            validate_slug(slug)
        except ValidationError:
            problems.append(f"bad slug {slug!r} (letters, digits, hyphens and underscores only)")
        if len(slug) > _FIELD_LIMIT["slug"]:
            problems.append(f"slug is longer than {_FIELD_LIMIT['slug']} characters")
    if problems:
        return None, RowError(line, "; ".join(problems))
    row = _Row(
        line=line,
        sku=values["sku"],
        title=values["title"],
        description=values["description"],
        price_minor=price,
        stock=stock,
        category_id=category_id,
        active=active,
        slug=slug,
    )
    return row, None


def _shortened(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _whole_number(text: str) -> int | None:
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits.lstrip("0")) > 18:  # beyond any stock (and, at 4,300 digits, beyond what int() will read)
        return sign * (MAX_INTEGER + 1)
    return sign * int(digits)


def _flag(value: object) -> bool | str | None:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return "bad"


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each row of the file, streaming. Raises: ImportFileError."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ImportFileError(f"{path.name}: unknown file type; use .csv, .json, .jsonl or .ndjson.")
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise ImportFileError(f"Cannot read {path}: {err.strerror}.") from err
    with handle:
        reader = _csv_records(handle) if kind == "csv" else _json_records(handle)
        try:
            yield from reader
        except UnicodeDecodeError as err:
            raise ImportFileError(
                f"{path.name} is not UTF-8 text (byte 0x{err.object[err.start]:02x} cannot be decoded); "
                "save it as UTF-8 and try again."
            ) from err


def _csv_records(handle) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty: expected a header line.")
        columns = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise ImportFileError(
                f"line 1: missing columns {', '.join(missing)} (the header must name {', '.join(REQUIRED_COLUMNS)}; "
                f"optional: {', '.join(OPTIONAL_COLUMNS)})."
            )
        last_line = reader.line_num
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            if not fields:
                continue
            if len(fields) != len(columns):
                yield line, {"__error__": f"has {len(fields)} fields, the header has {len(columns)}"}
                continue
            yield line, dict(zip(columns, fields, strict=True))
    except csv.Error as err:
        raise ImportFileError(f"line {reader.line_num}: unreadable CSV ({err}).") from err


def _json_records(handle) -> Iterator[tuple[int, dict]]:
    """(line, record) for the objects of a top-level JSON array, or of JSON Lines; the standard library decodes.

    JSON Lines (a first value that is an object) are read one line at a time, so memory stays flat whatever the file's
    size, and a line that is not JSON is a bad row. An array is read whole and decoded one element at a time, so each
    row's line is known and every separator is checked (`[{..} {..}]`, `[{..},]` and trailing text are refused); it
    costs the file's size in memory, about 25 MB for the 100,000 rows the import is measured with (`bench/import.py`).
    """
    first_line, text = _first_significant_line(handle)
    if text is None:
        raise ImportFileError("The file is empty: expected a JSON array of objects or JSON Lines.")
    if text.lstrip().startswith("["):
        yield from _json_array_records(text + handle.read(), first_line)
        return
    if not text.lstrip().startswith("{"):
        raise ImportFileError(f"line {first_line}: expected a JSON array of objects or JSON Lines.")
    yield _json_line_record(first_line, text)
    for line, text in enumerate(handle, start=first_line + 1):
        if text.strip():
            yield _json_line_record(line, text)


def _first_significant_line(handle) -> tuple[int, str | None]:
    """(number, text) of the file's first line that is not blank; (0, None) for a blank file."""
    for line, text in enumerate(handle, start=1):
        if text.strip():
            return line, text
    return 0, None


def _json_line_record(line: int, text: str) -> tuple[int, dict]:
    try:
        value = json.loads(text, parse_float=str, parse_int=str)
    except RecursionError:
        return line, {"__error__": "is nested too deeply"}
    except json.JSONDecodeError as err:
        return line, {"__error__": f"is not valid JSON ({err.msg} at column {err.colno})"}
    return _json_record(line, value)


def _json_record(line: int, value: object) -> tuple[int, dict]:
    if not isinstance(value, dict):
        return line, {"__error__": "is not a JSON object"}
    return line, {str(key).lower(): item for key, item in value.items()}


_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's own four (RFC 8259)


def _json_array_records(text: str, first_line: int) -> Iterator[tuple[int, dict]]:
    """The elements of the JSON array `text` (starting on `first_line`), each with the line it starts on.
    Raises: ImportFileError for anything that is not exactly one array of values."""
    decoder = json.JSONDecoder(parse_float=str, parse_int=str)
    line, counted = first_line, 0  # the line number at `counted`, moved forward only (rows are counted once)

    def line_at(position: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, position)
        counted = position
        return line

    def skip(position: int) -> int:
        return _JSON_WHITESPACE.match(text, position).end()

    def refuse(message: str, position: int) -> ImportFileError:
        return ImportFileError(f"line {line_at(position)}: bad JSON ({message}).")

    position = skip(skip(0) + 1)  # past the opening bracket
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, position)
            except RecursionError as err:
                raise refuse("nested too deeply", position) from err
            except json.JSONDecodeError as err:
                raise refuse(err.msg, max(err.pos, counted)) from err
            yield _json_record(line_at(position), value)
            position = skip(end)
            if text.startswith(",", position):
                position = skip(position + 1)  # a value must follow: in "[{..},]" decoding "]" fails above
            elif text.startswith("]", position):
                position += 1
                break
            elif position == len(text):
                raise refuse("the array is not closed", position)
            else:
                raise refuse("expected ',' or ']' after a row", position)
    if skip(position) != len(text):
        raise refuse("text after the array", skip(position))
