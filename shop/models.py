from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"  # gave up after every retry: staff must look (the admin lists them)


class OutboxMessage(models.Model):
    """A side effect (an email, a gateway call, a cache invalidation) recorded in the same transaction as the change
    that causes it, and carried out after commit by the worker (`shop.outbox`), retried with backoff until it works.

    `available_at` is when it may next be tried; a worker that takes a message moves it forward by a lease, so two
    workers never run the same message at once and a worker that dies mid-way only delays it.
    """

    topic = models.CharField(max_length=100, help_text="Which handler carries it out, e.g. mail.send.")
    payload = models.JSONField(default=dict)
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="A pending message with the same key makes a new one unnecessary."
    )
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(help_text="Not tried again before this.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["status", "available_at"], name="outbox_status_available"),
            models.Index(fields=["dedupe_key", "status"], name="outbox_dedupe"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.status}, {self.attempts} attempts)"


class Heartbeat(models.Model):
    """When a background process last said it was alive (the health check reads it)."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
