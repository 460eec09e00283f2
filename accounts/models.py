from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.signals import users_updated
from shop.countries import country_name, validate_shipping_country
from shop.text import SingleLineCharField


def normalize_email(email: str) -> str:
    """Emails are stored lower-cased so that uniqueness holds whatever the letter case."""
    return (email or "").strip().lower()


def normalize_postal_code(postal_code: str) -> str:
    """Postal codes are stored upper-cased with single spaces ("sw1a  1aa" is "SW1A 1AA")."""
    return " ".join((postal_code or "").split()).upper()


# The checkout form's rule (orders/forms.py): letters, digits, inner spaces or dashes, 3 to 20 characters.
validate_postal_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9 -]{1,18}[A-Za-z0-9]$",
    message="Enter a postal code of letters, digits, spaces or dashes.",
    code="invalid_postal_code",
)


class UserQuerySet(models.QuerySet):
    """Django sends no `post_save` for `update()` and `bulk_update()`: `users_updated` says which rows they wrote, so
    every process reads those users again (`accounts.selectors.signed_in_user`)."""

    def update(self, **kwargs) -> int:
        user_ids = list(self.values_list("pk", flat=True))
        rows = super().update(**kwargs)
        users_updated.send(sender=self.model, user_ids=user_ids)
        return rows

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        objs = list(objs)
        rows = super().bulk_update(objs, fields, batch_size=batch_size)
        users_updated.send(sender=self.model, user_ids=[obj.pk for obj in objs])
        return rows


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str) -> str:
        return normalize_email(email)

    def get_by_natural_key(self, email: str):
        return self.get(email=normalize_email(email))

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person with an account; the email is the login. Roles: shopper, seller, staff/superuser."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    # AbstractUser's names, on one line: they reach emails, the admin and order timelines (`shop.text`).
    first_name = SingleLineCharField(_("first name"), max_length=150, blank=True)
    last_name = SingleLineCharField(_("last name"), max_length=150, blank=True)
    is_seller = models.BooleanField(
        _("seller"), default=False, help_text=_("Sellers may enter the admin to manage their own items.")
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    # Who may do what is decided here, once; every other module reads these properties (modules below accounts in
    # the layers read them off `request.user` with getattr, since AnonymousUser has none of them).

    @property
    def is_shop_staff(self) -> bool:
        """Runs the whole shop. Sellers carry Django's is_staff flag only to enter the admin for their own items."""
        return self.is_superuser or (self.is_staff and not self.is_seller)

    @property
    def is_scoped_seller(self) -> bool:
        """A seller who is not a superuser: sees and manages only their own items, order lines and sales."""
        return self.is_seller and not self.is_superuser

    @property
    def has_back_office_access(self) -> bool:
        """Enters the admin or manages the shop: staff, superusers and sellers (whose writes are audited, and who
        must use two factors when settings.SHOP_REQUIRE_2FA says so)."""
        return self.is_staff or self.is_superuser or self.is_seller

    @property
    def role(self) -> str:
        if self.is_shop_staff:
            return "staff"
        return "seller" if self.is_seller else "shopper"


class Address(models.Model):
    """A shipping address in a shopper's address book. Each user with addresses has exactly one default one
    (`accounts.services` keeps it so; the constraint refuses a second)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("user")
    )
    name = SingleLineCharField(_("full name"), max_length=200)
    line1 = SingleLineCharField(_("street and number"), max_length=200)
    line2 = SingleLineCharField(_("apartment, suite, etc."), max_length=200, blank=True)
    postal_code = SingleLineCharField(_("postal code"), max_length=20, validators=[validate_postal_code])
    city = SingleLineCharField(_("city"), max_length=100)
    country = SingleLineCharField(
        _("country"), max_length=2, validators=[validate_shipping_country], help_text=_("ISO 3166-1 alpha-2 code.")
    )
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        # The pk breaks ties: MongoDB stores times to the millisecond.
        ordering = ["-is_default", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="address_one_default_per_user"
            )
        ]

    def __str__(self) -> str:
        return ", ".join(
            part
            for part in (self.name, self.line1, self.line2, f"{self.postal_code} {self.city}", self.country)
            if part
        )

    @property
    def country_name(self) -> str:
        return country_name(self.country)


class BlacklistedToken(models.Model):
    """A refresh token that may never be used again: spent by a rotation, or given up at logout. Its `jti` is unique,
    so of two requests racing to spend one token exactly one wins (`accounts.tokens`). Rows are dropped once the
    token would have expired anyway."""

    jti = models.CharField(_("token id"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    blacklisted_at = models.DateTimeField(_("blacklisted"), auto_now_add=True)

    class Meta:
        verbose_name = _("blacklisted refresh token")
        verbose_name_plural = _("blacklisted refresh tokens")

    def __str__(self) -> str:
        return self.jti
