"""Writes on the audit trail: entries are appended, never changed.

A write is recorded when a staff member or a seller makes it (in the admin, through the API or on the shop's pages)
or a management command runs; shoppers' own writes (carts, their orders, their address book) are not staff writes
and are not recorded. Model saves and deletions of the audited models (`settings.AUDIT_MODELS`) are recorded by the
receivers in `audit.receivers`; services that write with `QuerySet.update()` (which sends no signal) call
`record_change` themselves, inside their own transaction, so the entry commits or rolls back with the change.
"""

import datetime
import decimal
import uuid

from django.db import models

from audit import context
from audit.models import Action, AuditEntry, Source

MASKED = "********"
# Fields whose values never enter the log (a changed password shows as masked values), by name or as
# "app_label.model.field": a second factor's secret (allauth.mfa keeps it in `data`).
MASKED_FIELDS = frozenset({"password", "mfa.authenticator.data"})
# Fields that change by themselves (a login, a second factor used) or say nothing a reader needs; auto_now fields are
# left out as well.
IGNORED_FIELDS = frozenset({"last_login", "last_used_at"})


def audited_actor(*, actor=None):
    """Whose write it is when it is to be recorded: (user or None, display string, source, origin); None when the
    write is not audited (no staff member, seller or command behind it)."""
    ctx = context.current()
    if actor is None and ctx is not None:
        actor = ctx.actor()
    # The user model's own answer (accounts sits above audit, so it is read by name; None and AnonymousUser lack it).
    is_staff_or_seller = bool(getattr(actor, "has_back_office_access", False))
    if ctx is not None and ctx.source == Source.COMMAND:
        user = actor if is_staff_or_seller else None
        shown = f"{user.email} via {ctx.origin}" if user is not None else ctx.origin
        return user, shown, ctx.source, ctx.origin
    if not is_staff_or_seller:
        return None
    return actor, actor.email, (ctx.source if ctx is not None else Source.OTHER), (ctx.origin if ctx else "")


def is_audited(*, actor=None) -> bool:
    return audited_actor(actor=actor) is not None


def json_value(value: object) -> object:
    """A value as the log stores it: JSON types as they are, times in ISO 8601 to the millisecond (MongoDB keeps
    milliseconds, so finer digits would show as changes), anything else (ObjectIds, files, Decimals) as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


def audited_fields(model: type[models.Model], names=None) -> list[models.Field]:
    """The concrete fields of `model` whose changes are recorded (all but the key, auto-timestamps and ignored ones),
    limited to `names` when given."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in IGNORED_FIELDS:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if names is not None and field.name not in names and field.attname not in names:
            continue
        fields.append(field)
    return fields


def snapshot(instance: models.Model, *, names=None) -> dict[str, object]:
    """The audited fields' values of `instance`, by field name (a foreign key by the related object's key)."""
    return {
        field.name: json_value(field.value_from_object(instance)) for field in audited_fields(type(instance), names)
    }


def changed_values(*, before: dict | None, after: dict | None, model: str = "") -> dict[str, list]:
    """`{field: [before, after]}` for each field whose value differs, masked where needed (`model`: the model's
    label, lower case)."""
    before, after = before or {}, after or {}
    changes = {}
    for name in [*before, *(key for key in after if key not in before)]:
        old, new = json_value(before.get(name)), json_value(after.get(name))
        if old == new:
            continue
        if name in MASKED_FIELDS or f"{model}.{name}" in MASKED_FIELDS:
            old, new = (MASKED if old else old), (MASKED if new else new)
        changes[name] = [old, new]
    return changes


def record_change(
    *,
    action: str,
    model: type[models.Model] | str,
    object_id: object,
    object_repr: str,
    before: dict | None = None,
    after: dict | None = None,
    actor=None,
) -> AuditEntry | None:
    """Appends one entry for a write by staff, a seller or a command (`actor` when given, else the current request's
    user or command); nothing when the write is not audited, or when an update changed no value. Returns the entry.

    `before`/`after` map field names to values (`after` only for a creation, `before` only for a deletion); only the
    fields whose values differ are kept. Call it inside the write's transaction.
    Raises: ValueError for an unknown action.
    """
    action = Action(action)
    who = audited_actor(actor=actor)
    if who is None:
        return None
    user, shown, source, origin = who
    label = model if isinstance(model, str) else model._meta.label_lower
    changes = changed_values(before=before, after=after, model=label)
    if action == Action.UPDATE and not changes:
        return None
    return AuditEntry.objects.create(
        actor=user,
        actor_repr=shown[:255],
        source=source,
        origin=origin[:255],
        action=action,
        model=label,
        object_id=str(object_id),
        object_repr=str(object_repr)[:200],
        changes=changes,
    )


def record_instance_change(
    *, action: str, instance: models.Model, before: dict | None = None, after: dict | None = None, actor=None
) -> AuditEntry | None:
    """`record_change` for a model instance: its model, key and text."""
    return record_change(
        action=action,
        model=type(instance),
        object_id=instance.pk,
        object_repr=str(instance),
        before=before,
        after=after,
        actor=actor,
    )


def erase_from_trail(*, model: type[models.Model], object_ids, fields: set[str]) -> int:
    """For a person's right to erasure: their personal values (`fields`, and each object's text) in the entries about
    these objects become "[erased]"; who changed what, and when, stays. Call it inside the erasure's transaction,
    after its own writes (whose entries hold the values too). Returns how many entries were rewritten."""
    entries = AuditEntry.objects.filter(model=model._meta.label_lower, object_id__in=[str(pk) for pk in object_ids])
    return entries.erase_values(fields=frozenset(fields))
