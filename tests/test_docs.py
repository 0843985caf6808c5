"""The documentation site builds, strictly, and documents everything the code offers.

The site is built once per module with ``mkdocs build --strict`` (broken links, pages missing
from the nav and bad anchors fail it), then the generated pages are checked against the code
they come from: every hook spec, every CLI command, every configuration key, every installed
connector. These are the meta-tests that keep the contract and its documentation from
drifting apart. Without mkdocs installed the build tests are skipped, except under
``CI=true``, where they fail.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from syncbridge import hookspecs
from syncbridge.cli import COMMANDS
from syncbridge.config.schema import Config, Direction
from syncbridge.describe import Capability
from syncbridge.docsgen import cli_reference, config_reference, connector_pages, hooks_reference
from syncbridge.docsgen import pages as generated_pages
from syncbridge.docsgen.__main__ import main as docsgen_main
from syncbridge.docsgen.fields import sections
from syncbridge.docsgen.text import embed_readme, rst_to_markdown, slug
from syncbridge.plugins import list_connectors

ROOT = Path(__file__).resolve().parents[1]
#: what `make docs` needs besides the core: the modules the build imports
BUILD_MODULES = ("mkdocs", "material", "mkdocs_gen_files", "mkdocs_literate_nav")


def _missing_build_modules() -> list[str]:
    return [name for name in BUILD_MODULES if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with the venv's mkdocs, exactly as `make docs` builds it."""
    missing = _missing_build_modules()
    if missing:
        message = (
            f"mkdocs is not installed ({', '.join(missing)} missing): "
            "pip install -e '.[dev]' or run `make docs`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def _page(site: Path, path: str) -> str:
    file = site / path / "index.html"
    assert file.is_file(), f"{path} was not built"
    return file.read_text(encoding="utf-8")


def _text(fragment: str, tags: str = " ") -> str:
    """Visible text of an HTML fragment, whitespace collapsed; ``tags`` replaces each tag
    (``""`` to read highlighted code, whose tokens are separate spans)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", tags, fragment)).split())


def _section(page: str, anchor: str, level: int = 2) -> str:
    """The text from the heading with id ``anchor`` to the next heading of ``level`` or above."""
    start = page.find(f'id="{anchor}"')
    assert start >= 0, f"no heading #{anchor}"
    end = re.compile(rf"<h[1-{level}][ >]").search(page, start + 1)
    return _text(page[start : end.start() if end else len(page)])


# -- the built site -------------------------------------------------------------------------


def test_every_page_of_the_nav_is_built(site: Path) -> None:
    for path in (
        "",
        "getting-started",
        "concepts",
        "concepts/matching",
        "concepts/runs",
        "concepts/safety",
        "concepts/documents",
        "reference/config",
        "reference/cli",
        "reference/models",
        "connectors",
        "writing-a-connector",
        "writing-a-connector/hooks",
        "writing-a-connector/emulator",
        "writing-a-connector/test-kit",
        "writing-a-connector/template",
        "architecture",
    ):
        _page(site, path)


def test_config_reference_lists_direction_with_its_allowed_values(site: Path) -> None:
    page = _page(site, "reference/config")
    rule = _section(page, slug("[syncs.<sync>.entities.<entity>]"))
    row = rule[rule.index("direction") :]
    row = row[: row.index("priority")]
    for value in typing.get_args(Direction):
        assert f'"{value}"' in row
    assert "which way changes flow" in row


def test_cli_reference_documents_run_full(site: Path) -> None:
    run = _section(_page(site, "reference/cli"), "syncbridge-run")
    assert "syncbridge run [OPTIONS]" in run
    assert "--full" in run
    assert "re-compare everything" in run


def test_sql_connector_page_lists_company_with_its_capabilities(site: Path) -> None:
    entry = next((e for e in list_connectors() if e.name == "sql"), None)
    assert entry is not None and entry.info is not None, "the sql plugin is not installed"
    company = _section(_page(site, "connectors/sql"), "company", level=3)
    declared = entry.info.entity("company").capabilities
    assert declared, "sql declares no capability for company"
    for capability in declared:
        assert capability.value in company
    assert "vat_number" in company  # a mapped field


def test_every_installed_connector_has_a_page_in_the_nav(site: Path) -> None:
    index = _page(site, "connectors")
    for entry in list_connectors():
        if entry.info is None:
            assert entry.name in _text(index)  # listed with its error
            continue
        page = _page(site, f"connectors/{entry.name}")
        assert entry.info.title in _text(page)
        assert f'href="../{entry.name}/"' in index or f'href="{entry.name}/"' in index


def test_every_hook_is_in_the_built_hooks_reference(site: Path) -> None:
    page = _page(site, "writing-a-connector/hooks")
    for name in hookspecs.hook_names():
        assert f'id="{name}"' in page, f"hook {name} has no section"
        assert f"def {name}(" in _text(page, tags="")


def test_every_command_is_in_the_built_cli_reference(site: Path) -> None:
    page = _page(site, "reference/cli")
    for name in COMMANDS:
        assert f'id="syncbridge-{name}"' in page, f"command {name} has no section"


# -- the generators (no mkdocs needed) ------------------------------------------------------


def test_every_hook_spec_is_documented() -> None:
    """Meta-test: no hook, listed or merely marked as a spec, goes undocumented."""
    text = hooks_reference.render()
    marked = {
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, f"{hookspecs.PROJECT}_spec")
    }
    for name in {*hookspecs.hook_names(), *marked}:
        assert f"### {name}\n" in text, f"hook {name} missing from the hooks reference"
        assert f"def {name}(" in text


def test_every_command_is_documented() -> None:
    """Meta-test: every command of the ``syncbridge`` group has its section and options."""
    text = cli_reference.render()
    commands = cli_reference.commands()
    assert set(commands) == set(COMMANDS)
    for name, command in cli_reference.every_command().items():  # and `lines add`
        assert f"## `syncbridge {name}`" in text
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert f"`{opt}`" in text, f"{name} {opt} missing from the CLI reference"


def test_every_config_key_is_documented_with_a_description() -> None:
    """Meta-test: every key the loader accepts is in the reference, and says what it does."""
    text = config_reference.render()
    found = list(sections(Config))
    assert {section.path for section in found} >= {
        "state",
        "connections.<connection>",
        "syncs.<sync>",
        "syncs.<sync>.entities.<entity>",
    }
    for section in found:
        assert f"## `[{section.path}]`" in text
        for key in section.keys:
            assert f"| `{key.name}` |" in text
            assert key.description.strip(), f"{section.path}.{key.name} has no description"


def test_every_capability_has_a_meaning() -> None:
    for capability in Capability:
        assert connector_pages.CAPABILITY_MEANINGS.get(capability.value), capability


def test_docsgen_writes_every_page(tmp_path: Path) -> None:
    assert docsgen_main([str(tmp_path)]) == 0
    for path in generated_pages():
        assert (tmp_path / path).is_file()


def test_rst_docstrings_become_markdown() -> None:
    text = rst_to_markdown(
        """Find :class:`~syncbridge.records.Page` objects, ``literally``.

        :param client: the client,
            on two lines.

        :param entity: the entity.

        Configure it::

            [connections.x]
            connector = "x"

        ``term``
            its definition.
        """
    )
    assert "Find `Page` objects, `literally`." in text
    assert text.count("**Parameters**") == 1
    assert "- `client` — the client, on two lines." in text
    assert '```toml\n[connections.x]\nconnector = "x"\n```' in text
    assert "- `term` — its definition." in text


def test_embedded_readmes_cannot_break_the_build() -> None:
    text = embed_readme(
        "# Title\n\n## Usage\n\nSee [usage](#usage), [gone](#nowhere), [docs](docs/x.md), "
        "![logo](logo.png) and [site](https://example.com).\n\n```\n# comment\n```\n"
    )
    assert text.startswith("## Title\n")
    assert "### Usage" in text
    assert "[usage](#usage)" in text
    assert "gone" in text and "(#nowhere)" not in text
    assert "docs" in text and "docs/x.md" not in text
    assert "logo.png" not in text
    assert "[site](https://example.com)" in text
    assert "```\n# comment\n```" in text
