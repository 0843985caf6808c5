"""The emulator answers as MiniCRM does: shapes, errors, paging, UpdatedSince, the IP
allow-list, demo systems, Url fields and the R3 rate limit (README assumptions)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from syncbridge_minicrm.emulator.render import BUDAPEST, stamp

if TYPE_CHECKING:
    from conftest import Crm

STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def test_lists_key_rows_by_id_and_details_carry_labels(crm: Crm) -> None:
    with crm.http() as http:
        listed = http.get("/Api/R3/Contact", params={"Type": "Business"}).json()
        detail = http.get("/Api/R3/Contact/1").json()
        person = http.get("/Api/R3/Contact/7").json()
        cards = http.get("/Api/R3/Project", params={"CategoryId": 23}).json()
        card = http.get("/Api/R3/Project/1").json()
    assert listed["Count"] == 6
    assert list(listed["Results"]) == ["1", "2", "3", "4", "5", "6"]
    row = listed["Results"]["1"]
    assert set(row) == {"Id", "Name", "Url", "Type", "Email", "Phone", "BusinessId"}
    assert (row["Id"], row["Type"]) == (1, "Business")
    assert detail["Type"] == "Cég" and person["Type"] == "Személy"
    assert STAMP.fullmatch(detail["UpdatedAt"]) and detail["VatNumber"].endswith("-2-41")
    assert (cards["Results"]["1"]["StatusId"], cards["Results"]["1"]["UserId"]) == (2501, 501)
    assert (card["StatusId"], card["UserId"]) == ("Customer", "Kovács Anna")
    assert card["Invited"] == [] and card["IsPrivate"] == 0 and card["ProjectHash"]


def test_urls_are_absolute_on_the_emulators_own_host(crm: Crm) -> None:
    with crm.http() as http:
        row = http.get("/Api/R3/Contact").json()["Results"]["2"]
        invoice = http.get("/Api/Invoice/1").json()
    assert row["Url"] == f"{crm.url}/Api/R3/Contact/2"
    assert invoice["Url"] == f"{crm.url}/Api/Invoice/1"


def test_empty_results_are_an_array_and_todo_lists_are_arrays(crm: Crm) -> None:
    with crm.http() as http:
        assert http.get("/Api/Offer/List").json() == {"Count": 0, "Results": []}
        assert http.put("/Api/R3/ToDo", json={"ProjectId": 1, "Comment": "Hívd vissza"}).json() == {
            "Id": 1
        }
        todos = http.get("/Api/R3/ToDoList/1").json()
    assert todos["Count"] == 1 and isinstance(todos["Results"], list)
    assert todos["Results"][0]["Comment"] == "Hívd vissza"


def test_errors_are_plain_text_naming_entity_and_method(crm: Crm) -> None:
    with crm.http() as http:
        answers = [
            http.post("/Api/R3/ToDo"),
            http.put("/Api/R3/ToDo", json={}),
            http.get("/Api/R3/Contact/999"),
            http.put("/Api/R3/Contact", json={"Type": 2, "FirstName": "Bence"}),
            http.put("/Api/R3/Contact", json={"Type": "Business", "Nev": "X"}),
            http.put(
                "/Api/R3/Project", json={"CategoryId": 23, "ContactId": 1, "StatusId": "Nope"}
            ),
        ]
    assert [(a.status_code, a.text) for a in answers] == [
        (405, "ToDo (POST): A metódus nem engedélyezett!"),
        (400, 'ToDo (PUT): Nem megfelelő paraméter: "Data (JSON)"'),
        (404, "Contact (GET): A kapcsolattartó nem található. (Id: 999)"),
        (400, "Contact (PUT): Érvénytelen érték a(z) Type mezőben: '2'"),
        (400, "Contact (PUT): Ismeretlen mező: 'Nev'"),
        (400, "Project (PUT): Érvénytelen érték a(z) StatusId mezőben: 'Nope'"),
    ]
    assert all(a.headers["content-type"].startswith("text/plain") for a in answers)


def test_a_wrong_key_is_401(crm: Crm) -> None:
    answer = httpx.get(f"{crm.url}/Api/R3/Category", auth=("12345", "wrong"))
    assert answer.status_code == 401
    assert answer.text == "Category (GET): Hibás rendszer azonosító vagy API kulcs!"


def test_pages_hold_100_rows_from_page_0(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(records=125)  # 125 businesses + 125 persons
    with crm.http() as http:
        pages = [http.get("/Api/R3/Contact", params={"Page": n}).json() for n in range(4)]
    assert [p["Count"] for p in pages] == [250] * 4
    assert [len(p["Results"]) for p in pages] == [100, 100, 50, 0]
    assert pages[3]["Results"] == []
    assert min(int(i) for i in pages[1]["Results"]) == 101


def test_updated_since_is_at_or_after_in_budapest_time(crm: Crm) -> None:
    crm.table("contact").update(3, {"Phone": "+36 1 555 0000"})
    changed = crm.table("contact").get(3)
    with crm.http() as http:
        since = stamp(changed["updated_at"])
        found = http.get("/Api/R3/Contact", params={"UpdatedSince": since}).json()
        bad = http.get("/Api/R3/Contact", params={"UpdatedSince": "tegnap"})
    assert list(found["Results"]) == ["3"]
    assert since == changed["updated_at"].astimezone(BUDAPEST).strftime("%Y-%m-%d %H:%M:%S")
    assert (bad.status_code, bad.text) == (
        400,
        'Contact (GET): Nem megfelelő paraméter: "UpdatedSince"',
    )


def test_address_writes_touch_their_contact(crm: Crm) -> None:
    before = crm.table("contact").get(1)["updated_at"]
    with crm.http() as http:
        made = http.put(
            "/Api/R3/Address",
            json={"ContactId": 1, "Type": "Számlázási cím", "Name": "Számlázás", "City": "Győr"},
        )
        listed = http.get("/Api/R3/AddressList/1").json()
    assert made.status_code == 200
    assert crm.table("contact").get(1)["updated_at"] > before
    assert listed["Results"][str(made.json()["Id"])] == "Számlázás"


def test_the_ip_allow_list_refuses_other_addresses(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(allowed_ips={"203.0.113.7"})
    with crm.http() as http:
        refused = http.get("/Api/R3/Contact")
        crm.emulator.allowed_ips = {"127.0.0.1"}
        allowed = http.get("/Api/R3/Contact")
    assert (refused.status_code, refused.text) == (
        403,
        "Contact (GET): Az API hozzáférés nem engedélyezett erről az IP címről: 127.0.0.1",
    )
    assert allowed.status_code == 200


def test_a_demo_system_can_be_read_but_not_written(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(demo=True)
    with crm.http() as http:
        read = http.get("/Api/R3/Contact/1")
        put = http.put("/Api/R3/Contact", json={"Type": "Business", "Name": "Új Kft."})
        invoice = http.post("/Api/Invoice", json={"CustomerId": 1})
        purge = http.get("/Api/R3/PurgePerson/8")
    assert read.status_code == 200
    assert (put.status_code, put.text) == (
        403,
        "Contact (PUT): Demo rendszerben az adatok nem módosíthatók!",
    )
    assert invoice.status_code == 403 and purge.status_code == 403
    assert len(crm.table("contact")) == 12


def test_r3_is_limited_to_60_a_minute_and_documents_are_not(
    make_crm: Callable[..., Crm],
) -> None:
    crm = make_crm(rate_limits=True)
    with crm.http() as http:
        statuses = [http.get("/Api/R3/Category").status_code for _ in range(61)]
        refused = http.get("/Api/R3/Contact")
        documents = [http.get("/Api/Invoice/List").status_code for _ in range(70)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.text == "Contact (GET): Túl sok kérés! Próbálja újra később."
    assert documents == [200] * 70


def test_invoices_come_back_with_text_amounts(crm: Crm) -> None:
    body = {
        "CustomerId": 2,
        "Type": "Proforma",
        "Issued": "2026-03-02",
        "CurrencyCode": "HUF",
        "Items": [{"Name": "Tanácsadás", "PriceNet": 12500, "Quantity": 100, "VAT": "27%"}],
    }
    with crm.http() as http:
        made = http.post("/Api/Invoice", json=body).json()
        listed = http.get("/Api/Invoice/List").json()
        missing = http.post("/Api/Invoice", json={**body, "CustomerId": 999})
    assert (made["Type"], made["Status"], made["CustomerId"]) == ("Proforma", "Díjbekérő", 2)
    assert (made["AmountNet"], made["Amount"]) == ("1250000.00", "1587500.00")
    assert made["Items"][0]["PriceTotal"] == "1 587 500,00"
    assert next(iter(listed["Results"])) == str(made["Id"])  # most recently modified first
    assert (missing.status_code, missing.text) == (
        400,
        "Invoice (POST): Az ügyfél nem található. (CustomerId: 999)",
    )


def test_schemas_and_categories(crm: Crm) -> None:
    with crm.http() as http:
        categories = http.get("/Api/R3/Category").json()
        project = http.get("/Api/R3/Schema/Project/23").json()
        business = http.get("/Api/R3/Schema/Business").json()
        unknown = http.get("/Api/R3/Schema/Project/99")
    assert categories == {"23": "Értékesítés", "38": "Projektek", "40": "Számlák"}
    assert project["StatusId"] == {"2500": "Lead", "2501": "Customer", "2502": "Lost"}
    assert business["Name"] == "Text(512)" and business["UpdatedAt"] == "DateTime"
    assert unknown.status_code == 404
