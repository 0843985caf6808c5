"""The OpenAPI check itself: it catches what it must, and covers every route the emulator has.

Every other test's exchanges are validated by the ``serve`` fixture (see conftest); these tests
make sure that validation is not vacuous.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.routing import Route

from syncbridge.emulator import EmulatorOptions
from syncbridge_fattureincloud.emulator import FicEmulator

SpecValidator = Any


@pytest.fixture
def exchange(exchange_class: type) -> Any:
    def make(method: str, path: str, status: int, body: Any, request: Any = None) -> Any:
        return _exchange(exchange_class, method, path, status, body, request)

    return make


def _exchange(cls: type, method: str, path: str, status: int, body: Any, request: Any) -> Any:
    return cls(
        method=method,
        path=path,
        query="",
        headers=[("authorization", "Bearer x"), ("content-type", "application/json")],
        body=json.dumps(request).encode() if request is not None else b"",
        status=status,
        response_headers=[("content-type", "application/json")],
        response_body=json.dumps(body).encode(),
    )


def test_a_response_off_the_spec_is_caught(spec_validator: SpecValidator, exchange: Any) -> None:
    bad = exchange(
        "GET",
        "/c/1/entities/clients/1",
        200,
        {"data": {"id": "1", "name": "x", "default_payment_method": None}},
    )
    problems = spec_validator.violations(bad)
    assert problems and "default_payment_method" in problems[0] and "data/id" in problems[0]


def test_an_accepted_request_off_the_spec_is_caught(
    spec_validator: SpecValidator, exchange: Any
) -> None:
    accepted = exchange(
        "POST",
        "/c/1/entities/clients",
        200,
        {"data": {"id": 1, "name": "x"}},
        request={"data": {"code": "no name"}},
    )
    assert any("accepted request" in p and "name" in p for p in spec_validator.violations(accepted))
    refused = exchange(
        "POST",
        "/c/1/entities/clients",
        422,
        {"error": {"message": "x", "validation_result": None}},
        request={"data": {"code": "no name"}},
    )
    assert spec_validator.violations(refused) == []  # refusing it is right


def test_a_list_without_its_required_type_is_caught(
    spec_validator: SpecValidator, exchange: Any
) -> None:
    listed = exchange("GET", "/c/1/issued_documents", 200, {"data": []})
    assert any("type" in p for p in spec_validator.violations(listed))


def _paths(emulator: FicEmulator) -> list[tuple[str, str]]:
    found = []
    for route in emulator.starlette.routes:
        if isinstance(route, Route) and not route.path.startswith("/oauth/"):
            path = route.path.replace(":int}", "}")
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method.lower(), path))
    return found


def test_every_route_of_the_emulator_is_in_the_spec(spec_validator: SpecValidator) -> None:
    emulator = FicEmulator(EmulatorOptions(records=0))
    paths = spec_validator.api.spec / "paths"
    documented = {
        (
            method,
            template.replace("{client_id}", "{item_id}")
            .replace("{product_id}", "{item_id}")
            .replace("{document_id}", "{item_id}"),
        )
        for template, item in paths.items()
        for method in ("get", "post", "put", "delete")
        if method in item
    }
    missing = [route for route in _paths(emulator) if route not in documented]
    assert missing == []


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"code": "C1"}},  # no name
        {"data": {"name": "X", "type": "alien"}},  # outside the enum
        {"data": {"name": "X", "default_vat": {"id": 0}}},  # a VAT type without its value
        {"data": {"name": "X", "e_invoice": "yes"}},  # a string for a boolean
    ],
)
def test_the_emulator_refuses_client_bodies_the_spec_forbids(fic: Any, body: Any) -> None:
    with fic.client() as http:
        response = http.post("/c/1051/entities/clients", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["validation_result"]
