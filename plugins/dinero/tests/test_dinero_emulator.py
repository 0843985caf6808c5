"""The emulator's own behaviour, over raw HTTP: the password grant, paging and its envelope,
``changesSince`` (inclusive, UTC), ``queryFilter``, ``fields`` casing, the ``Timestamp``
concurrency token and error code 58, booking, payments, errors and the rate limit."""

from __future__ import annotations

from typing import Any

import httpx
from dinero_testkit import ORG, Serve, Served

from syncbridge.describe import RateLimit
from syncbridge_dinero.emulator import API_KEY, CLIENT_ID, CLIENT_SECRET, seeded_guid

LINE = {"Description": "Rådgivning", "Quantity": 2, "BaseAmountValue": 100.5,
        "AccountNumber": 1000, "Unit": "hours", "Discount": 0}


def grant(served: Served, **form: str) -> httpx.Response:
    data = {"grant_type": "password", "username": API_KEY, "password": API_KEY, **form}
    return httpx.post(served.settings["token_url"], data=data, auth=(CLIENT_ID, CLIENT_SECRET))


def test_the_password_grant_gives_a_bearer_token_of_an_hour(dinero: Served) -> None:
    answer = grant(dinero, scope="read write")
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert "refresh_token" not in token
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(f"{dinero.base_url}/v1/{ORG}/products", headers=headers).status_code == 200


def test_a_wrong_api_key_or_client_is_refused(dinero: Served) -> None:
    wrong_key = grant(dinero, username="nope", password="nope")
    assert wrong_key.status_code == 400 and wrong_key.json()["error"] == "invalid_grant"
    wrong_client = httpx.post(
        dinero.settings["token_url"],
        data={"grant_type": "password", "username": API_KEY, "password": API_KEY},
        auth=(CLIENT_ID, "not-the-secret"),
    )
    assert wrong_client.status_code == 401
    assert wrong_client.json()["error"] == "invalid_client"
    assert wrong_client.headers["www-authenticate"].startswith("Basic")


def test_requests_need_a_valid_token_and_their_own_organisation(dinero: Served) -> None:
    answer = httpx.get(f"{dinero.base_url}/v1/{ORG}/contacts",
                       headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401
    assert answer.json()["code"] == 41
    with dinero.client() as http:
        other = http.get("/v1/99999/contacts")
    assert other.status_code == 403
    assert other.json()["message"] == "No access to organization 99999"


def test_listings_page_from_zero_in_the_collection_envelope(dinero: Served) -> None:
    with dinero.client() as http:
        first = http.get(f"/v1/{ORG}/contacts", params={"pageSize": 8}).json()
        last = http.get(f"/v1/{ORG}/contacts", params={"pageSize": 8, "page": 2}).json()
        too_big = http.get(f"/v1/{ORG}/contacts", params={"pageSize": 1001})
    assert first["Pagination"] == {"MaxPageSizeAllowed": 1000, "PageSize": 8, "Result": 8,
                                   "ResultWithoutFilter": 20, "Page": 0}
    assert last["Pagination"]["Result"] == 4 and len(last["Collection"]) == 4
    assert first["Collection"][0] == {"name": first["Collection"][0]["name"],
                                      "contactGuid": seeded_guid("contact", 1)}
    assert too_big.status_code == 400
    assert too_big.json()["message"] == "pageSize must be between 1 and 1000"


def test_fields_are_echoed_in_the_casing_asked_for(dinero: Served) -> None:
    with dinero.client() as http:
        rows = http.get(f"/v1/{ORG}/products",
                        params={"fields": "productGUID,NAME,baseAmountValue"}).json()
        unknown = http.get(f"/v1/{ORG}/products", params={"fields": "Name,Colour"})
        orgs = http.get("/v1/organizations", params={"fields": "name,id"}).json()
    assert set(rows["Collection"][0]) == {"productGUID", "NAME", "baseAmountValue"}
    assert rows["Collection"][0]["productGUID"] == seeded_guid("product", 1)
    assert unknown.status_code == 400 and unknown.json()["message"] == (
        "fields: unknown field 'Colour'"
    )
    assert orgs == [{"name": "Nordlys Rådgivning ApS", "id": ORG}]


def test_query_filter_grammar(dinero: Served) -> None:
    with dinero.client() as http:
        def names(text: str) -> Any:
            answer = http.get(f"/v1/{ORG}/contacts",
                              params={"queryFilter": text, "fields": "Name,IsPerson"})
            return answer.status_code, answer.json()

        status, persons = names("isperson eq 'TRUE'")
        assert status == 200 and len(persons["Collection"]) == 10
        assert all(row["IsPerson"] for row in persons["Collection"])
        first = persons["Collection"][0]["Name"]
        status, one = names(f"IsPerson eq 'true';Name eq '{first.upper()}'")
        assert [row["Name"] for row in one["Collection"]] == [first]
        assert one["Pagination"]["ResultWithoutFilter"] == 1
        status, some = names(f"Name contains '{first.split()[0].lower()}'")
        assert first in [row["Name"] for row in some["Collection"]]
        status, bare = names("AMINO")
        assert status == 400 and "is not a condition" in bare["message"]
        status, other = names("City eq 'Aarhus'")
        assert status == 400 and "'City' cannot be filtered on" in other["message"]


def test_changes_since_is_inclusive_and_utc(serve: Serve) -> None:
    served = serve(records=3)
    with served.client() as http:
        rows = http.get(f"/v1/{ORG}/contacts", params={"fields": "ContactGuid,UpdatedAt"})
        stamps = [row["UpdatedAt"] for row in rows.json()["Collection"]]
        assert stamps[1] == "2024-01-02T09:00:01.000"
        since = http.get(f"/v1/{ORG}/contacts", params={
            "fields": "ContactGuid,UpdatedAt", "changesSince": "2024-01-02T09:00:01Z"})
        local = http.get(f"/v1/{ORG}/contacts", params={"changesSince": "2024-01-02 09:00:01"})
    assert [row["UpdatedAt"] for row in since.json()["Collection"]] == stamps[1:]
    assert local.status_code == 400
    assert "YYYY-MM-DDTHH:mm:ssZ" in local.json()["message"]


def test_body_properties_bind_case_insensitively(dinero: Served) -> None:
    with dinero.client() as http:
        created = http.post(f"/v1/{ORG}/contacts", json={
            "name": "Fjord ApS", "countryKey": "DK", "isPerson": False, "ISMEMBER": False,
            "useCvr": False, "IsDebitor": True, "ContactName": "read-model names are dropped"})
        guid = created.json()["ContactGuid"]
        stored = http.get(f"/v1/{ORG}/contacts/{guid}").json()
    assert created.status_code == 200
    assert (stored["Name"], stored["CountryKey"], stored["IsPerson"]) == ("Fjord ApS", "DK", False)


def test_invoice_timestamp_concurrency_and_error_58(dinero: Served) -> None:
    with dinero.client() as http:
        created = http.post(f"/v1/{ORG}/invoices", json={
            "ContactGuid": seeded_guid("contact", 2), "ProductLines": [LINE]}).json()
        first = created["TimeStamp"]
        update = {"Timestamp": first, "ContactGuid": seeded_guid("contact", 2),
                  "ProductLines": [{**LINE, "Quantity": 3}]}
        updated = http.put(f"/v1.2/{ORG}/invoices/{created['Guid']}", json=update)
        stale = http.put(f"/v1.2/{ORG}/invoices/{created['Guid']}", json=update)
        book_stale = http.post(f"/v1/{ORG}/invoices/{created['Guid']}/book",
                               json={"Timestamp": first})
        invoice = http.get(f"/v1/{ORG}/invoices/{created['Guid']}").json()
    assert updated.status_code == 200 and updated.json()["TimeStamp"] != first
    assert stale.status_code == 400 and stale.json()["code"] == 58
    assert stale.json()["message"].startswith("Timestamp outdated")
    assert book_stale.json()["code"] == 58
    assert invoice["Status"] == "Draft" and invoice["Number"] == 0
    assert (invoice["TotalExclVat"], invoice["TotalVat"], invoice["TotalInclVat"]) == (
        301.5, 75.38, 376.88)


def test_booking_numbers_the_invoice_and_locks_it(dinero: Served) -> None:
    with dinero.client() as http:
        created = http.post(f"/v1/{ORG}/invoices", json={"ProductLines": [LINE]}).json()
        guid = created["Guid"]
        no_customer = http.post(f"/v1/{ORG}/invoices/{guid}/book",
                                json={"Timestamp": created["TimeStamp"]})
        assert no_customer.json()["validationErrors"] == {
            "ContactGuid": "A contact is required to book"}
        again = http.put(f"/v1.2/{ORG}/invoices/{guid}", json={
            "Timestamp": created["TimeStamp"], "ContactGuid": seeded_guid("person", 1),
            "ProductLines": [LINE]}).json()
        booked = http.post(f"/v1/{ORG}/invoices/{guid}/book",
                           json={"Timestamp": again["TimeStamp"]}).json()
        change = http.put(f"/v1.2/{ORG}/invoices/{guid}", json={
            "Timestamp": booked["TimeStamp"], "ProductLines": [LINE]})
        delete = http.request("DELETE", f"/v1/{ORG}/invoices/{guid}")
    assert booked["Status"] == "Booked" and booked["Number"] == 4  # 3 seeded ones booked
    assert change.status_code == 400
    assert change.json()["message"] == "A booked invoice cannot be updated; credit it instead"
    assert delete.status_code == 400


def test_payments_are_registered_on_booked_invoices_and_read_back(dinero: Served) -> None:
    guid = seeded_guid("invoice", 3)  # booked, unpaid
    with dinero.client() as http:
        invoice = http.get(f"/v1/{ORG}/invoices/{guid}").json()
        paid = http.post(f"/v1/{ORG}/invoices/{guid}/payments", json={
            "Timestamp": invoice["TimeStamp"], "DepositAccountNumber": 55000,
            "RemainderIsFee": False, "Description": "Indbetaling",
            "Amount": invoice["TotalInclVat"], "PaymentDate": "2026-02-01"})
        history = http.get(f"/v2/{ORG}/invoices/{guid}/payments").json()
        after = http.get(f"/v1/{ORG}/invoices/{guid}").json()
        draft = http.post(f"/v1/{ORG}/invoices/{seeded_guid('invoice', 1)}/payments", json={
            "Timestamp": "x", "DepositAccountNumber": 55000, "RemainderIsFee": False,
            "Description": "x", "Amount": 1})
    assert paid.status_code == 200 and paid.json()["RelatedVoucherGuid"] == guid
    assert [p["Amount"] for p in history["Payments"]] == [invoice["TotalInclVat"]]
    assert history["RemainingAmount"] == 0 and history["PaidAmount"] == invoice["TotalInclVat"]
    assert after["PaymentStatus"] == "Paid" and after["UpdatedAt"] > invoice["UpdatedAt"]
    assert draft.json()["code"] == 58  # the stale Timestamp is refused first


def test_unknown_records_are_404_with_code_40(dinero: Served) -> None:
    with dinero.client() as http:
        answer = http.get(f"/v1/{ORG}/products/{seeded_guid('product', 999)}")
    assert answer.status_code == 404
    assert answer.json()["code"] == 40


def test_the_rate_limit_answers_429_with_the_quota_text(serve: Serve) -> None:
    served = serve(records=1, rate_limits=True, limit=RateLimit(requests=3, seconds=30))
    with served.client() as http:
        statuses = [http.get(f"/v1/{ORG}/vatTypes").status_code for _ in range(4)]
        refused = http.get(f"/v1/{ORG}/vatTypes")
    assert statuses == [200, 200, 200, 429]
    assert refused.text == "API calls quota exceeded! maximum admitted 3 per 30s."
    assert int(refused.headers["retry-after"]) > 0
