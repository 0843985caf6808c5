"""PyPI's ``szamlazz.py`` (1.5.1), unmodified, against the emulator.

The library posts to its class attribute ``url``; the test points one client instance at
the emulator (configuration, not a change to the library). It validates every request with
its own copy of the XSDs before sending, renders the unused credentials and many optional
elements empty, and reads answers by their ``application/octet-stream`` Content-Type and
``szlahu_*`` headers: what the emulator must accept and answer.
"""

from __future__ import annotations

import io

import pypdf
import pytest

from syncbridge_szamlazz.emulator import AGENT_KEY

from .conftest import YEAR, Agent

szamlazz = pytest.importorskip("szamlazz")
models = pytest.importorskip("szamlazz.models")


def _client(agent: Agent, **credentials: str) -> object:
    client = szamlazz.SzamlazzClient(**(credentials or {"agent_key": AGENT_KEY}))
    client.url = agent.agent_url
    return client


def _header(**changes: object) -> object:
    values = {
        "creating_date": f"{YEAR}-04-01",
        "payment_date": f"{YEAR}-04-01",
        "due_date": f"{YEAR}-04-09",
        "payment_type": "Átutalás",
        "currency": "HUF",
        "invoice_language": "hu",
        **changes,
    }
    return models.Header(**values)


BUYER = models.Buyer(
    name="Kovács Bt.",
    zip_code="2030",
    city="Érd",
    address="Tárnoki út 23.",
    tax_number="12892312-2-13",
    identification="C-1",
)
ITEM = models.Item(
    name="Tanácsadás",
    quantity="2",
    quantity_unit="óra",
    unit_price="5000",
    vat_rate="27",
    net_price="10000",
    vat_amount="2700",
    gross_amount="12700",
)


def test_the_library_issues_an_invoice_and_reads_its_pdf(agent: Agent) -> None:
    client = _client(agent)
    response = client.generate_invoice(
        _header(order_number="LIB-1"), models.Merchant(), BUYER, [ITEM]
    )
    assert response.has_errors is None or not response.has_errors
    assert response.action_success
    # the library issues e-invoices by default: the E- sequence, empty so far
    assert response.invoice_number == f"E-SBT-{YEAR}-1"
    assert response.invoice_gross_price == "12700"
    pdf = pypdf.PdfReader(io.BytesIO(response.get_pdf_bytes()))
    assert f"E-SBT-{YEAR}-1" in pdf.pages[0].extract_text()

    queried = client.query_invoice_pdf(f"E-SBT-{YEAR}-1")
    assert queried.action_success
    assert queried.get_pdf_bytes().startswith(b"%PDF-")

    xml = client.query_invoice_xml(order_number="LIB-1", pdf=False)
    assert xml.invoice_number == f"E-SBT-{YEAR}-1"
    assert f"<szamlaszam>E-SBT-{YEAR}-1</szamlaszam>" in xml.text


def test_the_library_sees_the_agents_refusals(agent: Agent) -> None:
    client = _client(agent, agent_key="wrong-key")
    response = client.generate_invoice(_header(), models.Merchant(), BUYER, [ITEM])
    assert response.error_code == "3"
    # the library decodes szlahu_error with unquote, not unquote_plus: the '+' of the
    # Agent's URLEncoder-style spaces stays (it does so against the real Agent too)
    assert response.error_message.replace("+", " ").startswith("Bejelentkezési hiba")
    assert not response.action_success

    duplicate = _client(agent)
    duplicate.generate_invoice(_header(order_number="LIB-2"), models.Merchant(), BUYER, [ITEM])
    again = duplicate.generate_invoice(
        _header(order_number="LIB-2"), models.Merchant(), BUYER, [ITEM]
    )
    assert again.error_code == "71"
    assert "létező+rendelésszám" in again.error_message


def test_the_library_reverses_credits_and_deletes(agent: Agent) -> None:
    client = _client(agent)
    number = client.generate_invoice(_header(), models.Merchant(), BUYER, [ITEM]).invoice_number
    paid = client.register_credit_entry(
        number, [models.Disbursement(date=f"{YEAR}-04-02", title="Átutalás", amount=2700.0)]
    )
    assert paid.error_code is None
    assert paid.receivables == "10000"

    reversed_ = client.reverse_invoice(_header(invoice_number=number), models.Merchant(), BUYER)
    # (the library reads a storno answer without its namespace, so action_success stays
    # False whatever the Agent says: the headers carry the outcome)
    assert reversed_.error_code is None
    assert reversed_.invoice_number == f"E-SBT-{YEAR}-2"
    assert agent.emulator.ledger.documents[number].reversed

    proforma = client.generate_invoice(
        _header(proforma_invoice=True), models.Merchant(), BUYER, [ITEM]
    ).invoice_number
    assert proforma == f"D-SBT-{YEAR}-4"
    deleted = client.delete_pro_forma_invoice(invoice_number=proforma)
    assert deleted.error_code is None
    assert proforma not in agent.emulator.ledger.documents
