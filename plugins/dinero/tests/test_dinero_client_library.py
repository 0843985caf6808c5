"""A public client library, unmodified, against the emulator: what it sends must be served.

``toggl-dinero`` (PyPI; geanix/toggl-dinero) is the one Dinero client published on PyPI: it
gets a token with requests-oauthlib's password grant (``LegacyApplicationClient``, the
client authenticated by HTTP Basic), finds its organisation with ``fields=name,id``, pages
contacts with the default ``name,contactGuid`` rows until ``Result < PageSize``, creates a
draft invoice, finds it again with ``statusFilter=Draft`` and a ``ContactGuid`` queryFilter,
and PUTs the whole read model (``TimeStamp`` and all) back to ``/v1.2``. It is pointed at
the emulator through its own configuration points: the module's ``DINERO_TOKEN_URL`` and the
class's ``API_URL_V1``/``API_URL_V1_2``, with oauthlib's switch for plain-HTTP test servers.

Its package pins ``requests==2.20.0``, so it is installed without its dependencies
(``pip install --no-deps toggl-dinero``; it needs only requests-oauthlib); without it this
module is skipped.
"""

from __future__ import annotations

from typing import Any

import pytest
from dinero_testkit import ORG, Serve, Served

from syncbridge_dinero.emulator import API_KEY, CLIENT_ID, CLIENT_SECRET, TOKEN_PATH

toggl_dinero = pytest.importorskip("toggl_dinero.dinero")


@pytest.fixture
def dinero(serve: Serve) -> Served:
    """120 contacts: more than the 100 of the library's (default) page."""
    return serve(records=60)


@pytest.fixture
def library(dinero: Served, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setattr(toggl_dinero, "DINERO_TOKEN_URL", dinero.base_url + TOKEN_PATH)
    monkeypatch.setattr(toggl_dinero.DineroAPI, "API_URL_V1", dinero.base_url + "/v1")
    monkeypatch.setattr(toggl_dinero.DineroAPI, "API_URL_V1_2", dinero.base_url + "/v1.2")
    return toggl_dinero.DineroAPI(CLIENT_ID, CLIENT_SECRET, API_KEY)


def test_it_logs_in_and_finds_its_organisation(library: Any, dinero: Served) -> None:
    assert library.organization == ORG
    assert library.token["token_type"] == "Bearer"
    assert dinero.emulator.grants == 1


def test_it_finds_a_contact_by_name_over_pages(library: Any, dinero: Served) -> None:
    last = dinero.emulator.contacts.list()[-1]
    assert library.contact_id(last["Name"]) == last["ContactGuid"]
    assert library.contact_id("Nobody At All") is None
    pages = [e.query for e in dinero.recorder.exchanges if e.path == f"/v1/{ORG}/contacts"]
    assert pages == ["fields=name%2CcontactGuid&page=0", "fields=name%2CcontactGuid&page=1"] * 2


def test_it_creates_finds_and_updates_a_draft_invoice(
    library: Any, dinero: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    person = next(r for r in dinero.emulator.contacts.list() if r["IsPerson"])
    lines = [{"BaseAmountValue": 900, "Description": "Projekt", "Quantity": 7.5,
              "Unit": "hours", "AccountNumber": 1000, "Discount": 0}]
    library.create_invoice(person["ContactGuid"], product_lines=lines, language="da",
                           currency="DKK", comment="Toggl", date="2026-05-01")
    assert capsys.readouterr().out == ""  # the library prints its errors
    draft = library.get_draft_invoice(person["ContactGuid"])
    assert draft is not None and draft["Comment"] == "Toggl" and draft["Language"] == "da-DK"
    assert draft["TotalInclVat"] == 8437.5
    draft["ProductLines"].append({"LineType": "Text", "Description": "Tak for handlen",
                                  "Quantity": 0, "BaseAmountValue": 0, "AccountNumber": 1000,
                                  "Discount": 0})
    library.update_invoice(draft)
    assert capsys.readouterr().out == ""
    stored = dinero.emulator.find(dinero.emulator.invoices, "Guid", draft["Guid"])
    assert stored is not None and len(stored["ProductLines"]) == 2
    assert stored["TimeStamp"] != draft["TimeStamp"]
