"""Moments as the shop writes them for clients: UTC to the millisecond, the way JavaScript's `Date.toISOString()`
writes them (`2026-12-02T08:41:07.123Z`), in the API (`shop.api.Timestamp`) and in the personal-data export alike."""

from datetime import UTC, date, datetime

from django.utils import timezone


def iso_moment(value):
    """A datetime as `…T08:41:07.123Z` (a naive one taken in the current time zone), a date as `2026-12-02`; None and
    anything else as it is."""
    if isinstance(value, datetime):
        moment = value if timezone.is_aware(value) else timezone.make_aware(value)
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value
