"""The OpenAPI check itself: it catches what it must, and covers every route the emulator has.

Every other test's exchanges are validated by the ``serve`` fixture (see conftest); these tests
make sure that validation is not vacuous, and that the emulator refuses what the spec forbids.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from dinero_spec import Exchange, SpecValidator
from dinero_testkit import ORG, Served
from starlette.routing import Route

from syncbridge.emulator import EmulatorOptions
from syncbridge_dinero.emulator import DineroEmulator, seeded_guid


def exchange(
    method: str, path: str, status: int, body: Any, request: Any = None, query: str = ""
) -> Exchange:
    return Exchange(
        method=method, path=path, query=query,
        headers=[("authorization", "Bearer x"), ("content-type", "application/json")],
        body=json.dumps(request).encode() if request is not None else b"",
        status=status, response_headers=[("content-type", "application/json")],
        response_body=json.dumps(body).encode(),
    )


def test_a_response_off_the_spec_is_caught(spec_validator: SpecValidator) -> None:
    bad = exchange("GET", f"/v1/{ORG}/contacts/{seeded_guid('contact', 1)}", 200,
                   {"ContactGuid": seeded_guid("contact", 1), "Name": "x", "CountryKey": "DK",
                    "IsPerson": "no", "IsMember": False, "UseCvr": False, "IsDebitor": True,
                    "IsCreditor": False})
    problems = spec_validator.violations(bad)
    assert len(problems) == 1 and "IsPerson" in problems[0] and "'no' is not of type" in problems[0]


def test_rows_cut_by_fields_are_checked_in_any_casing(spec_validator: SpecValidator) -> None:
    envelope = {"Pagination": {"MaxPageSizeAllowed": 1000, "PageSize": 100, "Result": 1,
                               "ResultWithoutFilter": 1, "Page": 0}}
    good = exchange("GET", f"/v1/{ORG}/contacts", 200,
                    {**envelope, "Collection": [{"name": "A", "contactGuid": seeded_guid("c", 1)}]},
                    query="fields=name,contactGuid")
    assert spec_validator.violations(good) == []
    bad = exchange("GET", f"/v1/{ORG}/contacts", 200,
                   {**envelope, "Collection": [{"name": 5, "colour": "red"}]},
                   query="fields=name,colour")
    problems = spec_validator.violations(bad)
    assert any("colour: no such property of ContactReadModel" in p for p in problems)
    assert any("5 is not of type 'string'" in p for p in problems)


def test_an_accepted_request_off_the_spec_is_caught(spec_validator: SpecValidator) -> None:
    body = {"name": "no country", "isPerson": False, "isMember": False, "useCvr": False}
    accepted = exchange("POST", f"/v1/{ORG}/contacts", 200,
                        {"ContactGuid": seeded_guid("c", 9)}, request=body)
    problems = spec_validator.violations(accepted)
    assert len(problems) == 1 and "accepted request" in problems[0]
    assert "'CountryKey' is a required property" in problems[0]
    refused = exchange("POST", f"/v1/{ORG}/contacts", 400,
                       {"code": 42, "message": "Validation Error",
                        "validationErrors": {"CountryKey": "The CountryKey field is required."}},
                       request=body)
    assert spec_validator.violations(refused) == []  # refusing it is right


def test_an_error_body_off_the_documented_shape_is_caught(spec_validator: SpecValidator) -> None:
    bad = exchange("GET", f"/v1/{ORG}/products", 400, {"error": "bad"})
    assert any("'code' is a required property" in p for p in spec_validator.violations(bad))


def _routes(emulator: DineroEmulator) -> list[tuple[str, str]]:
    found = []
    for route in emulator.starlette.routes:
        if isinstance(route, Route) and not route.path.startswith("/dineroapi/"):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path.replace("{org}", str(ORG))))
    return found


def test_every_route_of_the_emulator_is_in_the_spec(spec_validator: SpecValidator) -> None:
    routes = _routes(DineroEmulator(EmulatorOptions(records=0)))
    assert len(routes) == 25
    missing = [r for r in routes if spec_validator.operation(r[0], r[1]) is None]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("contacts", {"Name": "X", "IsPerson": False, "IsMember": False, "UseCvr": False},
         "CountryKey"),
        ("contacts", {"Name": "", "CountryKey": "DK", "IsPerson": False, "IsMember": False,
                      "UseCvr": False}, "Name"),
        ("contacts", {"Name": "X", "CountryKey": "DK", "IsPerson": "yes", "IsMember": False,
                      "UseCvr": False}, "IsPerson"),
        ("products", {"Name": "X", "BaseAmountValue": 1, "Quantity": 1, "AccountNumber": 1000,
                      "Unit": "pcs"}, "Unit"),
        ("products", {"Name": "X", "BaseAmountValue": 1, "Quantity": 1, "Unit": "parts"},
         "AccountNumber"),
        ("invoices", {"ProductLines": [{"Description": "x", "Quantity": 1,
                                        "BaseAmountValue": 1, "AccountNumber": 1000,
                                        "Unit": "hours"}]}, "ProductLines[0].Discount"),
        ("invoices", {"Date": "1.2.2026", "ProductLines": []}, "Date"),
    ],
)
def test_the_emulator_refuses_bodies_the_spec_forbids(
    dinero: Served, path: str, body: dict[str, Any], field: str
) -> None:
    with dinero.client() as http:
        response = http.post(f"/v1/{ORG}/{path}", json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == 42 and answer["message"] == "Validation Error"
    assert list(answer["validationErrors"]) == [field]
