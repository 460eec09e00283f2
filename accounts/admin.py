from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Address, User
from accounts.services import make_sellers


class RoleFilter(admin.SimpleListFilter):
    """The roles of `User.role`: staff (superusers and non-seller staff), sellers, shoppers."""

    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [("staff", _("Staff")), ("seller", _("Seller")), ("shopper", _("Shopper"))]

    def queryset(self, request, queryset):
        staff = Q(is_superuser=True) | Q(is_staff=True, is_seller=False)
        if self.value() == "staff":
            return queryset.filter(staff)
        if self.value() == "seller":
            return queryset.filter(is_seller=True, is_superuser=False)
        if self.value() == "shopper":
            return queryset.filter(is_seller=False, is_staff=False, is_superuser=False)
        return queryset


class AddressInline(admin.TabularInline):
    """The user's address book, read-only: changes go through `accounts.services` (one default per user)."""

    model = Address
    extra = 0
    can_delete = False
    fields = ["name", "line1", "line2", "postal_code", "city", "country", "is_default", "created_at"]
    readonly_fields = fields
    ordering = ["-is_default", "-created_at", "-pk"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "is_active", "date_joined", "last_login"]
    list_filter = [RoleFilter, "is_seller", "is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    actions = ["make_seller"]
    inlines = [AddressInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Roles"), {"fields": ("is_active", "is_seller", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a user being added has no addresses yet

    @admin.display(description=_("role"))
    def role(self, obj: User) -> str:
        return obj.role

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Staff run the shop but may not hand out superuser powers or raw permissions, their own included.
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    @admin.action(description=_("Make the selected users sellers"), permissions=["change"])
    def make_seller(self, request, queryset):
        promoted, skipped = make_sellers(users=list(queryset))
        if promoted:
            emails = ", ".join(user.email for user in promoted)
            self.message_user(request, f"{len(promoted)} promoted to seller: {emails}.", messages.SUCCESS)
        for user, reason in skipped:
            self.message_user(request, f"Skipped {user.email}: {reason}.", messages.WARNING)
