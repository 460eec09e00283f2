from allauth.account import admin as account_admin
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa import admin as mfa_admin  # noqa: F401 (registered first, whatever the apps' order: unregistered below)
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import Address, User, normalize_email
from accounts.selectors import email_in_use, export_personal_data, may_manage
from accounts.services import erase_personal_data, make_sellers, reset_second_factor, set_email
from accounts.views import personal_data_response
from shop.exceptions import ShopError

# allauth registers its second factors and its email confirmations in the admin, where a second factor's secret and
# a confirmation link's key show in plain text. Staff reset a lost second factor with the users' "Reset two-factor
# authentication" action instead; a confirmation is the mailbox owner's business.
for model in (Authenticator, EmailConfirmation):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


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


class ShopUserChangeForm(UserChangeForm):
    """The admin's user form: an address another account confirmed is taken too, not only another user's email."""

    class Meta(UserChangeForm.Meta):
        model = User

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if email_in_use(email=email, other_than=self.instance):
            raise ValidationError("A user is already registered with this email address.", code="email_taken")
        return email


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = ShopUserChangeForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "is_active", "date_joined", "last_login"]
    list_filter = [RoleFilter, "is_seller", "is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    actions = ["make_seller", "reset_second_factor", "export_personal_data", "erase_personal_data"]
    inlines = [AddressInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Roles"), {"fields": ("is_active", "is_seller", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    # History, not something to edit; and the plain multiple selects, which carry their labels (Django's two-list
    # picker puts an aria-label on a span, and its date and time inputs have no label of their own: axe).
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a user being added has no addresses yet

    @admin.display(description=_("role"))
    def role(self, obj: User) -> str:
        return obj.role

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Staff run the shop but may not hand out superuser powers or permissions (raw or through a group), their
            # own included.
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def has_change_permission(self, request, obj=None) -> bool:
        # Also guards the password form (/admin/accounts/user/<id>/password/): another staff member's account is a
        # superuser's to change (accounts.selectors.may_manage).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_manage(actor=request.user, user=obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_manage(actor=request.user, user=obj))

    def delete_queryset(self, request, queryset) -> None:
        if not all(may_manage(actor=request.user, user=user) for user in queryset):
            raise PermissionDenied("Only a superuser may delete another staff member's account.")
        super().delete_queryset(request, queryset)

    @admin.action(description=_("Reset two-factor authentication (a lost phone)"), permissions=["change"])
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            try:
                removed = reset_second_factor(user=user, actor=request.user)
            except ShopError as err:
                self.message_user(request, f"Skipped {user.email}: {err}", messages.WARNING)
                continue
            if removed:
                self.message_user(
                    request, f"{user.email}: two-factor authentication removed; they set it up again.", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{user.email} had no two-factor authentication.", messages.INFO)

    @admin.action(description=_("Make the selected users sellers"), permissions=["change"])
    def make_seller(self, request, queryset):
        promoted, skipped = make_sellers(users=list(queryset))
        if promoted:
            emails = ", ".join(user.email for user in promoted)
            self.message_user(request, f"{len(promoted)} promoted to seller: {emails}.", messages.SUCCESS)
        for user, reason in skipped:
            self.message_user(request, f"Skipped {user.email}: {reason}.", messages.WARNING)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            # Staff set the email directly; the old address must not stay live in allauth (login, resets).
            set_email(user=obj, email=obj.email)

    @admin.action(description=_("Export data (GDPR, one user)"), permissions=["view"])
    def export_personal_data(self, request, queryset):
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, "Select exactly one user to export their data.", messages.WARNING)
            return None
        return personal_data_response(
            data=export_personal_data(user=users[0]), filename_stem=f"personal-data-{users[0].pk}"
        )

    @admin.action(description=_("Erase personal data (GDPR, on the person's request)"), permissions=["change"])
    def erase_personal_data(self, request, queryset):
        users = list(queryset)
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Erase personal data?",
                "users": users,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/accounts/user/erase_confirmation.html", context)
        erased = []
        for user in users:
            try:
                erased.append(erase_personal_data(user=user, actor=request.user))
            except ShopError as err:
                self.message_user(request, f"Skipped {user.email}: {err}", messages.WARNING)
        if erased:
            self.message_user(
                request,
                f"Erased the personal data of {len(erased)} user(s); their orders are kept, anonymised.",
                messages.SUCCESS,
            )
        return None


if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(account_admin.EmailAddressAdmin):
    """allauth's, but an address of an account that staff may not manage (another staff member's, a superuser's:
    `accounts.selectors.may_manage`) is a superuser's to add, change, verify or delete: a verified address receives
    that account's password resets."""

    def _may(self, request, address) -> bool:
        return address is None or may_manage(actor=request.user, user=address.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._may(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._may(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not self._may(request, obj):  # an address added to, or moved to, such an account
            raise PermissionDenied("Only a superuser may change another staff member's email addresses.")
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request, queryset) -> None:
        if not all(self._may(request, address) for address in queryset.select_related("user")):
            raise PermissionDenied("Only a superuser may change another staff member's email addresses.")
        super().delete_queryset(request, queryset)

    def make_verified(self, request, queryset) -> None:
        allowed = [address.pk for address in queryset.select_related("user") if self._may(request, address)]
        if len(allowed) < queryset.count():
            self.message_user(request, "Skipped the addresses of accounts only a superuser manages.", messages.WARNING)
        super().make_verified(request, queryset.filter(pk__in=allowed))

    make_verified.short_description = account_admin.EmailAddressAdmin.make_verified.short_description
