"""Production settings refuse to start without secrets, and pass `check --deploy` with them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x7#Lq2!vR9@pZ4$wK8^mN3&bT6*cY1(hJ5)dF0-gS2+eA7=uQ9"


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MONGODB_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run(["check"], DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="shop.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _run(["check"], DJANGO_DEBUG="0", DJANGO_SECRET_KEY=SECRET)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_debug_is_off_by_default():
    result = _run(
        ["shell", "-c", "from django.conf import settings; print(settings.DEBUG)"],
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_check_deploy_prints_no_warnings_with_secrets_set():
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_needs_no_variables_with_debug_on():
    result = _run(["check"], DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "env, backend, version_in_cache",
    [
        ({}, "shop.cache.HostDiskCache", True),  # one SQLite host: its workers share the disk cache
        ({"CACHE_URL": "redis://127.0.0.1:6379/1"}, "shop.cache.FailSafeRedisCache", True),
        ({"MONGODB_URI": "mongodb://127.0.0.1:1"}, "shop.cache.HostDiskCache", False),  # maybe several hosts
    ],
)
def test_cache_and_catalog_version_follow_the_deployment(tmp_path, env, backend, version_in_cache):
    code = "from django.conf import settings as s; c = s.CACHES['default']; print(c['BACKEND'], c['LOCATION'])"
    code += "; print(s.CACHE_IS_SHARED)"
    result = _run(["shell", "-c", code], DJANGO_DEBUG="1", DJANGO_CACHE_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
    location_line, flag_line = result.stdout.strip().splitlines()[-2:]
    assert location_line.split() == [backend, env.get("CACHE_URL", str(tmp_path))]
    assert flag_line == str(version_in_cache)


# Reading the environment: a typo or an empty value never changes behaviour silently (shop.environment.StrictEnv).


@pytest.fixture
def strict(monkeypatch):
    from shop.environment import StrictEnv

    environ: dict[str, str] = {}
    monkeypatch.setattr(StrictEnv, "ENVIRON", environ)
    return StrictEnv(), environ


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False)])
def test_on_off_words_are_read(strict, raw, value):
    env, environ = strict
    environ["SHOP_REQUIRE_2FA"] = raw
    assert env.bool("SHOP_REQUIRE_2FA", default=not value) is value


@pytest.mark.parametrize("raw", ["enabled", "ture", "2"])
def test_an_on_off_typo_stops_the_start_naming_the_variable(strict, raw):
    from django.core.exceptions import ImproperlyConfigured

    env, environ = strict
    environ["SHOP_REQUIRE_2FA"] = raw
    with pytest.raises(ImproperlyConfigured, match=f"SHOP_REQUIRE_2FA='{raw}' is neither on nor off"):
        env.bool("SHOP_REQUIRE_2FA", default=True)


def test_empty_values_are_unset_and_bad_numbers_are_named(strict):
    from django.core.exceptions import ImproperlyConfigured

    env, environ = strict
    environ.update(CACHE_IS_SHARED="", DJANGO_MEDIA_ROOT="  ", OUTBOX_MAX_ATTEMPTS="thirty", WINDOW="0")
    assert env.bool("CACHE_IS_SHARED", default=True) is True
    assert env.path("DJANGO_MEDIA_ROOT", default="/srv/media") == "/srv/media"
    with pytest.raises(ImproperlyConfigured, match="OUTBOX_MAX_ATTEMPTS='thirty' is not a whole number"):
        env.int("OUTBOX_MAX_ATTEMPTS", default=30)
    with pytest.raises(ImproperlyConfigured, match="WINDOW=0 is too small: at least 1"):
        env.int("WINDOW", default=60, minimum=1)


def test_the_example_env_file_read_as_the_readme_says_configures_the_shop_as_its_comments_say():
    """Its comments follow the values on lines of their own; empty values mean the defaults."""
    script = (
        "import os; from shop.environment import StrictEnv; "
        "StrictEnv().read_env('.env.example', parse_comments=True); "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'shop.settings'; import django; django.setup(); "
        "from django.conf import settings as s; "
        "print(s.USE_MONGODB, s.CACHES['default']['BACKEND'], repr(s.QUEUE_URL), "
        "str(s.MEDIA_ROOT) == str(s.BASE_DIR / 'media'), "
        "s.CACHE_IS_SHARED, s.SHOP_REQUIRE_2FA, s.TRUSTED_PROXIES, repr(s.STRIPE_SECRET_KEY))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MONGODB_", "CACHE_", "QUEUE_"))}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "shop.cache.HostDiskCache", "''", "True", "True", "True", "0", "''"]


@pytest.mark.parametrize(
    ("variable", "value"), [("QUEUE_URL", "redis:/127.0.0.1:6379/2"), ("CACHE_URL", "localhost:6379")]
)
def test_a_mistyped_queue_or_cache_url_stops_the_start(variable, value):
    result = _run(["check"], DJANGO_DEBUG="1", **{variable: value})
    assert result.returncode != 0 and f"{variable}={value!r}" in result.stderr


def test_health_answers_over_plain_http_when_everything_else_is_redirected(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/live/").status_code == 200
    assert client.get("/items/").status_code == 301
