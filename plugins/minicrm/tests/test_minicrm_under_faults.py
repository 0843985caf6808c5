"""The contract kit's fault check: companies synced from SQLite to the MiniCRM emulator under
500s, connections dropped after the server handled them, corrupted answers and a 429 burst
must end clean within three runs, nothing duplicated or lost, no traceback, one readable line
per reason (syncbridge.testing.checks_faults). Each company is a contact and its office
address (read back as its context): a lost answer is found again by the key the create wrote
in ``ReferenceId``.
"""

from syncbridge.testing import SyncUnderFaults


class TestUnderFaults(SyncUnderFaults):
    connector = "syncbridge_minicrm.connector"
    emulator = "syncbridge_minicrm.emulator:create_app"
