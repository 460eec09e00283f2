"""Checkout benchmark (issue 5): orders placed per second through the HTML flow with the demo gateway.

    .venv/bin/python bench/checkout.py [--backend sqlite|mongo] [--duration 15] [--buyers 4] [--connections 32]

Serves a scratch shop with gunicorn (2 workers, production settings; see harness.py), measures the baseline view
`/health/live/` with wrk, then lets BUYERS signed-in shoppers (client threads, one keep-alive connection each) loop over
the whole flow a browser makes for one order: add to cart (POST), checkout page (GET), place order (POST, answered with
a 307), payment start (the same POST again, as a browser follows a 307), demo payment page (GET), Pay (POST), success
page (GET) = 7 requests. Prints orders/s, the flow's requests/s, latency per order and the ratio of requests/s to the
baseline's; checks afterwards that every order of its buyers (not the demo's past ones) is paid and that stock went
down by exactly the units they ordered.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import run_wrk, scratch_site

FIELD = re.compile(r'name="(csrfmiddlewaretoken|checkout_token|cart_fingerprint)" value="([^"]+)"')
STOCK = 1_000_000
ADDRESS = {"name": "Bench Buyer", "line1": "1 Load Street", "postal_code": "10115", "city": "Berlin", "country": "DE"}


class Browser:
    """One shopper: a keep-alive connection and a cookie jar (the site sets Secure cookies; we send them on http)."""

    def __init__(self, base: str, cookie: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.cookies = dict(pair.split("=", 1) for pair in cookie.split("; "))

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": "127.0.0.1"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        location = response.getheader("Location") or ""
        return (
            response.status,
            text,
            urlsplit(location).path + (f"?{urlsplit(location).query}" if "?" in location else ""),
        )

    def fields(self, html: str) -> dict[str, str]:
        return dict(FIELD.findall(html))

    def buy(self, item_id: str) -> None:
        """One order, start to finish; raises on anything unexpected."""
        if "csrftoken" not in self.cookies:
            self.request("GET", "/cart/")  # any page with a form sets the CSRF cookie
        token = self.cookies["csrftoken"]
        status, _, _ = self.request(
            "POST", "/cart/add/", {"csrfmiddlewaretoken": token, "item": item_id, "quantity": 1}
        )
        assert status == 302, f"add to cart: {status}"
        status, html, _ = self.request("GET", "/checkout/")
        assert status == 200, f"checkout page: {status}"
        form = {**ADDRESS, **self.fields(html)}
        status, _, pay = self.request("POST", "/checkout/", form)
        assert status == 307 and "/pay/" in pay, f"place order: {status} {pay}"
        status, _, demo = self.request("POST", pay, form)  # a browser repeats the POST on a 307
        assert status == 302 and "/payments/demo/" in demo, f"start payment: {status} {demo}"
        status, html, _ = self.request("GET", demo)
        assert status == 200, f"demo page: {status}"
        status, _, success = self.request(
            "POST", demo, {"csrfmiddlewaretoken": self.fields(html)["csrfmiddlewaretoken"]}
        )
        assert status == 302 and "session_id=" in success, f"pay: {status} {success}"
        status, html, _ = self.request("GET", success)
        assert status == 200 and "is paid" in html, f"success page: {status}"


def _prepare(site, buyers: int) -> tuple[list[str], list[str]]:
    data = json.loads(
        site.python(
            f"""
            import json
            from importlib import import_module
            from django.conf import settings
            from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
            from accounts.services import create_user
            from catalog.models import Item
            items = list(Item.objects.filter(is_active=True).order_by("sku")[:{buyers}])
            Item.objects.filter(pk__in=[i.pk for i in items]).update(stock={STOCK})
            cookies = []
            for n in range({buyers}):
                user = create_user(email=f"bench{{n}}@example.com", password=None)
                store = import_module(settings.SESSION_ENGINE).SessionStore()
                store[SESSION_KEY] = str(user.pk)
                store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
                store[HASH_SESSION_KEY] = user.get_session_auth_hash()
                store.save()
                cookies.append("sessionid=" + store.session_key)
            print(json.dumps({{"items": [str(i.pk) for i in items], "cookies": cookies}}))
            """
        ).splitlines()[-1]
    )
    return data["items"], data["cookies"]


def _load(site, items: list[str], cookies: list[str], duration: float) -> tuple[int, float, list[float], list[str]]:
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def shopper(item_id: str, cookie: str) -> None:
        browser = Browser(site.url, cookie)
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                browser.buy(item_id)
            except Exception as exc:
                with lock:
                    errors.append(repr(exc))
                browser = Browser(site.url, cookie)
                continue
            with lock:
                latencies.append(time.monotonic() - started)

    threads = [threading.Thread(target=shopper, args=pair) for pair in zip(items, cookies, strict=True)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)
    return len(latencies), time.monotonic() - started, latencies, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--duration", type=float, default=15, help="seconds of load per phase (default 15)")
    parser.add_argument("--buyers", type=int, default=4, help="concurrent shoppers (default 4)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for the baseline")
    args = parser.parse_args(argv)

    print(f"Preparing a scratch shop on {args.backend} ...", flush=True)
    with scratch_site(backend=args.backend, prepare=["load_demo", "--items", "100", "--force"]) as site:
        items, cookies = _prepare(site, args.buyers)
        print(f"Warming up the flow ({args.buyers} buyers, 3 s) ...", flush=True)
        warm, _, _, warm_errors = _load(site, items, cookies, 3)
        if warm_errors and not warm:
            print(f"bench: the flow fails: {warm_errors[0]}", file=sys.stderr)
            return 1
        base = run_wrk(site.url, ["/health/live/"], duration=args.duration, connections=args.connections)
        print(f"baseline /health/live/: {base.rps:8.1f} req/s  p50 {base.p50_ms:.1f} ms  p99 {base.p99_ms:.1f} ms")
        orders, seconds, latencies, errors = _load(site, items, cookies, args.duration)
        latencies.sort()
        rate = orders / seconds
        p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
        p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0
        print(
            f"checkout flow:     {rate:8.1f} orders/s = {rate * 7:.1f} req/s (7 per order)  "
            f"per order p50 {p50:.0f} ms  p99 {p99:.0f} ms  errors {len(errors)}"
        )
        print(
            f"ratio: orders/s to baseline req/s {rate / base.rps:.4f}; flow req/s to baseline {rate * 7 / base.rps:.3f}"
        )
        check = json.loads(
            site.python(
                f"""
                import json
                from catalog.models import Item
                from orders.models import Order, OrderLine
                ours = Order.objects.filter(email__startswith="bench", email__endswith="@example.com")  # not the demo's
                paid = ours.filter(status="paid").count()
                other = ours.exclude(status="paid").count()
                units = sum(OrderLine.objects.filter(order__in=ours).values_list("quantity", flat=True))
                left = sum(Item.objects.filter(pk__in={items!r}).values_list("stock", flat=True))
                taken = {STOCK * len(items)} - left
                print(json.dumps({{"paid": paid, "other": other, "units": units, "taken": taken}}))
                """
            ).splitlines()[-1]
        )
        print(f"check: {check['paid']} orders paid, {check['other']} not paid; units ordered {check['units']}, "
              f"stock taken {check['taken']}")  # fmt: skip
        for error in errors[:5]:
            print("  error:", error)
        ok = not errors and check["other"] == 0 and check["units"] == check["taken"]
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
