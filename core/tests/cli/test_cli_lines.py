"""``syncbridge lines list|add|edit|rm``: the config file edited in place, comments and
layout kept, and a change that would make it invalid refused with the file untouched."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from syncbridge.cli import main
from syncbridge.cli.schemas import SCHEMAS
from syncbridge.config import load
from syncbridge.models import MODELS

CONFIG = """\
# the ERP and the CRM
[state]
url = "sqlite:///state.db"

[connections.erp]   # the management application
connector = "sql"
[connections.erp.settings]
url = "sqlite:///erp.db"

[connections.crm]
connector = "sql"
[connections.crm.settings]
url = "sqlite:///crm.db"

[syncs.main]
left = "erp"
right = "crm"

# customers change all the time
[syncs.main.entities.company]
direction = "both"  # both ways
every = "10m"

# sectors
[syncs.main.entities.product]
every = "1d"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "syncbridge.toml"
    path.write_text(CONFIG, encoding="utf-8")
    path.chmod(0o600)
    return path


def cli(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-c", str(path), "lines", *args])


def test_add_names_an_existing_rule_or_adds_one_keeping_comments(config: Path) -> None:
    named = cli(config, "add", "customers", "--sync", "main", "--entity", "company")
    assert named.exit_code == 0, named.output
    assert named.stdout == "line customers: named the rule of company in sync main\n"
    added = cli(
        config, "add", "contacts", "--sync", "main", "--entity", "contact",
        "--direction", "both", "--priority", "right", "--every", "1h", "--after", "customers",
    )
    assert added.exit_code == 0, added.output
    assert added.stdout == "line contacts: added contact in sync main\n"
    assert config.read_text() == CONFIG.replace(
        'every = "10m"\n', 'every = "10m"\nline = "customers"\n'
    ) + (
        "\n"
        "[syncs.main.entities.contact]\n"
        'line = "contacts"\n'
        'direction = "both"\n'
        'priority = "right"\n'
        'every = "1h"\n'
        'after = ["customers"]\n'
    )
    assert os.stat(config).st_mode & 0o777 == 0o600  # a file holding secrets stays private
    rule = load(config).syncs["main"].entities["contact"]
    assert (rule.line, rule.after, rule.direction) == ("contacts", ["customers"], "both")


def test_edit_changes_values_in_place_and_keeps_the_rest(config: Path) -> None:
    assert cli(config, "add", "customers", "--sync", "main", "--entity", "company").exit_code == 0
    assert cli(config, "add", "sectors", "--sync", "main", "--entity", "product").exit_code == 0
    result = cli(config, "edit", "customers", "--direction", "left-to-right", "--every", "5m")
    assert result.exit_code == 0, result.output
    assert result.stdout == "line customers: changed (company in sync main)\n"
    assert cli(config, "edit", "sectors", "--after", "customers").exit_code == 0
    expected = (
        CONFIG.replace('direction = "both"  # both ways\nevery = "10m"\n',
                       'direction = "left-to-right"  # both ways\nevery = "5m"\n'
                       'line = "customers"\n')
        .replace('every = "1d"\n', 'every = "1d"\nline = "sectors"\nafter = ["customers"]\n')
    )
    assert config.read_text() == expected
    assert cli(config, "edit", "sectors", "--no-after").exit_code == 0
    assert config.read_text() == expected.replace('after = ["customers"]\n', "")


def test_rm_removes_the_rule_with_its_comment(config: Path) -> None:
    assert cli(config, "add", "customers", "--sync", "main", "--entity", "company").exit_code == 0
    result = cli(config, "rm", "customers")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "line customers: removed (company is no longer synced by sync main; its links and "
        "state are kept)\n"
    )
    # the comment above the rule went with it; the one above the next table stayed there
    assert config.read_text() == CONFIG.replace(
        '# customers change all the time\n[syncs.main.entities.company]\ndirection = "both"  '
        '# both ways\nevery = "10m"\n\n',
        "",
    )


def test_an_edit_that_would_make_the_config_invalid_is_refused(config: Path) -> None:
    assert cli(config, "add", "customers", "--sync", "main", "--entity", "company").exit_code == 0
    assert cli(
        config, "add", "sectors", "--sync", "main", "--entity", "product", "--after", "customers"
    ).exit_code == 0
    before = config.read_text()

    removing = cli(config, "rm", "customers")  # sectors runs after it
    assert removing.exit_code == 2
    assert removing.stderr == (
        "config error: syncs.main.entities.product.after: no line named 'customers'; did you "
        "mean 'sectors'? (lines: sectors)\n"
        f"refused: {config} is left unchanged (the change would make it invalid)\n"
    )
    circle = cli(config, "edit", "customers", "--after", "sectors")
    assert circle.exit_code == 2
    assert circle.stderr.startswith(
        "config error: syncs.main.entities.company.after: line 'sectors' syncs product, "
    )
    every = cli(config, "edit", "customers", "--every", "often")
    assert every.exit_code == 2
    assert every.stderr == (
        "config error: syncs.main.entities.company.every: 'often' is not a schedule; use a "
        'number and a unit ("10m", "3h", "1d", "30s") or "manual"\n'
        f"refused: {config} is left unchanged (the change would make it invalid)\n"
    )
    bad_name = cli(config, "add", "--x", "--sync", "main", "--entity", "contact")
    assert bad_name.exit_code == 2
    assert config.read_text() == before


def test_add_and_edit_refuse_what_does_not_exist(config: Path) -> None:
    assert cli(config, "add", "customers", "--sync", "main", "--entity", "company").exit_code == 0
    before = config.read_text()
    cases = {
        ("add", "customers", "--sync", "main", "--entity", "contact"): (
            "config error: NAME: there is a line 'customers' already (main/company); change "
            "it with `syncbridge lines edit customers`\n"
        ),
        ("add", "people", "--sync", "main", "--entity", "company"): (
            "config error: --entity: company of sync main is line 'customers' already; "
            "change it with `syncbridge lines edit customers`\n"
        ),
        ("add", "people", "--sync", "mian", "--entity", "contact"): (
            "config error: --sync: no sync named 'mian' (syncs: main)\n"
        ),
        ("add", "people", "--sync", "main", "--entity", "kontact"): (
            "config error: syncs.main.entities.kontact: unknown entity; use one of: "
            f"{', '.join(MODELS)}\n"
            f"refused: {config} is left unchanged (the change would make it invalid)\n"
        ),
        ("edit", "custmers", "--every", "1h"): (
            "config error: NAME: no line named 'custmers'; did you mean 'customers'? "
            "(lines: customers)\n"
        ),
        ("edit", "customers"): (
            "config error: nothing to change: give --direction, --priority, --every, --after "
            "or --no-after\n"
        ),
        ("rm", "sectors"): (
            "config error: NAME: no line named 'sectors'; did you mean 'customers'? "
            "(lines: customers)\n"
        ),
    }
    for args, message in cases.items():
        result = cli(config, *args)
        assert (result.exit_code, result.stderr) == (2, message), args
    assert config.read_text() == before


def test_list_shows_the_lines_in_run_order(
    config: Path, table_rows: Callable[[str], list[list[str]]]
) -> None:
    empty = cli(config, "list")
    assert empty.exit_code == 0
    assert empty.stdout == ""
    assert "no sync lines" in empty.stderr
    assert json.loads(cli(config, "list", "--json").stdout) == []

    assert cli(config, "add", "customers", "--sync", "main", "--entity", "company").exit_code == 0
    assert cli(
        config, "add", "sectors", "--sync", "main", "--entity", "product", "--after", "customers"
    ).exit_code == 0
    listed = CliRunner().invoke(
        main, ["-c", str(config), "lines", "list"], env={"COLUMNS": "200"}
    )
    assert listed.exit_code == 0, listed.output
    # cells as shown, folded where a narrow terminal (a test worker's) wraps them
    assert [[cell.replace(" ", "") for cell in row] for row in table_rows(listed.stdout)] == [
        ["customers", "main(erp<->crm)", "company", "both", "left", "10m", "-"],
        ["sectors", "main(erp<->crm)", "product", "left-to-right", "left", "1d", "customers"],
    ]
    document = json.loads(cli(config, "list", "--json").stdout)
    jsonschema.Draft202012Validator(SCHEMAS["lines list"]).validate(document)
    assert document[0] == {
        "line": "customers",
        "sync": "main",
        "entity": "company",
        "left": "erp",
        "right": "crm",
        "direction": "both",
        "priority": "left",
        "every": "10m",
        "after": [],
    }
