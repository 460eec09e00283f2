from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from orders.signals import order_status_changed
        from payments.receivers import close_payments_of_closed_order

        order_status_changed.connect(close_payments_of_closed_order, dispatch_uid="payments.close_on_order_closed")
