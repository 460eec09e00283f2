from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from shop.text import SingleLineCharField
from shop.validators import stored_image_name, validate_image_upload

LOW_STOCK = 5  # at or below this, a shopper is told how many are left
# The most units of one item the shop holds: every way of setting stock (admin, API, imports, commands) refuses more,
# so that returns and repairs never leave the column's range (or the ledger's sum) however often they run.
MAX_STOCK = 1_000_000


class TaxClass(models.TextChoices):
    """Which VAT rate of the destination country applies (`pricing.TaxRate`)."""

    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"


def item_image_path(instance: "Item", filename: str) -> str:
    """Where an item's upload is stored: under items/, named with the extension of its real format."""
    return f"items/{stored_image_name(instance.image, filename)}"


class Category(models.Model):
    """A shelf of the shop; one level of nesting (a parent has children, a child has none)."""

    name = SingleLineCharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    tax_class = models.CharField(
        max_length=10, choices=TaxClass.choices, default=TaxClass.STANDARD, help_text="For its items that name none."
    )
    updated_at = models.DateTimeField(auto_now=True)  # moved by every save: item cards are keyed by it

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", kwargs={"slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.loaded_slug = instance.__dict__.get("slug")
        return instance

    loaded_slug = None  # the slug when read from the database: a renamed category's old pages must go too


class Item(models.Model):
    """Something a seller offers. `price_minor` is in minor units of settings.SHOP_CURRENCY."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="items")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    sku = SingleLineCharField(
        "SKU", max_length=64, unique=True, help_text="Stable stock-keeping unit; imports match on it."
    )
    title = SingleLineCharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    price_minor = models.PositiveIntegerField("price (minor units)", validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(default=0)
    image = models.ImageField(upload_to=item_image_path, blank=True, validators=[validate_image_upload])
    tax_class = models.CharField(
        max_length=10, choices=TaxClass.choices, blank=True, help_text="Empty: its category's."
    )
    weight_grams = models.PositiveIntegerField(
        "weight (grams)", default=0, blank=True, help_text="For shipping rates by weight."
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["is_active", "-created_at"], name="item_active_newest"),
            models.Index(fields=["is_active", "price_minor"], name="item_active_price"),
            # Category pages and "more from this category" walk it newest first and stop after a page.
            models.Index(fields=["category", "-created_at"], name="item_category_newest"),
            models.Index(fields=["seller", "is_active"], name="item_seller_active"),
            # SQLite compiles is_active=True to a bare `WHERE is_active`, which cannot use the composite indexes
            # above; these single-column ones serve each sort order (scanned backwards for descending ones).
            models.Index(fields=["created_at"], name="item_created"),
            models.Index(fields=["price_minor"], name="item_price"),
            models.Index(fields=["title"], name="item_title"),
        ]

    # Not a field: who is creating this item, named on its opening stock move (see `catalog.receivers`). Set before
    # the first save() by `catalog.services.create_item` and the admin; None for factories, the shell, fixtures.
    opening_actor = None
    # The category when read from the database: an item moved to another one must leave the old one's pages too.
    loaded_category_id = None

    def __str__(self) -> str:
        return self.title

    def save(self, *, force_insert=False, force_update=False, using=None, update_fields=None) -> None:
        """Saves the item; an existing row gets every column but `stock`, which moves only through the stock
        services (`catalog.services`), as a delta with a ledger entry.

        An object read earlier (an admin or API form, a shell session) carries the stock of that moment: writing it
        back would undo every reservation made since, and sell the same units twice.
        """
        if update_fields is None and not force_insert and not self._state.adding:
            deferred = self.get_deferred_fields()
            update_fields = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "stock" and field.attname not in deferred
            ]
        super().save(force_insert=force_insert, force_update=force_update, using=using, update_fields=update_fields)

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", kwargs={"slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.loaded_category_id = instance.__dict__.get("category_id")
        return instance

    @property
    def effective_tax_class(self) -> str:
        """Its own tax class, else its category's (load the category with the item)."""
        return self.tax_class or self.category.tax_class

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def is_low_stock(self) -> bool:
        return 0 < self.stock <= LOW_STOCK

    @property
    def stock_label(self) -> str:
        """What a shopper reads about availability: 'In stock', 'Only 3 left' or 'Out of stock'."""
        return stock_label(self.stock)


def stock_label(stock: int) -> str:
    """What a shopper reads about `stock` units: all that catalog pages show of it (cards, item pages, filters)."""
    if not stock:
        return "Out of stock"
    return f"Only {stock} left" if stock <= LOW_STOCK else "In stock"


class StockReason(models.TextChoices):
    OPENING = "opening", "opening stock"  # what an item starts with, or had when the ledger began
    ADJUSTMENT = "adjustment", "adjustment"  # a person set or changed stock in the admin or the API
    IMPORT = "import", "import"
    RESERVED = "reserved", "reserved by an order"
    RELEASED = "released", "released by an order"  # cancelled or expired: the order gave its units back
    RETURNED = "returned", "returned"  # a refund with restock
    REPAIR = "repair", "repair"  # the stock column was set to the ledger's sum (`manage.py check_stock --repair`)


class StockMove(models.Model):
    """One movement of an item's stock. The item's `stock` always equals the sum of its moves' deltas
    (`catalog.selectors.stock_mismatches` lists any item where it does not).

    Orders are named by their number: the catalog knows nothing of the orders app.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="stock_moves")
    delta = models.IntegerField(help_text="Units added (positive) or taken (negative).")
    reason = models.CharField(max_length=16, choices=StockReason.choices)
    order_number = models.CharField(max_length=16, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = SingleLineCharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["item", "created_at"], name="stockmove_item_created")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.get_reason_display()}"


class CatalogRevision(models.Model):
    """A counter that moves with every change a shopper could see (items, stock, prices, categories).

    Without a shared cache (`settings.CACHE_IS_SHARED` off) cached catalog pages are keyed by it and each request
    reads this one indexed row, so a change made through any server, the admin or a command is seen everywhere on the
    next request; with one, the version token in the cache, replaced at the same moments, serves instead.
    """

    name = models.CharField(max_length=20, unique=True, default="catalog")
    number = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} revision {self.number}"
