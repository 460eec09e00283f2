"""The audit trail: one append-only row per write by staff, sellers or a management command."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from audit.exceptions import AuditLogIsAppendOnly


class Source(models.TextChoices):
    ADMIN = "admin", "Admin"
    API = "api", "JSON API"
    COMMAND = "command", "Management command"
    WEB = "web", "Shop pages"
    OTHER = "other", "Other (shell, worker)"


class Action(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"


ERASED = "[erased]"


class AuditEntryQuerySet(models.QuerySet):
    """Refuses bulk changes and deletions. The one update allowed is the one Django's SET_NULL makes when the acting
    user is deleted: the entry loses its link and keeps `actor_repr`."""

    def update(self, **kwargs):
        if kwargs != {"actor": None}:
            raise AuditLogIsAppendOnly()
        return super().update(**kwargs)

    def delete(self):
        raise AuditLogIsAppendOnly()

    def erase_values(self, *, fields: frozenset[str]) -> int:
        """The one rewrite the log allows, for a person's right to erasure (`audit.services.erase_from_trail`): in
        these entries the values of `fields` and the object's text become ERASED; who changed what, and when,
        stays. Returns how many entries were rewritten."""
        for entry in self:
            changes = {
                name: [value if value in (None, "") else ERASED for value in values] if name in fields else values
                for name, values in entry.changes.items()
            }
            models.QuerySet.update(self.model.objects.filter(pk=entry.pk), changes=changes, object_repr=ERASED)
        return len(self)

    delete.alters_data = True
    delete.queryset_only = True
    update.alters_data = True
    erase_values.alters_data = True
    erase_values.queryset_only = True


class AuditEntry(models.Model):
    """Who changed what, when, from where, with the changed fields' values before and after.

    `changes` maps each changed field to `[before, after]` (JSON values; `None` before a creation and after a deletion).
    Objects are named by model label and primary key as text, so an entry outlives the object and works with integer
    and ObjectId keys alike; `actor_repr` outlives the user.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_repr = models.CharField("by", max_length=255, help_text="The user's email, or the command and OS user.")
    source = models.CharField(max_length=10, choices=Source.choices)
    origin = models.CharField(max_length=255, blank=True, help_text="The request (method and path) or the command.")
    action = models.CharField(max_length=10, choices=Action.choices)
    model = models.CharField(max_length=100, help_text="App label and model, e.g. catalog.item.")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField("object", max_length=200)
    changes = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["model", "object_id"], name="audit_model_object")]

    def __str__(self) -> str:
        return f"{self.actor_repr} {self.get_action_display().lower()} {self.model} {self.object_repr}"

    def save(self, *, force_insert=False, force_update=False, using=None, update_fields=None) -> None:
        """Inserts a new entry; an existing one is never written again."""
        if not self._state.adding or force_update or update_fields is not None:
            raise AuditLogIsAppendOnly()
        super().save(force_insert=True, using=using)

    save.alters_data = True

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly()

    delete.alters_data = True
