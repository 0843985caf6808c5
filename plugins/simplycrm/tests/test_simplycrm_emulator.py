"""The emulator's own behaviour: vtiger's handshake, sessions, envelope, VTQL, sync and ids."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from syncbridge_simplycrm.emulator.sessions import ACCESS_KEY, USERNAME

from .conftest import Crm

WS = "/webservice.php"


def get(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get(WS, params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def post(client: httpx.Client, **data: Any) -> dict[str, Any]:
    response = client.post(WS, data=data)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def error(body: dict[str, Any]) -> tuple[str, str]:
    assert body["success"] is False, body
    return body["error"]["code"], body["error"]["message"]


# -- handshake and sessions -------------------------------------------------------------------
def test_login_takes_md5_of_token_and_access_key(crm: Crm) -> None:
    with crm.http() as client:
        challenge = get(client, operation="getchallenge", username=USERNAME)["result"]
        assert challenge["expireTime"] - challenge["serverTime"] == 300
        digest = hashlib.md5((challenge["token"] + ACCESS_KEY).encode()).hexdigest()
        result = post(client, operation="login", username=USERNAME, accessKey=digest)["result"]
    assert result["userId"] == "19x1"
    assert result["version"] == "0.22"
    assert len(result["sessionName"]) > 10


def test_login_refusals_carry_vtiger_codes(crm: Crm) -> None:
    with crm.http() as client:
        no_token = post(client, operation="login", username=USERNAME, accessKey="x")
        assert error(no_token) == ("INVALID_AUTH_TOKEN", "Specified token is invalid or expired")
        get(client, operation="getchallenge", username=USERNAME)
        wrong = post(client, operation="login", username=USERNAME, accessKey="0" * 32)
        assert error(wrong) == ("INVALID_USER_CREDENTIALS", "Invalid username or password")
        # the raw access key is not the accessKey: md5(token + key) is
        raw = post(client, operation="login", username=USERNAME, accessKey=ACCESS_KEY)
        assert error(raw)[0] == "INVALID_USER_CREDENTIALS"


def test_session_rules(make_crm: Any) -> None:
    crm = make_crm(session_idle=3600)
    with crm.http() as client:
        assert error(get(client, operation="listtypes")) == (
            "AUTHENTICATION_REQUIRED", "Authencation required")
        session = crm.session(client)
        assert get(client, operation="listtypes", sessionName=session)["success"] is True
        crm.emulator.sessions.expire_all()
        assert error(get(client, operation="listtypes", sessionName=session)) == (
            "INVALID_SESSIONID", "Session Identifier provided is Invalid")


def test_idle_sessions_end(make_crm: Any) -> None:
    crm = make_crm(session_idle=0.0)
    with crm.http() as client:
        session = crm.session(client)
        assert error(get(client, operation="listtypes", sessionName=session))[0] == (
            "INVALID_SESSIONID")


def test_unknown_operation(crm: Crm) -> None:
    with crm.http() as client:
        assert error(get(client, operation="frobnicate")) == (
            "UNKNOWN_OPERATION", "Unknown operation requested")


# -- parameter sourcing by operation type ---------------------------------------------------------
def test_get_type_operations_read_the_query_string_even_on_post(crm: Crm) -> None:
    with crm.http() as client:
        # what vtigerpy does: POST with the parameters in the URL
        posted = client.post(WS + f"?operation=getchallenge&username={USERNAME}").json()
        assert posted["success"] is True and posted["result"]["token"]
        session = crm.session(client)
        in_body = client.post(
            WS + f"?sessionName={session}",
            data={"operation": "query", "query": "SELECT * FROM Accounts;"},
        ).json()
        assert error(in_body) == ("MANDATORY_FIELDS_MISSING", "query does not have a value")
        in_url = client.post(
            WS, params={"operation": "query", "sessionName": session,
                        "query": "SELECT * FROM Accounts;"},
        ).json()
        assert len(in_url["result"]) == 5


def test_post_type_operations_ignore_the_query_string(crm: Crm) -> None:
    with crm.http() as client:
        token = get(client, operation="getchallenge", username=USERNAME)["result"]["token"]
        digest = hashlib.md5((token + ACCESS_KEY).encode()).hexdigest()
        in_url = client.post(
            WS, params={"operation": "login", "username": USERNAME, "accessKey": digest}
        ).json()
        assert error(in_url) == ("MANDATORY_FIELDS_MISSING", "username does not have a value")


# -- ids, describe, writes ------------------------------------------------------------------------
def test_ids_are_composite_with_the_module_prefix(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        described = get(client, operation="describe", elementType="Contacts",
                        sessionName=session)["result"]
        assert described["idPrefix"] == "12"
        lastname = next(f for f in described["fields"] if f["name"] == "lastname")
        assert lastname["mandatory"] is True
        rows = get(client, operation="query", sessionName=session,
                   query="SELECT id, account_id FROM Contacts LIMIT 2;")["result"]
    assert rows == [{"id": "12x3", "account_id": "11x2"}, {"id": "12x6", "account_id": "11x5"}]


def test_retrieve_of_deleted_or_unknown_ids_is_access_denied(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        deleted = post_with(client, session, operation="delete", id="11x2")
        assert deleted["result"] == {"status": "successful"}
        for gone in ("11x2", "11x9999"):
            answer = get(client, operation="retrieve", id=gone, sessionName=session)
            assert error(answer) == ("ACCESS_DENIED",
                                     "Permission to perform the operation is denied")
        assert error(get(client, operation="retrieve", id="bad", sessionName=session)) == (
            "INVALID_ID_ATTRIBUTE", "Id specified is incorrect")


def post_with(client: httpx.Client, session: str, **data: Any) -> dict[str, Any]:
    response = client.post(WS, params={"sessionName": session}, data=data)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_create_checks_mandatory_fields_and_references(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        no_name = post_with(client, session, operation="create", elementType="Contacts",
                            element=json.dumps({"firstname": "Ada",
                                                "assigned_user_id": "19x1"}))
        assert error(no_name) == ("MANDATORY_FIELDS_MISSING", "lastname does not have a value")
        no_owner = post_with(client, session, operation="create", elementType="Contacts",
                             element=json.dumps({"lastname": "Lovelace"}))
        assert error(no_owner) == ("MANDATORY_FIELDS_MISSING",
                                   "assigned_user_id does not have a value")
        bad_ref = post_with(client, session, operation="create", elementType="Contacts",
                            element=json.dumps({"lastname": "L", "assigned_user_id": "19x1",
                                                "account_id": "12x3"}))
        assert error(bad_ref) == ("REFERENCE_INVALID", "Invalid reference specified for account_id")
        made = post_with(client, session, operation="create", elementType="Contacts",
                         element=json.dumps({"lastname": "Lovelace", "assigned_user_id": "19x1",
                                             "account_id": "11x2"}))["result"]
    assert made["id"].startswith("12x") and made["contact_no"].startswith("CON")
    assert made["modifiedtime"] == made["createdtime"]


def test_update_replaces_and_revise_merges(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        before = get(client, operation="retrieve", id="12x3", sessionName=session)["result"]
        assert before["email"]
        revised = post_with(client, session, operation="revise",
                            element=json.dumps({"id": "12x3", "title": "CFO"}))["result"]
        assert revised["title"] == "CFO" and revised["email"] == before["email"]
        updated = post_with(client, session, operation="update",
                            element=json.dumps({"id": "12x3", "lastname": "Nielsen",
                                                "assigned_user_id": "19x1"}))["result"]
    assert updated["lastname"] == "Nielsen"
    assert updated["email"] == "" and updated["title"] == ""  # update is a full replace
    assert updated["contact_no"] == before["contact_no"]  # read-only fields stay


def test_invoice_totals_are_computed_from_line_items(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        made = post_with(client, session, operation="create", elementType="Invoice",
                         element=json.dumps({
                             "subject": "Test", "account_id": "11x2", "invoicestatus": "Created",
                             "bill_street": "Vej 1", "ship_street": "Vej 1",
                             "assigned_user_id": "19x1", "received": "50",
                             "LineItems": [
                                 {"productid": "14x4", "quantity": "2", "listprice": "100",
                                  "discount_percent": "10", "tax1": "25"},
                                 {"productid": "14x4", "quantity": "1", "listprice": "20"},
                             ],
                         }))["result"]
        no_lines = post_with(client, session, operation="create", elementType="Invoice",
                             element=json.dumps({"subject": "T", "account_id": "11x2",
                                                 "invoicestatus": "Created",
                                                 "bill_street": "a", "ship_street": "a",
                                                 "assigned_user_id": "19x1"}))
    # 2 * 100 - 10% = 180 + 25% VAT = 225; + 20 without VAT
    assert made["hdnGrandTotal"] == "245.00000000"
    assert made["pre_tax_total"] == "200.00000000"
    assert made["balance"] == "195.00000000"
    assert [line["productid"] for line in made["LineItems"]] == ["14x4", "14x4"]
    assert error(no_lines)[0] == "MANDATORY_FIELDS_MISSING"


# -- VTQL ---------------------------------------------------------------------------------------
@pytest.fixture
def big(make_crm: Any) -> Crm:
    crm: Crm = make_crm(records=150)
    return crm


def q(client: httpx.Client, session: str, text: str) -> dict[str, Any]:
    return get(client, operation="query", query=text, sessionName=session)


def test_vtql_needs_its_semicolon(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        assert error(q(client, session, "SELECT * FROM Accounts")) == (
            "QUERY_SYNTAX_ERROR",
            "Syntax Error on line 1: token '$' Unexpected $, expected one of: ;",
        )
        assert error(q(client, session, "SELECT FROM Accounts;"))[0] == "QUERY_SYNTAX_ERROR"


def test_vtql_answers_at_most_100_rows(big: Crm) -> None:
    with big.http() as client:
        session = big.session(client)
        assert len(q(client, session, "SELECT * FROM Accounts;")["result"]) == 100
        assert len(q(client, session, "SELECT * FROM Accounts LIMIT 500;")["result"]) == 100
        tail = q(client, session, "SELECT id FROM Accounts ORDER BY id LIMIT 120, 500;")
        assert len(tail["result"]) == 30  # the offset is not capped, the count is
        count = q(client, session, "SELECT count(*) FROM Accounts;")["result"]
    assert count == [{"count": "150"}]


def test_vtql_filters_and_orders(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        rows = q(client, session, "SELECT id FROM Contacts WHERE account_id IN ('11x2', "
                 "'11x5') OR lastname = 'nobody' ORDER BY id DESC;")["result"]
        assert [r["id"] for r in rows] == ["12x6", "12x3"]
        like = q(client, session, "SELECT productcode FROM Products WHERE productcode LIKE "
                 "'SKU-0000%' AND unit_price > 0 LIMIT 2;")["result"]
        assert [r["productcode"] for r in like] == ["SKU-00001", "SKU-00002"]
        assert error(q(client, session, "SELECT nope FROM Accounts;")) == (
            "ACCESS_DENIED", "Permission to access 'nope' attribute denied.")
        assert error(q(client, session, "SELECT * FROM Contacts WHERE account_id = '2';")) == (
            "INVALID_ID", "Id specified is incorrect")


# -- sync -----------------------------------------------------------------------------------------
def test_sync_returns_every_record_of_tied_instants(big: Crm) -> None:
    """More than 100 records share one modifiedtime: one answer holds all of them."""
    tied = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    big.emulator.stamp("Accounts", [2 + 3 * n for n in range(130)], tied)
    with big.http() as client:
        session = big.session(client)
        first = get(client, operation="sync", modifiedTime=0, elementType="Accounts",
                    syncType="application", sessionName=session)["result"]
        # the 20 untied records are 20 instants; then the tied one: 21 instants, 150 records
        assert len(first["updated"]) == 150
        assert first["more"] is False
        assert first["lastModifiedTime"] == int(tied.timestamp())
        after = get(client, operation="sync", modifiedTime=first["lastModifiedTime"],
                    elementType="Accounts", syncType="application",
                    sessionName=session)["result"]
    assert after == {"updated": [], "deleted": [], "lastModifiedTime": int(tied.timestamp()),
                     "more": False}


def test_sync_pages_by_100_instants(big: Crm) -> None:
    with big.http() as client:
        session = big.session(client)
        first = get(client, operation="sync", modifiedTime=0, elementType="Accounts",
                    syncType="application", sessionName=session)["result"]
        assert (len(first["updated"]), first["more"]) == (100, True)
        second = get(client, operation="sync", modifiedTime=first["lastModifiedTime"],
                     elementType="Accounts", syncType="application",
                     sessionName=session)["result"]
        assert (len(second["updated"]), second["more"]) == (50, False)
        post_with(client, session, operation="delete", id="11x2")
        third = get(client, operation="sync", modifiedTime=second["lastModifiedTime"],
                    elementType="Accounts", syncType="application",
                    sessionName=session)["result"]
        assert third["updated"] == [] and third["deleted"] == ["11x2"]
        assert error(get(client, operation="sync", modifiedTime=0, elementType="Currency",
                         sessionName=session))[0] == "ACCESS_DENIED"


def test_listtypes_extendsession_and_logout(crm: Crm) -> None:
    with crm.http() as client:
        session = crm.session(client)
        types = get(client, operation="listtypes", sessionName=session)["result"]
        assert {"Accounts", "Contacts", "Products", "Invoice"} <= set(types["types"])
        assert types["information"]["Accounts"]["label"] == "Organizations"
        extended = post_with(client, session, operation="extendsession")["result"]
        assert extended["sessionName"] == session and extended["userId"] == "19x1"
        assert post_with(client, session, operation="logout")["result"] == {
            "message": "successfull"}
        assert error(get(client, operation="listtypes", sessionName=session))[0] == (
            "INVALID_SESSIONID")
