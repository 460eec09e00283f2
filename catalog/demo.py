"""Believable demo data: users with known logins and a catalog of any size, created idempotently."""

import random
from collections.abc import Callable
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image, ImageDraw

from accounts.models import User
from accounts.services import create_user, make_seller
from catalog.models import Category, Item, StockMove, StockReason, TaxClass
from catalog.services import catalog_changed
from shop.db import unit_of_work

DEMO_PASSWORD = "demo12345"
DEMO_USERS = {
    "admin": "admin@example.com",
    "seller": "seller@example.com",
    "seller2": "seller2@example.com",
    "shopper": "shopper@example.com",
}

# (parent, children); items go to the leaves.
CATEGORIES = [
    ("Kitchen", ["Cookware", "Tableware"]),
    ("Electronics", ["Audio", "Accessories"]),
    ("Books", []),
    ("Clothing", ["Outerwear", "Shoes"]),
    ("Garden", []),
    ("Toys & Games", []),
]

NOUNS = {
    "Cookware": ["Frying Pan", "Saucepan", "Dutch Oven", "Wok", "Stockpot", "Griddle"],
    "Tableware": ["Dinner Plate Set", "Pasta Bowl", "Mug", "Serving Platter", "Glass Tumbler", "Salad Bowl"],
    "Audio": ["Wireless Headphones", "Bluetooth Speaker", "Earbuds", "Turntable", "Soundbar", "Radio"],
    "Accessories": ["USB-C Cable", "Phone Stand", "Laptop Sleeve", "Power Bank", "Wireless Charger", "Webcam"],
    "Books": ["Cookbook", "Travel Guide", "Novel", "Field Guide", "Poetry Collection", "Atlas"],
    "Outerwear": ["Rain Jacket", "Wool Coat", "Fleece", "Down Vest", "Windbreaker", "Parka"],
    "Shoes": ["Trail Runners", "Leather Boots", "Canvas Sneakers", "Sandals", "Slippers", "Loafers"],
    "Garden": ["Watering Can", "Pruning Shears", "Planter", "Garden Gloves", "Hose Reel", "Bird Feeder"],
    "Toys & Games": ["Puzzle", "Board Game", "Building Blocks", "Kite", "Plush Bear", "Card Game"],
}
ADJECTIVES = [
    "Classic",
    "Compact",
    "Deluxe",
    "Everyday",
    "Handmade",
    "Lightweight",
    "Nordic",
    "Organic",
    "Premium",
    "Recycled",
    "Rustic",
    "Sturdy",
    "Vintage",
    "Bamboo",
    "Cast-Iron",
    "Ceramic",
    "Copper",
    "Linen",
    "Slate",
]
COLOURS = [
    (66, 99, 235),
    (230, 73, 128),
    (18, 184, 134),
    (250, 176, 5),
    (121, 80, 242),
    (253, 126, 20),
    (34, 139, 230),
    (64, 192, 87),
    (190, 75, 219),
    (250, 82, 82),
    (21, 170, 191),
    (92, 124, 250),
]
IMAGE_VARIANTS = 6  # images per leaf category, shared by its items so a big catalog stays cheap

Progress = Callable[[str], None]


def _image_bytes(label: str, colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (480, 360), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, 456, 336), outline=(255, 255, 255), width=4)
    draw.text((48, 160), label[:40], fill=(255, 255, 255), font_size=28)
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _demo_image(leaf: str, variant: int, noun: str) -> str:
    """The storage name of a generated picture; written once, reused afterwards."""
    name = f"items/demo/{slugify(leaf)}-{variant}.png"
    if not default_storage.exists(name):
        colour = COLOURS[(sum(map(ord, leaf)) + variant) % len(COLOURS)]
        default_storage.save(name, ContentFile(_image_bytes(leaf, colour)))
    return name


def ensure_demo_users() -> dict[str, User]:
    """The four demo accounts exist with the demo password and their roles."""
    users = {}
    admin = User.objects.filter(email=DEMO_USERS["admin"]).first() or create_user(
        email=DEMO_USERS["admin"], password=DEMO_PASSWORD
    )
    admin.is_staff = admin.is_superuser = True
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    users["admin"] = admin
    for key in ("seller", "seller2"):
        users[key], _ = make_seller(email=DEMO_USERS[key], password=DEMO_PASSWORD)
    shopper = User.objects.filter(email=DEMO_USERS["shopper"]).first() or create_user(
        email=DEMO_USERS["shopper"], password=DEMO_PASSWORD
    )
    shopper.set_password(DEMO_PASSWORD)
    shopper.save()
    users["shopper"] = shopper
    return users


# Books are sold at the reduced VAT rate in most of the EU.
REDUCED_RATE_CATEGORIES = {"Books": TaxClass.REDUCED}


def ensure_demo_categories() -> list[Category]:
    """The demo categories exist; returns the leaves, where items go."""
    leaves = []
    for parent_name, children in CATEGORIES:
        defaults = {"name": parent_name, "tax_class": REDUCED_RATE_CATEGORIES.get(parent_name, TaxClass.STANDARD)}
        parent, _ = Category.objects.get_or_create(slug=slugify(parent_name), defaults=defaults)
        if not children:
            leaves.append(parent)
        for child in children:
            leaf, _ = Category.objects.get_or_create(slug=slugify(child), defaults={"name": child, "parent": parent})
            leaves.append(leaf)
    return leaves


def _demo_item(number: int, leaf: Category, sellers: list[User], rng: random.Random) -> Item:
    noun = rng.choice(NOUNS.get(leaf.name, ["Thing"]))
    title = f"{rng.choice(ADJECTIVES)} {noun}"
    sku = f"DEMO-{number:06d}"
    return Item(
        sku=sku,
        title=title,
        slug=f"{slugify(title)}-{number}",
        description=(
            f"{title}, from our {leaf.name.lower()} range: made to last, easy to care for, "
            f"and chosen by our buyers for everyday use."
        ),
        price_minor=rng.choice([499, 799, 999, 1250, 1499, 1999, 2499, 2999, 3999, 4999, 7999, 12900]),
        stock=rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 35, 50, 100]),
        category=leaf,
        seller=sellers[number % len(sellers)],
        image=_demo_image(leaf.name, number % IMAGE_VARIANTS, noun),
        is_active=number % 29 != 0,
    )


@unit_of_work
def _create_items(items: list[Item]) -> None:
    """Stores the items with their opening stock moves, all or none, and has cached pages show them once they commit
    (bulk_create sends no signals; each batch, so that a run stopped halfway leaves no stored item unseen)."""
    for item in items:
        item.pk = None  # a retried unit inserts afresh
    Item.objects.bulk_create(items)
    StockMove.objects.bulk_create(
        StockMove(item_id=item.pk, delta=item.stock, reason=StockReason.OPENING, note="demo data")
        for item in items
        if item.stock
    )
    catalog_changed(everything=True, stock=True)


def load_demo(*, items: int = 60, progress: Progress = lambda message: None, batch_size: int = 1000) -> dict:
    """Creates whatever demo data is missing; running it twice changes nothing the second time.

    Items are numbered DEMO-000001..N and matched on their SKU, so `items` may grow between runs.
    """
    progress("Users...")
    users = ensure_demo_users()
    progress("Categories...")
    leaves = ensure_demo_categories()
    sellers = [users["seller"], users["seller2"]]
    existing = set(Item.objects.filter(sku__startswith="DEMO-").values_list("sku", flat=True))
    rng = random.Random(2026)
    created = 0
    batch: list[Item] = []
    for number in range(1, items + 1):
        # Draw for every number, created or not, so each SKU always gets the same title and price.
        item = _demo_item(number, leaves[number % len(leaves)], sellers, rng)
        if item.sku in existing:
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            _create_items(batch)
            created += len(batch)
            batch = []
            progress(f"Items: {created} created ({number}/{items})")
    if batch:
        _create_items(batch)
        created += len(batch)
    progress(f"Items: {created} created, {items - created} already there.")
    return {"users": users, "items_created": created}
