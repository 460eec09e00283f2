from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed

        from orders.receivers import attach_guest_orders

        email_confirmed.connect(attach_guest_orders, dispatch_uid="orders.attach_guest_orders")
