"""Writing: creates and updates round-trip, idempotency keys, validation errors, deletes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from syncbridge.connection import Connection
from syncbridge.describe import Capability
from syncbridge.models import Company, Contact, DocumentLine, Product, Quote
from syncbridge.records import UpsertItem
from syncbridge_crmincloud import mapping

from .conftest import Crm, typed


def _company(**extra: object) -> Company:
    fields: dict[str, object] = {
        "name": "Ferri Arredamenti S.r.l.",
        "address": "Via Emilia 12",
        "postal_code": "40121",
        "city": "Bologna",
        "province": "BO",
        "country": "IT",
        "email": "amministrazione@ferriarredamenti.it",
        "phone": "+39 051 123 4567",
        "vat_number": "IT00743110157",
        "tax_code": "00743110157",
        "website": "https://www.ferriarredamenti.it",
        "notes": "Consegna solo al mattino",
        **extra,
    }
    return Company.model_validate(fields)


def test_create_stores_the_record_and_returns_it_as_stored(crm: Crm, conn: Connection) -> None:
    company = _company()
    [result] = conn.upsert(
        "company", [UpsertItem(key="sb-k1", record=conn.map_out("company", company))]
    )

    assert result.ok and result.id is not None and result.record is not None
    stored = crm.table("company").get(int(result.id))
    assert stored["companyName"] == "Ferri Arredamenti S.r.l."
    assert stored["vatId"] == "00743110157"  # national form beside state = IT
    assert stored["emails"] == [{"value": "amministrazione@ferriarredamenti.it"}]
    assert stored["FF_SYNCBRIDGE_KEY"] == "sb-k1"
    back = conn.map_in("company", result.record or {})
    assert back.content() == company.content()
    assert back.updated_at is not None


def test_update_changes_mapped_fields_and_keeps_the_rest(crm: Crm, conn: Connection) -> None:
    [created] = conn.upsert(
        "company", [UpsertItem(key="sb-k2", record=conn.map_out("company", _company()))]
    )
    record_id = int(str(created.id))
    table = crm.table("company")
    table.update(
        record_id,
        {
            "emails": [*table.get(record_id)["emails"], {"value": "ordini@ferriarredamenti.it"}],
            "code": "C-77",
        },
    )
    changed = _company(city="Imola", postal_code="40026", email="info@ferriarredamenti.it")

    [result] = conn.upsert(
        "company",
        [
            UpsertItem(
                key="update-1",
                id=str(record_id),
                record=conn.map_out("company", changed),
                changed=frozenset({"city", "postal_code", "email"}),
            )
        ],
    )

    assert result.ok and result.id == str(record_id)
    stored = table.get(record_id)
    assert (stored["city"], stored["zipCode"]) == ("Imola", "40026")
    assert stored["emails"] == [
        {"value": "info@ferriarredamenti.it"},
        {"value": "ordini@ferriarredamenti.it"},
    ]
    assert stored["code"] == "C-77" and stored["FF_SYNCBRIDGE_KEY"] == "sb-k2"
    assert typed(Company, conn.map_in("company", result.record or {})).city == "Imola"


def test_written_records_are_read_back_together(crm: Crm, conn: Connection) -> None:
    """``CreateOrUpdate`` answers only an id: the batch's records are read back with a search
    per 40 ids (and the stored records of its updates beforehand), not a ``Get`` each."""
    creates = [
        UpsertItem(key=f"sb-many-{n}", record=conn.map_out(
            "company", Company(name=f"Azienda {n:02d} S.r.l.", city="Como", country="IT")))
        for n in range(45)
    ]
    crm.log.clear()
    results = conn.upsert("company", creates)

    assert all(r.ok and r.record is not None for r in results)
    assert [r.record["companyName"] for r in results if r.record] == [
        f"Azienda {n:02d} S.r.l." for n in range(45)
    ]
    sent = [(e.method, e.url.split("?")[0].rsplit("/", 1)[-1]) for e in crm.log
            if "/Auth/" not in e.url]
    assert sent == [("POST", "CreateOrUpdate")] * 45 + [("GET", "SearchByODataCriteria")] * 2

    crm.log.clear()
    updates = [
        UpsertItem(key=f"sb-edit-{n}", id=results[n].id, changed=frozenset({"city"}),
                   record=conn.map_out("company", Company(
                       name=f"Azienda {n:02d} S.r.l.", city="Lecco", country="IT")))
        for n in range(3)
    ]
    edited = conn.upsert("company", updates)

    assert [r.record["city"] for r in edited if r.record] == ["Lecco"] * 3
    sent = [(e.method, e.url.split("?")[0].rsplit("/", 1)[-1]) for e in crm.log
            if "/Auth/" not in e.url]
    assert sent == [("GET", "SearchByODataCriteria"), *[("POST", "CreateOrUpdate")] * 3,
                    ("GET", "SearchByODataCriteria")]


def test_lookup_finds_creates_by_their_key(conn: Connection) -> None:
    results = conn.upsert(
        "contact",
        [
            UpsertItem(
                key=f"sb-contact-{n}",
                record=conn.map_out(
                    "contact", Contact(first_name="Anna", last_name=f"Verdi {n}", company_id="3")
                ),
            )
            for n in range(3)
        ],
    )

    found = conn.lookup("contact", ["sb-contact-0", "sb-contact-2", "sb-never-written"])

    assert found == {"sb-contact-0": results[0].id, "sb-contact-2": results[2].id}


def test_lookup_asks_for_many_keys_a_request(crm: Crm) -> None:
    conn = crm.connect()
    keys = [f"sb-many-{n}" for n in range(45)]
    results = conn.upsert(
        "company",
        [
            UpsertItem(key=key, record=conn.map_out("company", _company(name=f"Many {n}")))
            for n, key in enumerate(keys)
        ],
    )
    before = len(crm.log)

    found = conn.lookup("company", [*keys, "sb-never-written"])

    assert found == {key: result.id for key, result in zip(keys, results, strict=True)}
    assert len(crm.log) - before == 2  # 40 keys, then 5: not one request per key


def test_without_the_key_field_the_connection_declares_no_lookup(crm: Crm) -> None:
    """A key lookup does not find is taken for a create that made nothing: a connection
    that writes no key must not offer lookup at all (crash recovery goes by content)."""
    assert crm.connect().can("company", Capability.LOOKUP)
    assert not crm.connect(key_field="").can("company", Capability.LOOKUP)


def test_keys_with_quotes_are_escaped_in_the_filter(conn: Connection) -> None:
    [result] = conn.upsert(
        "company", [UpsertItem(key="sb-o'brien", record=conn.map_out("company", _company()))]
    )

    assert conn.lookup("company", ["sb-o'brien"]) == {"sb-o'brien": result.id}


def test_validation_errors_surface_as_failed_results_with_the_api_message(
    crm: Crm, conn: Connection
) -> None:
    good = conn.map_out("company", _company())
    nameless = {**good, "companyName": "  "}
    before = len(crm.table("company"))

    results = conn.upsert(
        "company",
        [
            UpsertItem(key="bad", record=nameless),
            UpsertItem(key="good", record=good),
            UpsertItem(key="gone", id="9999", record=good),
        ],
    )

    assert [r.ok for r in results] == [False, True, False]
    assert results[0].error == "HTTP 400 Bad Request: The companyName field is required."
    assert results[2].error == "Company 9999 does not exist in CRM in Cloud (deleted there?)"
    assert len(crm.table("company")) == before + 1


def test_a_contact_pointing_at_a_missing_company_is_refused(conn: Connection) -> None:
    record = conn.map_out("contact", Contact(last_name="Neri", company_id="4040"))

    [result] = conn.upsert("contact", [UpsertItem(key="k", record=record)])

    assert not result.ok
    assert result.error == "HTTP 400 Bad Request: companyId: there is no Company with id 4040."


def test_product_category_is_resolved_and_created_by_description(
    crm: Crm, conn: Connection
) -> None:
    categories = crm.table("catalogcategories")
    known = Product(name="Corso Excel", code="FORM-01", category="formazione", price="120.50")
    new = Product(
        name="Sedia ergonomica", code="ARR-01", category="Arredo", price="189.9", vat_rate_id="22"
    )

    items = []
    for key, product in (("p1", known), ("p2", new)):
        context: dict[str, object] = {}
        native = conn.map_out("product", product, context)
        items.append(UpsertItem(key=key, record=native, context=context))

    results = conn.upsert("product", items)

    assert all(r.ok for r in results)
    stored = [crm.table("catalog").get(int(str(r.id))) for r in results]
    assert categories.get(stored[0]["category"])["description"] == "Formazione"
    assert categories.get(stored[1]["category"])["description"] == "Arredo"
    assert not [key for key in stored[1] if key.startswith("_")] and stored[1]["active"] == 1
    assert results[1].context == {mapping.CATEGORY: "Arredo"}
    back = typed(Product, conn.map_in("product", results[1].record or {}, results[1].context))
    assert (back.category, back.price, back.vat_rate_id) == ("Arredo", Decimal("189.9"), "22")


def test_a_duplicate_catalog_code_is_refused(conn: Connection) -> None:
    record = conn.map_out("product", Product(name="Doppione", code="SKU-00001"))

    [result] = conn.upsert("product", [UpsertItem(key="dup", record=record)])

    assert result.error == (
        "HTTP 400 Bad Request: The code 'SKU-00001' is already used by catalog item 1."
    )


def test_quote_round_trip(conn: Connection) -> None:
    quote = Quote(
        number="2024/0100",
        date=date(2024, 5, 6),
        valid_until=date(2024, 6, 5),
        company_id="2",
        status="sent",
        subject="Offerta arredo uffici",
        lines=[
            DocumentLine(
                description="Scrivania",
                quantity="2",
                unit_price="310.00",
                product_id="1",
                code="SKU-00001",
                vat_rate_id="22",
            ),
            DocumentLine(
                description="Montaggio", quantity="1.5", unit_price="45", discount_percent="10"
            ),
        ],
    )

    [result] = conn.upsert("quote", [UpsertItem(key="q1", record=conn.map_out("quote", quote))])

    assert result.ok, result.error
    back = typed(Quote, conn.map_in("quote", result.record or {}))
    assert back.content() == quote.content()
    assert back.net_total == Decimal("620") + Decimal("60.75")


def test_a_quote_status_the_crm_lacks_is_a_mapping_error(conn: Connection) -> None:
    quote = Quote(date=date(2024, 5, 6), company_id="2", status="paid")

    try:
        conn.map_out("quote", quote)
    except ValueError as error:
        assert "has no status 'paid'" in str(error)
    else:
        raise AssertionError("a paid quote must not map out")


def test_delete_removes_and_tolerates_already_deleted(crm: Crm, conn: Connection) -> None:
    results = conn.delete("product", ["3", "3"])

    assert [r.ok for r in results] == [True, True]
    assert 3 not in crm.table("catalog")
    assert [r.ok for r in conn.delete("company", ["4"])] == [True]
    assert 4 not in crm.table("company")
