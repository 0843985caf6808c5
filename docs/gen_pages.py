"""Writes the generated reference pages into the site while mkdocs builds it.

Run by the mkdocs-gen-files plugin (see mkdocs.yml): the pages exist only in the build, so
nothing generated is ever committed or stale. The generators live in ``syncbridge.docsgen``;
``python -m syncbridge.docsgen DIR`` writes the same pages to a folder.
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

from syncbridge.docsgen import pages
from syncbridge.docsgen.kit_reference import render_template

ROOT = Path(__file__).resolve().parent.parent

generated = pages()
template = ROOT / "cookiecutter-connector" / "README.md"
generated.update(render_template(template.read_text("utf-8") if template.is_file() else None))

for path, text in generated.items():
    with mkdocs_gen_files.open(path, "w") as page:
        page.write(text)
