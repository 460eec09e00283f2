from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from orders.signals import order_status_changed, refund_requested
        from payments.receivers import close_payments_of_closed_order, finish_refund_later

        order_status_changed.connect(close_payments_of_closed_order, dispatch_uid="payments.close_on_order_closed")
        refund_requested.connect(finish_refund_later, dispatch_uid="payments.finish_refund_later")
