"""Fixtures of the Dinero tests: the emulator over real HTTP, connections to it, and the
OpenAPI check of every exchange.

Every emulator a test starts through :func:`serve` is wrapped in a recorder that keeps each
request and response; when the test ends, each is validated against the official spec
(``shared/apis/dinero/openapi.json``, see :mod:`dinero_spec`): an emulator that answers what
the spec forbids, or accepts a request it forbids, fails the test that made it do so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncbridge.emulator import EmulatorOptions, running
from syncbridge.testing.exchanges import fail_off_spec
from syncbridge_dinero.emulator import DineroEmulator

# the helpers test modules import, under names no other plugin's tests use
sys.path.insert(0, str(Path(__file__).parent))
from dinero_spec import SpecValidator
from dinero_testkit import RECORDED, Recorder, Serve, Served

SPEC_ENV = "DINERO_OPENAPI_SPEC"
DEFAULT_SPEC = (
    Path(__file__).resolve().parents[3].parent / "shared" / "apis" / "dinero" / "openapi.json"
)


@pytest.fixture(scope="session")
def maybe_spec() -> SpecValidator | None:
    """The validator, or None outside CI when the spec file is not there; under
    ``CI=true`` it must be."""
    path = Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the official spec is not at {path} (set ${SPEC_ENV})")
        return None
    return SpecValidator(path)


@pytest.fixture
def spec_validator(maybe_spec: SpecValidator | None) -> SpecValidator:
    if maybe_spec is None:
        pytest.skip(f"the official spec file is not available (set ${SPEC_ENV})")
    return maybe_spec


@pytest.fixture
def serve(maybe_spec: SpecValidator | None) -> Iterator[Serve]:
    """``serve(records=10, rate_limits=False, **emulator_kwargs)``: start an emulator whose
    every exchange is validated against the spec when the test ends."""
    started: list[tuple[Served, Any]] = []

    def start(records: int = 10, rate_limits: bool = False, **kwargs: Any) -> Served:
        emulator = DineroEmulator(
            EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs
        )
        recorder = Recorder(emulator.app)
        context = running(recorder)
        base_url = context.__enter__()
        served = Served(emulator, base_url, recorder)
        started.append((served, context))
        return served

    yield start
    for served, context in started:
        for connection in served.connections:
            connection.close()
        context.__exit__(None, None, None)
    fail_off_spec(
        (exchange for served, _ in started for exchange in served.recorder.exchanges),
        maybe_spec.violations if maybe_spec is not None else None,
    )


@pytest.fixture
def on_the_spec(maybe_spec: SpecValidator | None) -> Iterator[None]:
    """Validates what emulators from :func:`recorded` answered during the test."""
    RECORDED.clear()
    yield
    recorded = list(RECORDED)
    RECORDED.clear()
    fail_off_spec(recorded, maybe_spec.violations if maybe_spec is not None else None)


@pytest.fixture
def dinero(serve: Serve) -> Served:
    """An emulator with 10 records per resource, limits off."""
    return serve()

