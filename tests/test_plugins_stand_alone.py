"""Every plugin installs alone beside the core: its code imports nothing but the standard
library, ``syncbridge``, itself and the distributions its pyproject declares.

A plugin importing another plugin, or a library it does not declare (present here only
because another plugin or the dev extras brought it), would install fine in this workspace
and fail for a user who installs that plugin alone.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(path.parent for path in (ROOT / "plugins").glob("*/pyproject.toml"))
#: distribution name -> the top-level modules it installs
_MODULES: dict[str, set[str]] = {}
for module, distributions in packages_distributions().items():
    for distribution in distributions:
        _MODULES.setdefault(distribution.lower().replace("_", "-"), set()).add(module)


def _imports(package: Path) -> dict[str, str]:
    """Top-level module -> a file importing it, for every absolute import in ``package``."""
    found: dict[str, str] = {}
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.partition(".")[0], str(source.relative_to(ROOT)))
    return found


def _allowed(plugin: Path) -> set[str]:
    project = tomllib.loads((plugin / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    modules = {"syncbridge", "__future__"}
    #: modules a declared distribution brings as part of itself
    parts = {"pydantic": {"pydantic_core"}}
    for text in project.get("dependencies", []):
        name = Requirement(text).name.lower().replace("_", "-")
        modules |= _MODULES.get(name, set()) | parts.get(name, set())
    return modules


@pytest.mark.parametrize("plugin", PLUGINS, ids=[path.name for path in PLUGINS])
def test_a_plugin_imports_only_what_it_declares(plugin: Path) -> None:
    [package] = [
        path for path in (plugin / "src").iterdir() if (path / "__init__.py").exists()
    ]
    allowed = _allowed(plugin) | {package.name}
    stray = {
        module: where
        for module, where in _imports(package).items()
        if module not in allowed and module not in sys.stdlib_module_names
    }
    assert stray == {}, f"{plugin.name} imports what its pyproject does not declare: {stray}"
