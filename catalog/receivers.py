from catalog.services import bump_catalog_revision


def catalog_changed(sender, **kwargs) -> None:
    """An item or category was saved or deleted (admin, shell, services): cached pages must not show the old one."""
    bump_catalog_revision()
