"""Writes on accounts: creating users, granting roles, and the address book."""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.exceptions import AccountError, AddressNotFound
from accounts.models import Address, User, normalize_email, normalize_postal_code
from accounts.selectors import address_for
from shop.db import TransientError, unit_of_work

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
    """
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    created = user is None
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


def update_user(
    *,
    user: User,
    actor: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    is_seller: bool | None = None,
    is_staff: bool | None = None,
) -> User:
    """Changes a user's profile, and their roles when `actor` is staff. Becoming a seller is `make_seller` (staff flag
    + Sellers group); ceasing to be one leaves the group and the admin unless staff is kept. None means unchanged.

    Raises: AccountError(code="not_allowed") when someone other than staff would change a role (nothing is saved);
    ValidationError (an email already in use in any letter case, or malformed).
    """
    role_changes = {
        name: value
        for name, value in (("is_seller", is_seller), ("is_staff", is_staff))
        if value is not None and value != getattr(user, name)
    }
    if role_changes and actor.role != "staff":
        raise AccountError("Only staff may change roles.", code="not_allowed", fields=sorted(role_changes))
    if email is not None:
        email = normalize_email(email)
        if User.objects.filter(email=email).exclude(pk=user.pk).exists():
            raise ValidationError({"email": ["A user is already registered with this email address."]})
        user.email = email
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
    return user


def deactivate_user(*, user: User) -> User:
    """Closes the account: the user can no longer sign in or use a token; their orders and items are kept."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


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
    if "postal_code" in fields:
        fields["postal_code"] = normalize_postal_code(fields["postal_code"])
    if "country" in fields:
        fields["country"] = (fields["country"] or "").strip().upper()
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
