"""The catalog in the admin: staff run every item and category; a seller sees and changes only their own items.

Scoping happens in `ItemAdmin.get_queryset`, which every admin URL goes through (changelist, change, delete, history,
autocomplete, bulk actions, list_editable), so another seller's item answers exactly as a missing one does; the stock
moves are scoped the same way, by their item's seller.

Stock is edited as a change, never written back: a form remembers the stock it showed (a hidden initial value), and
saving applies the difference between what was typed and what was shown, so the units an order took meanwhile stay
taken.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.timezone import localtime

from catalog.exceptions import NotEnoughStock, StockTooLarge
from catalog.models import MAX_STOCK, Category, Item, StockMove
from catalog.services import adjust_stock, delete_item
from shop.db import atomic, unit_of_work
from shop.money import currency_places, format_money, parse_major
from shop.validators import validate_image_upload

LOW_STOCK = 5
RECENT_MOVES = 10  # stock moves shown on an item's change page


class MajorUnitsField(forms.CharField):
    """Shows and accepts an amount in major units ('12.50') and cleans it to minor units (1250)."""

    default_error_messages = {"invalid": "Enter an amount like 12.50."}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return str(Decimal(value).scaleb(-currency_places()))
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        minor = parse_major(value)
        if minor is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return minor


# What the item form edits, in order (the admin adds the read-only timestamps).
EDITABLE_FIELDS = [
    "title",
    "slug",
    "sku",
    "seller",
    "category",
    "description",
    "price_minor",
    "tax_class",
    "weight_grams",
    "stock",
    "is_active",
    "image",
]


class StockSeenMixin:
    """Makes an item form send back, hidden, the stock it showed: the admin builds a posted form from the item as it
    is at that moment, so without this the form could not tell what the editor saw from what an order left since."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stock" in self.fields:
            field = self.fields["stock"]
            field.show_hidden_initial = True
            field.max_value = MAX_STOCK  # a field error, as the API and imports answer, never a ledger overflow
            field.validators.append(MaxValueValidator(MAX_STOCK))
            field.widget.attrs["max"] = MAX_STOCK

    def stock_seen(self) -> int:
        """The stock the page showed; the stock at the time of the post when the page did not say (a hand-made post)."""
        field = self.fields["stock"]
        raw = field.hidden_widget().value_from_datadict(self.data, self.files, self.add_initial_prefix("stock"))
        try:
            return field.clean(raw)
        except ValidationError:
            return self.initial["stock"]


class ItemChangelistForm(StockSeenMixin, forms.ModelForm):
    """The row form of the changelist's editable columns. Django's change list gives their inputs no label: each is
    named after its column and its item, for screen readers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = f"{capfirst(field.label)}: {self.instance.title}"


class ItemAdminForm(StockSeenMixin, forms.ModelForm):
    price_minor = MajorUnitsField(label=f"Price ({settings.SHOP_CURRENCY})", help_text="In major units, e.g. 12.50.")

    class Meta:
        model = Item
        fields = EDITABLE_FIELDS

    def clean_image(self):
        """The model field's validator (`shop.validators`), run here too so that the form reports a refused upload
        before it builds the item; a kept file is not read again."""
        image = self.cleaned_data.get("image")
        # Only a fresh upload carries `.image` (set by forms.ImageField after Pillow's verify()); a kept file does not.
        if image and getattr(image, "image", None) is not None:
            validate_image_upload(image)
        return image


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock"), ("low", f"Low (1-{LOW_STOCK - 1})"), ("in", f"In stock ({LOW_STOCK}+)")]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lt=LOW_STOCK)
        if self.value() == "in":
            return queryset.filter(stock__gte=LOW_STOCK)
        return queryset


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    form = ItemAdminForm
    list_display = ["title", "sku", "category", "seller", "price", "price_minor", "stock", "is_active"]
    list_display_links = ["title"]
    list_editable = ["price_minor", "stock", "is_active"]
    list_filter = ["category", ("seller", admin.RelatedOnlyFieldListFilter), "is_active", StockLevelFilter]
    list_select_related = ["category", "seller"]
    search_fields = ["title", "sku"]
    readonly_fields = ["created_at", "updated_at", "stock_history"]
    fields = [*EDITABLE_FIELDS, "created_at", "updated_at", "stock_history"]
    prepopulated_fields = {"slug": ["title"]}
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        queryset = super().get_queryset(request)
        if request.user.is_scoped_seller:
            return queryset.filter(seller=request.user)
        return queryset

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        hidden = {"seller"} if request.user.is_scoped_seller else set()
        if obj is None:
            hidden.add("stock_history")
        return [field for field in fields if field not in hidden]

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", ItemChangelistForm)
        return super().get_changelist_form(request, **kwargs)

    def get_list_display(self, request):
        if request.user.is_scoped_seller:
            return [column for column in self.list_display if column != "seller"]
        return self.list_display

    def get_list_filter(self, request):
        if request.user.is_scoped_seller:
            return [entry for entry in self.list_filter if not (isinstance(entry, tuple) and entry[0] == "seller")]
        return self.list_filter

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "seller":
            kwargs["limit_choices_to"] = {"is_seller": True}
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Django saves a change form or the editable columns inside its own atomic block, which on MongoDB is no
    # transaction. So each such save runs in one transaction of ours that encloses Django's block, on either backend:
    # the item, its stock move and the admin log entry together. Not retried on a write conflict (a view should not
    # run twice): the editor sees an error and submits again.
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with atomic():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if not (request.method == "POST" and "_save" in request.POST):  # not a save of the editable columns
            return super().changelist_view(request, extra_context)
        with atomic():
            return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        """A new item is saved as it is (the item receiver records its opening stock); a change saves everything but
        the stock, then applies the stock the editor typed as a difference from the stock the page showed.

        The change form and the changelist's editable rows both come through here."""
        if not change:
            # The form has no seller field for sellers, so a forged `seller` value never reaches the instance.
            if request.user.is_scoped_seller:
                obj.seller = request.user
            obj.opening_actor = request.user
            with atomic():
                super().save_model(request, obj, form, change)
            return
        refused = self._save_change(request, obj, form)
        if refused is not None:
            self.message_user(request, f"{refused} Your other changes were saved.", messages.ERROR)

    @unit_of_work
    def _save_change(self, request, obj: Item, form) -> NotEnoughStock | StockTooLarge | None:
        super().save_model(request, obj, form, True)  # Item.save() leaves the stock column alone
        if "stock" not in form.changed_data:
            return None
        seen, typed = form.stock_seen(), form.cleaned_data["stock"]
        try:
            obj.stock = adjust_stock(
                item_id=obj.pk, delta=typed - seen, actor=request.user, note=f"admin: {seen} -> {typed}"
            )
        except (NotEnoughStock, StockTooLarge) as refusal:
            obj.stock = refusal.extra["stock"]
            return refusal
        return None

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # An item's stock moves go with it: nobody may delete moves on their own, but that must not block the item.
        perms_needed.discard(StockMove._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        if not delete_item(item=obj, actor=request.user):
            self._report_kept(request, kept=[obj], deleted=0)

    def delete_queryset(self, request, queryset):
        # Item by item through the service: order history turns a deletion into a deactivation, and MongoDB would
        # refuse a QuerySet.delete() filtered through a relation anyway.
        outcomes = [(item, delete_item(item=item, actor=request.user)) for item in queryset]
        kept = [item for item, deleted in outcomes if not deleted]
        if kept:
            self._report_kept(request, kept=kept, deleted=len(outcomes) - len(kept))

    def _report_kept(self, request, *, kept, deleted: int):
        request.items_kept = True  # Django's own "deleted successfully" would follow: see message_user
        titles = ", ".join(f"“{item}”" for item in kept)
        done = f"Deleted {deleted} item{'' if deleted == 1 else 's'}. " if deleted else ""
        self.message_user(request, f"{done}Past orders refer to {titles}: deactivated instead of deleted.",
                          messages.WARNING)  # fmt: skip

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "items_kept", False):
            return  # Django's delete view and action would say every item was deleted: _report_kept said what was
        super().message_user(request, message, level, *args, **kwargs)

    @admin.display(description="price", ordering="price_minor")
    def price(self, obj: Item) -> str:
        return format_money(obj.price_minor)

    @admin.display(description="recent stock moves")
    def stock_history(self, obj: Item) -> str:
        moves = obj.stock_moves.select_related("actor").order_by("-created_at", "-pk")[:RECENT_MOVES]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    date_format(localtime(move.created_at), "SHORT_DATETIME_FORMAT"),
                    f"{move.delta:+d}",
                    move.get_reason_display(),
                    move.order_number,
                    move.actor or "",
                    move.note,
                )
                for move in moves
            ),
        )
        if not rows:
            return "None yet."
        everything = reverse("admin:catalog_stockmove_changelist") + f"?item__id__exact={obj.pk}"
        return format_html(
            "<table><thead><tr><th>when</th><th>change</th><th>reason</th><th>order</th><th>by</th><th>note</th>"
            '</tr></thead><tbody>{}</tbody></table><p><a href="{}">All stock moves of this item</a></p>',
            rows,
            everything,
        )


@admin.register(StockMove)
class StockMoveAdmin(admin.ModelAdmin):
    """The stock ledger, read-only: moves are written by the stock services alone. A seller sees their items' moves."""

    list_display = ["created_at", "item", "delta", "reason", "order_number", "actor", "note"]
    list_filter = ["reason"]
    list_select_related = ["item", "actor"]
    search_fields = ["=order_number", "=item__sku"]
    ordering = ["-created_at", "-pk"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockMove]:
        queryset = super().get_queryset(request)
        if request.user.is_scoped_seller:
            return queryset.filter(item__seller_id=request.user.pk)
        return queryset

    def has_view_permission(self, request, obj=None) -> bool:
        # Whoever may see items may see their moves (scoped above); the Sellers group carries no ledger permission.
        return super().has_view_permission(request, obj) or request.user.has_perm("catalog.view_item")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "parent", "description", "tax_class"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # One level of nesting: only top-level categories can be parents.
            kwargs["limit_choices_to"] = {"parent__isnull": True}
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
