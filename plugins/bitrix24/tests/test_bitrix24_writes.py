"""Writing through ``batch``: per-record errors, sparse updates, invoices with rows and stages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from syncbridge.connection import Connection
from syncbridge.models import Company, Contact, DocumentLine, DocumentStatus, Invoice
from syncbridge.records import UpsertItem

if TYPE_CHECKING:
    from conftest import Portal


def _batches(handle: Portal) -> list[str]:
    return [entry.url for entry in handle.log if entry.url.endswith("batch")]


def test_120_contacts_in_three_batches_two_invalid_fail_alone(
    portal: Callable[..., Portal],
) -> None:
    handle = portal()
    connection = handle.connect()
    items = []
    for index in range(120):
        contact = Contact(first_name="Anna", last_name=f"Müller {index}", email=f"a{index}@x.de")
        items.append(UpsertItem(key=f"k{index}", record=connection.map_out("contact", contact)))
    for bad in (17, 93):  # no name at all: the portal refuses such a contact
        items[bad] = UpsertItem(key=f"k{bad}", record={"POST": "Einkauf"})

    results = connection.upsert("contact", items)

    assert len(_batches(handle)) == 3
    assert [result.key for result in results] == [item.key for item in items]
    failed = {result.key: result.error for result in results if not result.ok}
    message = 'One of the fields "First name", "Second name" or "Last name" must be filled in.'
    assert failed == {"k17": message, "k93": message}
    stored = handle.call("crm.contact.list", select=["*", "EMAIL"], start=-1)
    assert len(stored) == 50  # one page of 118 written
    first = {record["ID"]: record for record in stored}[results[0].id]
    assert (first["NAME"], first["LAST_NAME"], first["ORIGIN_ID"], first["ORIGINATOR_ID"]) == (
        "Anna",
        "Müller 0",
        "k0",
        "syncbridge",
    )
    assert [entry["VALUE"] for entry in first["EMAIL"]] == ["a0@x.de"]


def test_updates_are_sparse_and_rewrite_multi_fields_in_place(
    portal: Callable[..., Portal],
) -> None:
    handle = portal()
    connection = handle.connect()
    company = Company(name="Weber Logistik GmbH", city="Köln", email="info@weber.de", phone="+49 1")
    [created] = connection.upsert(
        "company", [UpsertItem(key="c1", record=connection.map_out("company", company))]
    )
    assert created.ok and created.id is not None
    # someone edits the notes in the portal meanwhile; our update must not undo that
    handle.call("crm.company.update", id=created.id, fields={"COMMENTS": "VIP"})

    changed = company.model_copy(update={"email": "rechnung@weber.de", "phone": None})
    [updated] = connection.upsert(
        "company",
        [
            UpsertItem(
                key="u1",
                id=created.id,
                record=connection.map_out("company", changed),
                changed=frozenset({"email", "phone"}),
            )
        ],
    )
    assert updated.ok, updated.error
    stored = handle.call("crm.company.get", id=created.id)
    assert [entry["VALUE"] for entry in stored["EMAIL"]] == ["rechnung@weber.de"]
    assert stored["PHONE"] == []
    assert (stored["COMMENTS"], stored["TITLE"], stored["ADDRESS_CITY"]) == (
        "VIP",
        "Weber Logistik GmbH",
        "Köln",
    )
    back = connection.map_in("company", stored)
    assert (back.email, back.phone, back.notes) == ("rechnung@weber.de", None, "VIP")


def _invoice(**overrides: object) -> Invoice:
    values: dict[str, object] = {
        "number": "RE-2025-0042",
        "date": date(2025, 3, 14),
        "due_date": date(2025, 4, 13),
        "currency": "EUR",
        "company_id": "1",
        "status": DocumentStatus.SENT,
        "subject": "Wartung März",
        "notes": "Zahlbar innerhalb 30 Tagen",
        "lines": [
            DocumentLine(
                description="Consulting hour",
                quantity=Decimal("7.5"),
                unit_price=Decimal("95.00"),
                discount_percent=Decimal("10"),
                vat_percent=Decimal("19"),
                product_id="2",
            ),
            DocumentLine(description="Anfahrt", quantity=Decimal(1), unit_price=Decimal("49.90")),
        ],
    }
    return Invoice.model_validate({**values, **overrides})


def test_invoice_with_product_rows_round_trips(portal: Callable[..., Portal]) -> None:
    handle = portal(records=3)
    connection = handle.connect()
    invoice = _invoice()
    [result] = connection.upsert(
        "invoice", [UpsertItem(key="sb-inv-1", record=connection.map_out("invoice", invoice))]
    )
    assert result.ok, result.error

    [native] = [
        r for page in connection.fetch("invoice", query={"ids": [result.id]}) for r in page.records
    ]
    assert native["stageId"] == "DT31_1:S"  # "sent": the second kanban stage
    assert native["xmlId"] == "sb-inv-1"
    back = connection.map_in("invoice", native)
    assert back.model_dump(exclude={"id", "updated_at"}) == invoice.model_dump(
        exclude={"id", "updated_at"}
    )
    # the portal summed the rows: 7.5 x 85.50 x 1.19 + 49.90
    assert Decimal(str(native["opportunity"])) == Decimal("812.99")
    assert connection.lookup("invoice", ["sb-inv-1", "nope"]) == {"sb-inv-1": result.id}

    # new rows replace the old ones; a status change moves the stage
    paid = invoice.model_copy(update={"status": DocumentStatus.PAID, "lines": invoice.lines[:1]})
    [again] = connection.upsert(
        "invoice",
        [
            UpsertItem(
                key="u",
                id=result.id,
                record=connection.map_out("invoice", paid),
                changed=frozenset({"status", "lines"}),
            )
        ],
    )
    assert again.ok, again.error
    stored = handle.call("crm.item.get", entityTypeId=31, id=result.id)["item"]
    assert (stored["stageId"], stored["previousStageId"]) == ("DT31_1:P", "DT31_1:S")
    rows = handle.call(
        "crm.item.productrow.list", filter={"=ownerType": "SI", "=ownerId": result.id}
    )["productRows"]
    assert [row["productName"] for row in rows] == ["Consulting hour"]


def test_stage_map_is_configurable_and_unknown_stages_read_by_semantics(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=2)
    connection = handle.connect(stage_map={"sent": "DT31_1:N", "paid": "DT31_1:P"})
    [result] = connection.upsert(
        "invoice", [UpsertItem(key="k", record=connection.map_out("invoice", _invoice()))]
    )
    stored = handle.call("crm.item.get", entityTypeId=31, id=result.id)["item"]
    assert stored["stageId"] == "DT31_1:N"

    def status(stage: str) -> str:
        handle.call("crm.item.update", entityTypeId=31, id=result.id, fields={"stageId": stage})
        [invoice] = [
            record
            for page in connection.fetch("invoice", query={"ids": [result.id]})
            for record in connection.map_page("invoice", page)
        ]
        return str(invoice.status.value)

    assert status("DT31_1:N") == "sent"  # the configured entry wins over the default "draft"
    assert status("DT31_1:S") == "issued"  # "sent" was re-mapped: the next default for S
    assert status("DT31_1:P") == "paid"
    handle.emulator.portal.invoices.statuses.insert(
        {
            "ENTITY_ID": "SMART_INVOICE_STAGE_1",
            "STATUS_ID": "DT31_1:UC_LOST",
            "NAME": "Verloren",
            "SORT": "50",
            "SEMANTICS": "F",
            "EXTRA": {"SEMANTICS": "failure"},
        }
    )
    assert status("DT31_1:UC_LOST") == "cancelled"  # not mapped: read by its semantics

    assert connection.check().ok
    wrong = handle.connect(stage_map={"paid": "DT31_1:ZZ"}).check()
    assert not wrong.ok and "paid -> DT31_1:ZZ" in wrong.reason


def test_an_invoice_goes_out_with_the_status_its_stage_reads_back_as(
    portal: Callable[..., Portal],
) -> None:
    # "issued" and "overdue" share the stage S with "sent": the portal can only give "sent"
    # back, so that is what map(out) and back in says, and the engine sees nothing to write
    connection = portal(records=0).connect()

    def written(connection: Connection, status: str) -> tuple[str, str]:
        native = connection.map_out("invoice", _invoice(status=DocumentStatus(status)))
        back = connection.map_in("invoice", {**native, "id": 1})
        return native["stageId"], str(back.status.value)

    for status, stage, sent in (("issued", "S", "sent"), ("overdue", "S", "sent"),
                                ("sent", "S", "sent"), ("rejected", "D", "cancelled"),
                                ("paid", "P", "paid")):
        assert (status, *written(connection, status)) == (status, f"DT31_1:{stage}", sent)
    remapped = portal(records=0).connect(stage_map={"sent": "DT31_1:N"})
    # "sent" moved: S reads back as the next, "issued"
    assert written(remapped, "issued") == ("DT31_1:S", "issued")


def test_rejected_rows_leave_no_half_written_invoice(portal: Callable[..., Portal]) -> None:
    handle = portal(records=2)
    connection = handle.connect()
    good = connection.map_out("invoice", _invoice())
    bad = connection.map_out(
        "invoice", _invoice(lines=[DocumentLine(description="x", product_id="999")])
    )
    results = connection.upsert(
        "invoice", [UpsertItem(key="good", record=good), UpsertItem(key="bad", record=bad)]
    )
    assert results[0].ok
    assert not results[1].ok and results[1].id is None
    assert results[1].error == (
        "its product rows were rejected: Product 999 not found; the invoice was not kept"
    )
    kept = handle.call("crm.item.list", entityTypeId=31, filter={"@xmlId": ["good", "bad"]})
    assert [item["xmlId"] for item in kept["items"]] == ["good"]


def test_delete_reports_each_id(portal: Callable[..., Portal]) -> None:
    handle = portal(records=5)
    connection = handle.connect()
    results = connection.delete("contact", ["2", "4", "404"])
    assert [(r.key, r.ok) for r in results] == [("2", True), ("4", True), ("404", False)]
    assert results[2].error == "Not found"
    remaining = {r["ID"] for r in handle.call("crm.contact.list")}
    assert remaining == {"1", "3", "5"}


def test_reference_data_writes(portal: Callable[..., Portal]) -> None:
    handle = portal()
    connection = handle.connect()
    results = connection.upsert(
        "currency",
        [
            UpsertItem(key="a", record={"CURRENCY": "DKK", "AMOUNT_CNT": "1", "AMOUNT": "0.134"}),
            UpsertItem(key="b", record={"CURRENCY": "EUR", "AMOUNT_CNT": "1", "AMOUNT": "1"}),
        ],
    )
    assert (results[0].ok, results[0].id) == (True, "DKK")
    assert results[1].error == "Currency EUR already exists."
    [vat] = connection.upsert("vat_rate", [UpsertItem(key="v", record={"NAME": "", "RATE": "7"})])
    assert vat.error == 'The "Name" field is required.'
    currencies = {
        record["CURRENCY"]: connection.map_in("currency", record)
        for page in connection.fetch("currency")
        for record in page.records
    }
    assert currencies["DKK"].exchange_rate == Decimal("0.134")


def test_a_written_invoice_comes_back_as_the_portal_stored_it(
    portal: Callable[..., Portal],
) -> None:
    """The portal fills in what it was not given (a title, a row's name from the catalog:
    ``crm.item.productrow.add``); the result carries the invoice as a read gives it, so the
    engine recognises its own write."""
    handle = portal(records=3)
    connection = handle.connect()
    product = handle.call("crm.product.get", id=2)
    invoice = _invoice(subject=None, lines=[
        DocumentLine(description="", quantity=Decimal(3), unit_price=Decimal("100"),
                     vat_percent=Decimal(19), product_id="2"),
    ])
    sent = connection.map_out("invoice", invoice)
    assert sent["title"] is None and sent["productRows"][0]["productName"] == ""
    [result] = connection.upsert("invoice", [UpsertItem(key="sb-stored", record=sent)])
    assert result.ok and result.record is not None, result.error
    [read] = [
        r for page in connection.fetch("invoice", query={"ids": [result.id]}) for r in page.records
    ]
    stored = connection.map_in("invoice", result.record)
    assert stored == connection.map_in("invoice", read)
    assert stored.subject == f"Rechnung #{result.id}"
    assert stored.lines == [invoice.lines[0].model_copy(update={"description": product["NAME"]})]
    assert (read["opportunity"], read["taxValue"]) == (357, 57)

    # an update that leaves the rows alone is read back whole, its rows read in its own batch
    requests = len(handle.log)
    [again] = connection.upsert("invoice", [UpsertItem(
        key="u", id=result.id, changed=frozenset({"notes"}),
        record=connection.map_out("invoice", invoice.model_copy(update={"notes": "Danke"})))])
    assert again.ok and again.record is not None, again.error
    assert connection.map_in("invoice", again.record) == stored.model_copy(
        update={"notes": "Danke", "updated_at": connection.map_in("invoice", again.record)
                .updated_at})
    assert [e.url for e in handle.log[requests:]] == ["***batch"]  # one request: the batch


# -- a batch that fails as a whole: its records' failure, never the entity's -----------------
def _invoices(connection: Connection, count: int) -> list[UpsertItem]:
    return [
        UpsertItem(
            key=f"sb-inv-{index}",
            record=connection.map_out("invoice", _invoice(number=f"RE-{index}")),
        )
        for index in range(count)
    ]


def test_internal_server_error_on_a_batch_fails_its_records_and_the_next_batch_goes_on(
    portal: Callable[..., Portal],
) -> None:
    """``INTERNAL_SERVER_ERROR`` on an invoice batch used to stop the entity run after run:
    now each of its creates failed with its outcome unknown (the outbox looks for them next
    run), and the entity goes on."""
    handle = portal(records=3)
    connection = handle.connect()
    handle.emulator.faults.error_rate = 1.0

    failed = connection.upsert("invoice", _invoices(connection, 3))

    assert [(r.ok, r.unknown) for r in failed] == [(False, True)] * 3
    reason = failed[0].error or ""
    assert reason.startswith("HTTP 500 Internal Server Error: INTERNAL_SERVER_ERROR")
    assert "\n" not in reason and handle.code not in reason
    handle.emulator.faults.error_rate = 0.0
    again = connection.upsert("invoice", _invoices(connection, 3))
    assert all(result.ok for result in again)


def test_no_answer_to_a_batch_of_creates_leaves_each_create_unknown(
    portal: Callable[..., Portal],
) -> None:
    """The portal ran the batch, then the connection dropped: every create may have happened
    (it did), so each is unknown and its key finds it."""
    handle = portal(records=3)
    connection = handle.connect()
    handle.emulator.faults.drop_rate = 1.0

    results = connection.upsert("contact", [
        UpsertItem(key=f"k{index}", record={"NAME": f"Anna {index}"}) for index in range(3)
    ])

    handle.emulator.faults.drop_rate = 0.0
    assert [(r.ok, r.unknown) for r in results] == [(False, True)] * 3
    reason = results[0].error or ""
    assert reason.startswith("no answer from Bitrix24 to batch (RemoteProtocolError")
    assert "it may have been written" in reason and handle.code not in reason
    assert sorted(connection.lookup("contact", ["k0", "k1", "k2"])) == ["k0", "k1", "k2"]


def test_an_unreadable_answer_to_a_batch_of_creates_leaves_each_create_unknown(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=3)
    connection = handle.connect()
    for kind in ("truncated", "html_502", "html_200"):
        handle.emulator.faults.corrupt_kinds = (kind,)
        handle.emulator.faults.corrupt_rate = 1.0
        results = connection.upsert("company", [
            UpsertItem(key=f"{kind}-{index}", record={"TITLE": f"{kind} {index}"})
            for index in range(2)
        ])
        handle.emulator.faults.corrupt_rate = 0.0
        assert [(r.ok, r.unknown) for r in results] == [(False, True)] * 2, kind
        assert all("\n" not in (r.error or "") for r in results), kind
        assert "it may have been written" in (results[0].error or ""), kind
