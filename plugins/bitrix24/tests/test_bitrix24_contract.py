"""What the connector declares, how it maps, and the PHP-style query strings (no server)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import syncbridge_bitrix24.connector
from syncbridge.connection import Connection
from syncbridge.describe import Capability, RateLimit
from syncbridge.errors import RecordError
from syncbridge.models import (
    CanonicalRecord,
    Company,
    Contact,
    Currency,
    DocumentLine,
    Invoice,
    Product,
    Unit,
    VatRate,
)
from syncbridge.plugins import load_connector
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.mapping import multi_update

WEBHOOK = {"webhook_url": "https://b24.example.de/rest/1/abcdef0123456789/"}


@pytest.fixture
def connection() -> Connection:
    return Connection("b24", syncbridge_bitrix24.connector, WEBHOOK)


def test_describes_its_entities_honestly(connection: Connection) -> None:
    assert load_connector("bitrix24") is syncbridge_bitrix24.connector
    info = connection.info
    assert (info.name, info.rate_limits, info.version) == (
        "bitrix24",
        (RateLimit(requests=2, seconds=1.0),),
        "0.1.0",
    )
    assert set(info.entities) == {
        "contact",
        "company",
        "product",
        "invoice",
        "vat_rate",
        "currency",
        "unit",
    }
    contact = info.entity("contact")
    assert contact.capabilities == frozenset(Capability) - {
        Capability.IDEMPOTENT_CREATE,
        Capability.FILTER,
    }
    assert (contact.batch_size, contact.page_size, contact.id_field) == (50, 50, "ID")
    invoice = info.entity("invoice")
    assert (invoice.batch_size, invoice.id_field) == (25, "id")  # two commands per invoice
    assert Capability.LOOKUP in invoice.capabilities
    assert Capability.LOOKUP not in info.entity("product").capabilities
    assert info.entity("unit").capabilities == frozenset({Capability.READ})
    assert Capability.INCREMENTAL not in info.entity("currency").capabilities
    assert contact.fields is not None and "vat_number" not in contact.fields
    assert invoice.fields is not None and {"lines", "status"} <= invoice.fields
    with pytest.raises(KeyError, match="has no order entity"):
        info.entity("order")


def _round_trip(
    connection: Connection, entity: str, record: CanonicalRecord, **native: object
) -> None:
    out = connection.map_out(entity, record)
    back = connection.map_in(entity, {**out, **native})
    fields = connection.info.entity(entity).fields or set()
    assert back.model_dump(include=set(fields)) == record.model_dump(include=set(fields)), entity


def test_map_round_trips(connection: Connection) -> None:
    _round_trip(
        connection,
        "contact",
        Contact(
            first_name="Lea",
            last_name="Schulz",
            email="lea.schulz@example.de",
            phone="+49 30 1234",
            mobile="+49 151 9876",
            company_id="7",
            city="Berlin",
            country="DE",
            job_title="Einkauf",
        ),
        ID="3",
    )
    _round_trip(
        connection,
        "company",
        Company(
            name="Fischer Handel AG", website="https://fischer.de", currency="EUR", country="DE"
        ),
        ID="9",
    )
    _round_trip(
        connection,
        "product",
        Product(
            name="Toner", code="SKU-00007", price=Decimal("19.99"), vat_rate_id="3", unit_id="10"
        ),
        ID="2",
    )
    _round_trip(connection, "vat_rate", VatRate(rate=Decimal("19"), name="MwSt. 19%"), ID="3")
    _round_trip(connection, "currency", Currency(code="USD", exchange_rate=Decimal("0.92")))
    _round_trip(connection, "unit", Unit(name="pcs", description="Stück"), ID="10")
    invoice = Invoice(
        number="RE-1",
        date=date(2025, 1, 31),
        contact_id="4",
        status="paid",
        lines=[
            DocumentLine(
                description="Training day",
                quantity=Decimal(2),
                unit_price=Decimal("333.33"),
                discount_percent=Decimal("12.5"),
                vat_percent=Decimal(7),
            )
        ],
    )
    out = connection.map_out("invoice", invoice)
    # the status is the stage the stage map gives it (no key of the connector's own)
    assert (out["stageId"], out["categoryId"]) == ("DT31_1:P", 1)
    assert not [key for key in out if key.startswith("_")]
    # a row's price is after the discount and with tax: 333.33 less 12.5 % plus 7 % VAT
    assert out["productRows"][0]["price"] == "312.0802125"
    assert out["productRows"][0]["taxRate"] == "7"
    _round_trip(connection, "invoice", invoice, id=5, begindate="2025-01-31T00:00:00+01:00")


def test_no_vat_and_bad_data(connection: Connection) -> None:
    no_vat = connection.map_in("vat_rate", {"ID": "1", "NAME": "Ohne MwSt.", "RATE": None})
    assert no_vat.rate == 0
    unknown = {"id": 1, "stageId": "DT31_1:X", "begindate": "2025-01-01", "companyId": 3}
    with pytest.raises(RecordError, match="stage 'DT31_1:X' has no status: add it to the"):
        connection.map_in("invoice", unknown)
    # a stage the portal calls a failure reads as cancelled, as fetch's context says
    failed = connection.map_in("invoice", unknown, {"stage_semantics": "F"})
    assert failed.status == "cancelled"
    # an invoice fetch could not read whole fails with the reason fetch gave
    with pytest.raises(RecordError, match=r"^its product rows could not be read: QUERY_LIMIT"):
        connection.map_in(
            "invoice",
            {**unknown, "stageId": "DT31_1:P"},
            {"error": "its product rows could not be read: QUERY_LIMIT_EXCEEDED"},
        )


def test_multi_field_updates_touch_only_their_slot() -> None:
    current = {
        "PHONE": [
            {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+49 1"},
            {"ID": "2", "VALUE_TYPE": "MOBILE", "VALUE": "+49 2"},
            {"ID": "3", "VALUE_TYPE": "HOME", "VALUE": "+49 3"},
        ]
    }
    wanted = {"PHONE": [{"VALUE": "+49 9", "VALUE_TYPE": "WORK"}]}  # phone changed, no mobile
    assert multi_update(wanted, current, "PHONE") == [
        {"ID": "1", "VALUE": "+49 9", "VALUE_TYPE": "WORK"},
        {"ID": "2", "DELETE": "Y"},
    ]
    assert multi_update({"EMAIL": [{"VALUE": "a@b.de"}]}, {}, "EMAIL") == [
        {"VALUE": "a@b.de", "VALUE_TYPE": "WORK"}
    ]


def test_php_style_query_strings() -> None:
    params = {
        "filter": {">=DATE_MODIFY": "2024-02-26T00:00:00+02:00", "@ID": [1, 2]},
        "select": ["*", "PHONE"],
        "fields": {"OPENED": True, "PRICE": Decimal("1.50"), "COMMENTS": None},
        "productRows": [{"price": "1"}, {"price": "2"}],
    }
    encoded = phpquery.encode(params)
    assert "filter%5B%3E%3DDATE_MODIFY%5D=2024-02-26T00%3A00%3A00%2B02%3A00" in encoded
    assert "select%5B1%5D=PHONE" in encoded and "fields%5BCOMMENTS%5D=&" in encoded
    assert phpquery.decode(encoded) == {
        "filter": {">=DATE_MODIFY": "2024-02-26T00:00:00+02:00", "@ID": ["1", "2"]},
        "select": ["*", "PHONE"],
        "fields": {"OPENED": "1", "PRICE": "1.50", "COMMENTS": ""},
        "productRows": [{"price": "1"}, {"price": "2"}],
    }
    assert phpquery.decode("FILTER[ACTIVE]=true&select[]=ID&a=1&a=2") == {
        "FILTER": {"ACTIVE": "true"},
        "select": ["ID"],
        "a": "2",
    }
