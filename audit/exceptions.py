from shop.exceptions import ShopError


class AuditLogIsAppendOnly(ShopError):
    """Someone tried to change or delete an audit entry: the log only ever grows."""

    code = "audit_append_only"
    message = "Audit entries cannot be changed or deleted."
