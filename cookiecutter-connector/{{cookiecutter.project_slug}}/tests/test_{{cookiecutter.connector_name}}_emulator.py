"""The emulator behaves like the real {{ cookiecutter.system_title }} API, refusals included.

The contract suite proves the connector against the emulator; these tests pin the emulator
itself to the API's documented behaviour, so that a lenient emulator cannot hide a bug.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from syncbridge.emulator import EmulatorOptions, running

from {{ cookiecutter.package_name }}.emulator import API_KEY, {{ cookiecutter.class_name }}Emulator


@pytest.fixture
def api() -> Iterator[tuple[{{ cookiecutter.class_name }}Emulator, httpx.Client]]:
    """An emulator with 25 records per resource, and a client holding the right key."""
    emulator = {{ cookiecutter.class_name }}Emulator(EmulatorOptions(records=25, rate_limits=False))
    with (
        running(emulator) as base_url,
        httpx.Client(
            base_url=f"{base_url}/v1", headers={"X-Api-Key": API_KEY}, timeout=5
        ) as client,
    ):
        yield emulator, client


def test_a_wrong_key_gets_401_with_a_message(
    api: tuple[{{ cookiecutter.class_name }}Emulator, httpx.Client],
) -> None:
    _emulator, client = api
    response = client.get("/companies", headers={"X-Api-Key": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "API key not valid"


def test_pages_cover_every_record_once_and_updated_since_filters(
    api: tuple[{{ cookiecutter.class_name }}Emulator, httpx.Client],
) -> None:
    emulator, client = api
    pages = [client.get("/companies", params={"page": n, "per_page": 10}).json() for n in (1, 2, 3)]
    assert [page["meta"]["last_page"] for page in pages] == [3, 3, 3]
    ids = [record["id"] for page in pages for record in page["data"]]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 25

    newest = max(record["updated_at"] for page in pages for record in page["data"])
    emulator.store.table("companies").update(7, {"phone": "+39 02 000000"})
    changed = client.get("/companies", params={"updated_since": newest}).json()
    assert [record["id"] for record in changed["data"]] == [7]


def test_validation_errors_name_the_problem(
    api: tuple[{{ cookiecutter.class_name }}Emulator, httpx.Client],
) -> None:
    _emulator, client = api
    missing = client.post("/products", json={"sku": "X-1"})
    assert missing.status_code == 422
    assert missing.json()["error"]["message"] == "name is required"
    floaty = client.post("/products", json={"name": "Chair", "price": 12.5})
    assert floaty.status_code == 422 and floaty.json()["error"]["field"] == "price"
    assert client.get("/products", params={"per_page": 101}).status_code == 400


def test_a_repeated_idempotency_key_returns_the_first_record(
    api: tuple[{{ cookiecutter.class_name }}Emulator, httpx.Client],
) -> None:
    emulator, client = api
    body = {"name": "Rossi Consulting S.r.l.", "currency": "EUR"}
    first = client.post("/companies", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/companies", json=body, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert len(emulator.store.table("companies")) == 26


def test_the_published_rate_limit_is_enforced() -> None:
    emulator = {{ cookiecutter.class_name }}Emulator(EmulatorOptions(records=1))  # real limits
    with (
        running(emulator) as base_url,
        httpx.Client(
            base_url=f"{base_url}/v1", headers={"X-Api-Key": API_KEY}, timeout=5
        ) as client,
    ):
        statuses = [client.get("/account").status_code for _ in range(61)]
        assert statuses[:60] == [200] * 60
        assert statuses[60] == 429
        assert int(client.get("/account").headers["Retry-After"]) >= 1
