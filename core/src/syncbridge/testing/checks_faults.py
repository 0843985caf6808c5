"""The fault check as a test class: a connector's tests subclass it in three lines.

::

    from syncbridge.testing import SyncUnderFaults

    class TestAcmeUnderFaults(SyncUnderFaults):
        connector = "syncbridge_acme.connector"
        emulator = "syncbridge_acme.emulator:create_app"

It contributes one test, ``test_a_sync_under_faults_ends_clean``: the scenario and
the verdict of :mod:`syncbridge.testing.faultsync` (1,000 companies from sql to the emulator
under 5% 500s, 5% connections dropped after the API handled the request, 5% corrupted answers
and a burst of ten 429s; clean within 3 runs, exactly the source's records on the target, no
traceback, every reason one readable line). In fast mode (``CI=true`` or
``SYNCBRIDGE_SKIP_SLOW=1``) it syncs :attr:`~SyncUnderFaults.fault_records_fast` records;
``SYNCBRIDGE_FAULT_RECORDS=N`` sets the number anywhere.

The attributes it shares with :class:`~syncbridge.testing.ConnectorContract` (``connector``,
``emulator``, ``sample``, ``settings``) mean the same there, so a contract class can take the
check as a second base: ``class TestAcme(ConnectorContract, SyncUnderFaults)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from syncbridge.emulator import FaultOptions
from syncbridge.models import CanonicalRecord
from syncbridge.testing.faultsync import (
    FAST_RECORDS,
    FAULTS,
    RECORDS,
    RUNS,
    fault_records,
    sync_under_faults,
)
from syncbridge.testing.samples import default_sample

__all__ = ["SyncUnderFaults"]


class SyncUnderFaults:
    """A one-way sync from sql to the connector's emulator under faults must end clean.

    Class attributes (all optional but the first two): ``connector``, ``emulator``,
    ``fault_entity`` ("company"), ``fault_records`` (1,000), ``fault_records_fast`` (100),
    ``fault_runs`` (3), ``fault_seed`` (1), ``faults`` (:data:`~syncbridge.testing.faultsync.
    FAULTS`), ``fault_emulator_records`` (0: the target starts empty). Hooks: ``sample(entity,
    index)`` and ``settings(tmp_path)``, as in the contract suite.
    """

    __test__: ClassVar[bool] = False

    #: the connector: a module path, an installed connector's name, or the plugin object
    connector: ClassVar[Any] = None
    #: its emulator factory, as ``"module:attribute"``, an installed emulator's name, or the
    #: callable
    emulator: ClassVar[Any] = None
    #: the entity synced
    fault_entity: ClassVar[str] = "company"
    #: records synced, and in fast mode
    fault_records: ClassVar[int] = RECORDS
    fault_records_fast: ClassVar[int] = FAST_RECORDS
    #: the runs within which the sync must be clean
    fault_runs: ClassVar[int] = RUNS
    #: the emulator's data and fault seed: the same seed, the same faults on the same requests
    fault_seed: ClassVar[int] = 1
    #: the faults of every run (the 429 burst: of the first run)
    faults: ClassVar[FaultOptions] = FAULTS
    #: records the emulator seeds itself before the first run
    fault_emulator_records: ClassVar[int] = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    def sample(self, entity: str, index: int) -> Mapping[str, Any] | CanonicalRecord:
        """Canonical values of the ``index``-th source record (default: the contract's)."""
        return default_sample(entity, index)

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        """Target settings over the emulator's ``settings_for(url)``."""
        return {}

    def test_a_sync_under_faults_ends_clean(self, tmp_path: Path) -> None:
        """See :mod:`syncbridge.testing.faultsync` for the scenario and what it asserts."""
        cls = type(self)
        if cls.connector is None or cls.emulator is None:
            raise TypeError(f"{cls.__name__} must name its connector and its emulator")
        report = sync_under_faults(
            cls.connector,
            cls.emulator,
            tmp_path / "faults",
            entity=cls.fault_entity,
            records=fault_records(cls.fault_records, cls.fault_records_fast),
            runs=cls.fault_runs,
            within=cls.fault_runs,
            faults=cls.faults,
            seed=cls.fault_seed,
            sample=self.sample,
            settings=self.settings(tmp_path),
            emulator_records=cls.fault_emulator_records,
        )
        report.assert_clean()
