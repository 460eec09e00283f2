from orders.services import claim_guest_orders


def attach_guest_orders(sender, request, email_address, **kwargs) -> None:
    """allauth confirmed that the user owns this address: the orders a guest placed under it are now theirs."""
    claim_guest_orders(user=email_address.user, email=email_address.email)
