"""Generators of the reference pages of the documentation site.

Everything a reference page states is read from the code at build time: the configuration
keys from the pydantic schema, the commands from click, the hooks from the hook specs, and
each installed connector from its own ``describe()``. Hand-written pages explain; generated
pages enumerate, so that nothing enumerated by hand can drift from what the code accepts.

``docs/gen_pages.py`` (run by the mkdocs-gen-files plugin during ``mkdocs build``) writes
:func:`pages` into the site without committing a file; ``python -m syncbridge.docsgen DIR``
writes the same pages to a folder, to read or diff them without building the site.
"""

from __future__ import annotations

from syncbridge.docsgen import (
    cli_reference,
    config_reference,
    connector_pages,
    hooks_reference,
    kit_reference,
    models_reference,
)

__all__ = ["pages"]


def pages() -> dict[str, str]:
    """Every generated page: path under ``docs/`` -> Markdown."""
    found = {
        config_reference.PATH: config_reference.render(),
        cli_reference.PATH: cli_reference.render(),
        models_reference.PATH: models_reference.render(),
        hooks_reference.PATH: hooks_reference.render(),
    }
    found.update(kit_reference.render())
    found.update(connector_pages.render())
    return found
