from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


def normalize_email(email: str) -> str:
    """Emails are stored lower-cased so that uniqueness holds whatever the letter case."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
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

    @property
    def is_shop_staff(self) -> bool:
        """Runs the whole shop. Sellers carry Django's is_staff flag only to enter the admin for their own items."""
        return self.is_superuser or (self.is_staff and not self.is_seller)

    @property
    def role(self) -> str:
        if self.is_shop_staff:
            return "staff"
        return "seller" if self.is_seller else "shopper"
