import threading

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.exceptions import AddressNotFound
from accounts.models import Address
from accounts.selectors import address_for, addresses_for, default_address
from accounts.services import delete_address, save_address, set_default_address
from tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = {"name": "Ann Buyer", "line1": "1 Main Street", "line2": "", "postal_code": "10115", "city": "Berlin",
          "country": "DE"}  # fmt: skip
PARIS = {**BERLIN, "line1": "2 Rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"}
VIENNA = {**BERLIN, "line1": "3 Ring", "postal_code": "1010", "city": "Vienna", "country": "AT"}
LIST = reverse("accounts:address_list")
NEW = reverse("accounts:address_create")


def defaults_of(user) -> list[str]:
    """The cities of the user's addresses flagged default, as stored."""
    return list(Address.objects.filter(user=user, is_default=True).values_list("city", flat=True))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def gone_id(user) -> str:
    """An id in the backend's form that names no address."""
    address = AddressFactory(user=user)
    pk = address.pk
    address.delete()
    return str(pk)


# Services


def test_the_first_address_becomes_the_default_and_later_ones_do_not(user):
    first = save_address(user=user, **BERLIN)
    second = save_address(user=user, **PARIS)

    assert first.is_default and not second.is_default
    assert defaults_of(user) == ["Berlin"]


def test_saving_an_address_as_default_moves_the_default(user):
    save_address(user=user, **BERLIN)
    save_address(user=user, **PARIS, is_default=True)

    assert defaults_of(user) == ["Paris"]


def test_the_default_stays_the_default_when_edited_without_the_flag(user):
    berlin = save_address(user=user, **BERLIN)
    save_address(user=user, **PARIS)

    edited = save_address(user=user, address=berlin, city="Potsdam", is_default=False)

    assert edited.is_default and defaults_of(user) == ["Potsdam"]
    assert Address.objects.get(pk=berlin.pk).postal_code == "10115"  # fields not given are kept


def test_save_address_normalises_the_postal_code_and_country(user):
    address = save_address(user=user, **{**BERLIN, "postal_code": "  d-10115 ", "country": "de"})

    address.refresh_from_db()
    assert (address.postal_code, address.country) == ("D-10115", "DE")


def test_save_address_with_bad_fields_raises_validation_error_and_saves_nothing(user):
    with pytest.raises(ValidationError) as error:
        save_address(user=user, **{**BERLIN, "postal_code": "!!", "city": "", "country": "JP"})

    assert set(error.value.message_dict) == {"postal_code", "city", "country"}
    assert not Address.objects.exists()


def test_save_address_refuses_another_users_address(user):
    theirs = save_address(user=UserFactory(), **BERLIN)

    with pytest.raises(AddressNotFound):
        save_address(user=user, address=theirs, city="Hamburg")

    assert Address.objects.get(pk=theirs.pk).city == "Berlin"
    assert not Address.objects.filter(user=user).exists()


def test_deleting_the_default_makes_the_newest_remaining_address_the_default(user):
    berlin = save_address(user=user, **BERLIN)
    save_address(user=user, **PARIS)
    save_address(user=user, **VIENNA)

    delete_address(user=user, address_id=berlin.pk)

    assert not Address.objects.filter(pk=berlin.pk).exists()
    assert defaults_of(user) == ["Vienna"]


def test_deleting_another_address_keeps_the_default_and_the_last_leaves_none(user):
    berlin = save_address(user=user, **BERLIN)
    paris = save_address(user=user, **PARIS)

    delete_address(user=user, address_id=paris.pk)
    assert defaults_of(user) == ["Berlin"]

    delete_address(user=user, address_id=berlin.pk)
    assert not Address.objects.filter(user=user).exists()


def test_set_default_address_moves_the_default(user):
    save_address(user=user, **BERLIN)
    paris = save_address(user=user, **PARIS)

    assert set_default_address(user=user, address_id=paris.pk).is_default
    assert defaults_of(user) == ["Paris"]


def test_another_users_address_can_be_neither_deleted_nor_made_default(user):
    other = UserFactory()
    save_address(user=other, **BERLIN)
    theirs = save_address(user=other, **PARIS)

    with pytest.raises(AddressNotFound):
        delete_address(user=user, address_id=theirs.pk)
    with pytest.raises(AddressNotFound):
        set_default_address(user=user, address_id=theirs.pk)

    assert Address.objects.filter(user=other).count() == 2
    assert defaults_of(other) == ["Berlin"]


def test_the_database_refuses_a_second_default_for_one_user(user):
    AddressFactory(user=user, is_default=True)
    AddressFactory(user=UserFactory(), is_default=True)  # another user's default is no conflict

    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory(user=user, is_default=True)


def race(*actions) -> list[str]:
    """Runs the actions at the same moment, each in its own thread with its own connection; returns each outcome
    ("ok", or the name of the exception it raised)."""
    start = threading.Barrier(len(actions))
    outcomes = [""] * len(actions)

    def run(index: int, action) -> None:
        try:
            start.wait()
            action()
            outcomes[index] = "ok"
        except Exception as exc:
            outcomes[index] = type(exc).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, action)) for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_racing_writes_leave_exactly_one_default(concurrent_db):
    user = UserFactory()
    cities = ["Berlin", "Paris", "Vienna", "Rome", "Madrid"]

    firsts = race(*[lambda city=city: save_address(user=user, **{**BERLIN, "city": city}) for city in cities])

    assert firsts == ["ok"] * len(cities)
    assert len(defaults_of(user)) == 1 and Address.objects.filter(user=user).count() == len(cities)

    ids = list(Address.objects.filter(user=user).values_list("pk", flat=True))
    moves = [lambda pk=pk: set_default_address(user=user, address_id=pk) for pk in ids[:3]]
    deletes = [lambda pk=pk: delete_address(user=user, address_id=pk) for pk in ids[3:]]

    assert race(*moves, *deletes) == ["ok"] * len(ids)
    assert len(defaults_of(user)) == 1 and Address.objects.filter(user=user).count() == 3


# Selectors


def test_addresses_for_lists_the_default_first_then_the_newest_in_one_query(user, django_assert_num_queries):
    save_address(user=user, **BERLIN)
    save_address(user=user, **PARIS)
    save_address(user=user, **VIENNA)
    save_address(user=UserFactory(), **BERLIN)

    with django_assert_num_queries(1):
        addresses = addresses_for(user=user)

    assert [address.city for address in addresses] == ["Berlin", "Vienna", "Paris"]
    assert default_address(user=user).city == "Berlin"


def test_default_address_is_none_without_addresses(user):
    assert default_address(user=user) is None


@pytest.mark.parametrize("address_id", ["abc", "", None, "9" * 30, "0" * 24, "-1", "1.5"])
def test_address_for_answers_none_for_malformed_ids(user, address_id):
    save_address(user=user, **BERLIN)

    assert address_for(user=user, address_id=address_id) is None


def test_address_for_never_answers_another_users_address(user):
    mine = save_address(user=user, **BERLIN)
    theirs = save_address(user=UserFactory(), **BERLIN)

    assert address_for(user=user, address_id=str(mine.pk)) == mine
    assert address_for(user=user, address_id=theirs.pk) is None
    assert address_for(user=user, address_id=gone_id(user)) is None


# Pages


def test_the_address_pages_require_login(client, user):
    address = AddressFactory(user=user, is_default=True)

    for url in (LIST, NEW, reverse("accounts:address_update", args=[address.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    response = client.post(reverse("accounts:address_delete", args=[address.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert Address.objects.filter(pk=address.pk).exists()


def test_the_list_shows_the_addresses_default_first_with_their_actions(client, user):
    save_address(user=user, **BERLIN)
    paris = save_address(user=user, **PARIS)
    save_address(user=UserFactory(), **VIENNA)
    client.force_login(user)

    response = client.get(LIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert [address.city for address in response.context["addresses"]] == ["Berlin", "Paris"]
    assert html.index("Berlin") < html.index("Paris") and "Vienna" not in html and "France" in html
    assert reverse("accounts:address_default", args=[paris.pk]) in html
    assert html.count(">Make default<") == 1
    assert NEW in html and "Add an address" in html


def test_adding_an_address_saves_it_as_the_first_default(client, user):
    client.force_login(user)

    response = client.post(NEW, {**BERLIN, "postal_code": "10115 "}, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "The address is saved." in messages_of(response)
    address = Address.objects.get(user=user)
    assert (address.city, address.postal_code, address.is_default) == ("Berlin", "10115", True)


def test_adding_an_address_with_a_bad_postal_code_and_no_city_shows_field_errors(client, user):
    client.force_login(user)

    response = client.post(NEW, {**BERLIN, "postal_code": "!!", "city": "", "country": "XX"})

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert errors["postal_code"] == ["Enter a postal code of letters, digits, spaces or dashes."]
    assert errors["city"] == ["Enter your city."]
    assert "country" in errors
    assert not Address.objects.exists()


def test_editing_an_address_changes_it_and_can_make_it_the_default(client, user):
    save_address(user=user, **BERLIN)
    paris = save_address(user=user, **PARIS)
    client.force_login(user)
    url = reverse("accounts:address_update", args=[paris.pk])

    assert client.get(url).context["form"].initial["city"] == "Paris"
    response = client.post(url, {**PARIS, "line1": "9 Rue Lepic", "is_default": "on"}, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "The address is updated." in messages_of(response)
    assert Address.objects.get(pk=paris.pk).line1 == "9 Rue Lepic"
    assert defaults_of(user) == ["Paris"]


def test_deleting_an_address_from_the_list(client, user):
    berlin = save_address(user=user, **BERLIN)
    save_address(user=user, **PARIS)
    client.force_login(user)
    url = reverse("accounts:address_delete", args=[berlin.pk])

    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "The address Ann Buyer, 1 Main Street is deleted." in messages_of(response)
    assert defaults_of(user) == ["Paris"] and Address.objects.filter(user=user).count() == 1


def test_making_an_address_the_default_from_the_list(client, user):
    save_address(user=user, **BERLIN)
    paris = save_address(user=user, **PARIS)
    client.force_login(user)

    response = client.post(reverse("accounts:address_default", args=[paris.pk]), follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "Ann Buyer, 2 Rue de Rivoli is now your default address." in messages_of(response)
    assert defaults_of(user) == ["Paris"]


def test_another_users_or_an_unknown_address_is_not_found(client, user):
    other = UserFactory()
    save_address(user=other, **BERLIN)
    theirs = save_address(user=other, **PARIS)
    client.force_login(user)

    for address_id in (theirs.pk, gone_id(user)):
        assert client.get(reverse("accounts:address_update", args=[address_id])).status_code == 404
        assert client.post(reverse("accounts:address_update", args=[address_id]), VIENNA).status_code == 404
        assert client.post(reverse("accounts:address_delete", args=[address_id])).status_code == 404
        assert client.post(reverse("accounts:address_default", args=[address_id])).status_code == 404

    assert Address.objects.get(pk=theirs.pk).city == "Paris"
    assert defaults_of(other) == ["Berlin"]
    assert client.get("/account/addresses/abc/edit/").status_code == 404


def test_changes_need_the_csrf_token(user):
    address = save_address(user=user, **BERLIN)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post(reverse("accounts:address_delete", args=[address.pk])).status_code == 403
    assert client.post(NEW, PARIS).status_code == 403
    assert Address.objects.filter(user=user).count() == 1


def test_the_user_admin_shows_the_address_book(client, staff, user):
    save_address(user=user, **BERLIN)
    client.force_login(staff)

    response = client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    assert response.status_code == 200 and "1 Main Street" in response.content.decode()
