"""The emulator behaves as the API is documented (or assumed) to: routing, OData, errors, limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from syncbridge.emulator.loading import load_factory
from syncbridge.plugins import load_connector
from syncbridge_crmincloud.emulator import create_app
from syncbridge_crmincloud.emulator.sessions import API_KEY

from .conftest import Crm


@pytest.fixture
def http(crm: Crm) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{crm.url}/api/v1", headers={"ApiKey": API_KEY}) as client:
        yield client


def test_both_entry_points_are_installed() -> None:
    assert load_factory("crmincloud") is create_app
    assert load_connector("crmincloud").__name__ == "syncbridge_crmincloud.connector"


def test_routing_is_case_insensitive_and_serves_latest(crm: Crm, http: httpx.Client) -> None:
    assert http.get("/company/get/1").json()["id"] == 1
    assert http.get("/COMPANY/Get/1").json()["companyName"]
    assert httpx.get(f"{crm.url}/api/latest/auth/me", headers={"ApiKey": API_KEY}).json()["id"] == 7


def test_unknown_paths_and_methods(http: httpx.Client) -> None:
    missing = http.get("/Invoice/Get/1")
    wrong = http.put("/Company/CreateOrUpdate", json={})

    assert missing.status_code == 404 and "No HTTP resource" in missing.json()["message"]
    assert wrong.status_code == 405
    assert wrong.json() == {
        "error": "MethodNotAllowed",
        "message": "The requested resource does not support http method 'PUT'.",
    }


def test_requests_without_credentials_are_refused(crm: Crm) -> None:
    response = httpx.get(f"{crm.url}/api/v1/Company/Get/1")

    assert response.status_code == 401
    assert response.json()["message"] == "Authorization has been denied for this request."


def test_create_answers_the_bare_id_and_validates(http: httpx.Client) -> None:
    created = http.post("/Company/CreateOrUpdate", json={"companyName": "Neri S.n.c.", "bogus": 1})
    nameless = http.post("/Company/CreateOrUpdate", json={"city": "Bari"})
    typed = http.post("/Company/CreateOrUpdate", json={"companyName": "X", "emails": "a@b.it"})
    custom = http.post("/Company/CreateOrUpdate", json={"companyName": "X", "FF_UNKNOWN": "1"})

    assert created.status_code == 200 and created.json() == 26
    stored = http.get("/Company/Get/26").json()
    assert "bogus" not in stored and stored["FF_SYNCBRIDGE_KEY"] is None
    assert nameless.status_code == 400
    assert nameless.json() == {
        "error": "BadRequest",
        "message": "The companyName field is required.",
        "field": "companyName",
    }
    assert typed.status_code == 400 and "Path 'emails'" in typed.json()["message"]
    assert custom.json()["message"] == "The custom field 'FF_UNKNOWN' does not exist on Company."


def test_odata_filter_order_skip_top(http: httpx.Client) -> None:
    def search(params: dict[str, str | int]) -> httpx.Response:
        return http.get("/Catalog/SearchByODataCriteria", params=params)

    newest_first = search({"$orderBy": "lastModifiedDate desc", "$top": 3}).json()
    by_code = search({"$filter": "code eq 'SKU-00004' or (id ge 24 and active eq 1)"}).json()
    dated = search({"$filter": "lastModifiedDate gt 2024-01-02T10:01:21+01:00"}).json()

    assert [r["id"] for r in newest_first] == [25, 24, 23]
    assert [r["id"] for r in by_code] == [4, 24, 25]
    assert [r["lastModifiedDate"] for r in dated] == [
        "2024-01-02T09:01:22.000Z",
        "2024-01-02T09:01:23.000Z",
        "2024-01-02T09:01:24.000Z",
    ]
    assert len(search({"$top": 500}).json()) == 25  # clamped to 100, there are 25
    assert [r["id"] for r in search({"$skip": 23}).json()] == [24, 25]
    assert len(search({"$orderby": "id desc"}).json()) == 25  # names are case-sensitive


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("startswith(code,'SKU')", "Unknown function 'startswith'."),
        ("colour eq 'red'", "Could not find a property named 'colour' on the entity."),
        ("lastModifiedDate ge datetime'2024-01-01T00:00:00'", "literal expected at 'datetime'"),
        ("price gt 'cheap'", "incompatible types"),
        ("code eq", "unexpected end"),
    ],
)
def test_odata_errors(http: httpx.Client, expression: str, message: str) -> None:
    response = http.get("/Catalog/SearchByODataCriteria", params={"$filter": expression})

    assert response.status_code == 400
    assert message in response.json()["message"]


def test_rate_limit_answers_429_with_retry_after(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(records=1, rate_limits=True)
    with httpx.Client(base_url=f"{crm.url}/api/v1", headers={"ApiKey": API_KEY}) as client:
        statuses = [client.get("/Auth/Me").status_code for _ in range(61)]
        refused = client.get("/Auth/Me")

    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    assert refused.json()["error"] == "TooManyRequests"
    assert int(refused.headers["Retry-After"]) >= 1


def test_tax_values_and_categories(http: httpx.Client) -> None:
    assert http.get("/TaxValue").json() == ["22", "10", "5", "4", "N4"]
    assert http.get("/TaxValue/N4").json() == {
        "taxCode": "N4",
        "taxValue": 0,
        "taxDescription": "Esente art. 10 DPR 633/72",
        "active": 1,
    }
    assert http.post("/CatalogCategories", json={"description": "Arredo"}).json() == 6
    assert http.get("/CatalogCategories/6").json()["description"] == "Arredo"
    assert http.get("/CatalogCategories").json() == [1, 2, 3, 4, 5, 6]


def test_settings_for_reaches_the_emulator(crm: Crm) -> None:
    settings = crm.emulator.settings_for(crm.url)

    assert settings["base_url"] == f"{crm.url}/api/v1"
    assert crm.connect().check().ok
