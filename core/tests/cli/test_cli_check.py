"""``syncbridge check``: a green light per healthy connection, red with the reason otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

import syncbridge.cli.check as check_module
from tests.engine.bed import Bed

GREEN, RED, RESET = "\x1b[32m", "\x1b[31m", "\x1b[0m"


@pytest.fixture(autouse=True)
def colour_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A console that emits colours although the test's stdout is not a terminal."""
    monkeypatch.setattr(
        check_module,
        "console",
        Console(force_terminal=True, color_system="standard", highlight=False, soft_wrap=True),
    )


def test_every_healthy_connection_gets_a_green_ok_line(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    result = bed.cli("check")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{GREEN}●{RESET} left: ok — sqlite:///{tmp_path}/left.db\n"
        f"{GREEN}●{RESET} right: ok — sqlite:///{tmp_path}/right.db\n"
    )
    assert result.stderr == ""
    one = bed.cli("check", "right")
    assert one.exit_code == 0
    assert one.stdout == f"{GREEN}●{RESET} right: ok — sqlite:///{tmp_path}/right.db\n"


def test_an_unreachable_database_is_failing_and_its_password_never_shown(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path,
        {"company": {}},
        right_settings={"url": "postgresql+psycopg://u:S3cretPw@127.0.0.1:1/x"},
    )
    result = bed.cli("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{GREEN}●{RESET} left: ok — sqlite:///{tmp_path}/left.db"
    assert lines[1].startswith(
        f"{RED}●{RESET} right: failing — cannot connect to "
        "postgresql+psycopg://u:***@127.0.0.1:1/x: "
    )
    assert "refused" in lines[1].lower()
    assert len(lines) == 2
    assert "S3cretPw" not in result.output
    assert "S3cretPw" not in bed.cli("check", "right").output
    assert "S3cretPw" not in bed.cli("run").output
