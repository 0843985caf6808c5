"""The fault check passes a connector that copes, and tells one that does not what it got wrong.

Both run against Tiny CRM (``tiny_api``) with the check's own faults, its 429 burst waiting
50 ms rather than a second so that the tests stay quick.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_api

from syncbridge.testing import FaultSyncReport, SyncUnderFaults, fault_records, sync_under_faults
from syncbridge.testing.faultsync import FAULTS, RECORDS_ENV

QUICK = FAULTS.model_copy(update={"retry_after": 0.05})


class TestCarefulConnectorUnderFaults(SyncUnderFaults):
    """The test class a connector's tests subclass, used as they use it."""

    connector = tiny_api.Careful()
    emulator = tiny_api.create_app
    fault_records = fault_records_fast = 60
    faults = QUICK


@pytest.fixture(scope="module")
def careless(tmp_path_factory: pytest.TempPathFactory) -> FaultSyncReport:
    folder = tmp_path_factory.mktemp("careless")
    return sync_under_faults(
        tiny_api.Careless(), tiny_api.create_app, folder, records=60, faults=QUICK
    )


def test_the_careful_run_met_every_kind_of_fault(tmp_path: Path) -> None:
    report = sync_under_faults(
        tiny_api.Careful(), "tiny_api:create_app", tmp_path, records=60, faults=QUICK
    )
    report.assert_clean()
    first = report.runs[0]
    assert first.faults["429"] == 10
    assert {"500", "drop"} <= set(first.faults)
    assert set(first.faults) & {"truncated", "html_502", "html_200"}
    assert first.failures, "faults on creates fail those records in the first run"
    assert report.target.new == 60 and report.target.exact
    assert "clean after" in report.summary()


def test_a_crash_is_reported_with_where_it_was_raised(careless: FaultSyncReport) -> None:
    [crash, *_] = [run.crash for run in careless.runs if run.crash]
    assert crash.startswith("json.decoder.JSONDecodeError: ")
    assert "at testing/tiny_api.py:" in crash.splitlines()[1]
    message = _failure(careless)
    assert "run 1 crashed: json.decoder.JSONDecodeError" in message


def test_copies_made_by_resending_a_create_are_named(careless: FaultSyncReport) -> None:
    duplicated = careless.target.duplicated
    assert duplicated, careless.summary()
    source, held = next(iter(duplicated.items()))
    assert len(held) == 2
    assert f"source {source} x2 (target {held[0]}, {held[1]})" in _failure(careless)
    assert careless.target.new == 60 + sum(len(h) - 1 for h in duplicated.values())


def test_an_html_page_in_a_reason_is_quoted_and_located(careless: FaultSyncReport) -> None:
    html = [line for line in careless.unreadable if "holds HTML" in line]
    assert html, careless.unreadable
    assert html[0].startswith("run 1, company left ")
    assert "reason(s) are not one readable line" in _failure(careless)


def test_a_run_that_is_not_clean_in_time_says_which_records_failed(tmp_path: Path) -> None:
    report = sync_under_faults(
        tiny_api.Careful(),
        tiny_api.create_app,
        tmp_path,
        records=60,
        faults=QUICK,
        runs=1,
        within=1,
    )
    message = _failure(report)
    assert "no run was clean within 1 run(s):\n  run 1 (#1): " in message
    assert "first failing reasons of run 1:\n  company left " in message
    assert "source record(s) missing on the target" in message


def test_fault_free_runs_after_the_faulty_ones_are_clean(tmp_path: Path) -> None:
    report = sync_under_faults(
        tiny_api.Careful(),
        tiny_api.create_app,
        tmp_path,
        records=30,
        faults=QUICK,
        faulty_runs=1,
        runs=2,
    )
    report.assert_clean()
    assert len(report.runs) <= 2 and not report.runs[-1].faults


def test_the_number_of_records_follows_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (RECORDS_ENV, "CI", "SYNCBRIDGE_SKIP_SLOW"):
        monkeypatch.delenv(name, raising=False)
    assert fault_records(1000, 100) == 1000
    monkeypatch.setenv("CI", "true")
    assert fault_records(1000, 100) == 100
    monkeypatch.setenv(RECORDS_ENV, "250")
    assert fault_records(1000, 100) == 250
    monkeypatch.setenv(RECORDS_ENV, "many")
    with pytest.raises(ValueError, match=RECORDS_ENV):
        fault_records()


def _failure(report: FaultSyncReport) -> str:
    with pytest.raises(AssertionError) as failed:
        report.assert_clean()
    return str(failed.value)
