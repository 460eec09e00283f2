"""A background order load for the benchmarks: buyers placing orders at a steady rate through the shop's JSON API.

    with scratch_site(prepare=selling.PREPARE, env=selling.site_env(items=10_000, buyers=8)) as site:
        load = OrderLoad(site, rate=5, buyers=8)  # logs every buyer in: POST /api/auth/login -> JWT
        result, window = load.measure(lambda: run_wrk(...))  # orders flow through the call (and a 1 s lead-in)
        load.close()

The seed (run by `manage.py shell` before gunicorn starts, the way chaos.py seeds) builds the demo catalog, gives
every tenth of the first 1,000 active items (by SKU, the items the storefront's item pages rotate over) a stock of
STOCK units through `catalog.services.set_stock`, and creates BUYERS buyer accounts. Each order is 1 to 3 of those
items, 1 unit each, added with `POST /api/carts/<userId>/add`, then `POST /api/orders` (no address, no payment: the
order waits for payment and keeps its units).

A dispatcher thread hands out one order every 1/RATE s to the next idle buyer thread (one connection each). When every
buyer is still busy with earlier orders (BUYERS orders already waiting), the slot is dropped and counted as missed,
so the load never bursts to catch up. Answers other than 200/201 fail the order (the buyer empties its cart and waits
for the next slot); 5xx answers and broken connections are counted apart (chaos.py's `Api` and `Stats`).
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from chaos import PASSWORD, Api, Stats
from harness import Site

BUYER = "bench-buyer{n}@example.com"
STOCK = 1_000_000  # units of each item on sale: far more than any run sells, so no page shows it sold out
SOLD_SPAN, SOLD_STEP = 1000, 10  # every 10th of the first 1,000 active items by SKU is on sale
LINES = (1, 3)  # items per order, 1 unit each
LEAD_IN = 1.0  # seconds the orders flow before the measured call starts
TOKEN_MAX_AGE = 240  # seconds: access tokens live 5 min (simplejwt's default); log in again between windows past this
SEED_VARIABLE = "BENCH_SELLING_SEED"
SEED = """
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from accounts.services import create_user
from catalog.models import Item
from catalog.services import set_stock

call_command("load_demo", "--items", "{items}", "--force")
active = Item.objects.filter(is_active=True).order_by("sku").values_list("pk", flat=True)
sold = list(active[:{span}])[::{step}]
for pk in sold:
    set_stock(item_id=pk, stock={stock}, note="bench: on sale")
hashed = make_password({password!r})  # one hash for all: creating the accounts stays fast
for n in range({buyers}):
    user = create_user(email={buyer!r}.format(n=n), password=None)
    user.password = hashed
    user.save(update_fields=["password"])
print(f"on sale: {{len(sold)}} items x {stock:,} units; {buyers} buyer accounts")
"""
SOLD = f"""
import json
from catalog.models import Item
print(json.dumps([str(pk) for pk in Item.objects.filter(stock__gte={STOCK // 2}).values_list("pk", flat=True)]))
"""

T = TypeVar("T")


def default_buyers(rate: float) -> int:
    """Buyers enough for RATE orders/s when the shop is loaded: an order (2 to 4 requests) queues behind the page
    load's connections and can take a second or more."""
    return max(8, math.ceil(2 * rate))


# The `manage.py` arguments of the seed: its code travels in the site's environment (`site_env`), so the harness
# echoes a short command.
PREPARE = ["shell", "-c", f"import os; exec(os.environ[{SEED_VARIABLE!r}])"]


def site_env(*, items: int, buyers: int) -> dict[str, str]:
    """Environment for the scratch site: the seed code, and a login throttle that lets every buyer log in (the shop's
    default, 20 logins a minute per client address, would hold up more than 20 buyers; only `/api/auth/` has it)."""
    seed = SEED.format(
        items=items, span=SOLD_SPAN, step=SOLD_STEP, stock=STOCK, password=PASSWORD, buyers=buyers, buyer=BUYER
    )
    return {SEED_VARIABLE: seed, "API_AUTH_THROTTLE_RATE": "100000/min"}


@dataclass
class Buyer:
    email: str
    api: Api
    rng: random.Random
    user_id: str = ""
    logged_in_at: float = -math.inf

    def login(self) -> None:
        self.user_id = self.api.login(self.email, time.monotonic() + 60)
        if not self.user_id:
            raise SystemExit(f"bench: {self.email} could not log in through POST /api/auth/login")
        self.logged_in_at = time.monotonic()


@dataclass
class Window:
    """The order load during one `measure()` call."""

    seconds: float  # of the measured call
    placed: int  # orders placed (201) during the measured call
    failed: int  # orders that failed, from the start of the load to its end
    missed: int  # slots dropped because every buyer was busy
    server_errors: int  # 5xx answers and broken connections

    @property
    def rate(self) -> float:
        return self.placed / self.seconds if self.seconds else 0.0


@dataclass
class Cost:
    """What the orders alone cost the shop's gunicorn workers."""

    seconds: float  # of the measurement
    rate: float  # orders placed per second
    cores: float  # the workers' CPU over it, in cores
    cpu_ms: float  # of CPU per order

    def __str__(self) -> str:
        return (
            f"orders alone: {self.rate:.2f} orders/s placed for {self.seconds:g} s; the gunicorn workers used "
            f"{self.cores:.2f} cores, {self.cpu_ms:.1f} ms of CPU per order"
        )


@dataclass
class Events:
    lock: threading.Lock = field(default_factory=threading.Lock)
    placed: list[float] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)
    missed: list[float] = field(default_factory=list)

    def add(self, kind: str) -> None:
        with self.lock:
            getattr(self, kind).append(time.monotonic())

    def between(self, kind: str, start: float, end: float) -> int:
        with self.lock:
            return sum(start <= moment <= end for moment in getattr(self, kind))


class OrderLoad:
    def __init__(self, site: Site, *, rate: float, buyers: int) -> None:
        self.site, self.rate = site, rate
        self.items: list[str] = json.loads(site.python(SOLD).splitlines()[-1])
        if not self.items:
            raise SystemExit("bench: no item is on sale (was the site seeded with selling.PREPARE?)")
        self.stats = Stats()
        self.events = Events()
        self.buyers = [Buyer(BUYER.format(n=n), Api(site.url, self.stats), random.Random(n)) for n in range(buyers)]
        self.jobs: queue.Queue[float] = queue.Queue()
        self.stopping = threading.Event()
        self.closed = threading.Event()
        self._login(self.buyers)
        self.threads = [threading.Thread(target=self._serve, args=(buyer,), daemon=True) for buyer in self.buyers]
        for thread in self.threads:
            thread.start()

    def measure(self, call: Callable[[], T]) -> tuple[T, Window]:
        """Runs `call()` while orders flow at the rate (they start LEAD_IN s before it and stop after it)."""
        stale = [buyer for buyer in self.buyers if time.monotonic() - buyer.logged_in_at > TOKEN_MAX_AGE]
        self._login(stale)
        before = Counter(self.stats.counts)
        started = time.monotonic()
        self.stopping.clear()
        dispatcher = threading.Thread(target=self._dispatch, daemon=True)
        dispatcher.start()
        time.sleep(LEAD_IN)
        begin = time.monotonic()
        try:
            result = call()
        finally:
            end = time.monotonic()
            self.stopping.set()
            dispatcher.join()
            self._drain()
        stopped = time.monotonic()
        after = Counter(self.stats.counts)
        return result, Window(
            seconds=end - begin,
            placed=self.events.between("placed", begin, end),
            failed=self.events.between("failed", started, stopped),
            missed=self.events.between("missed", started, stopped),
            server_errors=sum(after[kind] - before[kind] for kind in ("5xx", "connection errors")),
        )

    def cost_alone(self, *, seconds: float) -> Cost:
        """Places orders for `seconds` with nothing else loading the shop, and says what they cost its workers (after
        a few orders that import and warm what a worker's first orders need)."""
        self.measure(lambda: time.sleep(LEAD_IN))
        started, before = time.monotonic(), self.site.server_cpu_seconds()
        _, window = self.measure(lambda: time.sleep(seconds))
        ended, cpu = time.monotonic(), self.site.server_cpu_seconds() - before
        orders = self.events.between("placed", started, ended)  # with the lead-in's and the drained ones: as the CPU
        cores, cpu_ms = cpu / (ended - started), 1000 * cpu / max(orders, 1)
        return Cost(seconds=seconds, rate=window.rate, cores=cores, cpu_ms=cpu_ms)

    def close(self) -> None:
        self.closed.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def summary(self) -> list[str]:
        """What the load did over the whole run, and what went wrong (by request)."""
        counts = self.stats.counts
        lines = [
            f"order load: {len(self.buyers)} buyers, {len(self.items)} items on sale; {len(self.events.placed)} "
            f"orders placed, {len(self.events.failed)} failed, {len(self.events.missed)} slots missed (every buyer "
            f"busy); {counts['requests']} requests, {counts['5xx']} 5xx, {counts['connection errors']} connection "
            f"errors, {counts['busy (503, try again)']} busy (503)"
        ]
        lines += [f"  {n:6} x {failure}" for failure, n in self.stats.failures.most_common()]
        return lines

    # The threads.

    def _login(self, buyers: list[Buyer]) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(Buyer.login, buyers))

    def _dispatch(self) -> None:
        interval = 1 / self.rate
        due = time.monotonic()
        while True:
            if self.jobs.qsize() >= len(self.buyers):
                self.events.add("missed")
            else:
                self.jobs.put(due)
            due += interval
            if self.stopping.wait(max(0.0, due - time.monotonic())):
                return

    def _drain(self) -> None:
        """Drops the orders not started yet and waits for those under way."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.jobs.get_nowait()
                self.jobs.task_done()
        self.jobs.join()

    def _serve(self, buyer: Buyer) -> None:
        while not self.closed.is_set():
            try:
                self.jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.events.add("placed" if self._order(buyer) else "failed")
            except Exception as error:  # a bug here must not hang `_drain`; count it and go on
                self.stats.failed("load errors", repr(error)[:120])
                self.events.add("failed")
            finally:
                self.jobs.task_done()

    def _order(self, buyer: Buyer) -> bool:
        """One order: 1 to 3 items into the empty cart, then the order. Whether it was placed."""
        for item in buyer.rng.sample(self.items, min(len(self.items), buyer.rng.randint(*LINES))):
            add = f"/api/carts/{buyer.user_id}/add"
            if self._call(buyer, "POST", add, {"item": item, "quantity": 1}, "POST /api/carts/<id>/add") != 200:
                self._empty_cart(buyer)
                return False
        if self._call(buyer, "POST", "/api/orders", {}, "POST /api/orders") != 201:
            self._empty_cart(buyer)
            return False
        return True

    def _call(self, buyer: Buyer, method: str, path: str, body: dict | None, label: str) -> int:
        """The status of one API call; an expired token logs the buyer in again and sends the call once more."""
        status, _ = buyer.api.call(method, path, body, label=label)
        if status == 401:
            self.stats.add("logins again (401)")
            buyer.login()
            status, _ = buyer.api.call(method, path, body, label=label)
        if 400 <= status < 500:
            self.stats.failed(str(status), label)  # 5xx and broken connections: counted by Api
        return status

    def _empty_cart(self, buyer: Buyer) -> None:
        status, cart = buyer.api.call("GET", f"/api/carts/{buyer.user_id}", label="GET /api/carts/<id>")
        for line in cart.get("lines", []) if status == 200 else []:
            path = f"/api/carts/{buyer.user_id}/{line['item']}"
            buyer.api.call("DELETE", path, label="DELETE /api/carts/<id>/<item>")
