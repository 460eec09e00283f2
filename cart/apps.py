from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"
    verbose_name = "Cart"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import pre_delete

        from accounts.signals import personal_data_erased, personal_data_requested
        from cart.receivers import empty_cart_of_erased_person, export_cart, item_deleted, merge_cart_on_login

        user_logged_in.connect(merge_cart_on_login, dispatch_uid="cart.merge_cart_on_login")
        pre_delete.connect(item_deleted, sender="catalog.Item", dispatch_uid="cart.item_deleted")
        personal_data_requested.connect(export_cart, dispatch_uid="cart.export_personal_data")
        personal_data_erased.connect(empty_cart_of_erased_person, dispatch_uid="cart.empty_cart_of_erased_person")
