"""The audit trail in the admin: staff browse and filter it; nobody, superusers included, adds, changes or deletes."""

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from audit.models import AuditEntry
from audit.selectors import entry_models

SUMMARY_FIELDS = 5


class ModelFilter(admin.SimpleListFilter):
    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(label, label) for label in entry_models()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(model=self.value())
        return queryset


class ActorFilter(admin.SimpleListFilter):
    """By who acted, as the log names them (the user may be gone)."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        names = AuditEntry.objects.values_list("actor_repr", flat=True).distinct()
        return [(name, name) for name in sorted(set(names))[:100]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(actor_repr=self.value())
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_repr", "source", "action", "model", "object_id", "object_repr", "summary"]
    list_filter = [ModelFilter, "action", ActorFilter, "source", "created_at"]
    search_fields = ["=object_id", "object_repr"]
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False
    fields = [
        "created_at",
        "actor_repr",
        "actor",
        "source",
        "origin",
        "action",
        "model",
        "object_id",
        "object_repr",
        "changes_table",
    ]
    readonly_fields = fields
    actions = None

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Shop staff read the whole log; sellers, who enter the admin for their own items, do not.
        return super().has_view_permission(request, obj) or _is_shop_staff(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or _is_shop_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="changed fields")
    def summary(self, obj: AuditEntry) -> str:
        names = list(obj.changes)  # a created order names some forty fields: the list shows the first few
        shown = ", ".join(names[:SUMMARY_FIELDS])
        return f"{shown} and {len(names) - SUMMARY_FIELDS} more" if len(names) > SUMMARY_FIELDS else shown

    @admin.display(description="changes")
    def changes_table(self, obj: AuditEntry) -> str:
        if not obj.changes:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((name, _shown(pair[0]), _shown(pair[1])) for name, pair in obj.changes.items()),
        )
        return format_html("<table><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead>{}</table>", rows)


def _is_shop_staff(user) -> bool:
    return bool(user.is_active and getattr(user, "is_shop_staff", False))


def _shown(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)
