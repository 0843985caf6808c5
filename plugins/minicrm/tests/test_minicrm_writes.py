"""Writes: contacts with their addresses, keys for lookup, invoices on customers' cards, the
demo account refused up front, the IP allow-list explained, settings from the API URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

import syncbridge_minicrm.connector
from syncbridge import ConnectorError, UpsertItem
from syncbridge.connection import Connection
from syncbridge.emulator import running
from syncbridge.emulator.faults import DropConnection
from syncbridge.models import Company, Contact, DocumentLine, Invoice, Quote
from syncbridge_minicrm.settings import MiniCrmSettings

if TYPE_CHECKING:
    from conftest import Crm

    from syncbridge.connection import Connection


def _item(connection: Connection, entity: str, record: Any, key: str, **kw: Any) -> UpsertItem:
    context: dict[str, Any] = {}
    native = connection.map_out(entity, record, context)
    return UpsertItem(key=key, record=native, context=context, **kw)


def _company(**changes: Any) -> Company:
    values: dict[str, Any] = {
        "name": "Kiss és Társa Kft.",
        "country": "HU",
        "address": "Váci út 12.",
        "postal_code": "1132",
        "city": "Budapest",
        "mailing_address": "Pf. 42",
        "mailing_postal_code": "1300",
        "mailing_city": "Budapest",
        "mailing_country": "HU",
        "tax_code": "12345676241",
        "vat_number": "HU12345676",
        "email": "iroda@kiss.hu",
    }
    return Company(**{**values, **changes})


def test_a_company_is_created_with_its_key_and_addresses(crm: Crm) -> None:
    connection = crm.connect()
    (result,) = connection.upsert("company", [_item(connection, "company", _company(), "k-1")])
    assert result.ok and result.id == "13"
    stored = crm.table("contact").get(13)
    assert (stored["Type"], stored["Name"], stored["ReferenceId"]) == (
        "Business",
        "Kiss és Társa Kft.",
        "k-1",
    )
    assert (stored["VatNumber"], stored["EUVatNumber"]) == ("12345676-2-41", "HU12345676")
    addresses = {a["Type"]: a for a in crm.table("address").list(lambda a: a["ContactId"] == 13)}
    assert addresses["Székhely"]["Address"] == "Váci út 12."
    assert addresses["Levelezési cím"]["PostalCode"] == "1300"
    assert connection.lookup("company", ["k-1", "k-unknown"]) == {"k-1": "13"}
    read = connection.map_page(
        "company", next(iter(connection.fetch("company", query={"ids": ["13"]})))
    )
    expected = _company(id="13", external_id="13")
    assert read[0].model_dump(exclude={"updated_at"}) == expected.model_dump(
        exclude={"updated_at"}
    )


def test_an_update_rewrites_addresses_by_type_without_duplicating(crm: Crm) -> None:
    connection = crm.connect()
    changed = _company(id="2", city="Szeged", postal_code="6720", mailing_city="Szeged")
    item = _item(connection, "company", changed, "k-2", id="2", changed=frozenset({"city"}))
    (result,) = connection.upsert("company", [item])
    assert result.ok and result.id == "2"
    addresses = crm.table("address").list(lambda a: a["ContactId"] == 2)
    assert sorted(a["Type"] for a in addresses) == ["Levelezési cím", "Székhely"]
    assert {a["City"] for a in addresses} == {"Szeged"}
    assert crm.table("contact").get(2)["Name"] == "Kiss és Társa Kft."


def test_a_person_joins_a_company_but_cannot_move_to_another(crm: Crm) -> None:
    connection = crm.connect()
    person = Contact(first_name="Bence", last_name="Nagy", company_id="2", city="Pécs")
    (created,) = connection.upsert("contact", [_item(connection, "contact", person, "p-1")])
    assert created.ok and crm.table("contact").get(int(str(created.id)))["BusinessId"] == 2
    moved = person.model_copy(update={"company_id": "3"})
    item = _item(connection, "contact", moved, "p-2", id=created.id)
    (result,) = connection.upsert("contact", [item])
    assert not result.ok
    assert result.error == (
        "HTTP 400 Bad Request: Contact (PUT): A kapcsolattartó nem helyezhető át másik céghez."
    )


def test_a_bad_tax_number_going_out_names_the_field(crm: Crm) -> None:
    connection = crm.connect()
    company = _company().model_copy(update={"tax_code": "12345678-2-41"})
    with pytest.raises(Exception, match=r"^tax_code: '12345678-2-41' is not a valid Hungarian"):
        connection.map_out("company", company, {})


def test_invoices_go_onto_the_customers_card(crm: Crm) -> None:
    connection = crm.connect()
    invoice = Invoice(
        number="SZLA-2026-00042",
        date=date(2026, 3, 2),
        due_date=date(2026, 3, 10),
        currency="HUF",
        company_id="2",
        lines=[
            DocumentLine(
                description="Karbantartás",
                quantity=Decimal(3),
                unit_price=Decimal("15000"),
                vat_percent=Decimal(27),
                unit="óra",
            )
        ],
    )
    (created,) = connection.upsert("invoice", [_item(connection, "invoice", invoice, "i-1")])
    assert created.ok and created.record is not None
    assert created.context == {"customer_type": "Business", "document_type": "Invoice"}
    stored = crm.table("invoice").get(int(str(created.id)))
    assert (stored["CustomerId"], stored["Number"], stored["Amount"]) == (
        2,
        "SZLA-2026-00042",
        "57150.00",
    )
    card = crm.table("project").get(stored["ProjectId"])
    assert (card["ContactId"], card["CategoryId"]) == (2, 40)
    again = _item(connection, "invoice", invoice, "i-2", id=created.id)
    (refused,) = connection.upsert("invoice", [again])
    assert not refused.ok and "can only be marked paid or cancelled" in str(refused.error)


def test_a_demo_account_refuses_writes_before_sending_anything(
    make_crm: Callable[..., Crm],
) -> None:
    crm = make_crm(demo=True)
    connection = crm.connect()
    check = connection.check()
    assert (check.ok, check.account) == (True, "MiniCRM system 12345")
    assert check.reason == (
        "a demo account: it can be read, and every write to it is refused before anything "
        "is sent"
    )
    crm.log.clear()
    with pytest.raises(ConnectorError) as refused:
        connection.upsert("company", [_item(connection, "company", _company(), "d-1")])
    assert str(refused.value) == (
        "MiniCRM system 12345 is a MiniCRM demo account, which can only be read: 1 company "
        "write(s) refused before anything was sent; sync from MiniCRM only, or connect a "
        "subscribed system (demo_account = false)"
    )
    assert crm.log == [] and crm.emulator.requests.count("PUT") == 0
    assert len(next(iter(connection.fetch("company"))).records) == 6  # reading works


def test_the_demo_system_refuses_a_connection_not_told_it_is_one(
    make_crm: Callable[..., Crm],
) -> None:
    crm = make_crm(demo=True)
    connection = crm.connect(demo_account=False)
    with pytest.raises(ConnectorError) as refused:
        connection.upsert("company", [_item(connection, "company", _company(), "d-2")])
    assert str(refused.value) == (
        "MiniCRM answered PUT /Api/R3/Contact with HTTP 403 Forbidden: Contact (PUT): Demo "
        "rendszerben az adatok nem módosíthatók!; a demo account can only be read: set "
        "demo_account = true and sync from MiniCRM only, or connect a subscribed system"
    )


def test_an_address_off_the_allow_list_gets_a_red_light_saying_why(
    make_crm: Callable[..., Crm],
) -> None:
    crm = make_crm(allowed_ips={"203.0.113.7"})
    check = crm.connect().check()
    assert not check.ok
    assert "Az API hozzáférés nem engedélyezett erről az IP címről: 127.0.0.1" in check.reason
    assert check.reason.endswith(
        "; this machine's address (127.0.0.1) is not on the system's list of API allowed IP "
        "addresses: add it there (MiniCRM: Settings -> System), or run from a listed address "
        "(allowed_ips in the connection's settings)"
    )
    assert crm.emulator.api_key not in check.reason


def test_a_wrong_key_is_a_red_light_without_the_key(crm: Crm) -> None:
    check = crm.connect(api_key="not-the-key").check()
    assert not check.ok and "Hibás rendszer azonosító vagy API kulcs!" in check.reason
    assert "not-the-key" not in check.reason


def test_settings_take_the_api_url_as_minicrm_shows_it() -> None:
    settings = MiniCrmSettings.model_validate(
        {"api_url": "https://98:d9cb0a572@r3.minicrm.hu/", "company_number": 0}
    )
    assert (settings.base_url, settings.system_id) == ("https://r3.minicrm.hu", 98)
    assert settings.api_key.get_secret_value() == "d9cb0a572"
    assert "d9cb0a572" not in repr(settings)
    with pytest.raises(ValidationError, match="holds no system id and API key"):
        MiniCrmSettings.model_validate({"api_url": "https://r3.minicrm.hu/"})
    with pytest.raises(ValidationError, match="not an IP address"):
        MiniCrmSettings.model_validate({"system_id": 1, "api_key": "k", "allowed_ips": ["x"]})
    with pytest.raises(ValidationError, match="statuses need customer_category"):
        MiniCrmSettings.model_validate({"system_id": 1, "api_key": "k", "statuses": ["Customer"]})


class _DropFirstCreate:
    """Hands requests to the emulator; the first contact create is handled, then its
    connection dropped before the answer (the write happened, the answer never came)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.dropped = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        create = scope["type"] == "http" and (scope["method"], scope["path"]) == (
            "PUT",
            "/Api/R3/Contact",
        )
        if create and not self.dropped:
            self.dropped += 1

            async def lose(message: Any) -> None:
                """The answer goes nowhere."""

            await self.app(scope, receive, lose)
            raise DropConnection("the create's answer is lost")
        await self.app(scope, receive, send)


def test_a_create_whose_answer_is_lost_is_found_by_its_key(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(records=1)
    with running(_DropFirstCreate(crm.emulator.app)) as url:
        connection = Connection(
            "crm",
            syncbridge_minicrm.connector,
            {**crm.emulator.settings_for(url), "rate_limit": False},
            request_log=crm.log.append,
        )
        with connection:
            (result,) = connection.upsert(
                "company", [_item(connection, "company", _company(), "lost-1")]
            )
    assert result.ok and result.id == "3"
    made = crm.table("contact").list(lambda row: row.get("ReferenceId") == "lost-1")
    assert [row["id"] for row in made] == [3]  # the create was not sent again
    assert [(e.method, e.status) for e in crm.log] == [
        ("PUT", None),  # answer lost
        ("GET", 200),  # Contact?ReferenceId=lost-1&Type=Business
        ("PUT", 200),  # its office address
        ("PUT", 200),  # its mailing address
    ]
    assert len(crm.table("address").list(lambda a: a["ContactId"] == 3)) == 2


def test_a_company_created_under_the_customer_filter_reads_back_as_a_customer(
    crm: Crm,
) -> None:
    # a connection that reads only "Customer" cards must read back the companies it creates
    connection = crm.connect(customer_category=23, statuses=["Customer"])
    item = _item(connection, "company", _company(), "k-card")
    (result,) = connection.upsert("company", [item])
    assert result.ok, result.error
    [card] = crm.table("project").list(lambda row: row["ContactId"] == int(str(result.id)))
    assert (card["CategoryId"], card["StatusId"], card["Name"]) == (
        23,
        2501,
        "Kiss és Társa Kft.",
    )
    read = [
        c
        for page in connection.fetch("company", query={"ids": [str(result.id)]})
        for c in connection.map_page("company", page)
    ]
    assert [(c.name, c.status) for c in read] == [("Kiss és Társa Kft.", "Customer")]
    # without the filter, no card is made
    plain = crm.connect()
    (other,) = plain.upsert("company", [_item(plain, "company", _company(name="Más Kft."), "k-2")])
    assert crm.table("project").list(lambda row: row["ContactId"] == int(str(other.id))) == []


def test_a_quote_goes_onto_the_card_as_a_proforma(crm: Crm) -> None:
    connection = crm.connect()
    quote = Quote(
        number="D-SBT-2026-7",
        date=date(2026, 3, 2),
        valid_until=date(2026, 3, 10),
        currency="HUF",
        company_id="2",
        lines=[DocumentLine(description="Előleg", quantity=Decimal(1),
                            unit_price=Decimal("100000"), vat_percent=Decimal(27))],
    )
    (created,) = connection.upsert("quote", [_item(connection, "quote", quote, "q-1")])
    assert created.ok, created.error
    assert created.context == {"customer_type": "Business", "document_type": "Proforma"}
    stored = crm.table("invoice").get(int(str(created.id)))
    assert (stored["Type"], stored["Prompt"], stored["Amount"], stored["Paid"]) == (
        "Proforma",
        "2026-03-10",
        "127000.00",
        "0000-00-00",
    )
    [read] = [q for page in connection.fetch("quote", query={"ids": [str(created.id)]})
              for q in connection.map_page("quote", page)]
    assert read.model_dump(include={"number", "valid_until", "company_id", "lines"}) == (
        quote.model_dump(include={"number", "valid_until", "company_id", "lines"})
        | {"lines": [{**quote.lines[0].model_dump(), "unit": "db"}]})
