"""SecantusDB launcher that corrects two wrong-result bugs in nested aggregation specs.

``python -m devtools.mongo_server --port P [secantusd-py args]`` runs the same server as
``secantusd-py`` (defaulting to ``--host 127.0.0.1 --storage-path :memory:``), with
``$project`` / ``$addFields`` / ``$set`` reading an embedded-document spec ``{a: {b: X}}``
as the dotted path ``{"a.b": X}``, as MongoDB does:

* R1: plain SecantusDB answers ``{$project: {rel: {name: 1}}}`` with the literal ``rel: {name: 1}``.
* R2: plain SecantusDB answers ``{$addFields: {rel: {name: ...}}}`` (and ``$set``) by replacing
  ``rel`` instead of merging into it.

The dotted forms are already right in SecantusDB, so the patch only rewrites the spec and
hands it to the original stage handler. ``running_server()`` starts this launcher (or the
plain server) in a subprocess for tests and dev commands.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["flatten_spec", "install_patches", "main", "running_server"]

_PATCHED_STAGES = ("$project", "$addFields", "$set")
_PATCH_MARKER = "_devtools_nested_spec_patch"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def _is_plain_subdocument(value: Any) -> bool:
    # An object whose first key starts with "$" is an expression (`{$concat: [...]}`,
    # `{$literal: ...}`); MongoDB rejects objects mixing "$" keys and field names, so
    # leaving any object with a "$" key untouched keeps that error for the server to raise.
    # An empty object is left alone too: it has no path to flatten to.
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(key, str) and not key.startswith("$") for key in value)
    )


def flatten_spec(spec: Mapping[str, Any], *, descend: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Rewrite embedded-document specs of ``$project`` / ``$addFields`` / ``$set`` as dotted paths.

    MongoDB reads ``{a: {b: X}}`` exactly as ``{"a.b": X}`` in these stages (manual:
    "$project > Include Specific Fields from Embedded Documents" and "$addFields > Adding
    Fields to an Embedded Document"), for inclusions (1/True), exclusions (0/False) and
    expressions alike. So ``{a: {b: 1, c: {d: "$x"}}}`` becomes ``{"a.b": 1, "a.c.d": "$x"}``.

    Guarantees: the input is not modified; key order is kept (depth first); a value that is an
    expression/operator object (any key starting with ``$``, including ``{$literal: ...}``), an
    empty object, or a non-object is copied through unchanged at its (possibly dotted) path.
    If a dotted key and a nested spec name the same path, the later one wins.

    ``descend(path)``, if given, is asked before flattening the plain sub-document at ``path``;
    answering False keeps that sub-document whole under ``path``.
    """
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if _is_plain_subdocument(value) and (descend is None or descend(prefix)):
            for key, sub in value.items():
                walk(f"{prefix}.{key}", sub)
        else:
            flat[prefix] = value

    for key, value in spec.items():
        walk(key, value)
    return flat


def _project_descend(path: str) -> bool:
    # SecantusDB copies the whole `_id` beside any dotted `_id.x` path (it answers
    # `{"_id.a": "$x"}` with the old `_id`), while its nested `{_id: {a: "$x"}}` is already
    # right for computed fields. Flattening `_id` would trade a working form for a broken one.
    return path != "_id"


def _holds_document_or_nothing(doc: Mapping[str, Any], path: str) -> bool:
    """True unless ``doc`` holds a scalar or null at ``path``.

    MongoDB's $addFields replaces a scalar/null at the parent path with a new document of the
    computed fields. SecantusDB's dotted form silently leaves the scalar in place, while its
    nested form builds that new document, so only parents that are documents (merge), arrays
    or absent (both forms then agree with MongoDB or with each other) are flattened.
    """
    current: Any = doc
    for part in path.split("."):
        if isinstance(current, list):
            return True
        if not isinstance(current, Mapping) or part not in current:
            return True
        current = current[part]
    return isinstance(current, (Mapping, list))


def _wrap_project(original: Callable[..., list[dict[str, Any]]]) -> Callable[..., list[dict[str, Any]]]:
    @functools.wraps(original)
    def handler(spec: Any, docs: list[dict[str, Any]], ctx: Any) -> list[dict[str, Any]]:
        if isinstance(spec, Mapping):
            spec = flatten_spec(spec, descend=_project_descend)
        return original(spec, docs, ctx)

    setattr(handler, _PATCH_MARKER, True)
    return handler


def _wrap_add_fields(original: Callable[..., list[dict[str, Any]]]) -> Callable[..., list[dict[str, Any]]]:
    @functools.wraps(original)
    def handler(spec: Any, docs: list[dict[str, Any]], ctx: Any) -> list[dict[str, Any]]:
        # Non-objects go through untouched so the original handler raises mongod's error.
        if not isinstance(spec, Mapping) or flatten_spec(spec) == dict(spec):
            return original(spec, docs, ctx)
        # Whether to flatten depends on each document's value at the parent path (see
        # `_holds_document_or_nothing`), so the spec is rewritten per document.
        out: list[dict[str, Any]] = []
        for doc in docs:
            doc_spec = flatten_spec(spec, descend=functools.partial(_holds_document_or_nothing, doc))
            out.extend(original(doc_spec, [doc], ctx))
        return out

    setattr(handler, _PATCH_MARKER, True)
    return handler


def install_patches() -> None:
    """Wrap the ``$project`` / ``$addFields`` / ``$set`` handlers in ``secantus.aggregate._STAGES``.

    Idempotent. Every pipeline (top level, ``$facet``, ``$lookup``, ``$unionWith``) looks the
    handler up in ``_STAGES`` at run time, so patching the dict reaches all of them.
    """
    from secantus import aggregate

    for name in _PATCHED_STAGES:
        original = aggregate._STAGES[name]
        if getattr(original, _PATCH_MARKER, False):
            continue
        wrap = _wrap_project if name == "$project" else _wrap_add_fields
        aggregate._STAGES[name] = wrap(original)


def _has_option(argv: list[str], option: str) -> bool:
    return any(arg == option or arg.startswith(option + "=") for arg in argv)


def _with_defaults(argv: list[str]) -> list[str]:
    """``argv`` plus ``--host 127.0.0.1`` / ``--storage-path :memory:`` where not given."""
    if argv and argv[0] == "restore":
        return argv
    args = list(argv)
    if not _has_option(args, "--host"):
        args += ["--host", "127.0.0.1"]
    if not _has_option(args, "--storage-path"):
        args += ["--storage-path", ":memory:"]
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the patched SecantusDB server in this process until SIGINT/SIGTERM."""
    from secantus import cli

    install_patches()
    return cli.main(_with_defaults(sys.argv[1:] if argv is None else argv))


def _free_port() -> int:
    # The port is released before the server binds it; a rare clash shows up as the
    # server dying at startup, which `running_server` reports with its stderr.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(proc: subprocess.Popen[bytes], uri: str, timeout: float, log_path: Path) -> None:
    import pymongo
    from pymongo.errors import PyMongoError

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"SecantusDB exited with code {proc.returncode} before accepting connections "
                f"({' '.join(map(str, proc.args))}). stderr:\n{_tail(log_path)}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"SecantusDB did not answer ping at {uri} within {timeout:g}s. stderr:\n{_tail(log_path)}"
            )
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=int(min(500, remaining * 1000)) or 1, connectTimeoutMS=500
        )
        try:
            client.admin.command("ping")
            return
        except PyMongoError:
            time.sleep(0.05)
        finally:
            client.close()


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
    return text[-limit:] or "<empty>"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # SecantusDB handles SIGTERM with a clean server.stop()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_server(port: int | None = None, *, plain: bool = False, timeout: float = 30.0) -> Iterator[str]:
    """Start an in-memory SecantusDB subprocess and yield its URI once it answers ``ping``.

    ``plain=True`` starts the unpatched ``secantusd-py`` (for tests showing the bugs).
    Raises RuntimeError (with the server's stderr) if it dies while starting, TimeoutError if
    it does not answer within ``timeout`` seconds. The process is stopped on exit, including
    when the body raises or is interrupted.
    """
    port = _free_port() if port is None else port
    module = "secantus" if plain else "devtools.mongo_server"
    args = [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"]
    env = dict(os.environ)
    # `-m devtools.mongo_server` must import from this checkout whatever the caller's cwd is.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    # stderr goes to a file, not a pipe: nobody drains a pipe while a long dev server runs,
    # and a full pipe would block the server's logging.
    with tempfile.TemporaryDirectory(prefix="secantus-") as tmp:
        log_path = Path(tmp) / "stderr.log"
        with log_path.open("wb") as log:
            # A new session keeps a terminal Ctrl-C away from the server, so the command
            # using it can shut down (and tear down its test databases) before we stop it.
            proc = subprocess.Popen(
                args, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        try:
            _wait_until_ready(proc, uri, timeout, log_path)
            yield uri
        finally:
            _stop(proc)


if __name__ == "__main__":
    raise SystemExit(main())
