"""What one order through the JSON API costs the shop, in process: CPU time and SQL statements (issue 12).

    .venv/bin/python bench/order_cost.py [--items 2000] [--orders 500] [--batches 5]
    .venv/bin/python bench/order_cost.py --against ../baseline [--pairs 30] [--items 2000]

Seeds a scratch site the way `bench/selling.py` does (the demo catalog, 100 items on sale, buyer accounts), then, in
one `manage.py shell` process with production settings, drives Django's test client as the selling load's buyers do:
log in (`POST /api/auth/login`, a JWT), then per order two `POST /api/carts/<id>/add` and `POST /api/orders`. After a
warm-up it times ORDERS orders in BATCHES batches by the process's CPU time and prints the best batch's CPU per order
(the machine's noise only ever adds), every batch, and the SQL statements of one order; and, as the baseline measured
in the same process, the CPU of one `GET /health/live/`, the shop's cheapest view, with the order's ratio to it.

No HTTP server and no other process take part, so the figure is the shop's own work per order: what `--selling` in
`bench/storefront.py` costs the pages, less gunicorn's and the kernel's share.

`--against TREE` compares this checkout with another one (a `git worktree` of the commit to compare with, with the same
migrations): each gets its own scratch site and its own process, and the two place batches of 20 orders in turn,
PAIRS times, so that the machine's swings (on a shared machine, a factor of two within minutes) fall on both alike.
It prints each side's median CPU per order and the median of the per-pair ratios, this checkout's over the other's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import selling
from harness import ROOT, scratch_site

SETUP = """
import json, os, random, time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from catalog.models import Item

orders, batches = int(os.environ["BENCH_ORDERS"]), int(os.environ["BENCH_BATCHES"])
sold = [str(pk) for pk in Item.objects.filter(stock__gte=500_000).values_list("pk", flat=True)]
client = Client(HTTP_HOST="127.0.0.1")
answer = client.post(
    "/api/auth/login",
    json.dumps({"email": os.environ["BENCH_BUYER"], "password": os.environ["BENCH_PASSWORD"]}),
    content_type="application/json",
)
assert answer.status_code == 200, answer.content
login = answer.json()
headers = {"HTTP_AUTHORIZATION": "Bearer " + login["access"]}
rng = random.Random(1)


def order():
    for item in rng.sample(sold, 2):
        body = json.dumps({"item": item, "quantity": 1})
        answer = client.post(f"/api/carts/{login['user']['id']}/add", body, content_type="application/json", **headers)
        assert answer.status_code == 200, answer.content
    answer = client.post("/api/orders", "{}", content_type="application/json", **headers)
    assert answer.status_code == 201, answer.content


def per_call(call, n):
    started = time.process_time()
    for _ in range(n):
        call()
    return (time.process_time() - started) / n


for _ in range(20):
    order()
    client.get("/health/live/")
"""
MEASURE = (
    SETUP
    + """
each = [per_call(order, max(1, orders // batches)) for _ in range(batches)]
live = min(per_call(lambda: client.get("/health/live/"), 500) for _ in range(batches))
with CaptureQueriesContext(connection) as queries:
    order()
print(json.dumps({"each": each, "live": live, "statements": len(queries.captured_queries)}))
"""
)
# Places the batches it is asked for on stdin (a number of orders per line), answering each with its CPU per order.
SERVE = (
    SETUP
    + """
import sys
print("ready", flush=True)
for line in sys.stdin:
    print(per_call(order, int(line)), flush=True)
"""
)
BATCH = 20  # orders per batch with --against


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=500, help="orders timed, over all batches (default 500)")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout of the shop to compare this one with")
    parser.add_argument("--pairs", type=int, default=30, help="batches of each, in turn, with --against (default 30)")
    args = parser.parse_args(argv)
    if args.items < 1000 or args.orders < 1 or args.batches < 1 or args.pairs < 1:
        parser.error("--items must be at least 1000 (the items on sale are among the first 1,000), the others >= 1")
    if args.against and not (args.against / "manage.py").is_file():
        parser.error(f"--against {args.against}: no manage.py there (a checkout of the shop is expected)")

    env = {
        **selling.site_env(items=args.items, buyers=1),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "BENCH_ORDERS": str(args.orders),
        "BENCH_BATCHES": str(args.batches),
        "BENCH_BUYER": selling.BUYER.format(n=0),
        "BENCH_PASSWORD": selling.PASSWORD,
    }
    if args.against:
        return compare(args.against.resolve(), env=env, items=args.items, pairs=args.pairs)
    print(f"Building a {args.items}-item catalog on SQLite ...", flush=True)
    with scratch_site(prepare=selling.PREPARE, env=env) as site:
        result = json.loads(site.python(MEASURE).splitlines()[-1])
    each = [seconds * 1000 for seconds in result["each"]]
    best, live = min(each), result["live"] * 1000
    print(
        f"one order through the API (2 adds + POST /api/orders): {best:.2f} ms of CPU at best "
        f"(batches: {', '.join(f'{ms:.1f}' for ms in each)}), {result['statements']} SQL statements"
    )
    print(f"GET /health/live/: {live:.3f} ms of CPU; an order costs {best / live:.0f} of them")
    return 0


def _migrations(tree: Path) -> dict[str, bytes]:
    return {str(path.relative_to(tree)): path.read_bytes() for path in sorted(tree.glob("*/migrations/*.py"))}


def compare(other: Path, *, env: dict[str, str], items: int, pairs: int) -> int:
    """Batches of orders placed in turn by this checkout and by `other`, each in its own process and scratch site."""
    if _migrations(other) != _migrations(ROOT):
        raise SystemExit(f"bench: {other} has other migrations than {ROOT}; both sites are built with this one's")
    trees = {"this": ROOT, "other": other}
    print(f"Building two {items}-item catalogs on SQLite ...", flush=True)
    with contextlib.ExitStack() as stack:
        servers = {}
        for name, tree in trees.items():
            site = stack.enter_context(scratch_site(prepare=selling.PREPARE, env=env))
            server = subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", SERVE],
                cwd=tree,
                env={**site.env, **env, "PYTHONWARNINGS": "ignore:No directory at:UserWarning"},  # no collectstatic
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            stack.callback(server.wait)
            stack.callback(server.stdin.close)
            while (line := server.stdout.readline()) and line.strip() != "ready":
                pass
            if not line:
                raise SystemExit(f"bench: the order process of {tree} ended before it was ready")
            servers[name] = server
        costs: dict[str, list[float]] = {name: [] for name in trees}
        for pair in range(pairs):
            for name in ("this", "other") if pair % 2 == 0 else ("other", "this"):  # neither always goes first
                servers[name].stdin.write(f"{BATCH}\n")
                servers[name].stdin.flush()
                costs[name].append(float(servers[name].stdout.readline()) * 1000)
    for name, tree in trees.items():
        print(
            f"{name} ({tree}): median {statistics.median(costs[name]):.2f} ms of CPU per order, "
            f"best {min(costs[name]):.2f}"
        )
    ratios = [mine / theirs for mine, theirs in zip(costs["this"], costs["other"], strict=True)]
    low, _, high = statistics.quantiles(ratios, n=4)
    print(
        f"this / other, per pair of batches: median {statistics.median(ratios):.3f} (quartiles {low:.3f} - {high:.3f})"
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
