"""``--json``: one document on stdout per command, in the shape its published schema gives.

Each document is checked twice: equal to what the run did, and valid against the schema of
:mod:`syncbridge.cli.schemas` that the CLI reference shows. Progress and warnings stay on
stderr, so stdout parses as JSON whatever happened, failures included.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
from click.testing import CliRunner, Result
from emulated import emulated

from syncbridge.cli import main
from syncbridge.cli.schemas import CONNECTORS, ERROR, SCHEMAS, VERSION
from syncbridge.docsgen import cli_reference
from tests.engine.bed import Bed, company


def document(result: Result, command: str | None = None) -> Any:
    """stdout parsed, after checking it against the schema of ``command``'s output."""
    parsed = json.loads(result.stdout)
    if command is not None:
        jsonschema.Draft202012Validator(SCHEMAS[command]).validate(parsed)
    return parsed


def test_every_schema_is_a_valid_json_schema() -> None:
    for schema in [*SCHEMAS.values(), ERROR]:
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(f".v{VERSION}.json")


def test_run_and_plan_json(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both"}, "contact": {}})
    bed.put("left", "company", [company(i) for i in range(2)])

    plan = bed.cli("plan", "--json")
    assert plan.exit_code == 0, plan.output
    assert document(plan, "plan") == {
        "version": 1,
        "ok": True,
        "runs": [
            {
                "run": 1,
                "sync": "main",
                "mode": "plan",
                "status": "ok",
                "entities": [
                    {"entity": "company", "result": "ok", "message": None,
                     "counts": {"created": 2}},
                    {"entity": "contact", "result": "ok", "message": None, "counts": {}},
                ],
            }
        ],
    }
    assert "company: 2 records read from the left (left)" in plan.stderr  # progress: stderr

    run = bed.cli("run", "--json", "--verbose")  # --verbose does not add to the document
    assert run.exit_code == 0, run.output
    [done] = document(run, "run")["runs"]
    assert (done["run"], done["mode"], done["entities"][0]["counts"]) == (2, "run", {"created": 2})


def test_run_json_says_what_failed_and_exits_1(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(i) for i in range(2)])
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET vat_number = 'IT123' WHERE name = 'Company 0001'")
    result = bed.cli("run", "--json", "-q")
    assert result.exit_code == 1
    parsed = document(result, "run")
    assert parsed["ok"] is False
    [run] = parsed["runs"]
    assert run["status"] == "failed"
    assert run["entities"] == [
        {"entity": "company", "result": "failed", "message": None,
         "counts": {"created": 1, "failed": 1}}
    ]
    assert result.stderr == (
        "run #1 of main: company: 1 record failed; `syncbridge report 1` says why\n"
    )


def test_check_json(tmp_path: Path, closed_port: int) -> None:
    bed = Bed(tmp_path, {"company": {}})
    healthy = bed.cli("check", "--json")
    assert healthy.exit_code == 0, healthy.output
    assert document(healthy, "check") == {
        "version": 1,
        "ok": True,
        "connections": [
            {"name": side, "ok": True, "reason": None,
             "account": f"sqlite:///{tmp_path}/{side}.db", "companies": [], "scopes": [],
             "last_access": None}
            for side in ("left", "right")
        ],
    }

    with emulated("fattureincloud") as (emulator, url):
        config = tmp_path / "fic.toml"
        config.write_text(
            '[state]\nurl = "sqlite:///state.db"\n'
            '[connections.fic]\nconnector = "fattureincloud"\n[connections.fic.settings]\n'
            + "".join(f"{k} = {json.dumps(v)}\n" for k, v in emulator.settings_for(url).items())
            + f'[connections.down]\nconnector = "fattureincloud"\n[connections.down.settings]\n'
            f'base_url = "http://127.0.0.1:{closed_port}"\ncompany_id = 1\naccess_token = "t"\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(main, ["-c", str(config), "check", "--json"])
        logged = CliRunner().invoke(main, ["-c", str(config), "log", "fic", "--json"])
    assert result.exit_code == 1
    down, fic = document(result, "check")["connections"]
    assert (down["name"], down["ok"], fic["name"], fic["ok"]) == ("down", False, "fic", True)
    assert down["reason"].startswith(
        f'connection "down" cannot connect to http://127.0.0.1:{closed_port} ('
    )
    assert fic["companies"] and fic["last_access"].endswith("Z")
    assert [(row["method"], row["status"]) for row in document(logged, "log")] == [
        ("GET", 200),
        ("GET", 200),
    ]


def test_status_report_held_connectors_json_match_their_schemas(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(1)])
    assert bed.cli("run", "-q").exit_code == 0
    assert [row["result"] for row in document(bed.cli("status", "--json"), "status")] == ["ok"]
    assert [row["outcome"] for row in document(bed.cli("report", "--json"), "report")] == [
        "created"
    ]
    assert document(bed.cli("held", "--json"), "held") == []
    listed = CliRunner().invoke(main, ["connectors", "--json"])
    jsonschema.Draft202012Validator(CONNECTORS).validate(json.loads(listed.stdout))


def test_a_failure_under_json_is_a_json_document_too(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    for args, code, kind, message in (
        (["report", "7", "--json"], 2, "config error", "RUN: there is no run #7"),
        (["run", "--json", "--sync", "nope"], 2, "config error",
         "--sync: no sync named 'nope' (syncs: main)"),
        (["check", "--json", "nope"], 2, "config error",
         "CONNECTION: no connection named 'nope' (connections: left, right)"),
    ):
        result = bed.cli(*args)
        assert result.exit_code == code
        parsed = json.loads(result.stdout)
        jsonschema.Draft202012Validator(ERROR).validate(parsed)
        assert parsed == {
            "version": 1,
            "error": {"kind": kind, "message": message, "exit_code": code},
        }
        assert result.stderr == f"{kind}: {message}\n"


def test_every_json_option_has_a_schema_and_the_cli_reference_shows_it() -> None:
    """Meta-test: a command that gains ``--json`` without a documented shape fails here."""
    text = cli_reference.render()
    with_json = {
        name
        for name, command in cli_reference.every_command().items()
        if any("--json" in getattr(param, "opts", ()) for param in command.params)
    }
    assert with_json == set(SCHEMAS)
    assert {"run", "plan", "check", "status", "report", "log", "connectors"} <= with_json
    for name in with_json:
        section = text.split(f"## `syncbridge {name}`")[1].split("\n## ")[0]
        assert f"`{SCHEMAS[name]['$id']}`" in section
        assert '"$schema": "https://json-schema.org/draft/2020-12/schema"' in section
    assert "## JSON output" in text and ERROR["$id"] in text
