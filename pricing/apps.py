from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Prices, tax and shipping"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts.signals import personal_data_erased, personal_data_requested
        from pricing import models
        from pricing.receivers import anonymise_redemptions_of_erased_person, export_redemptions, pricing_changed

        personal_data_requested.connect(export_redemptions, dispatch_uid="pricing.export_personal_data")
        personal_data_erased.connect(anonymise_redemptions_of_erased_person, dispatch_uid="pricing.anonymise")

        for model in (
            models.TaxRate,
            models.ShippingZone,
            models.ShippingMethod,
            models.WeightTier,
            models.DiscountCode,
        ):
            for signal in (post_save, post_delete):
                signal.connect(pricing_changed, sender=model, dispatch_uid=f"pricing.changed.{model.__name__}.{signal}")
        m2m_changed.connect(
            pricing_changed, sender=models.DiscountCode.categories.through, dispatch_uid="pricing.changed.categories"
        )
