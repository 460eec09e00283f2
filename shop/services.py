"""Writes of the shop's own: heartbeats of background processes."""

from django.utils import timezone

from shop.models import Heartbeat


def record_heartbeat(*, name: str) -> None:
    """Notes that the process called `name` is alive now."""
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
