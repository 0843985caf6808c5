"""A public client of the MiniCRM API (PyPI ``minicrm``, module ``minicrm_api``), unmodified,
against the emulator: its reads of contacts, addresses, cards and documents work.

Only its ``base_url`` class attribute is pointed at the emulator (the library's own way to
choose the host). Its list helpers that iterate a listing's body as a list
(``get_adatlap``, ``list_todos``) are left out: against MiniCRM's ``{"Count", "Results"}``
envelope they iterate the envelope's keys, on the real API as here. Its writes name
r3.minicrm.hu in full and cannot be pointed anywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Crm

minicrm_api = pytest.importorskip("minicrm_api")


def _client(crm: Crm) -> object:
    client = minicrm_api.MiniCrmClient(str(crm.emulator.system_id), crm.emulator.api_key)
    client.base_url = f"{crm.url}/Api/"
    return client


def test_the_library_reads_contacts_and_their_addresses(crm: Crm) -> None:
    client = _client(crm)
    contact = client.contact_details(contact_id=2)  # type: ignore[attr-defined]
    assert (contact["Id"], contact["Type"], contact["Name"]) == (
        2,
        "Cég",
        crm.table("contact").get(2)["Name"],
    )
    office = client.get_address(2, typeof="Székhely")  # type: ignore[attr-defined]
    mailing = client.get_address(2, typeof="Levelezési cím")  # type: ignore[attr-defined]
    stored = {a["Type"]: a for a in crm.table("address").list(lambda a: a["ContactId"] == 2)}
    assert (office.ContactId, office.City, office.Default) == (2, stored["Székhely"]["City"], 1)
    assert mailing.Address == stored["Levelezési cím"]["Address"]
    assert client.get_address(1, typeof="Telephely") is None  # type: ignore[attr-defined]


def test_the_library_reads_cards_and_documents(crm: Crm) -> None:
    client = _client(crm)
    card = client.get_adatlap_details(1)  # type: ignore[attr-defined]
    assert (card["StatusId"], card["CategoryId"], card["ContactId"]) == ("Customer", 23, 1)
    offer = client.get_offer(1)  # type: ignore[attr-defined]
    assert (offer.status_code, offer.text) == (
        404,
        "Offer (GET): A dokumentum nem található. (Id: 1)",
    )
    order = client.get_order("x")  # type: ignore[attr-defined]
    assert order.status_code == 404
