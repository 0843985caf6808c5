"""The CLI's one error boundary: every command, against every kind of failure, ends with a
sentence naming what failed and what to do, the documented exit code, and no traceback.

Failure classes: a bad config, an unreachable state store (server down, database missing),
an unreachable server, wrong credentials, an invalid record, a missing id, and a bug (an
exception nobody worded). Everything is real: SQLite files, the Fatture in Cloud emulator
over HTTP, a port nothing listens on, the PostgreSQL test server.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from emulated import emulated
from faulty_extension import PASSWORD
from sqlalchemy.exc import OperationalError

from syncbridge.cli import main
from syncbridge.cli.common import explain
from syncbridge.config.schema import EntityRule
from syncbridge.http.client import CONNECT_DEADLINE
from syncbridge.plugins import list_connectors
from tests.engine.bed import Bed, company

#: every command that opens the config and the state store, with arguments that are
#: otherwise right
WORKSPACE_COMMANDS = [
    ["check"],
    ["plan"],
    ["run"],
    ["status"],
    ["report"],
    ["log", "left"],
    ["held"],
    ["push", "main", "company", "--from", "left", "--record", "1"],
    ["daemon", "--for", "0.1"],
    ["auth", "left"],
]
RULE_KEYS = ", ".join(sorted(EntityRule.model_fields))
FIC_REFUSED = (
    "Fatture in Cloud refused the credentials of connection 'fic' (HTTP 401 Unauthorized: "
    "Token di accesso non valido o scaduto.); generate a new token in Fatture in Cloud and set "
    "it as access_token in connections.fic.settings"
)
BAD_VAT = "vat_number: 'IT123' is not a valid Italian VAT number: it has the wrong number of digits"


def cli(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["-c", str(config), *args], env=env)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info


def name_of(args: list[str]) -> str:
    return " ".join(args[:2])


def fic_config(folder: Path, fic_settings: str, state: str = "sqlite:///state.db") -> Path:
    """sql (left) <-> fattureincloud (right), companies both ways."""
    config = folder / "syncbridge.toml"
    config.write_text(
        f'[state]\nurl = "{state}"\n'
        f'[connections.left]\nconnector = "sql"\n'
        f'settings = {{ url = "sqlite:///{folder / "left.db"}" }}\n'
        f'[connections.fic]\nconnector = "fattureincloud"\n'
        f"[connections.fic.settings]\n{fic_settings}\n"
        '[syncs.main]\nleft = "left"\nright = "fic"\n'
        '[syncs.main.entities.company]\ndirection = "both"\n',
        encoding="utf-8",
    )
    return config


# -- a bad config ------------------------------------------------------------------------------
@pytest.mark.parametrize("args", WORKSPACE_COMMANDS, ids=name_of)
def test_a_bad_config_is_one_sentence_naming_the_key_and_exit_2(
    tmp_path: Path, args: list[str]
) -> None:
    bed = Bed(tmp_path, {"company": {"directon": "both"}})
    result = bed.cli(*args)
    no_traceback(result)
    assert result.exit_code == 2
    assert result.stderr == (
        "config error: syncs.main.entities.company.directon: unknown key; did you mean "
        f"'direction'? (keys allowed here: {RULE_KEYS})\n"
    )


# -- an unreachable state store ----------------------------------------------------------------
@pytest.mark.parametrize("args", WORKSPACE_COMMANDS, ids=name_of)
def test_an_unreachable_state_store_is_named_with_its_password_masked(
    tmp_path: Path, args: list[str], closed_port: int
) -> None:
    state = f"postgresql+psycopg://sync:{PASSWORD}@127.0.0.1:{closed_port}/state"
    bed = Bed(tmp_path, {"company": {}}, state_url=state)
    started = time.monotonic()
    result = bed.cli(*args)
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: state.url: cannot open the state store "
        f"postgresql+psycopg://sync:***@127.0.0.1:{closed_port}/state: connection to server "
        f'at "127.0.0.1", port {closed_port} failed: Connection refused; check that the '
        "database server is running and that [state] url names a database that exists\n"
    )
    assert PASSWORD not in result.output
    assert time.monotonic() - started < 10


def test_a_state_database_that_does_not_exist_is_named(tmp_path: Path, postgres_url: str) -> None:
    server = postgres_url.rsplit("/", 1)[0]
    missing = f"nope_{uuid.uuid4().hex[:8]}"
    bed = Bed(tmp_path, {"company": {}}, state_url=f"{server}/{missing}")
    for args in (["status"], ["run"], ["report"]):
        result = bed.cli(*args)
        no_traceback(result)
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: state.url: cannot open the state store {server}/{missing}: connection to "
            f'server at "127.0.0.1", port 5432 failed: database "{missing}" does not exist; '
            "check that the database server is running and that [state] url names a database "
            "that exists\n"
        )


# -- an unreachable server ---------------------------------------------------------------------
def test_a_server_that_is_down_is_named_with_its_url_and_found_fast(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    config = fic_config(tmp_path, f'base_url = "{url}"\ncompany_id = 1\naccess_token = "t0k3n"')
    down = (
        f'connection "fic" cannot connect to {url} (Connection refused, still after '
        f"{CONNECT_DEADLINE:g} s of retries); check that the server is running and that the "
        "connection's URL is right, then `syncbridge check fic`"
    )

    started = time.monotonic()
    check = cli(config, "check")
    took = time.monotonic() - started
    no_traceback(check)
    assert check.exit_code == 1
    assert check.stdout.splitlines()[0] == f"● fic: failing — {down}"
    assert took < CONNECT_DEADLINE + 4, f"check took {took:.1f} s to find the server down"

    for number, command in enumerate(("run", "plan"), start=1):
        started = time.monotonic()
        result = cli(config, command, "-q")
        took = time.monotonic() - started
        no_traceback(result)
        assert result.exit_code == 1
        assert result.stderr == (
            f"{command} #{number} of main: company stopped: ConnectorError: {down}\n"
        )
        assert took < CONNECT_DEADLINE + 4, f"{command} took {took:.1f} s"

    push = cli(config, "push", "main", "company", "--from", "right", "--record", "1")
    no_traceback(push)
    assert push.exit_code == 1
    assert push.stderr == f"error: {down}\n"
    assert "t0k3n" not in check.output + push.output


# -- wrong credentials -------------------------------------------------------------------------
def test_wrong_credentials_are_said_with_what_to_do(tmp_path: Path) -> None:
    with emulated("fattureincloud") as (_emulator, url):
        config = fic_config(
            tmp_path, f'base_url = "{url}"\ncompany_id = 1051\naccess_token = "a/Wr0ng-t0ken"'
        )
        check = cli(config, "check")
        run = cli(config, "run", "-q")
        push = cli(config, "push", "main", "company", "--from", "right", "--record", "1")
    for result in (check, run, push):
        no_traceback(result)
        assert result.exit_code == 1
        assert "Wr0ng-t0ken" not in result.output
    assert check.stdout.splitlines()[0] == f"● fic: failing — {FIC_REFUSED}"
    assert run.stderr == f"run #1 of main: company stopped: AuthError: {FIC_REFUSED}\n"
    assert push.stderr == f"error: {FIC_REFUSED}\n"


# -- an invalid record -------------------------------------------------------------------------
def test_an_invalid_record_is_reported_never_a_traceback(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    [record] = bed.put("left", "company", [company(1)])
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET vat_number = 'IT123'")

    push = bed.cli("push", "main", "company", "--from", "left", "--record", record)
    no_traceback(push)
    assert push.exit_code == 1
    assert push.stderr == (
        f"error: company left {record} cannot be pushed: it is not valid: {BAD_VAT}; correct "
        'it on the left (connection "left") and push it again\n'
    )

    plan = bed.cli("plan", "-q")
    assert plan.exit_code == 1
    assert plan.stderr == (
        "plan #1 of main: company: 1 record failed; `syncbridge report 1` says why\n"
    )
    run = bed.cli("run", "-q")
    no_traceback(run)
    assert run.exit_code == 1
    assert run.stderr == (
        "run #2 of main: company: 1 record failed; `syncbridge report 2` says why\n"
    )


# -- a missing id ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["push", "main", "company", "--from", "left", "--record", "999"],
            1,
            'error: company left 999: no such record on the left (connection "left")',
        ),
        (
            ["run", "--sync", "main", "--side", "left", "--record", "999"],
            1,
            'error: company left 999: no such record on the left (connection "left")',
        ),
        (["report", "999"], 2, "config error: RUN: there is no run #999"),
        (
            ["held", "--release", "company:999"],
            2,
            "config error: --release company:999: nothing is held for it",
        ),
        (["log", "nope"], 2, "config error: no connection named 'nope' (connections: left, right)"),
        (
            ["check", "nope"],
            2,
            "config error: CONNECTION: no connection named 'nope' (connections: left, right)",
        ),
        (
            ["run", "--sync", "nope"],
            2,
            "config error: --sync: no sync named 'nope' (syncs: main)",
        ),
    ],
    ids=lambda value: " ".join(value[:2]) if isinstance(value, list) else None,
)
def test_a_missing_id_is_named(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(1)])
    result = bed.cli(*args)
    no_traceback(result)
    assert result.exit_code == code
    assert result.stderr == message + "\n"


# -- a bug -------------------------------------------------------------------------------------
def test_a_bug_is_one_masked_sentence_and_its_traceback_only_with_debug(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.rewrite({"company": {}}, extensions={"left": ["faulty_extension"]})

    result = bed.cli("run", "-q")
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unexpected RuntimeError in faulty_extension.py:")
    assert result.stderr.endswith(
        ": could not parse postgresql://***@db.example/erp; this is a bug: run the command "
        "again with --debug and report the traceback\n"
    )
    assert PASSWORD not in result.output

    for debug in (["--debug"], []):
        env = {} if debug else {"SYNCBRIDGE_DEBUG": "1"}
        shown = CliRunner().invoke(main, [*debug, "-c", str(bed.config), "run", "-q"], env=env)
        assert isinstance(shown.exception, RuntimeError)  # let through, traceback and all
        assert "could not parse" in str(shown.exception)


def test_a_config_error_starts_no_run(tmp_path: Path) -> None:
    """``run --entity invoice`` is refused before a run is recorded, so a bare ``report``
    still shows the last real run."""
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(1)])
    assert bed.cli("run", "-q").exit_code == 0
    refused = bed.cli("run", "--entity", "invoice")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "config error: --entity: invoice is not configured for sync main (configured: company)\n"
    )
    assert bed.cli("plan", "--entity", "contact").exit_code == 2
    report = bed.cli("report")
    assert report.stdout.splitlines()[0].strip() == "Run #1 of main — ok"
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT id, status FROM run").fetchall() == [(1, "ok")]


def test_a_misspelt_connector_gets_the_installed_name(tmp_path: Path) -> None:
    """Never "pip install syncbridge-quickboks": anyone could publish that name."""
    config = tmp_path / "syncbridge.toml"
    config.write_text(
        '[connections.qbo]\nconnector = "quickboks"\n[connections.left]\nconnector = "sql"\n'
        f'settings = {{ url = "sqlite:///{tmp_path / "left.db"}" }}\n'
        '[syncs.main]\nleft = "left"\nright = "qbo"\n[syncs.main.entities.company]\n',
        encoding="utf-8",
    )
    installed = ", ".join(e.name for e in list_connectors() if e.error is None)
    message = (
        f"no connector named 'quickboks' is installed; did you mean 'quickbooks'? "
        f"(installed: {installed})"
    )
    run = cli(config, "run")
    assert run.exit_code == 2
    assert run.stderr == f"config error: {message}\n"
    check = cli(config, "check", "qbo")
    assert check.stdout == f"● qbo: failing — {message}\n"
    assert "pip install" not in run.output + check.output


def test_library_errors_never_quote_a_url_path_or_a_secret() -> None:
    """Errors nobody worded are reworded without what may be secret: a Bitrix24 webhook's
    code is in its path, a database password in its URL."""
    url = "https://portal.bitrix24.de/rest/1/s3cr3tc0de/crm.deal.list"
    request = httpx.Request("GET", url)
    response = httpx.Response(500, request=request)
    status = httpx.HTTPStatusError(f"Server error '500' for url '{url}'", request=request,
                                   response=response)
    assert explain(status) == (
        "error",
        "https://portal.bitrix24.de answered HTTP 500 to GET; `syncbridge log` shows the "
        "connection's last requests",
        1,
    )
    dropped = httpx.RemoteProtocolError(f"peer closed the connection of {url}", request=request)
    assert explain(dropped) == (
        "error",
        "RemoteProtocolError: peer closed the connection of https://portal.bitrix24.de",
        1,
    )
    database = OperationalError(
        "SELECT data FROM credential", {"token": "T0ken"},
        RuntimeError(f"could not reach postgresql://erp:{PASSWORD}@db/erp\nDETAIL: more"),
    )
    label, sentence, code = explain(database)
    assert (label, code) == ("error", 1)
    assert sentence == (
        "a database operation failed: could not reach postgresql://***@db/erp; check that "
        "the database server is running and that `syncbridge check` is green"
    )
