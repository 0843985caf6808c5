"""The emulator speaks the portal's protocol: paths, envelopes, errors, batch, OAuth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from syncbridge.emulator.loading import load_factory
from syncbridge_bitrix24 import phpquery

if TYPE_CHECKING:
    from conftest import Portal


@pytest.fixture
def rest(portal: Callable[..., Portal]) -> Iterator[tuple[Portal, httpx.Client]]:
    handle = portal(records=60)
    base = handle.emulator.settings_for(handle.url)["webhook_url"]
    with httpx.Client(base_url=base) as client:
        yield handle, client


def test_is_found_by_name_and_hands_out_webhook_settings() -> None:
    from syncbridge.emulator import EmulatorOptions

    emulator = load_factory("bitrix24")(EmulatorOptions(records=1))
    settings = emulator.settings_for("http://127.0.0.1:9")
    assert settings["webhook_url"].startswith("http://127.0.0.1:9/rest/1/")


def test_lists_page_by_start_and_next(rest: tuple[Portal, httpx.Client]) -> None:
    _handle, client = rest
    first = client.get("crm.contact.list.json", params={"select[]": "ID"}).json()
    assert (first["total"], first["next"], len(first["result"])) == (60, 50, 50)
    assert first["result"][0] == {"ID": "1"}
    assert {"date_start", "operating", "operating_reset_at", "duration"} <= set(first["time"])
    last = client.get("crm.contact.list?start=50").json()
    assert (last["total"], "next" in last, len(last["result"])) == (60, False, 10)
    fast = client.get("crm.contact.list?" + phpquery.encode({"start": -1, "filter": {">ID": 55}}))
    assert fast.json()["total"] == 0 and [r["ID"] for r in fast.json()["result"]] == [
        "56",
        "57",
        "58",
        "59",
        "60",
    ]
    # JSON and form bodies work as well as the query string
    posted = client.post("crm.contact.list", json={"filter": {"@ID": [2, 3]}, "select": ["ID"]})
    assert posted.json()["result"] == [{"ID": "2"}, {"ID": "3"}]
    form = client.post("crm.contact.list", data={"FILTER[ID]": "4", "SELECT[0]": "NAME"})
    assert list(form.json()["result"][0]) == ["NAME"] and form.json()["total"] == 1


def test_errors_have_the_portals_codes(rest: tuple[Portal, httpx.Client]) -> None:
    handle, client = rest
    missing = client.get("crm.nothing.list")
    assert missing.status_code == 404 and missing.json()["error"] == "ERROR_METHOD_NOT_FOUND"
    bad = httpx.get(f"{handle.url}/rest/1/wrongcode/crm.contact.list")
    assert bad.status_code == 401 and bad.json()["error"] == "NO_AUTH_FOUND"
    invalid = client.post("crm.company.add", json={"fields": {"COMMENTS": "x"}})
    assert invalid.status_code == 400
    assert invalid.json() == {
        "error": "",
        "error_description": 'The "Company name" field is required.',
    }
    old = client.get("crm.item.list", params={"entityTypeId": 5})
    assert old.json()["error"] == "ENTITY_TYPE_NOT_SUPPORTED"
    handle.emulator.portal.scopes = ["user"]
    assert client.get("crm.contact.list").json()["error"] == "insufficient_scope"


def test_batch(rest: tuple[Portal, httpx.Client]) -> None:
    _handle, client = rest

    def batch(commands: dict[str, str], halt: int = 0) -> dict[str, Any]:
        answer = client.post("batch", json={"halt": halt, "cmd": commands})
        assert answer.status_code == 200
        return dict(answer.json()["result"])

    ok = batch(
        {
            # as fast_bitrix24 sends it: extra parameters and a trailing "&"
            "one": "crm.contact.get?__order=order0000000000&ID=1&",
            "add": "crm.company.add?" + phpquery.encode({"fields": {"TITLE": "Becker Bau KG"}}),
            "link": "crm.contact.update?"
            + phpquery.encode({"id": 2, "fields": {"COMPANY_ID": "$result[add]"}}),
            "list": "crm.contact.list?"
            + phpquery.encode({"filter": {"COMPANY_ID": "$result[add]"}}),
        }
    )
    assert ok["result_error"] == []  # PHP's empty array
    assert ok["result"]["one"]["ID"] == "1" and ok["result"]["link"] is True
    assert [row["ID"] for row in ok["result"]["list"]] == ["2"]
    assert ok["result_total"]["list"] == 1

    mixed = batch(
        {"a": "crm.company.add?fields[COMMENTS]=x", "b": "crm.contact.get?id=1", "c": "batch"}
    )
    assert (
        mixed["result_error"]["a"]["error_description"] == 'The "Company name" field is required.'
    )
    assert mixed["result_error"]["c"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert list(mixed["result"]) == ["b"]
    halted = batch({"a": "crm.company.add?fields[COMMENTS]=x", "b": "crm.contact.get?id=1"}, 1)
    assert halted["result"] == [] and list(halted["result_error"]) == ["a"]

    many = client.post("batch", json={"cmd": {f"k{i}": "scope" for i in range(51)}})
    assert many.status_code == 400 and many.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"


def test_oauth_refresh_rotates_the_refresh_token(portal: Callable[..., Portal]) -> None:
    handle = portal()
    emulator = handle.emulator
    tokens = emulator.issue_tokens()
    secret = emulator.oauth_clients[emulator.client_id]
    params = {
        "grant_type": "refresh_token",
        "client_id": emulator.client_id,
        "client_secret": secret,
        "refresh_token": tokens["refresh_token"],
    }
    fresh = httpx.get(f"{handle.url}/oauth/token/", params=params).json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["expires_in"] == 3600
    assert fresh["client_endpoint"] == f"{handle.url}/rest/"
    reused = httpx.get(f"{handle.url}/oauth/token/", params=params)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    call = httpx.get(f"{handle.url}/rest/scope", params={"auth": fresh["access_token"]})
    assert call.json()["result"] == ["crm", "catalog"]
    emulator.access_tokens[fresh["access_token"]] = 0
    expired = httpx.get(f"{handle.url}/rest/scope.json", params={"auth": fresh["access_token"]})
    assert expired.status_code == 401 and expired.json()["error"] == "expired_token"


def test_a_rows_price_is_with_tax_and_the_portal_computes_the_rest(
    rest: tuple[Portal, httpx.Client],
) -> None:
    """The example of ``crm-item-productrow-add.md``: price 80000 after a 20 % discount and
    with 20 % tax (taxIncluded Y) stores priceExclusive 66666.66666667, priceNetto
    83333.33333333, priceBrutto 100000 and discountSum 16666.66666667; and a price is with
    tax whatever taxIncluded says (``crm.lead.productrows.get``: TAX_INCLUDED N, TAX_RATE
    12, PRICE 22175.328 = PRICE_EXCLUSIVE 19799.4 x 1.12)."""
    handle, client = rest
    invoice = handle.call("crm.item.add", entityTypeId=31, fields={"title": "Preise"})["item"]
    rows = [
        {"productName": "iphone 14", "price": 80000, "quantity": 2, "discountTypeId": 2,
         "discountRate": 20, "taxRate": 20, "taxIncluded": "Y", "sort": 10},
        {"productName": "Product #2", "price": "22175.328", "discountTypeId": 2,
         "discountRate": 40, "taxRate": 12, "taxIncluded": "N", "sort": 20},
        {"productName": "Rabatt", "price": 90, "discountTypeId": 1, "discountSum": 10,
         "taxRate": None, "sort": 30},
    ]
    reply = client.post("crm.item.productrow.set", json={
        "ownerType": "SI", "ownerId": invoice["id"], "productRows": rows}).json()
    stored = reply["result"]["productRows"]
    keys = ("price", "discountRate", "discountSum", "priceExclusive", "priceNetto",
            "priceBrutto", "taxRate", "taxIncluded")
    assert [{key: row[key] for key in keys} for row in stored] == [
        {"price": 80000, "discountRate": 20, "discountSum": 16666.66666667,
         "priceExclusive": 66666.66666667, "priceNetto": 83333.33333333,
         "priceBrutto": 100000, "taxRate": 20, "taxIncluded": "Y"},
        {"price": 22175.328, "discountRate": 40, "discountSum": 13199.6,
         "priceExclusive": 19799.4, "priceNetto": 32999, "priceBrutto": 36958.88,
         "taxRate": 12, "taxIncluded": "N"},
        {"price": 90, "discountRate": 10, "discountSum": 10, "priceExclusive": 90,
         "priceNetto": 100, "priceBrutto": 100, "taxRate": None, "taxIncluded": "N"},
    ]
    # the invoice sums the prices as they are (with tax), and the tax in them
    item = handle.call("crm.item.get", entityTypeId=31, id=invoice["id"])["item"]
    assert (item["opportunity"], item["taxValue"]) == (Decimal("182265.33"),
                                                       Decimal("29042.59"))
