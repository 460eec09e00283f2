"""Writes on accounts: creating users and granting roles."""

from django.contrib.auth.models import Group, Permission

from accounts.models import User, normalize_email

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
