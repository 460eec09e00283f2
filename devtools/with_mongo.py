"""Run a command with ``MONGODB_URI`` pointing at a MongoDB.

``python -m devtools.with_mongo CMD [ARGS...]``: if ``MONGODB_URI`` is set (and non-empty) CMD
runs against it unchanged; otherwise an in-memory SecantusDB is started through
``devtools.mongo_server.running_server()`` for the duration of CMD and stopped afterwards,
including on Ctrl-C or SIGTERM. Exits with CMD's exit code (128+N if CMD died of signal N).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from types import FrameType

from devtools.mongo_server import running_server

_USAGE = "usage: python -m devtools.with_mongo CMD [ARGS...]"
# Time a command gets to finish on its own after a Ctrl-C (it received the same SIGINT from
# the terminal) before it is terminated.
_INTERRUPT_GRACE_SECONDS = 10.0


def _redact(uri: str) -> str:
    """``uri`` with any password replaced by ``***``, so the banner never prints a secret."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", uri)


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _run(cmd: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``cmd`` to completion and return its shell-style exit code.

    SIGTERM sent to us is forwarded to ``cmd`` so that it, and then the server, stop cleanly.
    """
    try:
        proc = subprocess.Popen(list(cmd), env=dict(env))
    except OSError as exc:
        print(f"with_mongo: cannot run {cmd[0]!r}: {exc}", file=sys.stderr)
        return 127

    def forward(signum: int, _frame: FrameType | None) -> None:
        proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        try:
            return _exit_code(proc.wait())
        except KeyboardInterrupt:
            # The terminal sent CMD the same SIGINT; let it exit with its own code.
            with contextlib.suppress(subprocess.TimeoutExpired):
                return _exit_code(proc.wait(timeout=_INTERRUPT_GRACE_SECONDS))
            return 130
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=_INTERRUPT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run CMD with ``MONGODB_URI`` set; see the module docstring."""
    cmd = list(sys.argv[1:] if argv is None else argv)
    if not cmd or cmd[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr)
        return 0 if cmd else 2

    existing = os.environ.get("MONGODB_URI")
    if existing:
        # stderr, so CMD's stdout (e.g. a dump redirected to a file) stays clean.
        print(f"with_mongo: using MONGODB_URI from the environment: {_redact(existing)}", file=sys.stderr, flush=True)
        return _run(cmd, os.environ)

    # A SIGTERM while the server starts must still run `running_server`'s cleanup.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    with running_server() as uri:
        print(f"with_mongo: using in-memory SecantusDB (patched launcher) at {uri}", file=sys.stderr, flush=True)
        return _run(cmd, {**os.environ, "MONGODB_URI": uri})


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        # Ctrl-C while the server was still starting; `running_server` has stopped it.
        raise SystemExit(130) from None
