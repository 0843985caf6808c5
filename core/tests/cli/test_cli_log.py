"""``syncbridge log <conn>``: the last requests a connection made."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from syncbridge.http.requestlog import LoggedRequest
from syncbridge.workspace import Workspace
from tests.engine.bed import Bed, company


def test_a_sql_connection_has_an_empty_log(
    tmp_path: Path, table_rows: Callable[[str], list[list[str]]]
) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(1)])
    assert bed.cli("run", "-q").exit_code == 0  # no HTTP, so still nothing logged
    result = bed.cli("log", "left")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].strip() == "Last 0 requests of left"
    assert table_rows(result.stdout) == []
    as_json = bed.cli("log", "left", "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == []


def test_the_log_shows_what_the_state_store_recorded(
    tmp_path: Path, table_rows: Callable[[str], list[list[str]]]
) -> None:
    bed = Bed(tmp_path, {"company": {}})
    with Workspace.load(bed.config) as workspace:
        sink = workspace.store.request_log("left")
        sink(
            LoggedRequest(
                at=datetime(2024, 3, 1, 9, 30, 5, tzinfo=UTC),
                method="GET",
                url="/c/1/entities?token=***",
                status=200,
                duration_ms=12.34,
            )
        )
        sink(
            LoggedRequest(
                at=datetime(2024, 3, 1, 9, 30, 6, tzinfo=UTC),
                method="POST",
                url="/c/1/entities",
                status=None,
                duration_ms=5000.0,
                error="ReadTimeout",
            )
        )
        workspace.store.request_log("right")(
            LoggedRequest(
                at=datetime(2024, 3, 1, 9, 30, 7, tzinfo=UTC),
                method="GET",
                url="/other",
                status=500,
                duration_ms=1.0,
            )
        )
    result = bed.cli("log", "left", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "at": "2024-03-01T09:30:05+00:00",
            "method": "GET",
            "url": "/c/1/entities?token=***",
            "status": 200,
            "duration_ms": 12.3,
            "error": None,
        },
        {
            "at": "2024-03-01T09:30:06+00:00",
            "method": "POST",
            "url": "/c/1/entities",
            "status": None,
            "duration_ms": 5000.0,
            "error": "ReadTimeout",
        },
    ]
    table = bed.cli("log", "left")
    assert table.stdout.splitlines()[0].strip() == "Last 2 requests of left"
    assert table_rows(table.stdout) == [
        ["2024-03-01 09:30:05", "GET", "/c/1/entities?token=***", "200", "12"],
        ["2024-03-01 09:30:06", "POST", "/c/1/entities", "ReadTimeout", "5000"],
    ]


def test_an_unknown_connection_is_a_usage_error(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    result = bed.cli("log", "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "config error: no connection named 'nope' (connections: left, right)\n"
