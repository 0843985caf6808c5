"""The contract kit's fault check: a one-way sync of records from SQLite to the emulator under
500s, connections dropped after the server handled them, corrupted answers and a 429 burst
must end clean within three runs, nothing duplicated or lost, no traceback, one readable line
per reason (syncbridge.testing.checks_faults). Logins meet the faults too.

The connection keeps each create's key in the organisation's "Sync-nøgle" custom field, as
the README advises: a create answered 500 is then looked up and sent again within the run.
"""

from pathlib import Path
from typing import Any

from syncbridge.testing import SyncUnderFaults


class TestUnderFaults(SyncUnderFaults):
    connector = "syncbridge_simplycrm.connector"
    emulator = "syncbridge_simplycrm.emulator:create_app"

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"key_fields": {"company": "cf_857"}}
