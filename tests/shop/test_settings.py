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
