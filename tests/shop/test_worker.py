"""`manage.py run_worker` as `make run` starts it: a separate process on the embedded queue (a SQLite file), with
zero services, delivering what a web process recorded. SQLite only: the processes share a scratch database file."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MONGODB_", "QUEUE_"))}
    env.update(
        DJANGO_DEBUG="1",
        SQLITE_PATH=str(tmp_path / "shop.sqlite3"),
        QUEUE_URL=str(tmp_path / "queue.sqlite3"),
        DJANGO_CACHE_DIR=str(tmp_path / "cache"),
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_embedded_worker_delivers_an_email_recorded_by_another_process(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("runs on the embedded SQLite setup that `make run` uses; the MongoDB run covers the queue on Redis")
    env = _env(tmp_path)
    assert _manage(env, "migrate", "-v0").returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sent = _manage(
            env,
            "shell",
            "-c",
            "from django.core.mail import send_mail; send_mail('Hi', 'Body', None, ['a@example.com'])",
        )
        assert sent.returncode == 0, sent.stderr
        database = sqlite3.connect(env["SQLITE_PATH"])
        rows: list = []
        for _ in range(150):
            rows = database.execute("SELECT status FROM shop_outboxmessage").fetchall()
            if rows == [("done",)]:
                break
            time.sleep(0.1)
        assert rows == [("done",)]
        assert database.execute("SELECT name FROM shop_heartbeat").fetchall() == [("worker",)]
        database.close()
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "Subject: Hi" in output  # the console backend of development printed it, in the worker


def test_run_worker_refuses_the_immediate_queue(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("run_worker")
    assert exit_info.value.code == 2 and "immediate" in capsys.readouterr().err
