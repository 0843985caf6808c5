"""The connector contract suite: prove a connector keeps the promises the engine relies on.

A connector's test module subclasses :class:`ConnectorContract` and names its parts::

    from syncbridge.testing import ConnectorContract
    from syncbridge_acme.connector import RESOURCES     # entity -> the emulator's table

    class TestAcmeContract(ConnectorContract):
        connector = "syncbridge_acme.connector"           # module path, name, or plugin
        emulator = "syncbridge_acme.emulator:create_app"  # None for non-HTTP connectors
        entities = ["company", "product"]                 # default: all it declares

        def expected_count(self, emulator, entity):       # optional hooks, see below
            return len(emulator.store.table(RESOURCES[entity]))

Every check is a test method, so pytest collects them in the subclass (the base sets
``__test__ = False``; each subclass gets ``__test__ = True``), and each check of an entity is
its own test, ``test_fetch_returns_every_record_once[company]``, so a failure names the entity.

**How a test runs.** The ``harness`` fixture gives each test a fresh
:class:`~syncbridge.testing.harness.Harness`: the emulator (if any) served over real HTTP on
127.0.0.1 with its rate limits off and ``min_pages * page_size + 1`` records per resource, and
a :class:`~syncbridge.connection.Connection` built from ``emulator.settings_for(base_url)``
updated with :meth:`~ContractHooks.settings`. The page size is :attr:`~ContractHooks.page_size`
(10) where the settings model has a ``page_size`` field, else the declared
``EntityInfo.page_size``. A connector without emulator returns complete settings from
``settings(tmp_path)`` and gets its data from :meth:`~ContractHooks.seed` (default: creates
through ``upsert``). Retry backoff is cut to milliseconds (``Retry-After`` still counts) and
the client-side rate limiter is off (``rate_limit = False``) so the suite runs in seconds.

**What is checked**, per entity unless noted:

``test_declarations_are_consistent``
    the entity is canonical and not also unsupported; incremental implies read; idempotent
    create and lookup imply create; BATCH is declared exactly when ``batch_size > 1``;
    ``fields`` are fields of the canonical model.
``test_check_succeeds`` (once)
    ``check()`` is ok with the working settings.
``test_check_fails_with_wrong_credentials`` (once)
    with :meth:`~ContractHooks.bad_settings` (default: every secret field ``"wrong"``),
    ``check()`` returns ``ok=False`` with a non-empty reason and raises nothing.
``test_fetch_returns_every_record_once``
    a full read spans at least ``min_pages`` non-empty pages, never repeats an id, every record
    has its ``id_field``; a second full read returns the same ids; their number equals
    :meth:`~ContractHooks.expected_count` when that says; every seeded id is there; every
    record maps in, with the canonical id equal to the native id.
``test_incremental_fetch_returns_the_changed_records`` (INCREMENTAL)
    after a full read gave cursor C, two records are changed (through ``upsert`` where UPDATE
    is declared, else :meth:`~ContractHooks.touch`). ``fetch(since=C)`` must return both,
    with their new values, and **no other record except those whose canonical ``updated_at``
    equals the newest ``updated_at`` of the read that produced C** (the records at the
    cursor's own instant, which a system filtering "at or after" returns again; the hook spec
    allows repeats, this bounds them). It must set a cursor C2, and ``fetch(since=C2)`` with
    nothing changed returns at most the records at C2's instant.
``test_upsert_creates_then_updates`` (CREATE; UPDATE part where declared)
    a create is ok with an id; a read then shows exactly one new record, holding the sample's
    values; ``UpsertResult.record``, when set, maps to the same content as the read; an
    update (``changed`` = the differing fields) is ok with the same id, adds no record, and a
    read shows the new values. Values are compared on the fields the entity maps
    (``EntityInfo.fields``, default all) that the sample sets.
``test_batch_upsert_returns_one_result_per_item`` (BATCH)
    one call with several creates yields one ok result per key, with distinct ids.
``test_create_is_idempotent`` (IDEMPOTENT_CREATE)
    the same ``UpsertItem`` sent twice gives the same id and one record; with an emulator, a
    create whose response is lost (handled, then the connection dropped) and then sent again
    also makes exactly one record.
``test_lookup_finds_created_records`` (LOOKUP)
    ``lookup([key, unknown])`` returns ``{key: id}`` for a record just created with ``key``.
``test_delete_removes_records`` (DELETE)
    ``delete([id])`` yields one ok result keyed by the id and a read no longer has it.
``test_map_round_trips``
    ``map(out)`` then ``map(in)`` (with the native id added) keeps every compared field, and
    sets the canonical id.
``test_undeclared_capabilities_do_not_work``
    see :meth:`WriteChecks.test_undeclared_capabilities_do_not_work`: what is not declared
    refuses (``ConnectorError``, ``httpx.HTTPError`` or failed results), never silently works.
HTTP checks (skipped without HTTP or emulator)
    ``test_http_401_is_an_auth_error``: a read with wrong credentials raises ``AuthError``
    with a message, and the emulator did answer 401. ``test_http_429_is_retried_after_retry_after``:
    one 429 with ``Retry-After: 1`` is retried no sooner than a second later and the read is
    complete. ``test_http_500_is_retried_on_reads`` and
    ``test_http_dropped_connection_is_retried_on_reads``: one 500, or one connection dropped
    without response, during a read is retried and the read is complete.
    ``test_request_log_keeps_no_secret`` (once): after a check, reads with a 500 and creates,
    no request-log entry's ``repr`` contains a secret of the settings.

A capability whose check does not apply is skipped with the reason (``product does not
declare delete``), so the report shows what was and was not proven. Add your own checks as
further ``test_*`` methods taking ``harness`` (and ``entity``).
"""

from __future__ import annotations

from typing import ClassVar

from syncbridge.testing.checks_http import HttpChecks
from syncbridge.testing.checks_read import ReadChecks
from syncbridge.testing.checks_write import WriteChecks

__all__ = ["ConnectorContract"]


class ConnectorContract(ReadChecks, WriteChecks, HttpChecks):
    """The contract suite; subclass it in a connector's tests (see the module docstring).

    Class attributes: ``connector`` (required), ``emulator``, ``entities``, ``page_size``,
    ``page_size_setting``, ``min_pages``, ``emulator_seed``. Hooks to override:
    ``settings(tmp_path)``, ``bad_settings(settings)``, ``sample(entity, index)``,
    ``seed(connection, entity, count)``, ``expected_count(emulator, entity)``,
    ``touch(harness, entity, ids)``.
    """

    __test__: ClassVar[bool] = False
