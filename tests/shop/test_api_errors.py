"""Issue 14's cleanup: the status of an API refusal belongs to its exception class (no table of every app's codes in
shop/api.py), and only the `extra` fields meant for clients leave the server."""

from http import HTTPStatus

import pytest

from accounts.exceptions import AccountError
from catalog.exceptions import CatalogError, LedgerBelowZero, NotAllowed, StockChanged
from shop.api import exception_handler
from shop.exceptions import ShopBusy, ShopError


def answer(error: ShopError) -> tuple[int, dict, str | None]:
    response = exception_handler(error, {})
    return response.status_code, response.data, response.headers.get("Retry-After")


class OutOfTea(ShopError):
    code = "out_of_tea"
    message = "No tea left."
    http_status = HTTPStatus.CONFLICT
    client_extra = ("kind",)


def test_a_refusal_answers_with_its_classs_status_and_only_the_extra_meant_for_clients():
    status, body, retry_after = answer(OutOfTea(kind="green", supplier_account="acct_secret"))

    assert status == 409 and retry_after is None
    assert body == {
        "detail": "No tea left.",
        "code": "out_of_tea",
        "message": "No tea left.",
        "extra": {"kind": "green"},
    }


def test_a_code_given_when_raising_picks_the_subclass_that_declares_it():
    error = CatalogError("You may only change your own items.", code="not_allowed")
    assert type(error) is NotAllowed and isinstance(error, CatalogError) and answer(error)[0] == 403

    error = CatalogError("The stock is now 2.", code="stock_changed", stock=2)
    status, body, _retry_after = answer(error)
    assert type(error) is StockChanged and status == 409 and body["extra"] == {"stock": 2}

    assert answer(AccountError("Only staff may change roles.", code="not_allowed", fields=["is_staff"]))[0] == 403
    assert answer(CatalogError("Odd.", code="no_such_code"))[0] == 400  # no class declares it: a plain refusal


def test_a_ledger_below_zero_shows_the_client_the_item_and_stock_but_not_the_ledger():
    error = CatalogError("Moves are missing.", code="ledger_below_zero", item_id="7", ledger=-3, stock=2)

    assert isinstance(error, LedgerBelowZero)
    assert answer(error)[1]["extra"] == {"item_id": "7", "stock": 2}


def test_busy_asks_to_retry():
    assert answer(ShopBusy())[0::2] == (503, "1")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("orders.exceptions.OrderNotFound", 404),
        ("orders.exceptions.IllegalTransition", 409),
        ("cart.exceptions.ItemUnavailable", 404),
        ("payments.exceptions.PaymentGatewayError", 503),
        ("payments.exceptions.RefundGatewayRefused", 502),
        ("pricing.exceptions.DiscountCodeInUse", 409),
        ("pricing.exceptions.DiscountRefused", 400),
    ],
)
def test_each_apps_refusals_keep_the_status_they_had(path, status):
    module, name = path.rsplit(".", 1)
    error_class = getattr(__import__(module, fromlist=[name]), name)
    assert answer(error_class())[0] == status
