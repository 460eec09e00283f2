"""Records saves and deletions of the audited models (`settings.AUDIT_MODELS`) while a staff member, a seller or a
command is writing. Before an update the stored row is read once (only then: shoppers' writes cost nothing), so the
entry holds the values before and after of the fields that changed."""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit.models import Action
from audit.services import audited_fields, is_audited, json_value, record_change, record_instance_change, snapshot
from shop.models import OutboxStatus
from shop.outbox import messages_retried

_BEFORE = "_audit_before"  # the stored values read by pre_save, kept on the instance until post_save
_M2M_BEFORE = "_audit_m2m_before"


def audited_models() -> list:
    models = []
    for label in getattr(settings, "AUDIT_MODELS", []):
        try:
            models.append(apps.get_model(label))
        except (LookupError, ValueError) as error:
            raise ImproperlyConfigured(f"AUDIT_MODELS names {label!r}, which is no installed model.") from error
    return models


def before_save(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    instance.__dict__.pop(_BEFORE, None)
    if raw or instance._state.adding or instance.pk is None or not is_audited():
        return
    fields = audited_fields(sender, update_fields)
    if not fields:  # e.g. a login saving last_login alone
        return
    stored = sender._base_manager.filter(pk=instance.pk).values(*(field.attname for field in fields)).first()
    if stored is not None:
        instance.__dict__[_BEFORE] = {field.name: json_value(stored[field.attname]) for field in fields}


def after_save(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    if created:
        if is_audited():  # before the snapshot: a shopper's order is not recorded, so need not be read
            record_instance_change(action=Action.CREATE, instance=instance, after=snapshot(instance))
        return
    before = instance.__dict__.pop(_BEFORE, None)
    if before is not None:
        record_instance_change(
            action=Action.UPDATE, instance=instance, before=before, after=snapshot(instance, names=before.keys())
        )


def after_delete(sender, instance, **kwargs) -> None:
    if is_audited():
        record_instance_change(action=Action.DELETE, instance=instance, before=snapshot(instance))


def _related_keys(instance, field_name: str) -> list[str]:
    return sorted(str(pk) for pk in getattr(instance, field_name).values_list("pk", flat=True))


def m2m_receiver(field_name: str):
    """Records a change of the many-to-many `field_name` (a user's groups, a code's categories) made from its own
    side, as the lists of related keys before and after."""

    def receiver(sender, instance, action: str, reverse: bool, **kwargs) -> None:
        if reverse or action not in {"pre_add", "pre_remove", "pre_clear", "post_add", "post_remove", "post_clear"}:
            return
        kept = instance.__dict__.setdefault(_M2M_BEFORE, {})
        if action.startswith("pre_"):
            if is_audited():
                kept[field_name] = _related_keys(instance, field_name)
            return
        before = kept.pop(field_name, None)
        if before is not None:
            record_instance_change(
                action=Action.UPDATE,
                instance=instance,
                before={field_name: before},
                after={field_name: _related_keys(instance, field_name)},
            )

    return receiver


def outbox_retried(sender, retried, **kwargs) -> None:
    """Staff put failed outbox messages back in the queue (`shop.outbox.retry_failed`, a `QuerySet.update()`)."""
    for pk, topic, attempts in retried:
        record_change(
            action=Action.UPDATE,
            model=sender,
            object_id=pk,
            object_repr=topic,
            before={"status": OutboxStatus.FAILED, "attempts": attempts},
            after={"status": OutboxStatus.PENDING, "attempts": 0},
        )


def connect() -> None:
    messages_retried.connect(outbox_retried, dispatch_uid="audit.outbox.retried")
    for model in audited_models():
        uid = f"audit.{model._meta.label_lower}"
        pre_save.connect(before_save, sender=model, dispatch_uid=f"{uid}.pre_save")
        post_save.connect(after_save, sender=model, dispatch_uid=f"{uid}.post_save")
        post_delete.connect(after_delete, sender=model, dispatch_uid=f"{uid}.post_delete")
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                m2m_receiver(field.name),
                sender=field.remote_field.through,
                weak=False,
                dispatch_uid=f"{uid}.m2m.{field.name}",
            )
