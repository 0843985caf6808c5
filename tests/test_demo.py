"""`make demo` runs `syncbridge demo`: it must finish, sync, and show the conflict."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def demo(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "syncbridge.cli", "demo", *args],
        capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_the_http_demo_syncs_the_crm_and_fatture_in_cloud_emulators() -> None:
    out = demo()
    assert "● crm: ok" in out and "● fic: ok" in out
    plan = out[out.index("Plan #1"):out.index("5. syncbridge run")]
    run = out[out.index("Run #2"):out.index("6. Edits")]
    # the dry run announces exactly what the run then does
    assert [line.split()[1:] for line in plan.splitlines() if line.startswith("│")] == [
        line.split()[1:] for line in run.splitlines() if line.startswith("│")]
    # the Fatture in Cloud article without a code is the one product skipped
    [product] = [line.split("│")[1:-1] for line in run.splitlines() if "│ product" in line]
    header = [cell.strip() for cell in next(
        line for line in run.splitlines() if line.startswith("┃")).split("┃")[1:-1]]
    row = dict(zip(header, (cell.strip() for cell in product), strict=True))
    # the columns are the outcomes some entity of the run had: every other count is 0
    assert {k: v for k, v in row.items() if v != "0"} == {
        "entity": "product", "created": "24", "skipped": "1", "result": "ok"}
    assert "conflict — changed on both sides; left wins by priority" in out
    assert "city: left 'Bergamo' / right 'Brescia'" in out
    assert "updated — changed on the right" in out
    assert "Rossi-2024!" not in out.split("9. syncbridge log crm")[1]  # no secret in the log


@pytest.mark.parametrize("flag", ["--sql"])
def test_the_sql_demo_runs_without_any_http_plugin(flag: str) -> None:
    out = demo(flag, "--records", "24")
    assert "conflict — changed on both sides; left wins by priority" in out
    assert "city: left 'Bergamo' / right 'Brescia'" in out


def test_the_seed_001_demo_is_chosen_with_its_seed() -> None:
    out = demo("--seed", "001")
    assert "syncbridge run" in out
    assert "Számlázz" in out and "MiniCRM" in out


def test_the_seed_002_demo_is_chosen_with_its_seed() -> None:
    out = demo("--seed", "002")
    assert "Simply CRM" in out and "Dinero" in out


def test_a_seed_and_the_sql_demo_are_two_demos() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncbridge.cli", "demo", "--seed", "001", "--sql"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--seed and --sql are two different demos: choose one" in result.stderr


def test_the_seed_003_demo_is_chosen_with_its_seed() -> None:
    out = demo("--seed", "003")
    assert "OfiCRM" in out and "syncbridge lines" in out
