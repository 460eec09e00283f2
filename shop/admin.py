"""The outbox in the admin: what the worker still has to do, and what failed for good (staff retry it)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shop.models import OutboxMessage, OutboxStatus
from shop.outbox import retry_failed


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "topic", "status", "attempts", "available_at", "last_error_start"]
    list_filter = ["status", "topic"]
    ordering = ["-created_at"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
    actions = ["retry_messages"]
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="last error")
    def last_error_start(self, obj: OutboxMessage) -> str:
        return obj.last_error[:120]

    @admin.action(description="Retry the selected failed messages", permissions=["change"])
    def retry_messages(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.filter(status=OutboxStatus.FAILED).values_list("pk", flat=True))
        count = retry_failed(message_ids=ids)
        self.message_user(request, f"{count} failed message(s) queued again.", messages.SUCCESS)
