"""The pages on what a connector author builds with: the emulator base and the test kit.

Both are documented in their own module docstrings (a complete emulator; the list of
contract checks) by the people who write them. Rendering those docstrings, with the class
attributes and overridable methods read from the code, keeps the guide as current as the
code. A part that fails to import is described in a sentence instead of breaking the build:
the test kit may be installed in a newer or older form than the pages expect.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from syncbridge.docsgen.fields import keys_table, sections
from syncbridge.docsgen.source import attribute_docs, signature
from syncbridge.docsgen.text import code, embed_readme, rst_inline, rst_to_markdown, table

EMULATOR_PATH = "writing-a-connector/emulator.md"
TESTKIT_PATH = "writing-a-connector/test-kit.md"


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except Exception:  # any import failure: documented as missing, never a broken build
        return None


def _method(name: str, function: Callable[..., Any]) -> str:
    return "\n\n".join(
        [
            f"### {name}",
            f"```python\n{signature(name, function)}\n```",
            rst_to_markdown(function.__doc__),
        ]
    )


def _own_methods(cls: type, names: list[str]) -> list[str]:
    return [name for name in names if callable(getattr(cls, name, None))]


def render_emulator() -> str:
    """The emulator page: the package guide, the base class hooks, the start-up options."""
    package = _import("syncbridge.emulator")
    parts = [
        "# The emulator base",
        "Every plugin ships an emulator of its system's API: a Starlette app serving the real "
        "paths, authentication, pagination, filters, validation errors, rate limits and error "
        "bodies, documented from the system's own API reference. Tests, the demo and the "
        "benchmarks run against it over real HTTP on 127.0.0.1; `syncbridge emulate <system>` "
        "serves it by hand. An emulator that accepts what the real API rejects is a bug.",
        "This page is generated from `syncbridge.emulator`.",
    ]
    if package is None:
        parts.append("*`syncbridge.emulator` could not be imported where this site was built.*")
        return "\n\n".join(parts) + "\n"
    parts.append("## Writing one")
    parts.append(rst_to_markdown(package.__doc__))
    base: Any = package.Emulator
    parts.append("## The `Emulator` class")
    parts.append(rst_to_markdown(base.__doc__))
    documented = attribute_docs(base)
    if documented:
        parts.append(
            table(
                ("class attribute", "meaning"),
                ((code(name), rst_inline(text)) for name, text in documented.items()),
            )
        )
    hooks = [
        "routes",
        "populate",
        "settings_for",
        "error",
        "rate_limit_key",
        "rate_limited",
        "route",
    ]
    parts.extend(_method(name, getattr(base, name)) for name in _own_methods(base, hooks))
    options = _import("syncbridge.emulator.options")
    if options is not None:
        parts.append("## Options and faults")
        parts.append(rst_to_markdown(options.__doc__))
        for section in sections(options.EmulatorOptions, "EmulatorOptions"):
            parts.append(keys_table(section.keys))
    return "\n\n".join(parts) + "\n"


def render_testkit() -> str:
    """The test kit page: how to run the contract suite, what it checks, what to override."""
    parts = [
        "# The test kit",
        "`syncbridge.testing` is a pytest plugin (registered by the core distribution through "
        "the `pytest11` entry point, so it is active wherever syncbridge is installed). Its "
        "contract suite proves, over real HTTP against your emulator, that a connector keeps "
        "the promises the engine relies on: every record read once across pages, incremental "
        "reads exact, creates and updates that stick, idempotent creates that never duplicate, "
        "`map` round-trips, 401/429/500 and dropped connections handled, and capabilities that "
        "are true both ways (nothing declared that fails, nothing working undeclared).",
        "This page is generated from `syncbridge.testing`.",
    ]
    package = _import("syncbridge.testing")
    contract = _import("syncbridge.testing.contract")
    if package is None or contract is None:
        parts.append(
            "*The contract suite (`syncbridge.testing.contract.ConnectorContract`) could not be "
            "imported where this site was built; see the module in the core distribution.*"
        )
        return "\n\n".join(parts) + "\n"
    parts.append("## In short")
    parts.append(rst_to_markdown(package.__doc__))
    parts.append("## The contract suite")
    parts.append(rst_to_markdown(contract.__doc__))
    suite: Any = contract.ConnectorContract
    parts.append("## Configuring the suite")
    parts.append(rst_to_markdown(suite.__doc__))
    hooks_module = _import("syncbridge.testing.hooks")
    base: Any = getattr(hooks_module, "ContractHooks", None) if hooks_module else None
    if base is not None:
        documented = attribute_docs(base)
        if documented:
            parts.append(
                table(
                    ("class attribute", "default", "meaning"),
                    (
                        (
                            code(name),
                            code(repr(getattr(base, name, None))),
                            rst_inline(text),
                        )
                        for name, text in documented.items()
                    ),
                )
            )
        names = ["settings", "bad_settings", "sample", "seed", "expected_count", "touch"]
        parts.append("### Methods to override")
        parts.extend(
            _method(name, getattr(base, name)).replace("### ", "#### ", 1)
            for name in _own_methods(base, names)
        )
    checks = sorted(name for name in dir(suite) if name.startswith("test_"))
    parts.append("## Every check")
    parts.append(
        "The test methods a subclass inherits (each takes `harness`, most also `entity`):\n\n"
        + "\n".join(f"- {code(name)}" for name in checks)
    )
    fault_check = _import("syncbridge.testing.checks_faults")
    fault_sync = _import("syncbridge.testing.faultsync")
    if fault_check is not None and fault_sync is not None:
        parts.append("## The fault check")
        parts.append(rst_to_markdown(fault_check.__doc__))
        parts.append("### What it runs, and what it asserts")
        parts.append(rst_to_markdown(fault_sync.__doc__))
    return "\n\n".join(parts) + "\n"


def render() -> dict[str, str]:
    return {EMULATOR_PATH: render_emulator(), TESTKIT_PATH: render_testkit()}


TEMPLATE_PATH = "writing-a-connector/template.md"


def render_template(readme: str | None) -> dict[str, str]:
    """The template page: the cookiecutter's own README, read from the source tree.

    The template is not installed anywhere (it lives beside the packages in the repository),
    so the caller, which knows where the repository is, passes its README in.
    """
    parts = [
        "# The connector template",
        "`cookiecutter-connector/` in the repository generates a complete plugin folder whose "
        "tests pass unchanged: pyproject with the entry points, connector, mapping, emulator, "
        "tests running the [contract suite](test-kit.md) and a README. Start a new connector "
        "from it and replace the example API with the real one, keeping the tests green.",
    ]
    if readme:
        parts.append("*The rest of this page is the template's README.*")
        parts.append(embed_readme(readme))
    else:
        parts.append(
            "```sh\npip install cookiecutter\n"
            "cookiecutter cookiecutter-connector --no-input connector_name=acme\n```"
        )
    return {TEMPLATE_PATH: "\n\n".join(parts) + "\n"}
