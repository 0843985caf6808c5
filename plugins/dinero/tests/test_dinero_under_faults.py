"""The contract kit's fault check: a one-way sync of companies from SQLite to the emulator
under 500s, connections dropped after the server handled them, corrupted answers and a 429
burst must end clean within three runs, nothing duplicated or lost, no traceback, one
readable line per reason (syncbridge.testing.checks_faults). What the emulator answered
(inside its fault injection) is validated against the official spec."""

import pytest
from dinero_testkit import recorded

from syncbridge.testing import SyncUnderFaults


@pytest.mark.usefixtures("on_the_spec")
class TestUnderFaults(SyncUnderFaults):
    connector = "syncbridge_dinero.connector"
    emulator = staticmethod(recorded())
