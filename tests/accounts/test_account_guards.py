"""Who may manage whose account (`accounts.selectors.may_manage`): staff manage shoppers and sellers; another staff
member's or a superuser's account is a superuser's to change. An email or password set by a peer would hand them the
account (a password reset goes to the new address). Second factors are reset by an audited action, never shown."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group, Permission

from accounts.services import reset_second_factor
from audit.models import AuditEntry
from shop.exceptions import ShopError
from tests.api.conftest import client_for
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def clerk(db):
    """Staff, not a superuser, with every permission on users (through a group)."""
    clerk = UserFactory(email="clerk@example.com", is_staff=True)
    group = Group.objects.create(name="User managers")
    group.permissions.set(Permission.objects.filter(content_type__app_label="accounts", codename__endswith="_user"))
    clerk.groups.add(group)
    return clerk


def _peer():
    return UserFactory(email="peer@example.com", is_staff=True)


@pytest.mark.parametrize("target", ["root", "peer"])
@pytest.mark.parametrize("change", [{"email": "attacker@example.com"}, {"is_staff": False}, {"first_name": "Zed"}])
def test_staff_cannot_change_a_superusers_or_a_peers_account_through_the_api(request, clerk, target, change):
    person = request.getfixturevalue("root") if target == "root" else _peer()
    before = (person.email, person.is_staff, person.first_name)
    response = client_for(clerk).patch(f"/api/users/{person.pk}", change, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    person.refresh_from_db()
    assert (person.email, person.is_staff, person.first_name) == before


def test_staff_still_manage_shoppers_and_sellers_and_superusers_manage_staff(clerk, root):
    shopper, seller, peer = UserFactory(), SellerFactory(), _peer()
    for person in (shopper, seller):
        response = client_for(clerk).patch(
            f"/api/users/{person.pk}", {"email": f"new{person.pk}@example.com"}, format="json"
        )
        assert response.status_code == 200
    assert client_for(root).patch(f"/api/users/{peer.pk}", {"is_staff": False}, format="json").status_code == 200
    peer.refresh_from_db()
    assert not peer.is_staff


def test_staff_cannot_erase_a_peer(clerk):
    peer = _peer()
    assert client_for(clerk).delete(f"/api/users/{peer.pk}").status_code == 403
    peer.refresh_from_db()
    assert peer.is_active and peer.email == "peer@example.com"


@pytest.mark.parametrize("target", ["root", "peer"])
def test_in_the_admin_staff_cannot_set_a_superusers_or_a_peers_password_or_email(request, client, clerk, target):
    person = request.getfixturevalue("root") if target == "root" else _peer()
    client.force_login(clerk)
    password_form = f"/admin/accounts/user/{person.pk}/password/"
    response = client.post(password_form, {"password1": "Taken-over-123", "password2": "Taken-over-123"})
    assert response.status_code == 403
    change = client.post(f"/admin/accounts/user/{person.pk}/change/", {"email": "attacker@example.com"})
    assert change.status_code == 403
    person.refresh_from_db()
    assert not person.check_password("Taken-over-123") and person.email != "attacker@example.com"


def test_in_the_admin_staff_set_a_shoppers_password_but_not_their_groups(client, clerk):
    shopper = UserFactory()
    client.force_login(clerk)
    page = client.get(f"/admin/accounts/user/{shopper.pk}/change/")
    assert page.status_code == 200 and 'name="groups"' not in page.content.decode()
    url = f"/admin/accounts/user/{shopper.pk}/password/"
    response = client.post(url, {"password1": "New-pass-4567", "password2": "New-pass-4567", "usable_password": "true"})
    assert response.status_code == 302
    shopper.refresh_from_db()
    assert shopper.check_password("New-pass-4567")


def test_the_admin_does_not_list_second_factors(client, root):
    """allauth.mfa's own admin showed a TOTP secret in plain text, and let it be replaced."""
    TOTP.activate(root, generate_totp_secret())
    client.force_login(root)
    assert client.get("/admin/mfa/authenticator/").status_code == 404


def test_resetting_a_second_factor_removes_it_and_is_audited_without_the_secret(client, root):
    seller = SellerFactory()
    secret = generate_totp_secret()
    TOTP.activate(seller, secret)
    client.force_login(root)
    response = client.post(
        "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [seller.pk]}, follow=True
    )
    assert "two-factor authentication removed" in response.content.decode()
    assert not Authenticator.objects.filter(user=seller).exists()
    entries = AuditEntry.objects.filter(model="mfa.authenticator", action="delete")
    assert entries.count() == 1 and entries.get().actor == root
    assert secret not in str(entries.get().changes) and entries.get().changes["data"] == ["********", None]


def test_staff_cannot_reset_a_superusers_second_factor(clerk, root):
    TOTP.activate(root, generate_totp_secret())
    with pytest.raises(ShopError):
        reset_second_factor(user=root, actor=clerk)
    assert Authenticator.objects.filter(user=root).exists()


def test_erasure_erases_the_person_from_the_audit_trail_but_keeps_what_was_done(root):
    person = UserFactory(email="jane.doe@example.com", first_name="Jane", last_name="Doe")
    client_for(root).patch(f"/api/users/{person.pk}", {"first_name": "Janet"}, format="json")
    assert client_for(root).delete(f"/api/users/{person.pk}").status_code == 200
    entries = AuditEntry.objects.filter(model__in=["accounts.user", "account.emailaddress"])
    text = " ".join(f"{entry.object_repr} {entry.changes}" for entry in entries)
    assert "jane.doe" not in text and "Jane" not in text and "Doe" not in text
    update = entries.filter(model="accounts.user", object_id=str(person.pk), action="update").order_by("created_at")
    assert update.first().changes["first_name"] == ["[erased]", "[erased]"] and update.first().actor == root
    assert update.last().changes["is_active"] == [True, False]


@pytest.fixture
def address_clerk(clerk):
    """The clerk, also allowed every change to allauth's email addresses."""
    perms = Permission.objects.filter(content_type__app_label="account", codename__endswith="_emailaddress")
    clerk.groups.get().permissions.add(*perms)
    return clerk


def test_staff_cannot_give_a_superuser_an_address_of_theirs(client, address_clerk, root):
    """A verified address of the clerk's on the superuser's account would receive its password resets."""
    from allauth.account.models import EmailAddress

    client.force_login(address_clerk)
    form = {"user": root.pk, "email": "mine@example.com", "verified": "on", "primary": ""}
    response = client.post("/admin/account/emailaddress/add/", form)
    assert response.status_code == 403
    assert not EmailAddress.objects.filter(email="mine@example.com").exists()


def test_staff_verify_a_shoppers_address_but_not_a_peers(client, address_clerk):
    from allauth.account.models import EmailAddress

    shopper, peer = UserFactory(email="shopper@example.com"), _peer()
    addresses = [EmailAddress.objects.create(user=person, email=f"second-{person.pk}@example.com") for person in
                 (shopper, peer)]  # fmt: skip
    client.force_login(address_clerk)
    page = client.post(
        "/admin/account/emailaddress/",
        {"action": "make_verified", "_selected_action": [address.pk for address in addresses]},
        follow=True,
    )
    assert "Skipped the addresses" in page.content.decode()
    verified = dict(EmailAddress.objects.filter(pk__in=[a.pk for a in addresses]).values_list("user_id", "verified"))
    assert verified == {shopper.pk: True, peer.pk: False}
    assert client.get(f"/admin/account/emailaddress/{addresses[1].pk}/delete/").status_code == 403


def test_the_admin_does_not_show_email_confirmation_keys(client, root):
    client.force_login(root)
    assert client.get("/admin/account/emailconfirmation/").status_code == 404


def test_a_crash_midway_through_an_erasure_or_a_second_factor_reset_leaves_all_as_it_was(root, crash_at):
    """Erasure (the account, its addresses, second factors, the audit trail's blanks) and a reset of both a TOTP and
    its recovery codes are each one unit: dying between their steps changes nothing."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from accounts.services import erase_personal_data
    from tests.conftest import Crash

    person = UserFactory(email="jane.doe@example.com", first_name="Jane")
    client_for(root).patch(f"/api/users/{person.pk}", {"first_name": "Janet"}, format="json")
    TOTP.activate(person, generate_totp_secret())
    RecoveryCodes.activate(person)

    crash_at("accounts.row_deleted")  # after the first authenticator went
    with pytest.raises(Crash):
        reset_second_factor(user=person, actor=root)
    assert Authenticator.objects.filter(user=person).count() == 2

    crash_at("erase_personal_data.user_erased")  # the account blanked, the audit trail not yet
    with pytest.raises(Crash):
        erase_personal_data(user=person, actor=root)
    person.refresh_from_db()
    assert (person.email, person.first_name, person.is_active) == ("jane.doe@example.com", "Janet", True)
    assert Authenticator.objects.filter(user=person).count() == 2
    assert AuditEntry.objects.filter(model="accounts.user", changes__first_name=["Jane", "Janet"]).exists()
