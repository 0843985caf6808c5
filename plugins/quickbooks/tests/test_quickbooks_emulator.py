"""The emulator refuses what QuickBooks refuses, the way QuickBooks refuses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from syncbridge.describe import RateLimit
from syncbridge.emulator import EmulatorOptions
from syncbridge_quickbooks.emulator import CLIENT_ID, CLIENT_SECRET, create_app

if TYPE_CHECKING:
    from conftest import Served


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    token = served.emulator.issue_tokens()["access_token"]
    with httpx.Client(
        base_url=served.url + served.api,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        params={"minorversion": "75"},
    ) as client:
        yield client


def fault(response: httpx.Response) -> tuple[int, str, str]:
    [error] = response.json()["Fault"]["Error"]
    return response.status_code, error["code"], error["Detail"]


def select(http: httpx.Client, statement: str) -> dict[str, Any]:
    response = http.get("/query", params={"query": statement, "minorversion": "75"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["QueryResponse"]
    return answer


def test_validation_faults_carry_intuit_codes(served: Served, http: httpx.Client) -> None:
    taken = served.emulator.books.rendered("Customer")[0]["DisplayName"]
    nameless = fault(http.post("/customer", json={"Notes": "nameless"}))
    assert nameless == (400, "2020", "Required parameter DisplayName is missing in the request")
    status, code, detail = fault(http.post("/customer", json={"DisplayName": taken.upper()}))
    assert (status, code) == (400, "6240") and "already" in detail
    assert fault(http.post("/customer", json={"DisplayName": "New", "Nickname": "x"}))[1] == "2010"
    no_customer = http.post("/invoice", json={"Line": [{"DetailType": "DescriptionOnly"}]})
    assert fault(no_customer) == (
        400,
        "2020",
        "Required parameter CustomerRef is missing in the request",
    )
    no_lines = http.post("/invoice", json={"CustomerRef": {"value": "1"}})
    assert fault(no_lines)[1:] == ("2020", "Required parameter Line is missing in the request")
    wrong_amount = http.post(
        "/invoice",
        json={
            "CustomerRef": {"value": "1"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 10,
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 2, "UnitPrice": 4},
                }
            ],
        },
    )
    assert fault(wrong_amount)[1] == "6070"
    bad_ref = http.post("/invoice", json={"CustomerRef": {"value": "999"}, "Line": [{}]})
    assert fault(bad_ref)[1] == "2500"
    assert fault(http.get("/invoice/999"))[1] == "610"
    stale = http.post("/customer", json={"Id": "1", "SyncToken": "7", "sparse": True})
    assert fault(stale)[1] == "5010"
    assert fault(http.post("/taxcode", json={"Name": "X"}))[1] == "500"


def test_queries_by_get_and_by_post_as_application_text(http: httpx.Client) -> None:
    statement = "select * from Customer where DisplayName LIKE 'a%' orderby DisplayName desc"
    by_get = select(http, statement)
    by_post = http.post(
        "/query", content=statement, headers={"Content-Type": "application/text"}
    ).json()["QueryResponse"]
    assert by_get == by_post
    names = [c["DisplayName"] for c in by_get["Customer"]]
    assert names == sorted(names, reverse=True) and all(n.lower().startswith("a") for n in names)
    as_json = http.post("/query", content=statement, headers={"Content-Type": "application/json"})
    assert as_json.status_code == 415
    window = select(http, "SELECT * FROM Item STARTPOSITION 11 MAXRESULTS 5")
    assert [i["Id"] for i in window["Item"]] == ["11", "12"] and window["maxResults"] == 2
    assert select(http, "SELECT COUNT(*) FROM Invoice") == {"totalCount": 12}
    assert "Item" not in select(http, "SELECT * FROM Item STARTPOSITION 50")
    assert fault(http.get("/query", params={"query": "SELECT * FROM Item WHERE a = 1 OR b = 2"}))[
        1:
    ] == ("4000", "QueryParserError: OR is not supported.")
    assert fault(http.get("/query", params={"query": "SELECT * FROM Widget"}))[1] == "4000"


def test_fields_named_beside_the_star_leave_the_rows_whole(http: httpx.Client) -> None:
    everything = select(http, "SELECT * FROM Item MAXRESULTS 100")
    for statement in ("SELECT *, Sku FROM Item MAXRESULTS 100", "select *,sku from Item"):
        assert select(http, statement) == everything
    by_post = http.post(
        "/query",
        content="SELECT *, Sku FROM Item",
        headers={"Content-Type": "application/text"},
    ).json()["QueryResponse"]
    assert by_post == everything
    assert all(item["Sku"] for item in everything["Item"])
    assert fault(http.get("/query", params={"query": "SELECT *, FROM Item"}))[1] == "4000"


def test_inactive_name_list_records_only_show_when_asked_for(
    served: Served, http: httpx.Client
) -> None:
    item = served.emulator.books.rendered("Item")[0]
    served.emulator.books.update(
        "Item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False}
    )
    assert len(select(http, "SELECT * FROM Item")["Item"]) == 11
    assert len(select(http, "SELECT * FROM Item WHERE Active IN (true, false)")["Item"]) == 12
    [hidden] = select(http, "SELECT * FROM Item WHERE Active = false")["Item"]
    assert hidden["Id"] == item["Id"]
    escaped = select(http, r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien'")
    assert "Customer" not in escaped


def test_minorversion_auth_and_realm_are_checked(served: Served, http: httpx.Client) -> None:
    old = http.get("/companyinfo/" + served.emulator.realm, params={"minorversion": "40"})
    assert fault(old)[:2] == (400, "2050")
    anonymous = httpx.get(served.url + served.api + "/item/1")
    assert fault(anonymous)[:2] == (401, "3200")
    other = httpx.get(
        f"{served.url}/v3/company/123/item/1",
        headers={"Authorization": http.headers["Authorization"]},
    )
    assert fault(other)[:2] == (403, "003100")


def test_a_repeated_requestid_gets_the_first_answer(served: Served, http: httpx.Client) -> None:
    body = {"CompanyName": "Cedar Lane Tools", "DisplayName": "Cedar Lane Tools"}
    first = http.post("/customer", params={"requestid": "rq-1"}, json=body)
    again = http.post("/customer", params={"requestid": "rq-1"}, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json()["Customer"] == again.json()["Customer"]
    assert (
        len(
            select(http, "SELECT * FROM Customer WHERE DisplayName = 'Cedar Lane Tools'")[
                "Customer"
            ]
        )
        == 1
    )
    other = http.post("/customer", params={"requestid": "rq-2"}, json=body)
    assert fault(other)[1] == "6240"  # a new request id is a new write


def test_batches_answer_per_item_and_are_capped(http: httpx.Client) -> None:
    answer = http.post(
        "/batch",
        json={
            "BatchItemRequest": [
                {"bId": "a", "operation": "create", "PaymentMethod": {"Name": "Wire"}},
                {"bId": "b", "operation": "create", "PaymentMethod": {"Name": "Cash"}},
                {"bId": "c", "Query": "SELECT * FROM PaymentMethod WHERE Name = 'Wire'"},
            ]
        },
    ).json()["BatchItemResponse"]
    assert answer[0]["bId"] == "a" and answer[0]["PaymentMethod"]["Name"] == "Wire"
    assert answer[1]["Fault"]["Error"][0]["code"] == "6240"
    assert answer[2]["QueryResponse"]["PaymentMethod"][0]["Name"] == "Wire"
    too_many = [{"bId": str(n), "Query": "SELECT * FROM Item"} for n in range(31)]
    assert http.post("/batch", json={"BatchItemRequest": too_many}).status_code == 400


def test_cdc_reports_changes_and_deletions_within_30_days(
    served: Served, http: httpx.Client
) -> None:
    since = http.get("/companyinfo/" + served.emulator.realm).json()["time"]
    books = served.emulator.books
    invoice = next(i for i in books.rendered("Invoice") if not i.get("LinkedTxn"))
    books.delete("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]})
    answer = http.get(
        "/cdc", params={"entities": "Invoice,Customer", "changedSince": since[:19] + since[23:]}
    )
    [response] = answer.json()["CDCResponse"]
    invoices, customers = response["QueryResponse"]
    [stub] = invoices["Invoice"]
    assert stub["Id"] == invoice["Id"] and stub["status"] == "Deleted"
    assert "Customer" not in customers
    old = http.get("/cdc", params={"entities": "Invoice", "changedSince": "2024-01-01T00:00:00Z"})
    assert fault(old)[1] == "2050"


def test_the_per_realm_limits_answer_throttle_exceeded(serve: Callable[..., Served]) -> None:
    served = serve(records=1, rate_limits=True, rate_limit=RateLimit(requests=5, seconds=60))
    token = served.emulator.issue_tokens()["access_token"]
    url = served.url + served.api + "/item/1"
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [httpx.get(url, headers=headers).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = httpx.get(url, headers=headers)
    assert fault(refused)[:2] == (429, "003001") and refused.headers["Retry-After"]
    served.emulator.limiter.enabled = False  # switchable off
    assert httpx.get(url, headers=headers).status_code == 200


def test_openid_discovery_and_settings_point_at_the_emulator(served: Served) -> None:
    document = httpx.get(served.url + "/.well-known/openid_configuration/").json()
    assert document["authorization_endpoint"] == served.url + "/connect/oauth2"
    assert document["token_endpoint"] == served.url + "/oauth2/v1/tokens/bearer"
    assert document["revocation_endpoint"] == served.url + "/v2/oauth2/tokens/revoke"
    settings = served.emulator.settings_for(served.url)
    grant = settings.pop("refresh_token")
    assert served.emulator.provider.valid_access_token(settings.pop("access_token"))
    assert settings == {
        "base_url": served.url,
        "oauth_base_url": served.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "realm_id": served.emulator.realm,
    }
    assert grant in served.emulator.provider.refresh_tokens


def test_seeded_books_are_realistic_and_reproducible() -> None:
    one = create_app(EmulatorOptions(records=12, seed=7))
    two = create_app(EmulatorOptions(records=12, seed=7))
    assert one.books.rendered("Invoice") == two.books.rendered("Invoice")
    customers = one.books.rendered("Customer")
    countries = {c["BillAddr"]["Country"] for c in customers}
    assert countries == {"USA", "Germany"}
    assert {c["CurrencyRef"]["value"] for c in customers} == {"USD", "EUR"}
    assert any(c.get("ParentRef") and c.get("GivenName") for c in customers)  # people under
    assert any(c.get("ParentRef") and not c.get("GivenName") for c in customers)  # jobs
    statuses = {(i["EmailStatus"], i["Balance"] == 0) for i in one.books.rendered("Invoice")}
    assert len(statuses) >= 3
    german = next(i for i in one.books.rendered("Invoice") if i["CurrencyRef"]["value"] == "EUR")
    assert german["TxnTaxDetail"]["TotalTax"] > 0


def test_a_lines_item_reference_comes_back_with_the_items_name(
    served: Served, http: httpx.Client
) -> None:
    """QuickBooks fills a reference's name from the object it points at (ReferenceType:
    "derived from the field that holds the common name of that object"), whatever the
    request sent, so a line without Description still says what it sells."""
    item = served.emulator.books.rendered("Item")[0]
    customer = next(c for c in served.emulator.books.rendered("Customer")
                    if c["CurrencyRef"]["value"] == "USD")
    response = http.post("/invoice", json={
        "CustomerRef": {"value": customer["Id"]},
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10,
                  "SalesItemLineDetail": {"ItemRef": {"value": item["Id"], "name": "stale"},
                                          "Qty": 1, "UnitPrice": 10}}],
    })
    assert response.status_code == 200, response.text
    [line, _subtotal] = response.json()["Invoice"]["Line"]
    assert "Description" not in line
    assert line["SalesItemLineDetail"]["ItemRef"] == {"value": item["Id"], "name": item["Name"]}
