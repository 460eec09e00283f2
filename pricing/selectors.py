"""The one price calculation of the shop: a cart's lines, a destination, a shipping method and a discount code in; a
`Breakdown` out. The cart page, checkout, the placed order (which stores it), emails, the API, the admin and the
payment gateways all show this breakdown; nothing else computes money.

Rounding, once per amount, half-up, in exact integer arithmetic (`shop.money.fraction_of`):
- a line's total is its unit price x quantity (exact);
- a percentage code takes that percentage of each eligible line's total, rounded per line (10% of a 1-cent line is
  0; of ten 1-cent units on one line, 1); a fixed amount is split over the eligible lines in proportion to their
  totals, exactly (`shop.money.allocate`);
- each line's VAT is computed on what the shopper pays for it (total - discount), rounded per line: with prices that
  include VAT it is the part inside (19% of a 5-cent line: 5 x 19/119 = 0.8 -> 1 cent), else it is added on top
  (5 x 19% = 0.95 -> 1 cent); shipping is taxed the same way, at `SHOP_SHIPPING_TAX_CLASS`;
- the order's amounts are the sums of the rounded line amounts, so lines always add up to the totals.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models import Category, TaxClass
from pricing.exceptions import DiscountRefused, ShippingUnavailable
from pricing.models import (
    DiscountCode,
    DiscountKind,
    DiscountRedemption,
    ShippingMethod,
    ShippingZone,
    TaxRate,
    WeightTier,
)
from shop.fragments import version_token
from shop.moments import iso_moment
from shop.money import allocate, format_money, fraction_of


@dataclass(frozen=True)
class PricedLine:
    item: object
    quantity: int
    unit_price_minor: int
    total_minor: int  # unit price x quantity, as on the shelf
    discount_minor: int
    tax_rate_bp: int
    tax_minor: int

    @property
    def amount_minor(self) -> int:
        """What the shopper pays for the line: after its discount share, with VAT."""
        return self.total_minor - self.discount_minor + (0 if settings.SHOP_PRICES_INCLUDE_TAX else self.tax_minor)


@dataclass(frozen=True)
class ShippingOption:
    id: str
    name: str
    price_minor: int  # what this cart pays: 0 over the free threshold
    list_price_minor: int  # before the free threshold
    free_over_minor: int | None
    estimate: str


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[PricedLine, ...]
    country: str
    prices_include_tax: bool
    subtotal_minor: int
    discount_code: str
    discount_minor: int
    shipping: ShippingOption | None
    shipping_minor: int
    shipping_tax_rate_bp: int
    shipping_tax_minor: int
    tax_minor: int
    total_minor: int
    taxes: tuple[tuple[int, int], ...] = field(default=())  # (rate in basis points, VAT), highest rate first

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def currency(self) -> str:
        return settings.SHOP_CURRENCY

    @property
    def shipping_method(self) -> str:
        """The method's name, as an order stores it (templates show either)."""
        return self.shipping.name if self.shipping else ""


PRICING_VERSION_KEY = "pricing:version"


def pricing_version() -> str | None:
    """A token that every change to rates, shipping or codes replaces (`pricing.receivers`): cached cart pages are
    keyed by it. None without a shared cache (nothing is cached then)."""
    return version_token(PRICING_VERSION_KEY) if settings.CACHE_IS_SHARED else None


def pricing_terms() -> str:
    """What a checkout's prices depend on besides the cart and the shopper's choices: VAT rates, shipping zones,
    methods and weight tiers, discount codes. Equal terms, equal prices for equal choices. The prices' version where
    the cache is shared (no query; it moves with every change of these, codes included); else a digest of the rates
    and shipping rows (four queries; a code is checked strictly when the order is placed anyway)."""
    version = pricing_version()
    if version is not None:
        return version
    rows = [
        list(model.objects.order_by("pk").values_list())
        for model in (TaxRate, ShippingZone, ShippingMethod, WeightTier)
    ]
    return "d" + hashlib.blake2b(repr(rows).encode(), digest_size=12).hexdigest()


def shop_country() -> str:
    return settings.SHOP_COUNTRY


# Rates and shipping methods, kept per process under the prices' version (`pricing_version`): every checkout prices
# the cart several times, and these rows change rarely. Without a shared cache there is no version: read each time.
_MEMO: dict = {}
_MEMO_SIZE = 512


def _memo(name: str, load):
    version = pricing_version()
    if version is None:
        return load()
    key = (name, version)
    if key not in _MEMO:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = load()
    return _MEMO[key]


def tax_rates(*, country: str) -> dict[str, int]:
    """The country's rate per tax class, in basis points (zero for a class it has no rate for)."""
    country = country.upper()

    def load() -> dict[str, int]:
        rates = dict(TaxRate.objects.filter(country=country).values_list("tax_class", "rate_bp"))
        rates[TaxClass.ZERO] = 0
        return rates

    return dict(_memo(f"rates:{country}", load))


def _active_methods() -> list[tuple[ShippingMethod, list[str], list[WeightTier]]]:
    """Every active method with its zone's countries and its weight tiers (lightest first). Two queries."""

    def load():
        methods = list(ShippingMethod.objects.filter(is_active=True).select_related("zone"))
        tiers_of: dict = {}
        for tier in WeightTier.objects.filter(method__in=[method.pk for method in methods]) if methods else ():
            tiers_of.setdefault(tier.method_id, []).append(tier)
        return [(method, method.zone.country_list, tiers_of.get(method.pk, [])) for method in methods]

    return _memo("methods", load)


def shipping_options(*, country: str, weight_grams: int = 0, goods_minor: int = 0) -> list[ShippingOption]:
    """The active methods that serve `country` for a parcel of this weight, cheapest first, priced for goods worth
    `goods_minor` (after discount; a method is free from its threshold on)."""
    country = country.upper()
    options = []
    for method, countries, tiers in _active_methods():
        if country not in countries:
            continue
        price = method.price_minor
        if tiers:
            fitting = [tier for tier in tiers if weight_grams <= tier.up_to_grams]
            if not fitting:
                continue
            price = fitting[0].price_minor
        is_free = method.free_over_minor is not None and goods_minor >= method.free_over_minor
        options.append(
            ShippingOption(
                id=str(method.pk),
                name=method.name,
                price_minor=0 if is_free else price,
                list_price_minor=price,
                free_over_minor=method.free_over_minor,
                estimate=method.estimate,
            )
        )
    return sorted(options, key=lambda option: (option.price_minor, option.name))


def shipping_method_choices() -> list[tuple[str, str]]:
    """Every active method as a form choice, named with its zone, price and estimate: ("", "Cheapest available")
    first. One query."""
    choices = [("", "The cheapest that delivers there")]
    for method in (
        ShippingMethod.objects.filter(is_active=True).select_related("zone").order_by("zone__name", "position")
    ):
        details = ", ".join(part for part in (format_money(method.price_minor), method.estimate) if part)
        choices.append((str(method.pk), f"{method.zone.name}: {method.name} ({details})"))
    return choices


def find_code(*, text: str) -> DiscountCode | None:
    text = (text or "").strip().upper()
    if not text or len(text) > 40:
        return None
    return DiscountCode.objects.filter(code=text).first()


def check_code(*, code: DiscountCode, subtotal_minor: int, eligible_minor: int, email: str = "") -> None:
    """Raises DiscountRefused when `code` cannot be used now on goods worth `subtotal_minor` of which
    `eligible_minor` qualify, by the customer `email` (empty: not known yet). The limits are checked again, by
    conditional updates, when the order is placed (`pricing.services.redeem_code`)."""
    now = timezone.now()
    if not code.is_active or (code.ends_at and now >= code.ends_at):
        _refuse(code, "expired", f"The code {code.code} has expired.")
    if code.starts_at and now < code.starts_at:
        _refuse(code, "not_started", f"The code {code.code} cannot be used yet.")
    if code.usage_limit is not None and code.used_count >= code.usage_limit:
        _refuse(code, "used_up", f"The code {code.code} has been used up.")
    if code.per_customer_limit is not None and email:
        used = DiscountRedemption.objects.filter(code=code, email=email.lower(), released_at__isnull=True).count()
        if used >= code.per_customer_limit:
            _refuse(code, "used_by_you", f"You have already used the code {code.code}.")
    if subtotal_minor < code.min_subtotal_minor:
        minimum = format_money(code.min_subtotal_minor)
        _refuse(code, "below_minimum", f"The code {code.code} needs goods worth at least {minimum}.")
    if not eligible_minor:  # (a free-shipping code limited to categories too: none of them in the cart)
        _refuse(code, "not_for_these_items", f"The code {code.code} is not for the items in your cart.")


def _refuse(code: DiscountCode, reason: str, message: str) -> None:
    raise DiscountRefused(message, reason=reason, discount_code=code.code)


def _eligibility(code: DiscountCode | None):
    """Which items the code takes off from: none without a code, every item unless it names categories."""
    if code is None:
        return lambda item: False
    category_ids = set(code.categories.values_list("pk", flat=True))
    return lambda item: not category_ids or item.category_id in category_ids or item.category.parent_id in category_ids


def price(
    *,
    lines: Iterable,
    country: str | None = None,
    shipping_method_id: str | None = None,
    code: str = "",
    email: str = "",
    need_shipping: bool = False,
) -> Breakdown:
    """The breakdown of `lines` (objects with `item` and `quantity`; items with their category loaded) shipped to
    `country` (the shop's own when not known yet) by the chosen method (the cheapest serving the country when none
    is chosen; none at all when nothing serves it, unless `need_shipping` and the shop has shipping methods), with
    the discount `code`.

    Raises: DiscountRefused (unknown or unusable code), ShippingUnavailable (the chosen method does not serve the
    country or the parcel; with `need_shipping`, nothing does).
    """
    lines = [line for line in lines if line.quantity > 0]
    country = (country or shop_country()).upper()
    include_tax = settings.SHOP_PRICES_INCLUDE_TAX
    rates = tax_rates(country=country)

    discount = None
    if code:
        discount = find_code(text=code)
        if discount is None:
            raise DiscountRefused(f"There is no discount code {code.strip().upper()[:40]}.", reason="unknown")
    totals = [line.item.price_minor * line.quantity for line in lines]
    subtotal = sum(totals)
    is_eligible = _eligibility(discount)
    eligible = [is_eligible(line.item) for line in lines]
    eligible_totals = [total if ok else 0 for total, ok in zip(totals, eligible, strict=True)]
    shares = [0] * len(lines)
    if discount is not None:
        check_code(code=discount, subtotal_minor=subtotal, eligible_minor=sum(eligible_totals), email=email)
        if discount.kind == DiscountKind.PERCENT:
            shares = [fraction_of(total, discount.value, 100) for total in eligible_totals]
        elif discount.kind == DiscountKind.FIXED:
            shares = allocate(min(discount.value, sum(eligible_totals)), eligible_totals)

    def tax_on(amount: int, rate_bp: int) -> int:
        return fraction_of(amount, rate_bp, 10000 + rate_bp) if include_tax else fraction_of(amount, rate_bp, 10000)

    priced = []
    for line, total, share in zip(lines, totals, shares, strict=True):
        rate = rates.get(line.item.effective_tax_class, 0)
        priced.append(
            PricedLine(
                item=line.item,
                quantity=line.quantity,
                unit_price_minor=line.item.price_minor,
                total_minor=total,
                discount_minor=share,
                tax_rate_bp=rate,
                tax_minor=tax_on(total - share, rate),
            )
        )
    discount_minor = sum(shares)

    weight = sum(line.item.weight_grams * line.quantity for line in lines)
    goods = subtotal - discount_minor
    options = shipping_options(country=country, weight_grams=weight, goods_minor=goods) if lines else []
    shipping = None
    if shipping_method_id:
        shipping = next((option for option in options if option.id == str(shipping_method_id)), None)
        if shipping is None:
            raise ShippingUnavailable(
                "This shipping method does not deliver this cart there. Choose another one.", country=country
            )
    elif options:
        shipping = options[0]
    elif need_shipping and lines and _active_methods():
        # (A shop with no shipping methods at all charges none: it has not set shipping up.)
        raise ShippingUnavailable("Sorry, we cannot ship this cart to that country.", country=country)
    free_shipping = discount is not None and discount.kind == DiscountKind.FREE_SHIPPING
    shipping_minor = 0 if shipping is None or free_shipping else shipping.price_minor
    shipping_rate = rates.get(settings.SHOP_SHIPPING_TAX_CLASS, 0)
    shipping_tax = tax_on(shipping_minor, shipping_rate)

    by_rate: dict[int, int] = {}
    for line in priced:
        by_rate[line.tax_rate_bp] = by_rate.get(line.tax_rate_bp, 0) + line.tax_minor
    if shipping_minor:
        by_rate[shipping_rate] = by_rate.get(shipping_rate, 0) + shipping_tax
    tax = sum(by_rate.values())
    total = subtotal - discount_minor + shipping_minor + (0 if include_tax else tax)
    return Breakdown(
        lines=tuple(priced),
        country=country,
        prices_include_tax=include_tax,
        subtotal_minor=subtotal,
        discount_code=discount.code if discount else "",
        discount_minor=discount_minor,
        shipping=shipping,
        shipping_minor=shipping_minor,
        shipping_tax_rate_bp=shipping_rate,
        shipping_tax_minor=shipping_tax,
        tax_minor=tax,
        total_minor=total,
        taxes=tuple(sorted(((rate, amount) for rate, amount in by_rate.items() if amount), reverse=True)),
    )


def discount_code_by_id(*, code_id: object) -> DiscountCode | None:
    """A code by primary key; None for an unknown or malformed id."""
    try:
        return DiscountCode.objects.filter(pk=code_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def category_slugs_of(*, codes: list[DiscountCode]) -> dict[str, list[str]]:
    """{code id: sorted slugs of the categories it is limited to}, in two queries (no prefetch_related on MongoDB)."""
    if not codes:
        return {}
    links = DiscountCode.categories.through.objects.filter(discountcode_id__in=[code.pk for code in codes])
    rows = list(links.values_list("discountcode_id", "category_id"))
    if not rows:
        return {}
    slug_of = dict(Category.objects.filter(pk__in={row[1] for row in rows}).values_list("pk", "slug"))
    slugs: dict[str, list[str]] = {}
    for code_id, category_id in rows:
        slugs.setdefault(str(code_id), []).append(slug_of[category_id])
    return {code_id: sorted(found) for code_id, found in slugs.items()}


def redemptions_under(*, emails: list[str]):
    """The uses of codes under these addresses: a redemption keeps the customer's address, lower-case
    (`pricing.services.redeem_code`), so that per-customer limits can count it."""
    return DiscountRedemption.objects.filter(email__in=[email.lower() for email in emails])


def personal_redemptions(*, emails: list[str]) -> list[dict]:
    """The discount codes used under these addresses (the person's, verified), oldest first, JSON-ready for the GDPR
    export."""
    redemptions = redemptions_under(emails=emails).select_related("code").order_by("created_at")
    return [
        {
            "code": redemption.code.code,
            "order_number": redemption.order_number,
            "used_at": iso_moment(redemption.created_at),
            "given_back_at": iso_moment(redemption.released_at),
        }
        for redemption in redemptions
    ]
