"""Refuse connector names that cannot be an entry-point, package and module name at once."""

import re
import sys

NAME = "{{ cookiecutter.connector_name }}"

if not re.fullmatch(r"[a-z][a-z0-9_]*", NAME):
    sys.exit(
        f"connector_name {NAME!r} must be lowercase letters, digits and underscores, starting "
        "with a letter: it becomes the connector's name, syncbridge_<name> and the CLI's "
        "`syncbridge emulate <name>`"
    )
