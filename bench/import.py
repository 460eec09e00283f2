"""Measures `manage.py import_items` on a generated CSV against a scratch SQLite database.

    .venv/bin/python bench/import.py [--rows 100000] [--batch-size 1000] [--keep]

Each measured step runs in its own child process, so its wall time and peak memory (ru_maxrss from `os.wait4`) are
its own: a baseline that only parses the CSV, a first import (every row new), and a second import of the same file
(every row an update). The baseline shows how far the import is from the cost of reading the file at all.
"""

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SELLER = "seller@example.com"
CATEGORIES = ["cookware", "tableware", "audio", "accessories", "books", "outerwear", "shoes", "garden", "toys-games"]
BASELINE = (
    "import csv, sys\n"
    "with open(sys.argv[1], encoding='utf-8', newline='') as f:\n"
    "    print(sum(1 for _ in csv.reader(f)))"
)


def write_csv(path: Path, rows: int, seed: int) -> None:
    """The same SKUs and titles whatever the seed; prices and stock vary with it (a price-and-stock feed)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "title", "description", "price", "stock", "category", "active"])
        for number in range(1, rows + 1):
            writer.writerow(
                [
                    f"BENCH-{number:07d}",
                    f"Bench item {number}",
                    "Generated for the import benchmark; a sentence of ordinary length to make rows realistic.",
                    f"{rng.randint(100, 99999) / 100:.2f}",
                    rng.randint(0, 500),
                    CATEGORIES[number % len(CATEGORIES)],
                    "true" if number % 17 else "false",
                ]
            )


def run(args: list[str], env: dict) -> tuple[float, int, str]:
    """(seconds, peak RSS in MiB, stdout) of one child process; exits if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit(f"{' '.join(args)} failed ({process.returncode}):\n{output}")
    return seconds, usage.ru_maxrss // 1024, output  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory and print its path.")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "SQLITE_PATH": str(workdir / "bench.sqlite3"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
    }
    env.pop("MONGODB_URI", None)
    try:
        data, feed = workdir / "items.csv", workdir / "feed.csv"
        write_csv(data, options.rows, seed=2026)
        write_csv(feed, options.rows, seed=2027)
        manage = [PYTHON, "manage.py"]
        # --skip-checks: system checks are not part of an import, and a half-edited sibling app must not stop the bench.
        run([*manage, "migrate", "--noinput", "-v0", "--skip-checks"], env)
        run([*manage, "load_demo", "--items", "0", "--skip-checks"], env)

        base_s, base_mb, _ = run([PYTHON, "-c", BASELINE, str(data)], env)
        command = [*manage, "import_items", str(data), "--seller", SELLER, "--batch-size", str(options.batch_size)]
        create_s, create_mb, create_out = run([*command, "--skip-checks"], env)
        same_s, same_mb, same_out = run([*command, "--skip-checks"], env)
        command[3] = str(feed)
        update_s, update_mb, update_out = run([*command, "--skip-checks"], env)

        size_mb = data.stat().st_size / 2**20
        print(f"rows: {options.rows:,}  file: {size_mb:.1f} MiB  batch size: {options.batch_size}")
        print(f"{'step':34} {'wall s':>8} {'rows/s':>10} {'peak MiB':>9} {'x baseline time':>16}")
        for name, seconds, peak in [
            ("baseline: csv.reader only", base_s, base_mb),
            ("import_items, all new (create)", create_s, create_mb),
            ("same file again (all unchanged)", same_s, same_mb),
            ("new prices+stock (all updated)", update_s, update_mb),
        ]:
            ratio = seconds / base_s
            print(f"{name:34} {seconds:8.2f} {options.rows / seconds:10,.0f} {peak:9} {ratio:16.1f}")
        print("the command's own report (its time excludes Python and Django start-up):")
        for output in (create_out, same_out, update_out):
            print("  " + " | ".join(output.strip().splitlines()[-2:]))
    finally:
        if options.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
