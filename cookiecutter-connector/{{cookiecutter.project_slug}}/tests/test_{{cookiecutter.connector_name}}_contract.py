"""The {{ cookiecutter.connector_name }} connector against syncbridge's connector contract suite.

Every check runs over real HTTP against the emulator, once per entity; ``pytest -v`` lists
them, and a skipped one says which capability it would have proven.
"""

from __future__ import annotations

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract

from {{ cookiecutter.package_name }}.connector import API


class Test{{ cookiecutter.class_name }}Contract(ConnectorContract):
    connector = "{{ cookiecutter.package_name }}.connector"
    emulator = "{{ cookiecutter.package_name }}.emulator:create_app"
    entities = ("company", "product")

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        # the emulator's own count: a read must return every record it holds
        assert emulator is not None
        return len(emulator.store.table(API.resource(entity).path.lstrip("/")))
