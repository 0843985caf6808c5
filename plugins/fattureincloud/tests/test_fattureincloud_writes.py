"""Writing: create/update round trips, the seed's rules (product codes, clients without saved
data), locked invoices, and the validation errors the API answers with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from syncbridge.models import Company, DocumentLine, Invoice, Product, Quote
from syncbridge.records import UpsertItem
from syncbridge_fattureincloud import api as fic_api
from syncbridge_fattureincloud import lookups as lookups_module
from syncbridge_fattureincloud.mapping import NotSyncable

COMPANY = 1051


def _create(connection: Any, entity: str, record: Any) -> tuple[str, dict[str, Any]]:
    [result] = connection.upsert(
        entity, [UpsertItem(key=f"k-{entity}", record=connection.map_out(entity, record))]
    )
    assert result.ok, result.error
    assert result.id is not None and result.record is not None
    return result.id, result.record


def _update(connection: Any, entity: str, native_id: str, record: Any) -> dict[str, Any]:
    [result] = connection.upsert(
        entity,
        [UpsertItem(key="u", id=native_id, record=connection.map_out(entity, record))],
    )
    assert result.ok, result.error
    assert result.record is not None
    return result.record


def test_company_round_trip(fic: Any) -> None:
    connection = fic.connect()
    company = Company(
        name="Ferretti Arredamenti S.r.l.",
        country="IT",
        vat_number="IT00743110157",
        tax_code="00743110157",
        address="Via Emilia 12",
        postal_code="41121",
        city="Modena",
        province="MO",
        email="amministrazione@ferretti-arredamenti.it",
        phone="+39 059 123 4567",
        notes="Cliente dal 2019",
    )
    native_id, stored = _create(connection, "company", company)
    row = fic.emulator.table(COMPANY, "clients").get(int(native_id))
    assert row is not None
    assert row["vat_number"] == "00743110157"  # Italian VAT numbers without the IT prefix
    assert row["country"] == "Italia" and row["country_iso"] == "IT"
    back = connection.map_in("company", stored)
    assert back.model_dump(exclude={"id", "updated_at"}) == company.model_dump(
        exclude={"id", "updated_at"}
    )
    moved = company.model_copy(update={"city": "Bologna", "notes": None, "phone": None})
    updated = _update(connection, "company", native_id, moved)
    again = connection.map_in("company", updated)
    assert isinstance(again, Company)
    assert again.city == "Bologna" and again.notes is None and again.phone is None
    assert fic.emulator.table(COMPANY, "clients").get(int(native_id))["notes"] == ""


def test_an_update_sends_only_its_changed_fields(fic: Any) -> None:
    """A run writes the city; meanwhile someone clears the e-mail in Fatture in Cloud. The
    update must not put back the e-mail the run read (the whole record was sent once)."""
    connection = fic.connect()
    company = Company(name="Conti S.n.c.", country="IT", city="Pisa", email="a@conti.it")
    native_id, _stored = _create(connection, "company", company)
    clients = fic.emulator.table(COMPANY, "clients")
    clients.update(int(native_id), {"email": ""})  # the user's edit, after the run read it

    moved = company.model_copy(update={"city": "Lucca"})  # still holds the e-mail read
    [result] = connection.upsert(
        "company",
        [
            UpsertItem(
                key="u",
                id=native_id,
                record=connection.map_out("company", moved),
                changed=frozenset({"city"}),
            )
        ],
    )
    assert result.ok, result.error
    row = clients.get(int(native_id))
    assert (row["address_city"], row["email"]) == ("Lucca", "")


def test_foreign_company_keeps_its_country(fic: Any) -> None:
    connection = fic.connect()
    company = Company(name="Huber Bau GmbH", country="DE", vat_number="DE136695976", city="Wien")
    native_id, stored = _create(connection, "company", company)
    row = fic.emulator.table(COMPANY, "clients").get(int(native_id))
    assert row["country"] == "Germania" and row["vat_number"] == "DE136695976"
    assert connection.map_in("company", stored).vat_number == "DE136695976"


def test_product_round_trip(fic: Any) -> None:
    connection = fic.connect()
    product = Product(
        name="Stufa a pellet 9 kW",
        code="STF-009",
        description="Classe energetica A+",
        category="Impianti",
        price=Decimal("1249.90"),
        cost=Decimal("780"),
        vat_rate_id="0",
        unit_id="pezzi",
        unit="pezzi",
    )
    native_id, stored = _create(connection, "product", product)
    row = fic.emulator.table(COMPANY, "products").get(int(native_id))
    assert row["net_price"] == 1249.9
    assert row["default_vat"]["id"] == 0 and row["default_vat"]["value"] == 22
    assert row["measure"] == "pezzi" and row["notes"] == "Classe energetica A+"
    back = connection.map_in("product", stored)
    assert back.model_dump(exclude={"id", "updated_at"}) == product.model_dump(
        exclude={"id", "updated_at"}
    )
    cheaper = product.model_copy(update={"price": Decimal("999")})
    assert connection.map_in(
        "product", _update(connection, "product", native_id, cheaper)
    ).price == Decimal(999)


def test_products_without_a_code_are_not_synced(fic: Any) -> None:
    connection = fic.connect()
    with fic.client() as http:  # the API itself accepts a product without a code
        created = http.post("/c/1051/products", json={"data": {"name": "Articolo vario"}})
    assert created.status_code == 200
    native = created.json()["data"]
    with pytest.raises(NotSyncable, match=r"^no product code$"):
        connection.map_in("product", native)
    with pytest.raises(NotSyncable, match="no product code"):
        connection.map_out("product", Product(name="Senza codice"))


def test_a_client_without_saved_data_is_not_synced(fic: Any) -> None:
    connection = fic.connect()
    # such records exist (imports, older versions) though the API no longer lets one be made
    row = fic.emulator.table(COMPANY, "clients").insert({"name": None, "vat_number": None})
    native = next(
        r for p in connection.fetch("company", query={"ids": [str(row["id"])]}) for r in p.records
    )
    with pytest.raises(NotSyncable, match="no saved data"):
        connection.map_in("company", native)


def test_a_document_whose_client_is_not_in_the_registry_is_not_synced(fic: Any) -> None:
    connection = fic.connect()
    with fic.client() as http:
        created = http.post(
            "/c/1051/issued_documents",
            json={
                "data": {
                    "type": "quote",
                    "entity": {"name": "Cliente occasionale"},
                    "date": "2024-05-02",
                    "items_list": [{"name": "Riparazione", "net_price": 80, "qty": 1}],
                }
            },
        )
    assert created.status_code == 200, created.text
    with pytest.raises(NotSyncable, match="not saved in the Fatture in Cloud registry"):
        connection.map_in("quote", created.json()["data"])


def test_quote_round_trip(fic: Any) -> None:
    connection = fic.connect()
    quote = Quote(
        number="7/P",
        date=date(2024, 5, 6),
        company_id="2",
        payment_method_id="1",
        subject="Preventivo impianto",
        notes="Validità 30 giorni",
        lines=[
            DocumentLine(
                description="Caldaia",
                quantity=Decimal(1),
                unit_price=Decimal("1500"),
                product_id="1",
                code="ART-00001",
                vat_rate_id="0",
                unit="pezzi",
                unit_id="pezzi",
            ),
            DocumentLine(
                description="Installazione",
                quantity=Decimal(4),
                unit_price=Decimal("45.50"),
                discount_percent=Decimal(10),
                vat_percent=Decimal(10),
            ),
        ],
    )
    native_id, stored = _create(connection, "quote", quote)
    row = fic.emulator.table(COMPANY, "documents").get(int(native_id))
    client = fic.emulator.table(COMPANY, "clients").get(2)
    assert row["entity"]["name"] == client["name"]  # filled in from the registry
    assert row["number"] == 7 and row["numeration"] == "/P"
    assert row["items_list"][1]["vat"]["id"] == 1  # 10% resolved to its VAT type
    assert row["amount_net"] == 1663.8 and row["amount_gross"] == pytest.approx(2010.18)
    back = connection.map_in("quote", stored)
    assert isinstance(back, Quote)
    assert back.number == "7/P" and back.company_id == "2" and back.payment_method_id == "1"
    assert [line.description for line in back.lines] == ["Caldaia", "Installazione"]
    assert back.lines[1].vat_rate_id == "1" and back.lines[1].vat_percent == Decimal(10)
    changed = quote.model_copy(update={"subject": "Preventivo impianto (rev. 2)", "notes": None})
    updated = connection.map_in("quote", _update(connection, "quote", native_id, changed))
    assert updated.subject == "Preventivo impianto (rev. 2)" and updated.notes is None


def test_invoice_payments_and_status(fic: Any) -> None:
    connection = fic.connect()
    invoice = Invoice(
        date=date(2024, 6, 3),
        due_date=date(2024, 7, 3),
        company_id="3",
        lines=[
            DocumentLine(
                description="Consulenza",
                quantity=Decimal(2),
                unit_price=Decimal(100),
                vat_rate_id="0",
            )
        ],
    )
    native_id, stored = _create(connection, "invoice", invoice)
    back = connection.map_in("invoice", stored)
    assert isinstance(back, Invoice)
    assert back.status == "issued" and back.total == Decimal(244) and back.balance == Decimal(244)
    assert back.due_date == date(2024, 7, 3) and back.locked is False
    # the customer pays in Fatture in Cloud; the next read shows it
    fic.emulator.table(COMPANY, "documents").update(
        int(native_id),
        {
            "payments_list": [
                {
                    **stored["payments_list"][0],
                    "status": "paid",
                    "paid_date": "2024-06-20",
                    "payment_account": {"id": 1, "name": "Intesa Sanpaolo c/c"},
                }
            ]
        },
    )
    [page] = connection.fetch("invoice", query={"ids": [native_id]})
    paid = connection.map_in("invoice", page.records[0])
    assert isinstance(paid, Invoice) and paid.status == "paid" and paid.balance == 0
    # an update never replaces the payments recorded in Fatture in Cloud
    _update(connection, "invoice", native_id, invoice.model_copy(update={"notes": "Grazie"}))
    row = fic.emulator.table(COMPANY, "documents").get(int(native_id))
    assert row["payments_list"][0]["status"] == "paid" and row["notes"] == "Grazie"


def test_a_sent_e_invoice_is_locked_and_refuses_changes(fic: Any) -> None:
    connection = fic.connect()
    invoice = Invoice(
        date=date(2024, 6, 3),
        company_id="3",
        lines=[DocumentLine(description="Canone", unit_price=Decimal(50))],
    )
    native_id, stored = _create(connection, "invoice", invoice)
    assert connection.map_in("invoice", stored).locked is False
    fic.emulator.send_e_invoice(int(native_id), "accepted")
    [page] = connection.fetch("invoice", query={"ids": [native_id]})
    assert connection.map_in("invoice", page.records[0]).locked is True
    [result] = connection.upsert(
        "invoice",
        [
            UpsertItem(
                key="u",
                id=native_id,
                record=connection.map_out(
                    "invoice", invoice.model_copy(update={"notes": "modifica"})
                ),
            )
        ],
    )
    assert not result.ok and result.error is not None and result.error.startswith("HTTP 409")
    [deleted] = connection.delete("invoice", [native_id])
    assert not deleted.ok


def test_seeded_e_invoices_already_sent_map_as_locked(fic: Any) -> None:
    connection = fic.connect()
    natives = [r for p in connection.fetch("invoice") for r in p.records]
    sent = [n for n in natives if n.get("ei_status") in ("sent", "accepted")]
    assert sent and all(connection.map_in("invoice", n).locked for n in sent)
    assert not any(connection.map_in("invoice", n).locked for n in natives if n not in sent)


def test_the_api_refuses_a_client_without_a_name(fic: Any) -> None:
    with fic.client() as http:
        response = http.post("/c/1051/entities/clients", json={"data": {"code": "C1"}})
        empty = http.post("/c/1051/entities/clients", json={"data": {"name": "  "}})
        null = http.post("/c/1051/entities/clients", json={"data": {"name": "X", "email": None}})
    assert response.status_code == 422 and empty.status_code == 422 and null.status_code == 422
    assert response.json() == {
        "error": {
            "message": "I dati inviati non sono validi.",
            "validation_result": {"data.name": ["Il campo data.name è obbligatorio."]},
        }
    }
    assert "data.email" in null.json()["error"]["validation_result"]


def test_the_api_refuses_a_document_without_its_client(fic: Any) -> None:
    with fic.client() as http:
        response = http.post(
            "/c/1051/issued_documents",
            json={"data": {"type": "quote", "date": "2024-05-02", "items_list": []}},
        )
        unknown = http.post(
            "/c/1051/issued_documents",
            json={"data": {"type": "quote", "entity": {"id": 9999, "name": "?"}}},
        )
    assert response.status_code == 422
    assert response.json()["error"]["validation_result"] == {
        "data.entity": ["Il campo data.entity è obbligatorio."]
    }
    assert unknown.status_code == 422


def test_payments_must_match_the_total(fic: Any) -> None:
    body = {
        "type": "invoice",
        "entity": {"id": 1, "name": "x"},
        "date": "2024-05-02",
        "items_list": [{"name": "Servizio", "net_price": 100, "qty": 1, "vat": {"id": 0}}],
        "payments_list": [{"amount": 100, "due_date": "2024-06-01", "status": "not_paid"}],
    }
    with fic.client() as http:
        refused = http.post("/c/1051/issued_documents", json={"data": body})
        fixed = http.post(
            "/c/1051/issued_documents", json={"data": body, "options": {"fix_payments": True}}
        )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == (
        "Il totale dei pagamenti non corrisponde al totale da pagare."
    )
    assert refused.json()["extra"]["totals"]["amount_gross"] == 122
    assert fixed.status_code == 200 and fixed.json()["data"]["payments_list"][0]["amount"] == 122


def test_a_rejected_write_is_reported_per_record(fic: Any) -> None:
    connection = fic.connect()
    good = connection.map_out("company", Company(name="Bruno Impianti S.n.c."))
    bad = {"name": "Ditta con email sbagliata", "email": 12}
    results = connection.upsert(
        "company", [UpsertItem(key="bad", record=bad), UpsertItem(key="good", record=good)]
    )
    by_key = {r.key: r for r in results}
    assert by_key["good"].ok
    assert not by_key["bad"].ok and "data.email" in (by_key["bad"].error or "")
    assert by_key["bad"].error is not None and by_key["bad"].error.startswith("HTTP 422")


# -- what a write looks up, once per connection -------------------------------------------------
def _sent(fic: Any, method: str, path: str) -> int:
    return sum(1 for e in fic.recorder.exchanges if (e.method, e.path) == (method, path))


def test_lookups_are_kept_for_the_connection_not_asked_per_record(fic: Any) -> None:
    """The engine hands ``upsert`` one record at a time: VAT types, payment methods and a
    document's client are read once for all of them."""
    connection = fic.connect()
    for n in range(4):
        product = Product(name=f"Articolo {n}", code=f"ART-{n}", vat_rate_id="0")
        _create(connection, "product", product)
    for n in range(3):
        quote = Quote(
            date=date(2024, 5, 6),
            company_id="2",
            payment_method_id="1",
            lines=[DocumentLine(description=f"Riga {n}", unit_price=Decimal(10),
                                vat_percent=Decimal(10))],
        )
        _create(connection, "quote", quote)
    new_id, _ = _create(connection, "company", Company(name="Nuova Ditta S.r.l."))
    _create(connection, "order", _order(new_id))

    assert _sent(fic, "GET", f"/c/{COMPANY}/info/vat_types") == 1
    assert _sent(fic, "GET", f"/c/{COMPANY}/info/payment_methods") == 1
    assert _sent(fic, "GET", f"/c/{COMPANY}/entities/clients/2") == 1
    assert _sent(fic, "GET", f"/c/{COMPANY}/entities/clients/{new_id}") == 0  # as written


def _order(company_id: str) -> Any:
    from syncbridge.models import Order

    return Order(
        date=date(2024, 5, 7),
        company_id=company_id,
        lines=[DocumentLine(description="Fornitura", unit_price=Decimal(5), vat_rate_id="0")],
    )


def test_a_vat_type_added_since_the_list_was_read_is_found_a_minute_later(fic: Any) -> None:
    connection = fic.connect()
    lookups = fic_api.fic(connection.client).lookups
    now = [1000.0]
    lookups.clock = lambda: now[0]
    _create(connection, "product", Product(name="Primo", code="P-1", vat_rate_id="0"))
    added = fic.emulator.table(COMPANY, "vat_types").insert(
        {"value": 7.0, "description": "7%", "notes": "", "e_invoice": True, "ei_type": None,
         "editable": True, "is_disabled": False, "default": False}
    )
    later = Product(name="Secondo", code="P-2", vat_rate_id=str(added["id"]))
    [refused] = connection.upsert(
        "product", [UpsertItem(key="p2", record=connection.map_out("product", later))]
    )
    assert refused.error == f"VAT type {added['id']} does not exist in Fatture in Cloud"
    now[0] += lookups_module.RECHECK
    _create(connection, "product", later)
    assert _sent(fic, "GET", f"/c/{COMPANY}/info/vat_types") == 2


def test_a_delete_of_a_client_already_gone_is_done(fic: Any) -> None:
    connection = fic.connect()
    native_id, _ = _create(connection, "company", Company(name="Da Cancellare S.r.l."))
    first = connection.delete("company", [native_id])
    again = connection.delete("company", [native_id])
    assert [(r.ok, r.id) for r in first + again] == [(True, native_id), (True, native_id)]
    assert fic.emulator.table(COMPANY, "clients").get(int(native_id)) is None
