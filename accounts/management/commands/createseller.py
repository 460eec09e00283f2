from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from accounts.services import make_seller
from audit.commands import AuditedCommand
from shop.exceptions import ShopError


class Command(AuditedCommand):
    help = "Creates a seller with this email, or promotes an existing user to seller."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", help="Set this password (a new seller without one cannot log in yet).")

    def handle(self, *args, email: str, password: str | None, **options):
        try:
            validate_email(email)
        except ValidationError as err:
            raise CommandError(f"{email!r} is not a valid email address.") from err
        if password:
            try:
                validate_password(password)
            except ValidationError as err:
                raise CommandError(" ".join(err.messages)) from err
        try:
            user, created = make_seller(email=email, password=password)
        except ShopError as err:
            raise CommandError(str(err)) from err
        verb = "Created" if created else "Promoted"
        self.stdout.write(self.style.SUCCESS(f"{verb} seller {user.email}."))
        if created and not password:
            self.stdout.write("No password set: use --password or the password reset page.")
