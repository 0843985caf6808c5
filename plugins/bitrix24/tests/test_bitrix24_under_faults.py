"""The contract kit's fault check: a one-way sync of records from SQLite to the emulator under
500s, connections dropped after the server handled them, corrupted answers and a 429 burst
must end clean within three runs, nothing duplicated or lost, no traceback, one readable line
per reason (syncbridge.testing.checks_faults)."""

from syncbridge.testing import SyncUnderFaults


class TestUnderFaults(SyncUnderFaults):
    connector = "syncbridge_bitrix24.connector"
    emulator = "syncbridge_bitrix24.emulator:create_app"
