"""An emulator built on the base, exercised over real HTTP as a connector would use it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import notes_api
import pytest
from notes_api import Served

from syncbridge.emulator import Emulator, EmulatorOptions, json_response, running


def all_contacts(client: httpx.Client, per_page: int = 7) -> list[dict[str, Any]]:
    contacts: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get("/contacts", params={"page": page, "per_page": per_page}).json()
        contacts += body["data"]
        if page >= body["last_page"]:
            return contacts
        page += 1


def test_same_seed_same_data_and_different_seed_different_data(
    serve: Callable[..., Served],
) -> None:
    _, first = serve(records=12, seed=7)
    _, second = serve(records=12, seed=7)
    _, other = serve(records=12, seed=8)

    data = all_contacts(first)
    assert data == all_contacts(second)
    assert len(data) == 12
    assert [c["name"] for c in data] != [c["name"] for c in all_contacts(other)]


def test_pagination_returns_every_record_exactly_once(notes: Served) -> None:
    _, client = notes
    contacts = all_contacts(client, per_page=5)  # 23 records: pages of 5,5,5,5,3
    assert [c["id"] for c in contacts] == list(range(1, 24))
    body = client.get("/contacts", params={"page": 5, "per_page": 5}).json()
    assert (body["total"], body["last_page"], len(body["data"])) == (23, 5, 3)
    assert client.get("/contacts", params={"page": 6, "per_page": 5}).json()["data"] == []
    # an oversized page is clamped to the API's maximum, as the real API does
    assert client.get("/contacts", params={"per_page": 500}).json()["per_page"] == 25


def test_auth_rejects_wrong_and_missing_key_with_the_systems_body(notes: Served) -> None:
    _, client = notes
    wrong = client.get("/contacts", headers={"X-Api-Key": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "API key not valid", "status": 401}

    with httpx.Client(base_url=str(client.base_url)) as anonymous:
        missing = anonymous.get("/contacts")
        assert missing.status_code == 401
        assert missing.json()["message"] == "API key missing"
        by_query = anonymous.get("/contacts", params={"api_key": notes_api.API_KEY})
        assert by_query.status_code == 200


def test_create_validates_and_update_changes_the_record(notes: Served) -> None:
    emulator, client = notes
    invalid = client.post("/contacts", json={"data": {"email": "x@example.it"}})
    assert invalid.status_code == 422
    assert invalid.json() == {"message": "name is required", "status": 422, "fields": ["name"]}
    malformed = client.post("/contacts", content=b"{not json", headers={"content-type": "x"})
    assert malformed.status_code == 400
    assert malformed.json()["message"].startswith("malformed JSON")

    created = client.post("/contacts", json={"data": {"name": "Anna Kovács"}})
    assert created.status_code == 201
    new = created.json()["data"]
    assert new["id"] == 24  # ids continue after the seeded ones

    updated = client.put(f"/contacts/{new['id']}", json={"data": {"city": "Győr"}}).json()["data"]
    assert updated["city"] == "Győr" and updated["name"] == "Anna Kovács"
    assert updated["created_at"] == new["created_at"]
    assert updated["updated_at"] > new["updated_at"]
    assert emulator.store.table("contacts").get(new["id"])["city"] == "Győr"  # type: ignore[index]

    assert client.put("/contacts/999", json={"data": {"name": "X"}}).status_code == 404
    assert emulator.requests.count("POST", "/contacts") == 3
    assert emulator.requests.count("POST", "/contacts", 201) == 1
    assert emulator.requests.count("PUT", path_prefix="/contacts/") == 2


def test_updated_at_strictly_increases_and_incremental_reads_are_exact(notes: Served) -> None:
    _, client = notes
    seeded = all_contacts(client)
    stamps = [datetime.fromisoformat(c["updated_at"]) for c in seeded]
    assert all(stamp.tzinfo is not None for stamp in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)

    cursor = max(stamps)
    writes = [client.put(f"/contacts/{i}", json={"data": {"city": f"C{i}"}}) for i in (3, 1, 2)]
    written = [datetime.fromisoformat(w.json()["data"]["updated_at"]) for w in writes]
    assert cursor < written[0] < written[1] < written[2]

    changed = client.get("/contacts", params={"updated_since": cursor.isoformat()}).json()["data"]
    assert [c["id"] for c in changed] == [3, 1, 2]
    after_first = written[0].isoformat()
    later = client.get("/contacts", params={"updated_since": after_first}).json()["data"]
    assert [c["id"] for c in later] == [1, 2]


def test_unknown_paths_and_methods_answer_with_the_systems_error_body(notes: Served) -> None:
    _, client = notes
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Not Found", "status": 404}
    wrong_method = client.delete("/contacts/1")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405
    assert "GET" in wrong_method.headers["allow"]
    bad_param = client.get("/contacts", params={"page": "two"})
    assert bad_param.status_code == 400
    assert bad_param.json()["message"] == "page must be an integer, not 'two'"


def test_rate_limits_apply_unless_turned_off(serve: Callable[..., Served]) -> None:
    _, limited = serve(records=1, rate_limits=True)
    statuses = [limited.get("/contacts/1").status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]
    refused = limited.get("/contacts/1")
    assert refused.json()["status"] == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 10

    _, unlimited = serve(records=1)
    assert {unlimited.get("/contacts/1").status_code for _ in range(31)} == {200}


def test_settings_for_names_base_url_and_test_credentials(notes: Served) -> None:
    emulator, client = notes
    settings = emulator.settings_for(str(client.base_url))
    assert settings == {"base_url": str(client.base_url), "api_key": notes_api.API_KEY}
    assert (emulator.system, emulator.title) == ("notes", "Notes API (test emulator)")


def test_an_emulator_can_be_built_by_instantiation() -> None:
    emulator = Emulator(EmulatorOptions(records=0), system="tiny", title="Tiny")

    @emulator.route("/ping", methods=["GET"])
    async def ping(request: Any) -> Any:
        return json_response({"pong": True})

    with running(emulator) as base_url:
        assert httpx.get(f"{base_url}/ping").json() == {"pong": True}
        assert httpx.get(f"{base_url}/nope").json() == {
            "error": {"code": 404, "message": "Not Found"}
        }
    assert emulator.system == "tiny" and Emulator.system == "emulator"
    assert emulator.requests.count() == 2


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        EmulatorOptions(error_rate=1.5)
    options = EmulatorOptions(burst_429=3)
    with pytest.raises(ValueError):
        options.burst_429 = 1  # type: ignore[misc]  # frozen: faults change on emulator.faults
    faults = options.fault_options()
    faults.burst_429 = 1
    with pytest.raises(ValueError):
        faults.drop_rate = -0.1
