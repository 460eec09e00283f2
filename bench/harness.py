"""Reusable pieces for HTTP benchmarks of the shop: a scratch site served by gunicorn, and bounded wrk runs.

    with scratch_site(backend="sqlite", prepare=["load_demo", "--items", "10000", "--force"]) as site:
        cookie = site.session_cookie_for("shopper@example.com")
        result = run_wrk(site.url, ["/health/live/"], duration=10, connections=32)

The site runs with production settings (DJANGO_DEBUG=0, a generated secret, no SSL redirect) on a free port of
127.0.0.1 with 2 gunicorn workers; its database (a scratch SQLite file, or a SecantusDB server for `mongo`), media
and static files live in a temporary directory removed afterwards.

    with bare_django_site() as hello_url:
        result = run_wrk(hello_url, ["/"], duration=10, connections=32)

serves bench/hello_wsgi.py (Django's hello world: no apps, no middleware, no database) with the same gunicorn command
on another free port: the framework's ceiling on this machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing; installing it with apt-get ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("bench: the load tool wrk is not installed. Install it with `apt-get install -y wrk` and retry.")


def gunicorn_command(app: str, port: int) -> list[str]:
    """The one gunicorn command every benchmark server runs: WORKERS sync workers on 127.0.0.1:PORT."""
    return [
        *(PYTHON, "-m", "gunicorn", app, "--workers", str(WORKERS)),
        *("--bind", f"127.0.0.1:{port}", "--no-control-socket", "--backlog", "2048"),
    ]


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Site:
    url: str
    env: dict[str, str]
    workdir: Path
    server_pid: int = 0  # gunicorn's master, once it runs

    def server_cpu_seconds(self) -> float:
        """CPU time (user + system) the gunicorn workers of the site have used so far, read from /proc (Linux)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == self.server_pid:  # its parent is the master: a worker
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def manage(self, *args: str, quiet: bool = False) -> str:
        """Runs `manage.py ARGS` against the site's database and returns its output."""
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(f"bench: manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        if not quiet and result.stdout.strip():
            print(textwrap.indent(result.stdout.strip(), "    "), flush=True)
        return result.stdout

    def python(self, code: str) -> str:
        """Runs Django code (`manage.py shell -c`) against the site's database; returns what it printed."""
        return self.manage("shell", "-c", textwrap.dedent(code), quiet=True).strip()

    def session_cookie_for(self, email: str) -> str:
        """A `Cookie` header value for a signed-in browser of this user: the session `login()` makes, and the CSRF
        cookie that every browser which signed in through the login form holds (`login()` rotates it)."""
        key, csrf_secret = (
            self.python(
                f"""
            from django.conf import settings
            from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
            from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
            from django.utils.crypto import get_random_string
            from importlib import import_module
            user = get_user_model().objects.get(email={email!r})
            store = import_module(settings.SESSION_ENGINE).SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.save()
            print(store.session_key, get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS))
            """
            )
            .splitlines()[-1]
            .split()
        )
        return f"sessionid={key}; csrftoken={csrf_secret}"


def _site_env(workdir: Path, port: int, mongodb_uri: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "MONGODB_"))}
    env.update(
        DJANGO_DEBUG="0",
        PAYMENTS_DEMO_GATEWAY="1",  # the checkout benchmark pays through the demo gateway
        SHOP_REQUIRE_2FA="0",  # the benchmarks' seller logs in through the API with a password alone
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_LOG_LEVEL="WARNING",
        SQLITE_PATH=str(workdir / "bench.sqlite3"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_CACHE_DIR=str(workdir / "cache"),
        QUEUE_URL=str(workdir / "queue.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    if mongodb_uri:
        env["MONGODB_URI"] = mongodb_uri
        env["MONGODB_NAME"] = "bench_shop"
    return env


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited with {proc.returncode} before answering")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield ""
        return
    existing = os.environ.get("MONGODB_URI")
    if existing:
        yield existing
        return
    sys.path.insert(0, str(ROOT))
    from devtools.mongo_server import running_server

    with running_server() as uri:
        yield uri


@contextlib.contextmanager
def scratch_site(
    *,
    backend: str = "sqlite",
    prepare: Sequence[str] = (),
    settings_lines: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[Site]:
    """A freshly migrated site with `manage.py PREPARE...` run, served by gunicorn until the block ends.

    `settings_lines` are Python lines appended to a settings module that starts `from shop.settings import *`
    (e.g. `DATABASES["default"]["CONN_MAX_AGE"] = 600`); without them the site runs `shop.settings` as it is.
    `env` adds variables to the environment of every command and server of the site (after the harness's own).
    """
    workdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    port = free_port()
    try:
        with _database(backend) as uri:
            site = Site(url=f"http://127.0.0.1:{port}", env=_site_env(workdir, port, uri), workdir=workdir)
            site.env.update(env or {})
            if settings_lines:
                module = "from shop.settings import *  # noqa: F403\n" + "\n".join(settings_lines) + "\n"
                (workdir / "bench_settings.py").write_text(module)
                site.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(workdir)])
                site.env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
            site.manage("migrate", "--noinput", "-v0")
            site.manage("collectstatic", "--noinput", "-v0")
            if prepare:
                started = time.monotonic()
                site.manage(*prepare)
                print(f"    ({' '.join(prepare)}: {time.monotonic() - started:.1f} s)", flush=True)
            log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
            server = subprocess.Popen(
                gunicorn_command("shop.wsgi", port), cwd=ROOT, env=site.env, stdout=log, stderr=subprocess.STDOUT
            )
            site.server_pid = server.pid
            # The background worker, as in production: it sends the emails and runs the periodic jobs.
            worker = subprocess.Popen(
                [PYTHON, "manage.py", "run_worker"], cwd=ROOT, env=site.env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                _wait_for(f"{site.url}/health/", server)
                yield site
            finally:
                _stop(server, worker)
                log.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def bare_django_site() -> Iterator[str]:
    """Django's hello world (bench/hello_wsgi.py: no apps, no middleware, no database, one view answering "ok")
    served by the shop's gunicorn command on another free port until the block ends; yields its URL."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env["PYTHONUNBUFFERED"] = "1"
    with tempfile.TemporaryFile("w+") as log:
        # gunicorn puts its working directory on sys.path: run from bench/ so it imports hello_wsgi.py.
        server = subprocess.Popen(
            gunicorn_command("hello_wsgi", port), cwd=BENCH, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            try:
                _wait_for(f"http://127.0.0.1:{port}/", server)
            except SystemExit:
                log.seek(0)
                print(log.read()[-4000:], file=sys.stderr)
                raise
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(server)


LUA = """
local paths = %(paths)s
local cookie = %(cookie)s
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
function init(args)
  n = offset
  headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non2xx: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for these ASCII paths


def run_wrk(
    base_url: str,
    paths: Sequence[str],
    *,
    duration: float = 10,
    connections: int = 32,
    threads: int = 2,
    cookie: str = "",
) -> WrkResult:
    """Loads `base_url` with GETs rotating over `paths` for `duration` seconds; wrk's own latency figures."""
    wrk = ensure_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        lua_paths = "{" + ", ".join(_lua_string(path) for path in paths) + "}"
        script.write(LUA % {"paths": lua_paths, "cookie": _lua_string(cookie)})
    try:
        result = subprocess.run(
            [
                *(wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"),
                *("--timeout", "5s", "-s", script.name, base_url),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(script.name)
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"bench: could not read wrk's output:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line.removeprefix("RESULT "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"],
        non2xx=data["non2xx"],
    )
