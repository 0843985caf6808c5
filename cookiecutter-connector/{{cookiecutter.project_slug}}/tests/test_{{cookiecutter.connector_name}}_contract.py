"""The {{ cookiecutter.connector_name }} connector against syncbridge's connector contract suite and its fault check.

Every check runs over real HTTP against the emulator, once per entity; ``pytest -v`` lists
them, and a skipped one says which capability it would have proven.

The fault check syncs 1,000 companies one way from the sql connector to the emulator while
it answers 5% of requests with a 500, drops 5% of connections after handling the request, and
corrupts 5% of its answers (JSON cut short, HTML pages), after a burst of ten 429s: a run
within the first three must be clean, with every company on the emulator exactly once, no
traceback and every reason one readable line. ``CI=true`` syncs 100 companies instead;
``SYNCBRIDGE_FAULT_RECORDS=N`` sets the number.
"""

from __future__ import annotations

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract, SyncUnderFaults

from {{ cookiecutter.package_name }}.connector import API


class Test{{ cookiecutter.class_name }}Contract(ConnectorContract):
    connector = "{{ cookiecutter.package_name }}.connector"
    emulator = "{{ cookiecutter.package_name }}.emulator:create_app"
    entities = ("company", "product")

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        # the emulator's own count: a read must return every record it holds
        assert emulator is not None
        return len(emulator.store.table(API.resource(entity).path.lstrip("/")))


class Test{{ cookiecutter.class_name }}UnderFaults(SyncUnderFaults):
    connector = "{{ cookiecutter.package_name }}.connector"
    emulator = "{{ cookiecutter.package_name }}.emulator:create_app"
