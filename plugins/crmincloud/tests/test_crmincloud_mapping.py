"""Mapping realistic CRM in Cloud records to canonical ones and back, value by value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from syncbridge.models import Company, Contact, DocumentLine, Product, Quote, VatRate
from syncbridge_crmincloud import api, mapping

from .conftest import typed

COMPANY = {
    "id": 1842,
    "companyName": "Bianchi Impianti S.r.l.",
    "code": "C00412",
    "description": "Cliente storico, pagamento a 60 giorni",
    "address": "Corso Vittorio Emanuele II 88",
    "city": "Torino",
    "zipCode": "10121",
    "province": "TO",
    "state": "IT",
    "vatId": "00743110157",
    "taxIdentificationNumber": "00743110157",
    "emails": [{"value": "info@bianchi-impianti.it"}, {"value": "pec@pec.bianchi-impianti.it"}],
    "phones": [{"value": "+39 011 554 2100"}],
    "webSite": "https://www.bianchi-impianti.it",
    "createdDate": "2023-11-20T08:12:44.120Z",
    "lastModifiedDate": "2024-03-05T14:03:27.512Z",
    "FF_SYNCBRIDGE_KEY": None,
}


def test_company_in() -> None:
    company = mapping.map_in("company", COMPANY, {})

    assert company == Company(
        id="1842",
        updated_at=datetime(2024, 3, 5, 14, 3, 27, 512000, tzinfo=UTC),
        name="Bianchi Impianti S.r.l.",
        address="Corso Vittorio Emanuele II 88",
        postal_code="10121",
        city="Torino",
        province="TO",
        country="IT",
        email="info@bianchi-impianti.it",
        phone="+39 011 554 2100",
        vat_number="IT00743110157",
        tax_code="00743110157",
        website="https://www.bianchi-impianti.it",
        notes="Cliente storico, pagamento a 60 giorni",
    )


def test_company_out_is_the_native_form() -> None:
    native = mapping.map_out("company", mapping.map_in("company", COMPANY, {}), {})

    assert native == {
        "companyName": "Bianchi Impianti S.r.l.",
        "address": "Corso Vittorio Emanuele II 88",
        "zipCode": "10121",
        "city": "Torino",
        "province": "TO",
        "state": "IT",
        "emails": [{"value": "info@bianchi-impianti.it"}],
        "phones": [{"value": "+39 011 554 2100"}],
        "vatId": "00743110157",
        "taxIdentificationNumber": "00743110157",
        "webSite": "https://www.bianchi-impianti.it",
        "description": "Cliente storico, pagamento a 60 giorni",
    }
    assert set(native) >= {"companyName", "vatId"} and "id" not in native


def test_vat_numbers_without_country_are_italian_and_foreign_ones_keep_their_prefix() -> None:
    no_state = typed(Company, mapping.map_in("company", {**COMPANY, "state": None}, {}))
    german = typed(
        Company,
        mapping.map_in("company", {**COMPANY, "state": "de", "vatId": "DE136695976"}, {}),
    )

    assert (no_state.country, no_state.vat_number) == (None, "IT00743110157")
    assert (german.country, german.vat_number) == ("DE", "DE136695976")
    assert mapping.map_out("company", german, {})["vatId"] == "136695976"
    assert mapping.map_out("company", no_state, {})["vatId"] == "IT00743110157"


def test_a_wrong_partita_iva_fails_naming_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        mapping.map_in("company", {**COMPANY, "vatId": "00743110158"}, {})

    assert error.value.errors()[0]["loc"] == ("vat_number",)
    assert "check digit" in str(error.value)


def test_contact_in() -> None:
    contact = mapping.map_in(
        "contact",
        {
            "id": 77,
            "name": "Giulia",
            "surname": "Colombo",
            "companyId": 1842,
            "companyName": "Bianchi Impianti S.r.l.",
            "emails": [],
            "phones": [{"value": " "}, {"value": "+39 333 120 4455"}],
            "address": None,
            "city": "Torino",
            "zipCode": None,
            "province": None,
            "state": "IT",
            "vatId": None,
            "taxIdentificationNumber": "CLMGLI85M41L219G",
            "lastModifiedDate": "2024-03-05T14:03:27.512Z",
        },
        {},
    )

    assert contact == Contact(
        id="77",
        updated_at=datetime(2024, 3, 5, 14, 3, 27, 512000, tzinfo=UTC),
        first_name="Giulia",
        last_name="Colombo",
        company_id="1842",
        phone="+39 333 120 4455",
        city="Torino",
        country="IT",
        tax_code="CLMGLI85M41L219G",
    )
    orphan = typed(
        Contact, mapping.map_in("contact", {"id": 5, "surname": "Neri", "companyId": 0}, {})
    )
    assert orphan.company_id is None


def test_product_in_reads_money_exactly() -> None:
    native = {
        "id": 12,
        "active": 1,
        "code": "SKU-00012",
        "codeEAN": "8001234567890",
        "productName": "Manutenzione annuale caldaia",
        "description": None,
        "price": api.loads('{"price": 1234.567891}')["price"],
        "taxCode": "22",
        "category": 3,
        "lastModifiedDate": "2024-02-01T10:00:00.000Z",
    }

    product = mapping.map_in("product", native, {mapping.CATEGORY: "Servizi"})

    assert product == Product(
        id="12",
        updated_at=datetime(2024, 2, 1, 10, tzinfo=UTC),
        name="Manutenzione annuale caldaia",
        code="SKU-00012",
        category="Servizi",
        price=Decimal("1234.567891"),
        vat_rate_id="22",
    )
    assert api.encode({"price": product.price}) == b'{"price": 1234.567891}'


def test_product_out_notes_its_category_in_the_context_not_the_record() -> None:
    context: dict[str, object] = {}
    native = mapping.map_out("product", Product(name="Corso Excel", category="Formazione"), context)

    assert context == {mapping.CATEGORY: "Formazione"}
    assert "category" not in native and not [key for key in native if key.startswith("_")]
    back = typed(Product, mapping.map_in("product", {**native, "id": 3}, context))
    assert back.category == "Formazione"
    uncategorised: dict[str, object] = {}
    mapping.map_out("product", Product(name="Sedia"), uncategorised)
    assert uncategorised == {mapping.CATEGORY: None}  # sent as "no category"


def test_vat_rate_in() -> None:
    rate = mapping.map_in(
        "vat_rate",
        {"taxCode": "N4", "taxValue": 0, "taxDescription": "Esente art. 10", "active": 1},
        {},
    )

    assert rate == VatRate(
        id="N4", rate=Decimal(0), name="Esente art. 10", description="Esente art. 10"
    )


def test_quote_in_with_dotnet_dates_and_rows() -> None:
    quote = mapping.map_in(
        "quote",
        {
            "id": 9,
            "companyId": 1842,
            "contactId": 77,
            "number": "2024/0031",
            "date": "2024-03-04T00:00:00",
            "expirationDate": "2024-04-03T00:00:00",
            "title": "Impianto climatizzazione",
            "description": None,
            "status": "accepted",
            "currency": "EUR",
            "rows": [
                {
                    "catalogId": 12,
                    "code": "SKU-00012",
                    "description": "Manutenzione annuale caldaia",
                    "quantity": 2,
                    "unitPrice": Decimal("180.5"),
                    "discount": 10,
                    "taxCode": "22",
                },
                {
                    "catalogId": None,
                    "code": None,
                    "description": "Trasferta",
                    "quantity": 1,
                    "unitPrice": 40,
                    "discount": 0,
                    "taxCode": None,
                },
            ],
            "lastModifiedDate": "2024-03-04T09:30:00.000Z",
        },
        {},
    )

    assert quote == Quote(
        id="9",
        updated_at=datetime(2024, 3, 4, 9, 30, tzinfo=UTC),
        number="2024/0031",
        date=date(2024, 3, 4),
        valid_until=date(2024, 4, 3),
        currency="EUR",
        company_id="1842",
        contact_id="77",
        status="accepted",
        subject="Impianto climatizzazione",
        lines=[
            DocumentLine(
                description="Manutenzione annuale caldaia",
                quantity=Decimal(2),
                unit_price=Decimal("180.5"),
                discount_percent=Decimal(10),
                product_id="12",
                code="SKU-00012",
                vat_rate_id="22",
            ),
            DocumentLine(description="Trasferta", unit_price=Decimal(40)),
        ],
    )
    assert typed(Quote, quote).net_total == Decimal("364.9")


def test_merge_keeps_what_the_connector_does_not_map() -> None:
    current = {**COMPANY, "FF_SYNCBRIDGE_KEY": "sb-1", "FF_AGENTE": "Rossi"}
    changes = mapping.map_out(
        "company",
        mapping.map_in("company", COMPANY, {}).model_copy(update={"email": "new@b.it"}),
        {},
    )

    merged = mapping.merge_for_update(current, changes)

    assert merged["FF_SYNCBRIDGE_KEY"] == "sb-1" and merged["FF_AGENTE"] == "Rossi"
    assert merged["code"] == "C00412"
    assert merged["emails"] == [{"value": "new@b.it"}, {"value": "pec@pec.bianchi-impianti.it"}]
