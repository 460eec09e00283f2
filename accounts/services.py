"""Writes on accounts: creating users, granting roles, changing emails the verified way, the address book, and
erasing a person's data (GDPR)."""

from dataclasses import dataclass
from importlib import import_module

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.email_verification import consume_email_verification_rate_limit
from allauth.account.models import EmailAddress
from allauth.core.context import request_context
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest
from django.utils import timezone

from accounts.exceptions import AccountError, AddressNotFound
from accounts.models import Address, User, normalize_email, normalize_postal_code
from accounts.selectors import address_for, email_in_use, may_manage, verified_emails
from accounts.signals import personal_data_erased
from audit.services import erase_from_trail
from shop.db import TransientError, checkpoint, on_commit, unit_of_work

SELLERS_GROUP = "Sellers"

# What a seller may do in the admin: manage items (scoped to their own by the admin) and read order lines.
SELLER_PERMISSIONS = [
    ("catalog", "view_item"),
    ("catalog", "add_item"),
    ("catalog", "change_item"),
    ("catalog", "delete_item"),
    ("catalog", "view_category"),
    ("orders", "view_orderline"),
]


def ensure_sellers_group() -> Group:
    """The Sellers group exists and holds exactly the seller permissions that are installed."""
    group, _ = Group.objects.get_or_create(name=SELLERS_GROUP)
    wanted = []
    for app_label, codename in SELLER_PERMISSIONS:
        wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
    group.permissions.set(wanted)
    return group


def create_user(*, email: str, password: str | None, **fields) -> User:
    """A new active user with a normalised email; `password=None` leaves it unusable."""
    user = User(email=normalize_email(email), **fields)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def make_seller(*, email: str, password: str | None = None) -> tuple[User, bool]:
    """Creates or promotes the user with this email to seller (staff flag + Sellers group).

    Returns (user, created). An existing user's password changes only when one is given.
    Raises: AccountError(code="cannot_sell") for staff or a superuser (they manage every item already; as a seller they
    would see only their own) and for a deactivated (or erased) account.
    """
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    created = user is None
    if not created and (user.is_shop_staff or not user.is_active):
        why = "is staff, who manage every item already" if user.is_shop_staff else "is deactivated"
        raise AccountError(f"{user.email} {why}: not made a seller.", code="cannot_sell")
    if created:
        user = create_user(email=email, password=password)
    elif password:
        user.set_password(password)
    user.is_seller = True
    user.is_staff = True
    user.save()
    user.groups.add(ensure_sellers_group())
    return user, created


def make_sellers(*, users) -> tuple[list[User], list[tuple[User, str]]]:
    """Promotes each user to seller as `make_seller` does, skipping those it makes no sense for.

    Returns (promoted, skipped) where each skipped entry carries the reason: sellers already are ones, staff and
    superusers manage every item (the seller role would narrow staff to their own), inactive users cannot sign in.
    """
    promoted, skipped = [], []
    for user in users:
        if user.is_seller:
            skipped.append((user, "already a seller"))
        elif user.is_superuser or user.is_staff:
            skipped.append((user, "staff already manage every item"))
        elif not user.is_active:
            skipped.append((user, "inactive"))
        else:
            promoted.append(make_seller(email=user.email)[0])
    return promoted, skipped


@dataclass(frozen=True)
class UserUpdate:
    """What `update_user` did: the user as saved, and the address a confirmation link went to (None: no email
    change was asked for, or staff set it directly)."""

    user: User
    confirmation_sent_to: str | None = None


@unit_of_work
def update_user(
    *,
    user: User,
    actor: User,
    request: HttpRequest | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    is_seller: bool | None = None,
    is_staff: bool | None = None,
    current_password: str | None = None,
) -> UserUpdate:
    """Changes a user's profile, and their roles when `actor` is staff. Becoming a seller is `make_seller` (staff flag
    + Sellers group); ceasing to be one leaves the group and the admin unless staff is kept. None means unchanged.

    A user changing their own email gives their `current_password` (whoever holds a stolen token must not move the
    account to a mailbox of theirs, then reset the password) and goes through `request_email_change` (the address
    changes once they confirm it; `request` builds the link); staff changing someone else's set it at once with
    `set_email`.

    Raises: AccountError(code="not_allowed") when someone other than staff would change a role, or staff other than a
    superuser would change another staff member's account (`accounts.selectors.may_manage`; nothing is saved);
    ValidationError (a wrong or missing current password for one's own email, staff setting an email already in
    use, or a malformed field).
    """
    role_changes = {
        name: value
        for name, value in (("is_seller", is_seller), ("is_staff", is_staff))
        if value is not None and value != getattr(user, name)
    }
    if role_changes and actor.role != "staff":
        raise AccountError("Only staff may change roles.", code="not_allowed", fields=sorted(role_changes))
    check_may_manage(actor=actor, user=user)
    sent_to = None
    if email is not None and normalize_email(email) != user.email:
        if actor.role == "staff" and actor.pk != user.pk:
            user = set_email(user=user, email=email)
        else:
            if not user.check_password(current_password or ""):
                raise ValidationError({"current_password": "Give your current password to change your email."})
            if request is None:
                raise TypeError("update_user() needs the request to mail the confirmation link")
            request_email_change(request=request, user=user, email=email)
            sent_to = normalize_email(email)
    if first_name is not None:
        user.first_name = first_name
    if last_name is not None:
        user.last_name = last_name
    user.full_clean(exclude=["password"])
    user.save()
    if role_changes.get("is_seller") is True:
        user, _ = make_seller(email=user.email)
    elif role_changes.get("is_seller") is False:
        user.is_seller = False
        user.is_staff = bool(is_staff)
        user.save(update_fields=["is_seller", "is_staff"])
        user.groups.remove(ensure_sellers_group())
    if "is_staff" in role_changes and not user.is_seller:
        user.is_staff = role_changes["is_staff"]
        user.save(update_fields=["is_staff"])
    return UserUpdate(user=user, confirmation_sent_to=sent_to)


def _mail_address_check(*, request: HttpRequest, address: EmailAddress, signup: bool) -> None:
    """Mails a confirmation link to an address being added (a stored row), or, for an address another account
    holds (an unsaved row), allauth's "you already have an account" mail to its owner. Both count against allauth's
    rate limit per address, so that the two cases look alike and a flood of requests is not a flood of mail (an
    earlier link stays valid)."""
    if not consume_email_verification_rate_limit(request, address.email):
        return
    with request_context(request):  # allauth builds the mails' links from the request in its context
        if address.pk is None:
            get_adapter(request).send_account_already_exists_mail(address.email)
        else:
            address.send_confirmation(request, signup=signup)


@unit_of_work
def sign_up(*, request: HttpRequest, email: str, password: str, first_name: str = "", last_name: str = "") -> None:
    """Creates a shopper with an unconfirmed primary address and mails them the confirmation link. An address already
    in use creates nothing: its owner is mailed that they have an account (allauth's ACCOUNT_PREVENT_ENUMERATION),
    and the caller is told nothing that differs from a fresh signup, so it returns nothing either way."""
    email = normalize_email(email)
    if email_in_use(email=email):
        make_password(password)  # as long as a real signup takes, so that timing does not tell the two apart
        _mail_address_check(request=request, address=EmailAddress(email=email), signup=True)
        return
    user = create_user(email=email, password=password, first_name=first_name, last_name=last_name)
    address = EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    _mail_address_check(request=request, address=address, signup=True)


@unit_of_work
def request_email_change(*, request: HttpRequest, user: User, email: str) -> EmailAddress | None:
    """Starts changing the user's email the verified way: the new address is stored unverified beside the current
    one (replacing an earlier pending change) and a confirmation link is mailed to it. Only confirming it (allauth,
    ACCOUNT_CHANGE_EMAIL) makes it the primary address and `User.email`, and removes every other address of the
    user, so that the old one no longer logs in or receives password resets. Until then nothing changes.

    An address another account holds is not stored: its owner is mailed that they have an account, and the caller
    is told the same as for a free address. Returns the pending address, or None when nothing was stored (the
    address taken, or already the user's email).
    """
    email = normalize_email(email)
    if email == user.email:
        return None
    if email_in_use(email=email, other_than=user):
        _mail_address_check(request=request, address=EmailAddress(email=email), signup=False)
        return None
    # Not allauth's add_new_email(): it takes the newest unverified row for the pending change, which under optional
    # verification may be the current address itself, and removing that would blank User.email.
    EmailAddress.objects.filter(user_id=user.pk, verified=False).exclude(email__in=[user.email, email]).delete()
    address = EmailAddress.objects.filter(user_id=user.pk, email=email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=email, primary=False, verified=False)
    _mail_address_check(request=request, address=address, signup=False)
    return address


@unit_of_work
def set_email(*, user: User, email: str) -> User:
    """Staff set a user's email directly (no confirmation: staff act on the person's request). Every address allauth
    held for the user is deleted, so the old one no longer logs in, receives password resets or claims guest orders;
    the new one is recorded as the primary address, unverified (the user confirms it from their email page, and only
    then are guest orders under it theirs).

    Raises: ValidationError (the address is malformed or another account holds it).
    """
    email = normalize_email(email)
    if email_in_use(email=email, other_than=user):
        raise ValidationError({"email": ["A user is already registered with this email address."]})
    user.email = email
    user.full_clean(exclude=["password"])
    user.save()
    EmailAddress.objects.filter(user_id=user.pk).delete()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    return user


def check_may_manage(*, actor: User, user: User) -> None:
    """Raises: AccountError(code="not_allowed") unless `actor` may change `user`'s account (`may_manage`)."""
    if not may_manage(actor=actor, user=user):
        raise AccountError("Only a superuser may change another staff member's account.", code="not_allowed")


@unit_of_work
def reset_second_factor(*, user: User, actor: User) -> int:
    """Removes the user's second factor (authenticator app and recovery codes), for someone who lost their phone: at
    their next login they sign in with their password and, if they manage the shop, set up a new one before anything
    else (`accounts.middleware`). Each removed authenticator is recorded on the audit trail, its secret masked.
    Returns how many were removed.

    Raises: AccountError(code="not_allowed") when `actor` may not manage the account (`may_manage`).
    """
    check_may_manage(actor=actor, user=user)
    return _delete_rows_of(user=user, app_label="mfa", model_name="Authenticator", app="allauth.mfa")


def deactivate_user(*, user: User) -> User:
    """Closes the account: the user can no longer sign in or use a token; their orders and items are kept."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: can never receive mail


def erased_email(*, user: User) -> str:
    """The anonymous address that replaces an erased user's email: unique, stable, and naming nobody."""
    return f"erased-{user.pk}@{ERASED_EMAIL_DOMAIN}"


def _delete_rows_of(*, user: User, app_label: str, model_name: str, app: str) -> int:
    """Deletes the user's rows of a model of an optional app (allauth's MFA and social accounts), if installed, one
    by one (so that each deletion is audited); returns how many there were."""
    if not apps.is_installed(app):
        return 0
    rows = list(apps.get_model(app_label, model_name).objects.filter(user_id=user.pk))
    for row in rows:
        row.delete()
        checkpoint("accounts.row_deleted")
    return len(rows)


@unit_of_work
def erase_personal_data(*, user: User, actor: User) -> User:
    """Erases a person's account (GDPR "right to erasure"), all or nothing: names, saved addresses, allauth's email
    addresses, MFA authenticators and social accounts are deleted; the email becomes `erased_email()`, and the old
    email and names are erased from the audit trail's entries about the account (`audit.services.erase_from_trail`;
    what was done to it, by whom and when, stays); the password
    becomes unusable; the account is deactivated by a save of the user (so whatever watches `is_active`, such as
    token revocation, sees it). The apps above contribute their part through `personal_data_erased` (orders: kept
    for the accounts, buyer's address and email anonymised; the cart emptied). Once committed, every session of the
    user is deleted. Running it again on an erased account changes nothing more.

    Raises: AccountError(code="not_allowed") when `actor` may not manage the account (`accounts.selectors.may_manage`).
    """
    check_may_manage(actor=actor, user=user)
    placeholder = erased_email(user=user)
    personal_data_erased.send(sender=User, user=user, emails=verified_emails(user=user), placeholder=placeholder)
    Address.objects.filter(user_id=user.pk).delete()
    address_ids = list(EmailAddress.objects.filter(user_id=user.pk).values_list("pk", flat=True))
    EmailAddress.objects.filter(user_id=user.pk).delete()
    _delete_rows_of(user=user, app_label="mfa", model_name="Authenticator", app="allauth.mfa")
    _delete_rows_of(user=user, app_label="socialaccount", model_name="SocialAccount", app="allauth.socialaccount")
    user.email = placeholder
    user.first_name = ""
    user.last_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.save()
    checkpoint("erase_personal_data.user_erased")
    # The audit trail keeps what staff did to the account, but no longer whose it was.
    erase_from_trail(model=User, object_ids=[user.pk], fields={"email", "first_name", "last_name"})
    erase_from_trail(model=EmailAddress, object_ids=address_ids, fields={"email"})
    user_pk = user._meta.pk.value_to_string(user)
    on_commit(lambda: end_sessions(user_pk=user_pk))
    return user


# Session engines whose sessions are rows we can find; the others (signed cookies, cache only) cannot be listed, and
# are ended anyway: the password hash they carry no longer matches, and the user is inactive.
DATABASE_SESSION_ENGINES = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}


def end_sessions(*, user_pk: str) -> int:
    """Deletes every unexpired session signed in as this user (row and cached copy). Returns how many."""
    if settings.SESSION_ENGINE not in DATABASE_SESSION_ENGINES:
        return 0
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == user_pk:
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


ADDRESS_FIELDS = frozenset({"name", "line1", "line2", "postal_code", "city", "country"})


def _defaults_of(*, user: User, other_than=None):
    defaults = Address.objects.filter(user_id=user.pk, is_default=True)
    return defaults if other_than is None else defaults.exclude(pk=other_than)


def _clear_default(*, user: User, keep_pk=None) -> None:
    """Unflags the user's default address (other than `keep_pk`), before another one is flagged: the constraint
    allows one default per user at any moment, and every default change writes the old default's row, so two
    concurrent changes conflict on it (SQLite queues them, MongoDB aborts one and the unit runs it again)."""
    _defaults_of(user=user, other_than=keep_pk).update(is_default=False)


@unit_of_work
def save_address(*, user: User, address: Address | None = None, **fields) -> Address:
    """Adds an address to the user's book, or changes `address` (only the fields given), and returns it. The
    user's first address becomes the default, `is_default=True` makes this one the default, and the default stays
    the default (`is_default=False` cannot leave the book without one: make another address the default instead).

    Raises: AddressNotFound (`address` is another user's or gone); ValidationError (a field is missing or malformed,
    or a country the shop does not ship to); TypeError for an unknown field.
    """
    make_default = bool(fields.pop("is_default", False))
    unknown = set(fields) - ADDRESS_FIELDS
    if unknown:
        raise TypeError(f"save_address() got unknown address fields: {', '.join(sorted(unknown))}")
    fields = _normalized_address(fields)
    if address is None:
        target = Address(user=user)
    else:
        # Read again inside the transaction: the caller's copy may be stale, or of a row deleted meanwhile.
        target = address_for(user=user, address_id=address.pk)
        if target is None:
            raise AddressNotFound()
    for name, value in fields.items():
        setattr(target, name, value)
    # The one-default constraint is checked by the database after _clear_default, not against the rows as they are.
    target.full_clean(exclude=["user"], validate_constraints=False)
    others_have_default = _defaults_of(user=user, other_than=target.pk).exists()
    target.is_default = make_default or target.is_default or not others_have_default
    if target.is_default and others_have_default:
        _clear_default(user=user, keep_pk=target.pk)
    try:
        target.save()
    except IntegrityError as error:  # a concurrent unit flagged its own first address as default
        raise TransientError("another address became the default meanwhile") from error
    return target


@unit_of_work
def keep_address(*, user: User, **fields) -> Address:
    """The user's saved address with exactly these fields, else a new one (`save_address`): "save this address" at
    checkout, submitted twice or for an address already in the book, keeps one entry."""
    known = Address.objects.filter(user_id=user.pk, **_normalized_address(fields)).first()
    return known if known is not None else save_address(user=user, **fields)


def _normalized_address(fields: dict) -> dict:
    """Address fields as the book stores them: the postal code normalised, the country an upper-case code."""
    fields = dict(fields)
    if "postal_code" in fields:
        fields["postal_code"] = normalize_postal_code(fields["postal_code"])
    if "country" in fields:
        fields["country"] = (fields["country"] or "").strip().upper()
    return fields


@unit_of_work
def delete_address(*, user: User, address_id: object) -> None:
    """Deletes the user's address; when it was the default, the newest remaining address becomes the default.

    Raises: AddressNotFound (unknown, malformed or another user's id).
    """
    address = address_for(user=user, address_id=address_id)
    if address is None:
        raise AddressNotFound()
    address.delete()
    if address.is_default:
        successor = Address.objects.filter(user_id=user.pk).order_by("-created_at", "-pk").first()
        if successor is not None:
            Address.objects.filter(pk=successor.pk).update(is_default=True)


@unit_of_work
def set_default_address(*, user: User, address_id: object) -> Address:
    """Makes the user's address the default (the previous default no longer is) and returns it.

    Raises: AddressNotFound (unknown, malformed or another user's id).
    """
    address = address_for(user=user, address_id=address_id)
    if address is None:
        raise AddressNotFound()
    if not address.is_default:
        _clear_default(user=user, keep_pk=address.pk)
        Address.objects.filter(pk=address.pk).update(is_default=True)
        address.is_default = True
    return address
