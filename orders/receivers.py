from django.dispatch import receiver

from accounts.signals import personal_data_erased, personal_data_requested
from orders.selectors import personal_orders
from orders.services import anonymise_orders, claim_guest_orders


def attach_guest_orders(sender, request, email_address, **kwargs) -> None:
    """allauth confirmed that the user owns this address: the orders a guest placed under it are now theirs."""
    claim_guest_orders(user=email_address.user, email=email_address.email)


# The personal data of accounts (GDPR). Connected here, when OrdersConfig.ready() imports this module: accounts sends
# the signals and may not import orders.


@receiver(personal_data_requested, dispatch_uid="orders.export_personal_data")
def export_orders(sender, user, emails, **kwargs) -> dict:
    """The person's orders for `accounts.selectors.export_personal_data`."""
    return {"orders": personal_orders(user=user, emails=emails)}


@receiver(personal_data_erased, dispatch_uid="orders.anonymise_orders")
def anonymise_orders_of_erased_person(sender, user, emails, placeholder, **kwargs) -> None:
    """An erased person's orders are kept for the accounts, anonymised."""
    anonymise_orders(user=user, emails=emails, placeholder=placeholder)
