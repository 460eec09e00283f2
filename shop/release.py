"""What running code is this? Rendered HTML kept in the shared cache outlives a deploy, so its keys name the release.

The default cache lives on disk and survives restarts, and Redis survives them too: a page rendered by the previous
release must not be served after new templates or code are deployed. Every process of one release computes the same
key, once, at its first cached render: `settings.RELEASE` when the deployment names it (the commit id), else a digest
of the contents of the files it runs. Contents, not modification times: a checkout or copy gives the same files new
times (two hosts of one release would disagree), and an edit can keep the old time and size.
"""

import functools
import hashlib
from pathlib import Path

from django.apps import apps
from django.conf import settings

CODE_SUFFIXES = {".py", ".html", ".txt", ".json"}


@functools.cache
def release_key() -> str:
    """`settings.RELEASE`, or a short digest of the project's code, templates, pinned requirements and static
    manifest."""
    if getattr(settings, "RELEASE", ""):
        return str(settings.RELEASE)
    base = Path(settings.BASE_DIR)
    files = [base / "requirements.txt", Path(settings.STATIC_ROOT) / "staticfiles.json"]
    for folder in _code_dirs(base):
        files.extend(path for path in folder.rglob("*") if path.suffix in CODE_SUFFIXES)
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(files):
        try:
            content = path.read_bytes()
        except OSError:  # no static manifest before collectstatic
            continue
        name = path.relative_to(base) if path.is_relative_to(base) else path
        digest.update(f"{name}|{len(content)}|".encode())
        digest.update(content)
    return digest.hexdigest()


def _code_dirs(base: Path) -> list[Path]:
    """The project's templates and every installed app of its own (a new app is covered without a change here)."""
    project = Path(__file__).resolve().parents[1]  # where this project's apps sit (BASE_DIR may be elsewhere)
    own = sorted(Path(config.path).name for config in apps.get_app_configs() if Path(config.path).parent == project)
    return [base / "templates", *(base / name for name in own)]
