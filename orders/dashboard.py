"""The admin dashboard: the last 30 days' sales as a bar chart drawn on the server (an inline SVG, no script), orders
per status, revenue, best sellers and low-stock items. Staff with `orders.view_order` see the whole shop; a seller sees
the same figures over their own order lines and items only.

Mounted at /admin/dashboard/ by one line in shop/urls.py, before the admin's own URLs (whose catch-all would answer
404 first): ``path("admin/dashboard/", include("orders.dashboard")),``
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils import timezone
from django.views.generic import TemplateView

from catalog.selectors import low_stock_items
from orders.admin import is_scoped_seller
from orders.models import OrderStatus
from orders.selectors import DaySales, best_sellers, orders_per_status, revenue, sales_by_day
from shop.money import currency_places, format_money

DAYS = 30
LOW_STOCK_BELOW = 5
BEST_SELLERS = 10

# The chart's drawing box, in SVG user units; the browser scales it to the page width (viewBox).
CHART_WIDTH = 900
CHART_HEIGHT = 260
PLOT_LEFT = 80  # room for the money labels of the axis
PLOT_TOP = 12
PLOT_BOTTOM = 30  # room for the day labels
GRID_LINES = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    day_label: str  # shown under every few bars; empty otherwise
    tooltip: str


@dataclass(frozen=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_label_x: int
    baseline: float
    label_y: float
    bars: list[Bar]
    grid: list[GridLine]
    description: str


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (at least 1): round axis labels."""
    magnitude = 1
    while True:
        for step in (1, 2, 2.5, 5):
            if step * magnitude >= value:
                return int(step * magnitude)
        magnitude *= 10


def sales_chart(days: list[DaySales], *, currency: str | None = None) -> Chart:
    """The geometry of the bar chart of `days` (one bar per day, left to right), computed here so the template only
    places it."""
    plot_right = CHART_WIDTH - 10
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    baseline = PLOT_TOP + plot_height
    # At least 10 major units, so that an empty month still has a readable axis.
    floor = 10 * 10 ** currency_places(currency)
    top = _nice_ceiling(max([floor, *(day.revenue_minor for day in days)]))
    slot = (plot_right - PLOT_LEFT) / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = plot_height * day.revenue_minor / top
        x = PLOT_LEFT + index * slot
        label_every = 5 if len(days) > 10 else 1
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 1),
                y=round(baseline - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label_x=round(x + slot / 2, 1),
                day_label=day.day.strftime("%d %b") if (len(days) - 1 - index) % label_every == 0 else "",
                tooltip=f"{day.day:%a %d %b}: {format_money(day.revenue_minor, currency)}, "
                f"{day.orders} order{'s' if day.orders != 1 else ''}",
            )
        )
    grid = [
        GridLine(
            y=round(baseline - plot_height * step / GRID_LINES, 1),
            label=format_money(top * step // GRID_LINES, currency),
        )
        for step in range(GRID_LINES + 1)
    ]
    total = sum(day.revenue_minor for day in days)
    description = (
        f"Sales per day from {days[0].day:%d %b} to {days[-1].day:%d %b}: {format_money(total, currency)} in all."
        if days
        else "No days."
    )
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=plot_right,
        axis_label_x=PLOT_LEFT - 8,
        baseline=baseline,
        label_y=baseline + 18,
        bars=bars,
        grid=grid,
        description=description,
    )


def window(*, today: date | None = None) -> tuple[date, date]:
    """The dashboard's days: the last DAYS days up to today, inclusive."""
    until = today or timezone.localdate()
    return until - timedelta(days=DAYS - 1), until


class DashboardView(TemplateView):
    """Staff (with `orders.view_order`) see the shop; sellers their own share; other staff are refused (403)."""

    template_name = "admin/dashboard.html"

    def dispatch(self, request, *args, **kwargs):
        if not (is_scoped_seller(request.user) or request.user.has_perm("orders.view_order")):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        seller = self.request.user if is_scoped_seller(self.request.user) else None
        since, until = window()
        days = sales_by_day(since=since, until=until, seller=seller)
        per_status = orders_per_status(seller=seller)
        return {
            **super().get_context_data(**kwargs),
            **admin.site.each_context(self.request),
            "title": "Your sales" if seller else "Shop dashboard",
            "seller": seller,
            "days": DAYS,
            "since": since,
            "until": until,
            "chart": sales_chart(days),
            "revenue": revenue(since=since, until=until, seller=seller),
            "per_status": [(OrderStatus(status).label, count) for status, count in per_status.items()],
            "best_sellers": best_sellers(since=since, until=until, seller=seller, limit=BEST_SELLERS),
            "low_stock": low_stock_items(below=LOW_STOCK_BELOW, seller=seller),
            "low_stock_below": LOW_STOCK_BELOW,
        }


app_name = "dashboard"
urlpatterns = [path("", admin.site.admin_view(DashboardView.as_view()), name="index")]
