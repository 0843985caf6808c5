"""Writes through the connector: one request per create, full-record updates, invoices with
their organisation's address and currency, payments as received/balance, refusals and lost
answers per record, keys and lookup, deletes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from syncbridge.connection import Connection
from syncbridge.models import Company, Invoice
from syncbridge.records import UpsertItem, UpsertResult
from syncbridge_simplycrm.emulator.modules import MODULES

from .conftest import Crm


def create(connection: Connection, entity: str, record: Any, key: str = "k1") -> UpsertResult:
    context: dict[str, Any] = {}
    native = connection.map_out(entity, record, context)
    [result] = connection.upsert(entity, [UpsertItem(key=key, record=native, context=context)])
    return result


def test_a_create_is_one_request_and_answers_the_stored_record(crm: Crm) -> None:
    connection = crm.connect()
    connection.check()  # logs in
    crm.log.clear()
    result = create(connection, "company", Company(name="Nordisk Byg ApS", country="DK",
                                                   city="Aarhus", email="info@nordisk.dk"))
    assert result.ok and result.id is not None and result.id.startswith("11x")
    assert [e.method for e in crm.log] == ["POST"]
    stored = crm.row("Accounts", int(result.id[3:]))
    assert stored is not None
    assert stored["bill_country"] == "Denmark"  # the CRM's forms hold names
    assert stored["assigned_user_id"] == "19x1"
    assert result.record is not None and result.record["accountname"] == "Nordisk Byg ApS"


def test_a_session_that_ends_before_a_create_is_renewed_and_the_create_made_once(
    crm: Crm,
) -> None:
    connection = crm.connect()
    connection.check()
    crm.emulator.sessions.expire_all()
    before = len(crm.rows("Contacts"))
    [result] = connection.upsert("contact", [UpsertItem(key="s1", record={"lastname": "S"})])
    assert result.ok
    assert len(crm.rows("Contacts")) == before + 1
    assert crm.emulator.sessions.logins == 2


def test_an_update_sends_the_stored_record_with_the_changes(crm: Crm) -> None:
    """``update`` clears what it is not sent: fields the connector does not map (a custom
    field, the SIC code) survive because the stored record goes with the changes."""
    connection = crm.connect()
    accounts = crm.emulator.table(MODULES["Accounts"])
    accounts.replace(2, {**accounts.get(2), "siccode": "4120"})  # type: ignore[dict-item]
    before = accounts.get(2)
    assert before is not None
    native = connection.map_out("company", Company(name="Renamed A/S", country="DK"), {})
    [result] = connection.upsert(
        "company", [UpsertItem(key="u1", record=native, id="11x2", changed=["name"])]
    )
    assert result.ok and result.id == "11x2"
    after = accounts.get(2)
    assert after is not None
    assert after["accountname"] == "Renamed A/S"
    assert after["cf_853"] == before["cf_853"] and after["siccode"] == "4120"


def test_a_refusal_fails_the_record_with_the_api_words(crm: Crm) -> None:
    connection = crm.connect()
    items = [
        UpsertItem(key="bad", record={"firstname": "No", "lastname": ""}),
        UpsertItem(key="good", record={"firstname": "Ada", "lastname": "Lovelace"}),
        UpsertItem(key="gone", record={"lastname": "X"}, id="12x999"),
    ]
    bad, good, gone = connection.upsert("contact", items)
    assert not bad.ok and not bad.unknown
    assert bad.error == "MANDATORY_FIELDS_MISSING: lastname does not have a value"
    assert good.ok
    assert not gone.ok and gone.error == (
        "Contacts 12x999 does not exist in Simply CRM (deleted there?)")


def test_a_lost_answer_is_unknown_for_that_record_only(crm: Crm) -> None:
    connection = crm.connect()
    connection.check()
    crm.emulator.faults.drop_rate = 1.0
    crm.emulator.faults.drop_mode = "after"
    first = UpsertItem(key="a", record={"lastname": "Dropped"})
    [result] = connection.upsert("contact", [first])
    crm.emulator.faults.drop_rate = 0.0
    assert not result.ok and result.unknown
    assert "it may have been written" in (result.error or "")
    # it was: the server handled it before the connection dropped
    assert [r for r in crm.rows("Contacts")
            if r["lastname"] == "Dropped"]


def test_lookup_finds_keys_all_or_nothing(crm: Crm) -> None:
    connection = crm.connect(key_fields={"contact": "cf_858"})
    [made] = connection.upsert("contact", [UpsertItem(key="key-1", record={"lastname": "L"})])
    found = connection.lookup("contact", ["key-1", "key-unknown"])
    assert found == {"key-1": made.id}
    assert connection.lookup("company", ["key-1"]) == {}  # no key field: nothing to ask


def test_a_create_answered_500_is_sent_again_when_its_key_is_not_found(crm: Crm) -> None:
    connection = crm.connect(key_fields={"contact": "cf_858"})
    connection.check()
    before = len(crm.rows("Contacts"))
    crm.log.clear()
    crm.arm(error_rate=1.0)  # the create is answered 500 before the API sees it
    [result] = connection.upsert("contact", [UpsertItem(key="k500", record={"lastname": "R"})])
    assert result.ok and result.id is not None
    assert len(crm.rows("Contacts")) == before + 1
    # the create, the lookup of its key (not found), the create again
    assert [(e.method, e.status) for e in crm.log] == [("POST", 500), ("GET", 200),
                                                        ("POST", 200)]
    stored = crm.row("Contacts", int(result.id[3:]))
    assert stored["cf_858"] == "k500"


def test_a_create_answered_500_is_not_sent_twice_when_its_key_is_found(crm: Crm) -> None:
    """A 500 from a proxy after the CRM saved the record: the lookup finds it."""
    connection = crm.connect(key_fields={"contact": "cf_858"})
    connection.check()
    before = len(crm.rows("Contacts"))
    crm.arm(drop_rate=1.0, drop_mode="after")
    [result] = connection.upsert("contact", [UpsertItem(key="kdrop", record={"lastname": "D"})])
    assert result.ok and result.id is not None
    assert len(crm.rows("Contacts")) == before + 1


def test_an_invoice_takes_its_organisations_address_currency_and_payments(crm: Crm) -> None:
    connection = crm.connect()
    invoice = Invoice(
        date=date(2025, 2, 1),
        currency="EUR",
        company_id="11x2",
        subject="Dinero 1001",
        status="issued",
        balance=Decimal("100.00"),
        lines=[
            {"description": "Rådgivning", "quantity": 2, "unit_price": "100.00",
             "product_id": "14x4", "vat_percent": 25},
        ],
    )
    result = create(connection, "invoice", invoice)
    assert result.ok, result.error
    stored = result.record
    assert stored is not None
    account = crm.row("Accounts", 2)
    assert account is not None
    assert stored["bill_street"] == account["bill_street"] == stored["ship_street"]
    assert stored["currency_id"] == "21x2"  # EUR
    assert stored["invoicestatus"] == "Approved"
    assert stored["hdnGrandTotal"] == "250.00000000"
    assert stored["received"] == "150.00000000" and stored["balance"] == "100.00000000"
    back = connection.map_in("invoice", stored, result.context)
    assert isinstance(back, Invoice)
    assert back.total == Decimal(250) == back.gross_total
    assert back.balance == Decimal(100) and back.currency == "EUR"


def test_payments_are_received_against_what_is_owed_and_the_other_party_is_kept(
    crm: Crm,
) -> None:
    # 3 x 333.33 at 25 %: 999.99 net, 249.9975 VAT unrounded; owed 1249.99 (VAT in øre)
    connection = crm.connect()  # "Organisations": the invoice is the organisation's
    invoice = Invoice(
        date=date(2025, 2, 1), company_id="11x2", contact_id="12x3", subject="Dinero 1002",
        status="issued", total=Decimal("1249.99"), balance=Decimal("249.99"),
        lines=[{"description": "Timer", "quantity": 3, "unit_price": "333.33",
                "product_id": "14x4", "vat_percent": 25}],
    )
    result = create(connection, "invoice", invoice)
    assert result.ok and result.record is not None, result.error
    assert result.record["received"] == "1000.00000000"  # paid: what is owed less the rest
    back = connection.map_in("invoice", result.record, result.context)
    assert isinstance(back, Invoice)
    assert (back.total, back.balance) == (Decimal("1249.99"), Decimal("249.99"))
    assert (back.company_id, back.contact_id) == ("11x2", None)  # one customer
    # an update from the accounting system (no contact: it has one customer) leaves the
    # CRM's contact on the invoice
    native = connection.map_out("invoice", back.model_copy(update={"subject": "Dinero 1002b"}),
                                {})
    assert "contact_id" not in native and native["account_id"] == "11x2"
    [updated] = connection.upsert("invoice", [UpsertItem(
        key="k2", id=back.id, record=native, changed=frozenset({"subject"}))])
    assert updated.ok and updated.record is not None, updated.error
    assert (updated.record["subject"], updated.record["contact_id"]) == ("Dinero 1002b", "12x3")


def test_an_invoice_line_without_product_fails_with_the_fix(crm: Crm) -> None:
    connection = crm.connect()
    invoice = Invoice(date=date(2025, 2, 1), company_id="11x2",
                      lines=[{"description": "Free text", "unit_price": "5"}])
    try:
        connection.map_out("invoice", invoice, {})
    except Exception as error:  # the engine reports it as the record's failure
        assert str(error) == (
            "lines.0.product_id: Simply CRM invoice lines must name a product; sync the "
            "product first or give the line a product"
        )
    else:
        raise AssertionError("a line without a product was mapped")


def test_the_custom_mapping_writes_custom_fields(crm: Crm) -> None:
    connection = crm.connect(fields={"company": {"vat_number": "cf_853"}})
    result = create(connection, "company", Company(name="CVR A/S", country="DK",
                                                   vat_number="DK13585628"))
    assert result.ok and result.record is not None
    assert result.record["cf_853"] == "DK13585628"


def test_deletes_count_a_record_already_gone_as_deleted(crm: Crm) -> None:
    connection = crm.connect()
    first = connection.delete("product", ["14x4"])
    again = connection.delete("product", ["14x4"])
    assert [r.ok for r in first + again] == [True, True]
    assert crm.row("Products", 4) is None
