import os
from pathlib import Path

from shop.release import release_key


def _key() -> str:
    release_key.cache_clear()
    return release_key()


def test_release_key_changes_when_a_template_or_module_is_deployed(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    (tmp_path / "templates").mkdir()
    (tmp_path / "catalog").mkdir()
    template = tmp_path / "templates" / "base.html"
    template.write_text("<html>")
    module = tmp_path / "catalog" / "views.py"
    module.write_text("x = 1\n")
    try:
        first = _key()
        assert _key() == first  # the same files, the same key: every worker of a release agrees

        os.utime(template, ns=(1, 1))
        assert _key() == first  # a new modification time alone (a fresh checkout) is the same release
        times = module.stat().st_atime_ns, module.stat().st_mtime_ns
        module.write_text("x = 2\n")  # same size...
        os.utime(module, ns=times)  # ...and same modification time: still a new release
        second = _key()
        assert second != first
        module.write_text("x = 22\n")
        assert _key() != second
        (tmp_path / "catalog" / "notes.md").write_text("not code")
        third = _key()
        assert _key() == third
    finally:
        release_key.cache_clear()


def test_a_release_named_by_the_deployment_is_the_key(settings):
    settings.RELEASE = "3f9c2ab"
    try:
        assert _key() == "3f9c2ab"
    finally:
        release_key.cache_clear()


def test_every_app_of_the_project_is_part_of_the_release():
    from shop.release import _code_dirs

    names = {folder.name for folder in _code_dirs(Path("/base"))}
    assert {"templates", "shop", "accounts", "catalog", "pricing", "cart", "orders", "payments"} <= names
