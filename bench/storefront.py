"""Storefront benchmark (issues 4 and 12): throughput and latency of the shopper's pages against two baselines.

    .venv/bin/python bench/storefront.py [--backend sqlite|mongo] [--items 10000] [--duration 10] [--warmup S]
                                         [--connections 32] [--conn-max-age S] [--rounds K] [--selling R [--buyers N]]

Builds a demo catalog in a scratch database, serves it with gunicorn (2 workers, production settings) and loads each
page with wrk: the catalog list, category pages, a search rotating over 600 queries, item pages rotating over 1,000
items and a signed-in shopper's 5-line cart. Beside the shop, the same gunicorn command serves bench/hello_wsgi.py,
Django's hello world (no apps, no middleware, no database): the framework's ceiling on this machine.

Each page first gets a warm-up run as long as the measured one, then the hello world is measured, then the shop's
`/health/live/`, then the page (the machine's speed drifts over a run, so each page is compared with baselines taken
just before it). One line per page: req/s, p50, p99, both baselines' req/s and the page's req/s as a ratio to each
("vs live": the shop's own cheapest view, which the issue 4 targets use; "vs hello": the framework's ceiling), then
the target and the page's failed requests (wrk's errors and non-2xx answers). On SQLite exits 1 if a target of
issue 4 is missed; issue 12's targets (ratios to the hello world; with --selling, list and item pages keeping 0.7 of
their quiet throughput and no 5xx) are printed as a verdict after the table.

`--rounds K`: the hello world and the page are measured K times in turn (hello world, page, and with --selling the
page again while selling), since one hello world a few seconds before the page can meet the machine in another mood.
req/s, hello/s and the ratios are then over all K rounds, and "vs hello range" gives the lowest and highest ratio of
a single round; p50 and p99 are the first round's.

`--selling R`: buyers (N accounts, default max(8, 2R), seeded before gunicorn starts) place R orders per second at a
steady pace through the JSON API (bench/selling.py: login -> JWT, cart add, `POST /api/orders`) while the page is
measured a second time, right after its quiet run. The line then adds the page's req/s and p99 while selling, "kept"
(selling req/s / quiet req/s), the orders actually placed per second during that run and the orders that failed;
with `--rounds K` each round's quiet run is followed by a selling one (the machine's speed drifts by as much as
selling costs, so one pair can mislead): "kept" is then the selling requests over the quiet ones of all K pairs, and
"range" the lowest and highest kept of a single pair;
after the table, the order load's totals, its 5xx and failures by request, and the exceptions in gunicorn's log. The
100 items on sale (every tenth of the 1,000 the item pages rotate over) get 1,000,000 units each, so no page runs out
of stock, and the orders stay unpaid. What an order costs the pages (the cache versions its stock moves replace, the
write lock it holds, its own CPU on the cores the pages need) is what "kept" shows. Before the table, the orders are
placed alone for one duration, and the gunicorn workers' CPU over it is printed: the share of the cores the orders
take from the pages. "left" is what that share leaves a page: 1 - the orders' cores over the cores the workers used
on the page's quiet runs. A page that keeps less than is left loses more to selling than the orders' own CPU.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import selling
from chaos import exceptions_logged
from harness import bare_django_site, run_wrk, scratch_site

# page: (minimum ratio to the baseline, maximum p99 in ms); targets of issue 4, on SQLite at 32 connections.
TARGETS = {"list": (0.5, 100), "category": (0.5, 100), "item": (0.5, 100), "search": (0.25, 100), "cart": (0.25, 100)}
# Issue 12's, printed as a verdict after the table (the exit status stays issue 4's): each page's ratio to the hello
# world, and with --selling the share of its quiet throughput the list and item pages keep.
HELLO_TARGETS = {"list": 0.5, "category": 0.5, "item": 0.5, "search": 0.3, "cart": 0.3}
KEPT_TARGETS = {"list": 0.7, "item": 0.7}


def _catalog_paths(site) -> dict[str, list[str]]:
    data = json.loads(
        site.python(
            """
            import json
            from catalog.demo import ADJECTIVES, NOUNS
            from catalog.models import Category, Item
            slugs = list(Item.objects.filter(is_active=True).order_by("sku").values_list("slug", flat=True)[:1000])
            categories = list(Category.objects.values_list("slug", flat=True))
            nouns = sorted({noun for names in NOUNS.values() for noun in names})
            print(json.dumps({"items": slugs, "categories": categories, "adjectives": ADJECTIVES, "nouns": nouns}))
            """
        ).splitlines()[-1]
    )
    words = [word.lower() for word in data["adjectives"] + data["nouns"]]
    phrases = [f"{adjective} {noun}" for adjective in data["adjectives"] for noun in data["nouns"]]
    queries = words + random.Random(4).sample(phrases, 600 - len(words))
    return {
        "list": [f"/items/?page={page}" for page in range(1, 21)],
        "category": [f"/categories/{slug}/" for slug in data["categories"]],
        "search": [f"/items/?{urlencode({'q': query})}" for query in queries],
        "item": [f"/items/{slug}/" for slug in data["items"]],
    }


def _fill_cart(site, email: str, lines: int) -> None:
    site.python(
        f"""
        from cart.selectors import CartOwner
        from cart.services import add_to_cart, empty_cart
        from catalog.models import Item
        from django.contrib.auth import get_user_model
        owner = CartOwner(user=get_user_model().objects.get(email={email!r}))
        empty_cart(owner=owner)
        for item in Item.objects.filter(is_active=True, stock__gte=5).order_by("sku")[:{lines}]:
            add_to_cart(owner=owner, item_id=item.pk, quantity=2)
        """
    )


def _with_cpu(site, paths: list[str], load_args: dict):
    """The page load's wrk result, and the CPU the site's gunicorn workers used meanwhile, in cores."""
    started, before = time.monotonic(), site.server_cpu_seconds()
    result = run_wrk(site.url, paths, **load_args)
    return result, (site.server_cpu_seconds() - before) / (time.monotonic() - started)


def _spread(pairs: list[tuple[float, float]]) -> str:
    """The lowest and highest ratio of a single (baseline, measured) pair."""
    each = [measured / base for base, measured in pairs if base]
    return f"{min(each):.2f}-{max(each):.2f}" if each else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per page (default 10)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per page (default: duration)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="run with DATABASES CONN_MAX_AGE set to this (persistent connections); default: shop.settings as is",
    )
    parser.add_argument(
        "--selling",
        type=float,
        default=0,
        metavar="R",
        help="also measure each page while R orders per second are placed through the API (default: off)",
    )
    parser.add_argument("--buyers", type=int, default=None, help="buyer accounts with --selling (default max(8, 2R))")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each page K times, each time right after the hello world (and, with --selling, while selling)",
    )
    args = parser.parse_args(argv)
    if args.selling < 0 or (args.buyers is not None and args.buyers < 1) or args.rounds < 1:
        parser.error("--selling cannot be negative, --buyers and --rounds must be at least 1")
    settings_lines = []
    if args.conn_max_age is not None:
        settings_lines.append(f'DATABASES["default"]["CONN_MAX_AGE"] = {args.conn_max_age}')
        print(f"Settings: shop.settings with CONN_MAX_AGE={args.conn_max_age}")
    warmup = args.duration if args.warmup is None else args.warmup
    load_args = {"duration": args.duration, "connections": args.connections}

    print(f"Building a {args.items}-item catalog on {args.backend} ...", flush=True)
    prepare, env = ["load_demo", "--items", str(args.items), "--force"], {}
    buyers = args.buyers or selling.default_buyers(args.selling)
    if args.selling:
        prepare, env = selling.PREPARE, selling.site_env(items=args.items, buyers=buyers)
    with (
        scratch_site(backend=args.backend, prepare=prepare, settings_lines=settings_lines, env=env) as site,
        bare_django_site() as hello_url,
    ):
        paths = _catalog_paths(site)
        _fill_cart(site, "shopper@example.com", lines=5)
        cookie = site.session_cookie_for("shopper@example.com")
        pages = [(name, paths[name], "") for name in ("list", "category", "search", "item")]
        pages.append(("cart", ["/cart/"], cookie))
        load = selling.OrderLoad(site, rate=args.selling, buyers=buyers) if args.selling else None

        print(
            f"Serving {site.url} (the shop) and {hello_url} (Django's hello world) with 2 gunicorn workers each; "
            f"{args.connections} connections, {args.duration:g} s each"
            + (f"; selling {args.selling:g} orders/s with {buyers} buyers" if load else "")
        )
        alone = load.cost_alone(seconds=args.duration) if load else None
        if alone:
            print(alone)
        print()
        header = f"{'page':<9}{'paths':>6}{'req/s':>8}{'p50':>7}{'p99':>7}{'hello/s':>9}{'live/s':>8}"
        header += f"{'vs hello':>9}{'vs live':>8}  {'target':<15}{'errors':>7}{'':7}"
        if load:
            header += f" |{'selling':>8}{'p99':>7}{'kept':>6}{'left':>6}{'orders/s':>9}{'failed':>7}"
            header += f"{'range':>11}" if args.rounds > 1 else ""
        header += f" | {'vs hello range':<9}" if args.rounds > 1 else ""
        print(header, "(p50, p99 in ms)", flush=True)
        run_wrk(hello_url, ["/"], **{**load_args, "duration": 1})  # the hello world's workers' first requests

        # The machine's speed drifts over a run (other tenants, heat): each page is compared with baselines measured
        # just before it, after the page's warm-up, rather than with baselines from the start of the run.
        missed, windows, short = [], [], []  # short: issue 12's targets missed, as text
        for name, page_paths, page_cookie in pages:
            page_args = {**load_args, "cookie": page_cookie}
            if warmup:
                run_wrk(site.url, page_paths, **{**page_args, "duration": warmup})
            hello = run_wrk(hello_url, ["/"], **load_args)
            live = run_wrk(site.url, ["/health/live/"], **load_args)
            result, quiet_cores = _with_cpu(site, page_paths, page_args)
            errors = result.errors + result.non2xx
            against_hello = [(hello.rps, result.rps)]  # (hello world, page) req/s of each round, measured in turn
            pairs = []  # with --selling: (quiet, selling) req/s of each round
            workers = [quiet_cores]  # the gunicorn workers' CPU over each quiet run, in cores
            for round_ in range(args.rounds):
                quiet = result
                if round_:
                    again = run_wrk(hello_url, ["/"], **load_args)
                    quiet, cores = _with_cpu(site, page_paths, page_args)
                    workers.append(cores)
                    against_hello.append((again.rps, quiet.rps))
                    errors += quiet.errors + quiet.non2xx
                if load:
                    sold, window = load.measure(
                        lambda paths=page_paths, extra=page_args: run_wrk(site.url, paths, **extra)
                    )
                    windows.append(window)
                    pairs.append((quiet.rps, sold.rps))
                    errors += sold.errors + sold.non2xx

            # Each round's page and hello world count alike: req/s and hello/s are their means over the rounds.
            page_rps = sum(page for _, page in against_hello) / len(against_hello)
            hello_rps = sum(base for base, _ in against_hello) / len(against_hello)
            ratio = page_rps / live.rps if live.rps else 0.0
            min_ratio, max_p99 = TARGETS[name]
            ok = ratio >= min_ratio and result.p99_ms < max_p99 and not (result.errors or result.non2xx)
            if not ok:
                missed.append(name)
            vs_hello = page_rps / hello_rps if hello_rps else 0.0
            if vs_hello < HELLO_TARGETS[name]:
                short.append(f"{name} {vs_hello:.2f} of the hello world (>= {HELLO_TARGETS[name]})")
            line = (
                f"{name:<9}{len(page_paths):>6}{page_rps:>8.0f}{result.p50_ms:>7.1f}{result.p99_ms:>7.1f}"
                f"{hello_rps:>9.0f}{live.rps:>8.0f}{vs_hello:>9.2f}{ratio:>8.2f}  "
                f"{f'>={min_ratio}, p99<{max_p99}':<15}{errors:>7} {'ok' if ok else 'MISSED':<6}"
            )
            if load:
                quiet_total = sum(quiet for quiet, _ in pairs)
                kept = sum(sold for _, sold in pairs) / quiet_total if quiet_total else 0.0
                rate = sum(w.placed for w in windows[-args.rounds :]) / sum(w.seconds for w in windows[-args.rounds :])
                failed = sum(w.failed for w in windows[-args.rounds :])
                selling_rps = sum(sold for _, sold in pairs) / len(pairs)
                # What the orders' own CPU would leave the page, were nothing else shared: 1 - their share of the
                # cores the workers used on the page alone.
                left = 1 - alone.cores / (sum(workers) / len(workers))
                line += f" |{selling_rps:>8.0f}{sold.p99_ms:>7.1f}{kept:>6.2f}{left:>6.2f}{rate:>9.2f}{failed:>7}"
                if kept < KEPT_TARGETS.get(name, 0):
                    short.append(f"{name} kept {kept:.2f} while selling (>= {KEPT_TARGETS[name]})")
                if args.rounds > 1:
                    line += f"  {_spread(pairs)}"
            if args.rounds > 1:
                line += f" | {_spread(against_hello)}"
            print(line.rstrip(), flush=True)

        if load:
            placed, seconds = sum(w.placed for w in windows), sum(w.seconds for w in windows)
            print(
                f"\nwhile selling: {placed / seconds if seconds else 0:.2f} orders/s placed of {args.selling:g} asked "
                f"({placed} orders in {seconds:.0f} s of page loads), {sum(w.failed for w in windows)} failed, "
                f"{sum(w.missed for w in windows)} slots missed, {sum(w.server_errors for w in windows)} 5xx or broken"
                " connections"
            )
            for line in load.summary():
                print(line)
            load.close()
            if any(w.server_errors for w in windows):
                short.append("5xx or broken connections while selling")
        print(f"\nIssue 12 targets: {'missed: ' + '; '.join(short) if short else 'met'}")
        logged = exceptions_logged(site.workdir / "gunicorn.log")
        for exception, n in logged.most_common(5):
            print(f"  {n:6} x in the server log: {exception[:150]}")

    if missed and args.backend == "sqlite":
        print(f"\nTargets missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
