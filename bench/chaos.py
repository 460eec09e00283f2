"""Chaos run: kill gunicorn workers while buyers order and cancel and the seller edits, then check the stock.

    .venv/bin/python bench/chaos.py [--backend sqlite|mongo] [--duration 25] [--kill-every 2.5] [--buyers 8]
                                    [--items 6] [--stock 40]

Reproduces the issue "killing one gunicorn worker every 2.5 s for 25 s while 8 buyers order and cancel through the
API and the seller edits titles and prices of the same items: on SQLite 7 units lost and 12 sold twice".

Serves a scratch shop with gunicorn (2 workers, production settings, demo gateway; see harness.py) holding ITEMS
items of STOCK units of one seller and BUYERS buyers, all made with the shop's own services before gunicorn starts.
Then, for DURATION seconds, over the JSON API only:

- each buyer (a thread) logs in once (JWT) and loops: add 1-3 random items to the cart (`POST /api/carts/<id>/add`),
  place an order (`POST /api/orders`): 40% of the time with an Idempotency-Key (a failed request is retried once with
  the same key), 20% as the same request sent twice at once without a key (a double submit), else once without a
  key; then cancel the order (`DELETE /api/orders/<id>`, half of the orders), pay it through the demo gateway
  (`POST /api/orders/<id>/pay` and the gateway's Pay button, one in ten, while paid orders hold less than a third of
  all units, as they never give stock back) or leave it pending. An order refused with 409 (out of stock, cart
  problems) or a failed one empties the cart, and a 409 cancels two of the buyer's pending orders to free stock;
- the seller (a thread) PATCHes `/api/items/<id>` with a new title and price (never the stock);
- the killer (a thread) sends SIGKILL to one gunicorn worker every KILL_EVERY seconds; the master starts a new one.

Connection errors and 5xx answers are counted, not fatal. After the load stops and the server settles, direct reads
of the scratch database check, per item: initial stock == current stock + units on the lines of orders that hold
stock (pending payment, paid, shipped, delivered; refunded too, since a refund does not restock). Units missing from
both are "lost", units beyond what ever existed are "doubled". An order without lines, or whose lines do not add up to
its total, is "half-made". `manage.py check_stock` (the stock ledger's check) runs too when the shop has it.

Two more faults from the same issue can be added to the run:

- `--break-cache SECONDS`: that long into the run, overwrite the disk cache's database files with garbage (the shop
  must keep answering from the database, and lose no unit);
- `--smtp hang|down`: the worker sends the order confirmations through a mail server that accepts connections and
  never answers (`hang`), or through a closed port (`down`); payments must go on with no 5xx, the emails waiting in
  the outbox.

Exit status: 0 when no unit was lost or doubled, no order is half-made, the shop answered no 5xx and
`check_stock` agrees; 1 otherwise; 2 when the run placed no order at all (nothing was tested). A 503 "busy" (a write
that kept conflicting for 10 s, changed nothing, and may be sent again) is counted apart, not as a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PYTHON, ROOT, Site, scratch_site

PASSWORD = "Chaos-run-pass-7431"
SELLER = "chaos-seller@example.com"
BUYER = "chaos-buyer{n}@example.com"
HOLDING = ["pending_payment", "paid", "shipped", "delivered", "refunded"]  # lines keep their units (no restock here)
CANCEL_SHARE, PAY_SHARE = 0.5, 0.1  # of the orders placed; the rest stay pending
PAID_UNITS_CAP = 1 / 3  # of all units: paid orders never give stock back, so past this the buyers stop paying
KEYED_SHARE, DOUBLE_SHARE = 0.4, 0.2  # of the order requests
SELLER_PAUSE = 0.05  # seconds between two item edits
SETTLE = 1.5  # seconds between the end of the load and the checks
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# Run by `manage.py shell -c` before gunicorn starts (the harness's `prepare` step).
SEED_VARIABLE = "CHAOS_SEED_CODE"
SEED = """
from accounts.services import create_user, make_seller
from catalog import services
from catalog.models import Category, Item

seller, _ = make_seller(email={seller!r}, password={password!r})
category, _ = Category.objects.get_or_create(slug="chaos", defaults={{"name": "Chaos"}})
for n in range({items}):
    fields = dict(category=category, title=f"Chaos item {{n}}", price_minor=1000 + 100 * n, stock={stock},
                  sku=f"CHAOS-{{n}}")
    if hasattr(services, "create_item"):
        services.create_item(actor=seller, **fields)
    else:
        Item.objects.create(seller=seller, slug=f"chaos-item-{{n}}", **fields)
for n in range({buyers}):
    create_user(email={buyer!r}.format(n=n), password={password!r})
print(f"seeded {items} items x {stock} units, 1 seller, {buyers} buyers")
"""

ITEMS = """
import json
from catalog.models import Item
items = Item.objects.filter(sku__startswith="CHAOS-").order_by("sku")
print(json.dumps([{"id": str(i.pk), "title": i.title, "stock": i.stock} for i in items]))
"""

CHECK = """
import json
from collections import Counter
from catalog.models import Item
from orders.models import Order, OrderLine

ids = {ids!r}
holding = set(str(pk) for pk in Order.objects.filter(status__in={holding!r}).values_list("pk", flat=True))
held = Counter()
lines = Counter()
line_totals = Counter()
for order_id, item_id, quantity, line_total in OrderLine.objects.values_list(
    "order_id", "item_id", "quantity", "line_total_minor"
):
    lines[str(order_id)] += 1
    line_totals[str(order_id)] += line_total
    if str(order_id) in holding and item_id is not None:
        held[str(item_id)] += quantity
orders = list(Order.objects.values_list("pk", "number", "status", "total_minor"))
print(json.dumps({{
    "stock": {{str(pk): stock for pk, stock in Item.objects.filter(pk__in=ids).values_list("pk", "stock")}},
    "held": held,
    "statuses": Counter(status for _, _, status, _ in orders),
    "no_lines": [number for pk, number, _, _ in orders if not lines[str(pk)]],
    "short": [number for pk, number, _, total in orders if lines[str(pk)] and line_totals[str(pk)] != total],
}}))
"""


class Stats:
    """Thread-safe counters, and connection errors and 5xx answers per request kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n

    def failed(self, what: str, label: str) -> None:
        with self.lock:
            self.counts[what] += 1
            self.failures[f"{what} on {label}"] += 1


class Api:
    """One client connection (gunicorn's sync workers close it after each answer; http.client reopens it)."""

    def __init__(self, base: str, stats: Stats, token: str = "") -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.stats = stats
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(
        self, method: str, path: str, body: dict | None = None, *, label: str = "", headers: dict | None = None
    ) -> tuple[int, dict]:
        """(status, JSON body) of one API request; status 0 when the connection broke. Failures are counted."""
        sent = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body)
            sent["Content-Type"] = "application/json"
        status, text, _ = self.raw(method, path, payload, sent, label=label or f"{method} {path}")
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        return status, data if isinstance(data, dict) else {}

    def raw(
        self, method: str, path: str, payload: str | None, headers: dict, *, label: str
    ) -> tuple[int, str, http.client.HTTPResponse | None]:
        self.stats.add("requests")
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.stats.failed("connection errors", label)
            return 0, "", None
        if response.status == 503 and '"code":"busy"' in text.replace(" ", ""):
            self.stats.failed("busy (503, try again)", label)  # the shop's own answer after 10 s of write conflicts
        elif response.status >= 500:
            self.stats.failed("5xx", label)
        return response.status, text, response

    def login(self, email: str, deadline: float) -> str:
        """Logs in (retrying through kills and the login throttle); returns the user id, or "" past the deadline."""
        while time.monotonic() < deadline:
            status, data = self.call(
                "POST", "/api/auth/login", {"email": email, "password": PASSWORD}, label="POST /api/auth/login"
            )
            if status == 200:
                self.token = data["access"]
                return str(data["user"]["id"])
            time.sleep(5 if status == 429 else 0.2)
        return ""


class Buyer:
    def __init__(self, n: int, site: Site, items: list[str], units: int, stats: Stats, deadline: float) -> None:
        self.paid_units_cap = units * PAID_UNITS_CAP
        self.email = BUYER.format(n=n)
        self.site, self.items, self.stats, self.deadline = site, items, stats, deadline
        self.api = Api(site.url, stats)
        self.rng = random.Random(n)
        self.user_id = ""

    def run(self) -> None:
        self.user_id = self.api.login(self.email, self.deadline)
        while self.user_id and time.monotonic() < self.deadline:
            for item in self.rng.sample(self.items, min(len(self.items), self.rng.randint(1, 3))):
                status, _ = self.api.call(
                    "POST",
                    f"/api/carts/{self.user_id}/add",
                    {"item": item, "quantity": self.rng.randint(1, 2)},
                    label="POST /api/carts/<id>/add",
                )
                if status == 401:  # the access token expired (5 min): log in again
                    self.user_id = self.api.login(self.email, self.deadline)
                if status == 409:
                    self.stats.add("adds refused (409)")
            statuses, orders = self.place()
            for order_id, units in orders.items():
                self.decide(order_id, units)
            if 409 in statuses:
                self.stats.add("orders refused (409)")
                self.empty_cart()
                self.give_back_stock()
            elif not orders:
                self.empty_cart()  # whether that order exists is unknown; start the next one from an empty cart

    def place(self) -> tuple[list[int], dict[str, int]]:
        """Places an order one of three ways; returns the answers' statuses and the orders made (id: units)."""
        draw = self.rng.random()
        if draw < KEYED_SHARE:
            self.stats.add("order requests with a key")
            key = {"Idempotency-Key": uuid.uuid4().hex}
            answers = [self.api.call("POST", "/api/orders", {}, headers=key, label="POST /api/orders")]
            if answers[0][0] == 0 or answers[0][0] >= 500:
                self.stats.add("keyed retries")
                answers.append(self.api.call("POST", "/api/orders", {}, headers=key, label="POST /api/orders"))
        elif draw < KEYED_SHARE + DOUBLE_SHARE:
            self.stats.add("double submits")
            answers = self.place_twice()
            if sum(status == 201 for status, _ in answers) == 2 and answers[0][1]["id"] != answers[1][1]["id"]:
                self.stats.add("double submits that made two orders")
        else:
            self.stats.add("order requests without a key")
            answers = [self.api.call("POST", "/api/orders", {}, label="POST /api/orders")]
        orders = {
            data["id"]: sum(line.get("quantity", 0) for line in data.get("lines", []))
            for status, data in answers
            if status == 201 and "id" in data
        }
        self.stats.add("orders placed (distinct ids answered)", len(orders))
        return [status for status, _ in answers], orders

    def place_twice(self) -> list[tuple[int, dict]]:
        """The same keyless request on two connections at once, as a double-clicking client sends it."""
        other = Api(self.site.url, self.stats, token=self.api.token)
        answers: list[tuple[int, dict]] = [(0, {}), (0, {})]
        barrier = threading.Barrier(2)

        def send(index: int, api: Api) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            answers[index] = api.call("POST", "/api/orders", {}, label="POST /api/orders")

        twin = threading.Thread(target=send, args=(1, other))
        twin.start()
        send(0, self.api)
        twin.join()
        other.conn.close()
        return answers

    def decide(self, order_id: str, units: int) -> None:
        draw = self.rng.random()
        if draw < CANCEL_SHARE:
            self.cancel(order_id)
        elif draw < CANCEL_SHARE + PAY_SHARE and self.stats.counts["units paid"] + units <= self.paid_units_cap:
            self.pay(order_id, units)

    def cancel(self, order_id: str) -> None:
        status, _ = self.api.call("DELETE", f"/api/orders/{order_id}", label="DELETE /api/orders/<id>")
        if status == 200:
            self.stats.add("orders cancelled")
        elif status == 409:
            self.stats.add("cancels refused (409)")

    def pay(self, order_id: str, units: int) -> None:
        """The API hands out the demo gateway's page; its Pay button is a form post with a CSRF token."""
        status, data = self.api.call("POST", f"/api/orders/{order_id}/pay", label="POST /api/orders/<id>/pay")
        if status != 200:
            return
        parts = urlsplit(data["checkout_url"])
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        browser = Api(self.site.url, self.stats)
        status, html, response = browser.raw("GET", path, None, {}, label="GET /payments/demo/<token>/")
        field = CSRF_FIELD.search(html)
        cookie = next(
            (
                value.split(";", 1)[0]
                for header, value in (response.getheaders() if response else [])
                if header.lower() == "set-cookie" and value.startswith("csrftoken=")
            ),
            "",
        )
        if status != 200 or not field or not cookie:
            return
        form = urlencode({"csrfmiddlewaretoken": field.group(1)})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        status, _, response = browser.raw("POST", path, form, headers, label="POST /payments/demo/<token>/")
        if status == 302 and "session_id=" in (response.getheader("Location") or ""):
            self.stats.add("orders paid")
            self.stats.add("units paid", units)
        browser.conn.close()

    def empty_cart(self) -> None:
        status, cart = self.api.call("GET", f"/api/carts/{self.user_id}", label="GET /api/carts/<id>")
        for line in cart.get("lines", []) if status == 200 else []:
            self.api.call("DELETE", f"/api/carts/{self.user_id}/{line['item']}", label="DELETE /api/carts/<id>/<item>")

    def give_back_stock(self) -> None:
        """Cancels the buyer's two oldest pending orders on the first page of its orders (newest first)."""
        status, page = self.api.call("GET", f"/api/orders/user/{self.user_id}", label="GET /api/orders/user/<id>")
        pending = [order["id"] for order in page.get("results", []) if order["status"] == "pending_payment"]
        for order_id in pending[-2:] if status == 200 else []:
            self.cancel(order_id)


def seller(site: Site, items: list[str], stats: Stats, deadline: float) -> None:
    api = Api(site.url, stats)
    if not api.login(SELLER, deadline):
        return
    rng = random.Random(-1)
    edit = 0
    while time.monotonic() < deadline:
        edit += 1
        item = rng.randrange(len(items))
        status, _ = api.call(
            "PATCH",
            f"/api/items/{items[item]}",
            {"title": f"Chaos item {item} (edit {edit})", "price": rng.randint(500, 5000)},
            label="PATCH /api/items/<id>",
        )
        if status == 200:
            stats.add("item edits")
        time.sleep(SELLER_PAUSE)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4, after "pid (comm) state"
                found.append(int(entry.name))
    return found


def gunicorn_master(site: Site) -> int:
    """The gunicorn master the harness started: our child whose command line binds the site's port."""
    bind = urlsplit(site.url).netloc
    for pid in _children(os.getpid()):
        try:
            cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"gunicorn" in b" ".join(cmdline) and bind.encode() in cmdline:
            return pid
    raise SystemExit("chaos: cannot find the gunicorn master process")


def killer(master: int, every: float, stats: Stats, deadline: float, stop: threading.Event) -> None:
    rng = random.Random(-2)
    while not stop.wait(every) and time.monotonic() < deadline:
        workers = _children(master)
        if not workers:
            stats.add("kills skipped (no worker up)")
            continue
        try:
            os.kill(rng.choice(workers), signal.SIGKILL)
            stats.add("workers killed")
        except ProcessLookupError:
            stats.add("kills skipped (no worker up)")


OUTBOX = """
import json
from shop.models import OutboxMessage
from django.db.models import Count
print(json.dumps({f"{topic} {status}": n for topic, status, n in OutboxMessage.objects.values_list("topic", "status")
      .annotate(n=Count("pk")).values_list("topic", "status", "n")}))
"""


def break_cache(site: Site, at: float) -> None:
    """Overwrites every database file of the disk cache with garbage, as a failing disk or a bad restore would."""
    time.sleep(max(0.0, at - time.monotonic()))
    for path in (site.workdir / "cache").rglob("cache.db*"):
        path.write_bytes(os.urandom(4096))
    print("  (the disk cache's files were overwritten)", flush=True)


class MailServer:
    """A mail server for the worker: one that accepts and never answers (`hang`), or none at all (`down`)."""

    def __init__(self, *, hang: bool) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.peers: list[socket.socket] = []
        if hang:
            self.socket.listen(64)
            threading.Thread(target=self._accept, daemon=True).start()
        else:
            self.socket.close()  # the port is now closed: connections are refused

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.peers.append(self.socket.accept()[0])

    def settings_lines(self) -> list[str]:
        return [
            'EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"',
            f'EMAIL_HOST, EMAIL_PORT, EMAIL_TIMEOUT = "127.0.0.1", {self.port}, 3',
        ]

    def close(self) -> None:
        for peer in self.peers:
            peer.close()
        self.socket.close()


def exceptions_logged(log: Path) -> Counter[str]:
    """The exception lines of the tracebacks in gunicorn's log (the server's 500s), counted."""
    found: Counter[str] = Counter()
    in_traceback = False
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            found[line.strip()] += 1
            in_traceback = False
    return found


def check_stock_command(site: Site, command: str = "check_stock") -> tuple[int, str] | None:
    """(exit code, output) of `manage.py check_stock` on the scratch database, or None when the shop has no such
    command."""
    result = subprocess.run(
        [PYTHON, "manage.py", command], cwd=ROOT, env=site.env, capture_output=True, text=True, timeout=300
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode and f"Unknown command: '{command}'" in output:
        return None
    return result.returncode, output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--duration", type=float, default=25, help="seconds of load (default 25)")
    parser.add_argument("--kill-every", type=float, default=2.5, help="seconds between two kills (default 2.5)")
    parser.add_argument("--buyers", type=int, default=8, help="concurrent buyers (default 8)")
    parser.add_argument("--items", type=int, default=6, help="items on sale (default 6)")
    parser.add_argument("--stock", type=int, default=40, help="initial units of each item (default 40)")
    parser.add_argument("--break-cache", type=float, metavar="SECONDS", help="overwrite the disk cache's files then")
    parser.add_argument("--smtp", choices=["hang", "down"], help="send the emails through a hanging or closed server")
    args = parser.parse_args(argv)

    # The site's environment is a copy of ours: the seed code travels in it, so the harness echoes a short command.
    os.environ[SEED_VARIABLE] = SEED.format(
        seller=SELLER, buyer=BUYER, password=PASSWORD, items=args.items, stock=args.stock, buyers=args.buyers
    )
    seed = ["shell", "-c", f"import os; exec(os.environ[{SEED_VARIABLE!r}])"]
    print(f"Preparing a scratch shop on {args.backend} ...", flush=True)
    mail_server = MailServer(hang=args.smtp == "hang") if args.smtp else None
    settings_lines = mail_server.settings_lines() if mail_server else ()
    with scratch_site(backend=args.backend, prepare=seed, settings_lines=settings_lines) as site:
        items = json.loads(site.python(ITEMS).splitlines()[-1])
        initial = {item["id"]: item["stock"] for item in items}
        ids = list(initial)
        master = gunicorn_master(site)
        stats = Stats()
        stop = threading.Event()
        print(
            f"Running {args.duration:g} s: {args.buyers} buyers, 1 seller, a worker killed every {args.kill_every:g} s"
            f" (gunicorn master {master}) ...",
            flush=True,
        )
        started = time.monotonic()
        deadline = started + args.duration
        threads = [
            threading.Thread(target=Buyer(n, site, ids, sum(initial.values()), stats, deadline).run, name=f"buyer{n}")
            for n in range(args.buyers)
        ]
        threads.append(threading.Thread(target=seller, args=(site, ids, stats, deadline), name="seller"))
        kill_thread = threading.Thread(target=killer, args=(master, args.kill_every, stats, deadline, stop))
        if args.break_cache is not None:
            threads.append(threading.Thread(target=break_cache, args=(site, started + args.break_cache), name="cache"))
        for thread in [*threads, kill_thread]:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + 120)
        stop.set()
        kill_thread.join()
        stuck = [thread.name for thread in threads if thread.is_alive()]
        elapsed = time.monotonic() - started
        time.sleep(SETTLE)

        found = json.loads(site.python(CHECK.format(ids=ids, holding=HOLDING)).splitlines()[-1])
        ledger = check_stock_command(site)
        server_errors = exceptions_logged(site.workdir / "gunicorn.log")
        emails = json.loads(site.python(OUTBOX).splitlines()[-1])
    if mail_server:
        mail_server.close()

    counts = stats.counts
    print(f"\nchaos run on {args.backend}: {elapsed:.1f} s of load, {args.items} items x {args.stock} units")
    print(
        f"  requests {counts['requests']}: {counts['order requests with a key']} orders with a key "
        f"({counts['keyed retries']} retried), {counts['double submits']} double submits "
        f"({counts['double submits that made two orders']} made two orders), "
        f"{counts['order requests without a key']} plain"
    )
    print(
        f"  orders placed {counts['orders placed (distinct ids answered)']}, cancelled {counts['orders cancelled']} "
        f"(+{counts['cancels refused (409)']} refused), paid {counts['orders paid']} ({counts['units paid']} units), "
        f"refused (409) "
        f"{counts['orders refused (409)']}; cart adds refused {counts['adds refused (409)']}; "
        f"item edits {counts['item edits']}"
    )
    print(
        f"  workers killed {counts['workers killed']} (skipped {counts['kills skipped (no worker up)']}); "
        f"connection errors {counts['connection errors']}, 5xx {counts['5xx']}, "
        f"busy {counts['busy (503, try again)']}"
    )
    for failure, n in sorted(stats.failures.items()):
        print(f"    {n:5} {failure}")
    for exception, n in server_errors.most_common(5):
        print(f"    {n:5} x in the server log: {exception[:150]}")
    if stuck:
        print(f"  threads still running after the load: {', '.join(stuck)}")

    print(f"\n  {'item':<14} {'initial':>7} {'stock':>6} {'in orders':>9} {'lost':>5} {'doubled':>7}")
    lost = doubled = 0
    for item in items:
        pk = item["id"]
        stock, held = found["stock"].get(pk, 0), found["held"].get(pk, 0)
        missing = initial[pk] - stock - held
        lost += max(missing, 0)
        doubled += max(-missing, 0)
        print(f"  {item['title']:<14} {initial[pk]:>7} {stock:>6} {held:>9} {max(missing, 0):>5} {max(-missing, 0):>7}")
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(found["statuses"].items()))
    half_made = found["no_lines"] + found["short"]
    print(f"  orders in the database: {sum(found['statuses'].values())} ({statuses or 'none'})")
    print(
        f"  half-made orders: {len(found['no_lines'])} without lines, {len(found['short'])} with lines short of "
        f"the total{': ' + ', '.join(half_made[:10]) if half_made else ''}"
    )
    print(f"  outbox: {emails or 'empty'}")
    if ledger is None:
        print("  manage.py check_stock: not in this shop (skipped)")
    else:
        code, output = ledger
        print(f"  manage.py check_stock: exit {code}")
        for line in output.splitlines()[:40]:
            print(f"    {line}")

    if not counts["orders placed (distinct ids answered)"]:
        print("\nchaos: NOTHING TESTED: no order was placed")
        return 2
    ledger_disagrees = ledger is not None and ledger[0] != 0
    verdict = (
        f"{lost} units lost, {doubled} sold twice, {len(half_made)} half-made orders, {counts['5xx']} 5xx, "
        f"check_stock {'disagrees' if ledger_disagrees else 'agrees'}"
    )
    failed = lost or doubled or half_made or counts["5xx"] or ledger_disagrees
    print(f"\nchaos: {'FAIL' if failed else 'OK'}: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
