"""What the apps' admin classes share."""


class ReadOnlyAdminMixin:
    """For a record of what happened (an order line, a payment, a webhook event): viewable, never added, changed or
    deleted in the admin. Put it before ModelAdmin or InlineModelAdmin in the bases."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
