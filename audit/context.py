"""Where the current write comes from: a request (its user is read only when a write is recorded) or a command.

A context variable, so each thread (gunicorn worker, test client) and each task sees its own. The middleware keeps the
request rather than its user: the API authenticates its JWT caller inside DRF's view, after every middleware ran, and
DRF's `Request.user` setter stores that user on the underlying Django request, where `actor()` finds it.
"""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from audit.models import Source


@dataclass(frozen=True)
class AuditContext:
    source: str
    origin: str = ""
    request: HttpRequest | None = None
    command: str = ""

    def actor(self):
        """The authenticated user of the request, or None."""
        user = getattr(self.request, "user", None) if self.request is not None else None
        return user if user is not None and user.is_authenticated else None


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


def current() -> AuditContext | None:
    return _current.get()


@contextmanager
def using(context: AuditContext) -> Iterator[AuditContext]:
    """Makes `context` the current one for the block (nested blocks restore the outer one)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def source_of(request: HttpRequest) -> str:
    path = request.path_info
    if path.startswith("/" + settings.ADMIN_PATH):
        return Source.ADMIN
    if path.startswith("/api/"):
        return Source.API
    return Source.WEB


def for_request(request: HttpRequest) -> AuditContext:
    return AuditContext(
        source=source_of(request), origin=f"{request.method} {request.path_info}"[:255], request=request
    )


def for_command(name: str) -> AuditContext:
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container), no USER in the environment
        os_user = "unknown"
    return AuditContext(source=Source.COMMAND, origin=f"manage.py {name} (OS user {os_user})"[:255], command=name)


@contextmanager
def command(name: str) -> Iterator[AuditContext]:
    """Every write in the block is recorded as made by the management command `name`."""
    with using(for_command(name)) as context:
        yield context
