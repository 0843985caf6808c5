"""cookiecutter-connector generates a plugin that installs, is found, serves, and passes its tests.

The generated project is installed the way a third party would (``pip install -e``) into a
throwaway virtualenv: the venv is made without pip (fast), sees this project's environment
(syncbridge, pytest, setuptools) through a ``.pth`` file, and the project's own pip installs
the plugin into it with ``--no-deps``, offline (``--no-build-isolation --no-index``) when this
environment can build an editable wheel, else in pip's isolated build as ``make setup`` does.
Nothing is installed into the project's environment, so no other test sees ``acme``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import selectors
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import httpx
import pytest

cookiecutter_main = pytest.importorskip("cookiecutter.main")
cookiecutter_exceptions = pytest.importorskip("cookiecutter.exceptions")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "cookiecutter-connector"
NAME = "acme"


def _environment() -> dict[str, str]:
    """The environment of a child process: none of this test run's pytest or path settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST_") and key not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> str:
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template generated with ``connector_name=acme`` and every other default."""
    out = tmp_path_factory.mktemp("generated")
    project = cookiecutter_main.cookiecutter(
        str(TEMPLATE), no_input=True, extra_context={"connector_name": NAME}, output_dir=str(out)
    )
    return Path(project)


@pytest.fixture(scope="module")
def python(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a throwaway venv with the generated plugin installed editable."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    interpreter = venv / "bin" / "python"
    # let the venv see this project's environment (editable core included) after its own
    purelib = Path(
        _run(interpreter, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    ours = sysconfig.get_path("purelib")
    (purelib / "syncbridge-project-env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    isolation = ["--no-build-isolation", "--no-index"] if _builds_editable_offline() else []
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        interpreter,
        "install",
        "--quiet",
        "--no-deps",
        *isolation,
        "-e",
        generated,
        timeout=180,
    )
    return interpreter


def _builds_editable_offline() -> bool:
    """Whether this environment's setuptools can build an editable wheel by itself.

    setuptools >= 70.1 can, older ones need the ``wheel`` package. Without either, pip builds
    in an isolated environment and fetches setuptools from the package index (or its cache),
    exactly as ``make setup`` installed this project.
    """
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        major, minor = (int(part) for part in metadata.version("setuptools").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (70, 1)


def test_it_generates_the_documented_layout(generated: Path) -> None:
    assert generated.name == "syncbridge-acme"
    files = {str(path.relative_to(generated)) for path in generated.rglob("*") if path.is_file()}
    assert files == {
        "README.md",
        "pyproject.toml",
        "src/syncbridge_acme/__init__.py",
        "src/syncbridge_acme/py.typed",
        "src/syncbridge_acme/settings.py",
        "src/syncbridge_acme/connector.py",
        "src/syncbridge_acme/mapping.py",
        "src/syncbridge_acme/emulator.py",
        "tests/test_acme_contract.py",
        "tests/test_acme_emulator.py",
    }
    text = "\n".join(
        (generated / name).read_text() for name in files if name.endswith((".py", ".toml", ".md"))
    )
    assert "cookiecutter" not in text, "a template variable was left unrendered"
    assert "TODO" not in text
    pyproject = (generated / "pyproject.toml").read_text()
    assert 'acme = "syncbridge_acme.connector"' in pyproject
    assert 'acme = "syncbridge_acme.emulator:create_app"' in pyproject


def _syncbridge_imports(path: Path) -> set[str]:
    """The syncbridge modules a module imports from."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "syncbridge"}


def test_the_connector_is_written_with_the_public_api(generated: Path) -> None:
    """Its imports come from ``syncbridge`` and the toolkit only; its read path is
    declarations, at most 25 lines of them (blank lines and comments aside)."""
    package = generated / "src" / "syncbridge_acme"
    assert _syncbridge_imports(package / "connector.py") == {"syncbridge", "syncbridge.rest"}
    allowed = {"syncbridge", "syncbridge.rest", "syncbridge.models", "syncbridge.emulator"}
    for module in package.glob("*.py"):
        assert _syncbridge_imports(module) <= allowed, module.name

    text = (package / "connector.py").read_text()
    read_path = text.split("# -- the read path", 1)[1].split("# -- the rest of the contract")[0]
    lines = [
        line
        for line in read_path.splitlines()[1:]
        if line.strip() and not line.strip().startswith("#")
    ]
    assert len(lines) <= 25, "\n".join(lines)


def test_the_installed_plugin_is_listed(python: Path) -> None:
    listed = json.loads(_run(python, "-m", "syncbridge.cli", "connectors", "--json"))
    acme = next((entry for entry in listed if entry["name"] == NAME), None)
    assert acme is not None, f"acme is not listed: {[entry['name'] for entry in listed]}"
    assert acme["error"] is None
    assert acme["distribution"] == "syncbridge-acme"
    assert set(acme["entities"]) == {"company", "product"}
    assert acme["rate_limits"] == ["60 requests / 60 s"]


def _first_line(process: subprocess.Popen[str], prefix: str, timeout: float) -> str:
    """The first output line starting with ``prefix``; fails with the output after ``timeout``."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = process.stdout.readline()
            if not line:  # the process ended
                break
            if line.startswith(prefix):
                return line
            seen.append(line)
    pytest.fail(f"no line starting with {prefix!r} within {timeout} s:\n{''.join(seen)}")


@pytest.fixture
def emulating(python: Path) -> Iterator[str]:
    """``syncbridge emulate acme --port 0`` running; yields the URL of its ``listening on`` line."""
    process = subprocess.Popen(
        [str(python), "-m", "syncbridge.cli", "emulate", NAME, "--port", "0", "--records", "5"],
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = _first_line(process, "listening on ", timeout=30)
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_syncbridge_emulate_serves_it(emulating: str) -> None:
    with httpx.Client(base_url=f"{emulating}/v1", timeout=5) as client:
        assert client.get("/account").status_code == 401
        listed = client.get("/companies", headers={"X-Api-Key": "acme-test-key"})
    assert listed.status_code == 200
    assert listed.json()["meta"]["total"] == 5


def test_its_tests_pass_unchanged(python: Path, generated: Path) -> None:
    output = _run(
        python,
        "-m",
        "pytest",
        generated / "tests",
        "-q",
        "-p",
        "no:cacheprovider",
        cwd=generated,
        timeout=240,
    )
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary), output
    assert not re.search(r"\b(failed|errors?)\b", summary), output


def test_the_generated_code_is_lint_and_type_clean(generated: Path, tmp_path: Path) -> None:
    _run(sys.executable, "-m", "ruff", "check", "--no-cache", ".", cwd=generated)
    _run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", ".", cwd=generated)
    _run(
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        "pyproject.toml",
        "--cache-dir",
        tmp_path / "mypy",
        "src",
        "tests",
        cwd=generated,
        timeout=240,
    )


def test_names_that_cannot_be_packages_are_refused(tmp_path: Path) -> None:
    with pytest.raises(cookiecutter_exceptions.FailedHookException):
        cookiecutter_main.cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context={"connector_name": "Acme-CRM"},
            output_dir=str(tmp_path),
        )
    assert not any(tmp_path.iterdir()), "a refused name still generated files"
