"""The configurable half of the contract suite: what a connector's test class declares.

:class:`ContractHooks` holds the class attributes and overridable methods documented on
:class:`~syncbridge.testing.ConnectorContract`, and the plumbing that turns them into a fresh
:class:`~syncbridge.testing.harness.Harness` per test. The checks themselves live in
``checks_*`` modules, one concern each, and are combined in :mod:`syncbridge.testing.contract`.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Union, get_args, get_origin

import pytest
from pydantic import Secret, SecretBytes, SecretStr

from syncbridge.connection import Connection
from syncbridge.describe import Capability, ConnectorInfo
from syncbridge.emulator import Emulator, EmulatorFactory, EmulatorOptions, running
from syncbridge.emulator.loading import load_factory
from syncbridge.http.retry import BACKOFF_ENV
from syncbridge.models import MODELS, CanonicalRecord
from syncbridge.plugins import describe_plugin, load_connector
from syncbridge.records import UpsertItem
from syncbridge.testing.faults import OneShotFaults
from syncbridge.testing.harness import Harness
from syncbridge.testing.samples import default_sample

__all__ = ["ContractHooks", "as_canonical", "is_secret_type"]

#: what :meth:`ContractHooks.bad_settings` puts in place of every secret by default
WRONG_SECRET = "wrong"
#: the settings field that turns the client-side rate limiter off (``HttpSettings``)
RATE_LIMIT_SETTING = "rate_limit"

_INFO: dict[type, ConnectorInfo] = {}


def is_secret_type(annotation: Any) -> bool:
    """Whether a settings field annotation is (or optionally is) a pydantic secret."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return any(is_secret_type(arg) for arg in get_args(annotation))
    target = origin or annotation
    return isinstance(target, type) and issubclass(target, SecretStr | SecretBytes | Secret)


def as_canonical(entity: str, sample: Mapping[str, Any] | CanonicalRecord) -> CanonicalRecord:
    """A sample as the entity's canonical model (validated when given as a dict)."""
    if isinstance(sample, CanonicalRecord):
        return sample
    return MODELS[entity].model_validate(dict(sample))


class ContractHooks:
    """Class attributes and hooks of a contract test class (see ``ConnectorContract``)."""

    __test__: ClassVar[bool] = False

    #: the connector: a module path (``"syncbridge_acme.connector"``), an installed
    #: connector's name (``"acme"``), or the plugin object itself
    connector: ClassVar[Any] = None
    #: the emulator factory (``EmulatorOptions -> Emulator``), as ``"module:attribute"``, an
    #: installed emulator's name, or the callable; None for connectors that speak no HTTP
    emulator: ClassVar[Any] = None
    #: the entities to check; None: every entity the connector declares
    entities: ClassVar[Sequence[str] | None] = None
    #: page size written to the settings when the settings model has ``page_size_setting``:
    #: small pages make ">= min_pages pages" cheap. None: use ``EntityInfo.page_size``
    page_size: ClassVar[int | None] = 10
    #: the settings field holding the page size, if the connector has one
    page_size_setting: ClassVar[str] = "page_size"
    #: reads must span at least this many pages: the data set is ``min_pages * page_size + 1``
    min_pages: ClassVar[int] = 3
    #: the emulator's data and fault seed
    emulator_seed: ClassVar[int] = 1
    #: the status the API refuses wrong credentials with; None for an API that refuses them
    #: with a success status and an error body (vtiger's 200 envelope, Számlázz.hu's error
    #: code in its XML): the wrong-credentials check then asks only for the AuthError
    refused_status: ClassVar[int | None] = 401
    #: how far before its cursor the connection under test reads back on purpose (the sql
    #: connector's ``lookback_seconds``): records stamped in that window may come back
    lookback: ClassVar[timedelta] = timedelta(0)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # a connector's subclass is a test class; a class that says otherwise stays a base
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    # -- hooks a test class may override --------------------------------------------------

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        """Settings of the connection under test, over the emulator's ``settings_for(url)``.

        A connector without emulator must return complete settings (e.g. a database in
        ``tmp_path``). The kit adds ``page_size`` (see :attr:`page_size`) and
        ``rate_limit = False`` where the settings model has those fields, unless given here.
        """
        return {}

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """``settings`` with wrong credentials; by default every secret field is ``"wrong"``.

        Return ``settings`` unchanged to skip the wrong-credentials checks (a system without
        credentials).
        """
        model = self.connector_info().settings
        bad = dict(settings)
        for name, spec in model.model_fields.items():
            if is_secret_type(spec.annotation):
                bad[name] = WRONG_SECRET
        return bad

    def sample(self, entity: str, index: int) -> Mapping[str, Any] | CanonicalRecord:
        """Canonical values of the ``index``-th new record (default: :func:`default_sample`).

        Different indexes must give different values, so that an update is visible.
        """
        return default_sample(entity, index)

    def seed(self, connection: Connection, entity: str, count: int) -> list[str] | None:
        """Put ``count`` records of ``entity`` in the store under test.

        Called once per test that reads ``entity``, on a fresh store: always for a connector
        without emulator, and with an emulator only when overridden (for an entity its
        ``populate()`` leaves short of ``count``). The default creates
        samples ``0 .. count-1`` through ``upsert`` (so it needs the CREATE capability) and
        returns their ids, which every full read must then return. Return None if the ids are
        not known.
        """
        info = connection.info.entity(entity)
        if not info.can(Capability.CREATE):
            pytest.fail(
                f"{entity} cannot be created, so the default seed() cannot fill it: "
                "override seed() in the test class"
            )
        ids: list[str] = []

        def item(index: int) -> UpsertItem:
            context: dict[str, Any] = {}
            record = as_canonical(entity, self.sample(entity, index))
            native = connection.map_out(entity, record, context)
            return UpsertItem(key=f"contract-seed-{entity}-{index}", record=native, context=context)

        for start in range(0, count, info.batch_size):
            items = [item(index) for index in range(start, min(count, start + info.batch_size))]
            results = connection.upsert(entity, items)
            failed = [f"{result.key}: {result.error}" for result in results if not result.ok]
            if failed or len(results) != len(items):
                pytest.fail(f"seeding {entity} failed: {failed or 'results missing'}")
            ids.extend(str(result.id) for result in results)
        return ids

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        """How many records a full read of ``entity`` must return (None: not known).

        Emulator-backed classes return the emulator's own count, e.g.
        ``len(emulator.store.table("companies"))``.
        """
        return None

    def touch(self, harness: Harness, entity: str, ids: list[str]) -> bool | None:
        """Change the records ``ids`` without the connector (for entities without UPDATE).

        Used by the incremental check: after it, a read since the previous cursor must return
        these records. E.g. ``harness.emulator.store.table("units").update(int(id), {...})``.
        Return False when the class cannot change records this way (the default): the check
        is then skipped.
        """
        return False

    # -- plumbing -------------------------------------------------------------------------

    @classmethod
    def connector_plugin(cls) -> Any:
        """The connector plugin object :attr:`connector` names."""
        target = cls.connector
        if target is None:
            raise TypeError(f"{cls.__name__}.connector is not set")
        if not isinstance(target, str):
            return target
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as error:
            if error.name != target or "." in target:
                raise
        return load_connector(target)

    @classmethod
    def connector_info(cls) -> ConnectorInfo:
        """The connector's ``describe()`` (asked once per test class)."""
        if cls not in _INFO:
            _INFO[cls] = describe_plugin(cls.connector_plugin())
        return _INFO[cls]

    @classmethod
    def emulator_factory(cls) -> EmulatorFactory | None:
        """The emulator factory :attr:`emulator` names, or None."""
        target = cls.emulator
        if target is None:
            return None
        if isinstance(target, str):
            return load_factory(target)
        if not callable(target):
            raise TypeError(f"{cls.__name__}.emulator must be a factory or its name")
        factory: EmulatorFactory = target
        return factory

    @classmethod
    def contract_entities(cls) -> list[str]:
        """The entities checked, in the connector's order unless :attr:`entities` is set."""
        if cls.entities is not None:
            return list(cls.entities)
        return list(cls.connector_info().entities)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run every check that takes ``entity`` once per entity, named after it."""
        if "entity" in metafunc.fixturenames:
            metafunc.parametrize("entity", type(self).contract_entities())

    def _page_size(self, info: ConnectorInfo, overrides: Mapping[str, Any]) -> int:
        key = self.page_size_setting
        if key in overrides:
            return int(overrides[key])
        if self.page_size is not None and key in info.settings.model_fields:
            return self.page_size
        return max(info.entity(name).page_size for name in self.contract_entities())

    @staticmethod
    def _seeds(cls: type[ContractHooks]) -> bool:
        return cls.emulator is None or cls.seed is not ContractHooks.seed

    @pytest.fixture
    def harness(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
        """A fresh connection (and emulator, with rate limits off) for one test."""
        # retries wait milliseconds rather than seconds; Retry-After is still honoured
        monkeypatch.setenv(BACKOFF_ENV, "0.01")
        cls = type(self)
        info = cls.connector_info()
        overrides = dict(self.settings(tmp_path))
        fields = info.settings.model_fields
        page_size = self._page_size(info, overrides)
        defaults: dict[str, Any] = {}
        if self.page_size_setting in fields:
            defaults[self.page_size_setting] = page_size
        if RATE_LIMIT_SETTING in fields:
            defaults[RATE_LIMIT_SETTING] = False
        harness = Harness(
            info=info,
            connector=cls.connector_plugin(),
            settings={},
            records=self.min_pages * page_size + 1,
            page_size=page_size,
            tmp_path=tmp_path,
            # an emulator seeds its own data; seed() adds to it only where a class asks to
            seeder=self.seed if self._seeds(cls) else None,
            sampler=self.sample,
        )
        try:
            factory = cls.emulator_factory()
            if factory is not None:
                options = EmulatorOptions(
                    records=harness.records, rate_limits=False, seed=self.emulator_seed
                )
                emulator = factory(options)
                if not isinstance(emulator, Emulator):
                    raise TypeError(f"the emulator factory made a {type(emulator).__name__}")
                harness.emulator = emulator
                harness.faults = OneShotFaults(emulator)
                harness.base_url = harness.enter(running(harness.faults))
                defaults = {**emulator.settings_for(harness.base_url), **defaults}
            harness.settings = {**defaults, **overrides}
            yield harness
        finally:
            harness.close()
