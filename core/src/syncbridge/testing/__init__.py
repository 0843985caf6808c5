"""Test support for syncbridge and its plugins (registered as the pytest plugin ``syncbridge``).

:class:`ConnectorContract`
    the contract suite a connector's tests subclass in five lines; see
    :mod:`syncbridge.testing.contract` for what it checks and how to configure it.
:class:`SyncUnderFaults`
    the fault check a connector's tests subclass in three lines: 1,000 records synced from
    sql to the connector's emulator under 500s, dropped connections, corrupted answers and a
    429 burst must end clean within 3 runs (:mod:`syncbridge.testing.faultsync`).
    :func:`sync_under_faults` is the same as a function, returning a
    :class:`FaultSyncReport` (``assert_clean()``, ``summary()``).
:class:`Harness`
    what each contract test runs against (connection, emulator, data); a subclass's own
    extra checks can take the same ``harness`` fixture.
:func:`default_sample`
    the canonical sample records the suite writes unless a class overrides ``sample``.
:mod:`syncbridge.testing.servers`
    reaching the real database servers tests use, behind the ``postgres_url``,
    ``mariadb_url`` and ``redis_url`` fixtures of the pytest plugin.
"""

from syncbridge.testing.checks_faults import SyncUnderFaults
from syncbridge.testing.contract import ConnectorContract
from syncbridge.testing.faultreport import FaultSyncReport
from syncbridge.testing.faultsync import fault_records, sync_under_faults
from syncbridge.testing.harness import Fetched, Harness
from syncbridge.testing.samples import default_sample

__all__ = [
    "ConnectorContract",
    "FaultSyncReport",
    "Fetched",
    "Harness",
    "SyncUnderFaults",
    "default_sample",
    "fault_records",
    "sync_under_faults",
]
