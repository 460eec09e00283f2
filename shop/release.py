"""What running code is this? Rendered HTML kept in the shared cache outlives a deploy, so its keys name the release.

The default cache lives on disk and survives restarts, and Redis survives them too: a page rendered by the previous
release must not be served after new templates or code are deployed. Every process of one release computes the same
key from the files it runs (paths, sizes and modification times), once, at its first cached render.
"""

import functools
import hashlib
from pathlib import Path

from django.conf import settings

CODE_DIRS = ("templates", "shop", "accounts", "catalog", "cart", "orders", "payments")
CODE_SUFFIXES = {".py", ".html", ".txt", ".json"}


@functools.cache
def release_key() -> str:
    """A short digest of the project's code, templates, pinned requirements and static manifest."""
    base = Path(settings.BASE_DIR)
    files = [base / "requirements.txt", Path(settings.STATIC_ROOT) / "staticfiles.json"]
    for name in CODE_DIRS:
        files.extend(path for path in (base / name).rglob("*") if path.suffix in CODE_SUFFIXES)
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(files):
        try:
            stat = path.stat()
        except OSError:  # no static manifest before collectstatic
            continue
        digest.update(f"{path.relative_to(base) if path.is_relative_to(base) else path}|{stat.st_size}|".encode())
        digest.update(str(stat.st_mtime_ns).encode())
    return digest.hexdigest()
