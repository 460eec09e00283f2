"""Reads of the audit trail."""

from django.db.models import QuerySet

from audit.models import AuditEntry


def entries_for(*, model: str, object_id: object) -> QuerySet[AuditEntry]:
    """An object's entries, newest first; `model` is its label ("catalog.item")."""
    return AuditEntry.objects.filter(model=model.lower(), object_id=str(object_id))


def entry_models() -> list[str]:
    """The model labels the log has entries for, sorted (the admin's model filter)."""
    return sorted(set(AuditEntry.objects.values_list("model", flat=True).distinct()))
