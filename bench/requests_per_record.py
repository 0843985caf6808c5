"""Requests per record: what each seed scenario spends on each API, against the API's minimum.

On a live API the cost a user feels is requests (rate limits, quotas, latency), so each seed
scenario is run four times over HTTP between its two emulators, and every request each
connection sends is counted from its request log (retries included):

* **initial**: the first sync of the seeded systems;
* **echo**: the next run, which reads back what the first one wrote (a connector cannot tell
  its own writes from a user's edit made right after them, so reading them is work);
* **idle**: a run with nothing changed anywhere;
* **change**: a run after a few records were edited on each side (``Scenario.changes``).

The minimum is what the API needs for the same work, measured on the emulators' stores rather
than taken from the connector (so a connector that over-reads cannot raise its own minimum):

* *records to read* of an entity = every record of its table(s) on the initial run, then
  those changed since the previous run began (its own writes and the edits between runs);
* *writes* = records created or updated in each system during the run;
* a list page per N records, where N is the API's largest page; an API that does not say
  whether more pages follow (no total) needs ``R // N + 1`` pages, one that does
  ``max(1, ceil(R / N))``; one create or update per record, or one batch per N where the API
  batches;
* the reference reads the API forces, each named in :data:`MODELS` with its reason (a login
  per run, tax codes to map an invoice, one request per record where the API has no list).

    python bench/requests_per_record.py            # JSON lines, one per (scenario, run, side)
    python bench/requests_per_record.py --table    # the markdown table, and the reasons
    python bench/run.py --requests-only            # the section of bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syncbridge import config as config_module
from syncbridge.config import Side
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.demo.crm_fic import SYNC as SYNC_000
from syncbridge.emulator import Emulator, EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.server import running
from syncbridge.emulator.store import CREATED, UPDATED
from syncbridge.engine.runner import run_sync
from syncbridge.http import LoggedRequest
from syncbridge.http.requestlog import MASK
from syncbridge.plugins import load_connector
from syncbridge.records import Context, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.state import StateStore
from syncbridge_bitrix24.emulator import create_app as b24_app
from syncbridge_crmincloud.emulator import create_app as crm_app
from syncbridge_crmincloud.mapping import CATEGORY
from syncbridge_fattureincloud.emulator import create_app as fic_app
from syncbridge_quickbooks.emulator import create_app as qbo_app

TARGET = 1.1
RUNS = ("initial", "echo", "idle", "change")

#: seed 004, QuickBooks -> Bitrix24 (tests/integrations/test_seed_004_qbo_b24.py)
SYNC_004 = """
[syncs.qbo_b24]
left = "qbo"
right = "b24"
[syncs.qbo_b24.entities.company]
direction = "left-to-right"
[syncs.qbo_b24.entities.contact]
direction = "left-to-right"
[syncs.qbo_b24.entities.product]
direction = "left-to-right"
[syncs.qbo_b24.entities.invoice]
direction = "left-to-right"
"""


# -- what was sent, read and written ----------------------------------------------------------
class CountingConnection(Connection):
    """A connection that also notes what ``fetch`` returned and what ``upsert`` was given,
    with their contexts: the minimum's reference reads depend on them (which categories,
    which customers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: dict[str, list[NativeRecord]] = defaultdict(list)
        self.written: dict[str, list[NativeRecord]] = defaultdict(list)
        #: the context of each record read (``Page.context``) and written (``UpsertItem``)
        self.read_contexts: dict[str, list[Context]] = defaultdict(list)
        self.written_contexts: dict[str, list[Context]] = defaultdict(list)

    def fetch(
        self, entity: str, since: str | None = None, query: Mapping[str, Any] | None = None
    ) -> Iterator[Page]:
        for page in super().fetch(entity, since, query):
            self.read[entity].extend(page.records)
            self.read_contexts[entity].extend(page.context.values())
            yield page

    def upsert(self, entity: str, items: list[UpsertItem]) -> list[UpsertResult]:
        self.written[entity].extend(item.record for item in items)
        self.written_contexts[entity].extend(item.context for item in items)
        return super().upsert(entity, items)


@dataclass(frozen=True)
class Table:
    """Where an entity lives in an emulator's store; ``kind`` keeps the rows of one type."""

    name: str
    kind: tuple[str, Any] | None = None

    def rows(self, emulator: Emulator) -> list[Mapping[str, Any]]:
        tables = emulator.store.tables
        rows = [row for name, t in tables.items() if name.endswith(self.name) for row in t.list()]
        if self.kind is None:
            return rows
        key, value = self.kind
        return [row for row in rows if row.get(key) == value]


@dataclass
class Work:
    """The work of one run on one system, from its emulator's store."""

    #: records each entity had to read
    to_read: dict[str, int] = field(default_factory=dict)
    #: (entity, "created" | "updated") -> records
    writes: Counter[tuple[str, str]] = field(default_factory=Counter)


# -- the APIs' minimums ------------------------------------------------------------------------
def pages_without_total(records: int, size: int) -> int:
    """Pages until a short one: the API does not say whether more follow."""
    return records // size + 1


def pages_with_total(records: int, size: int) -> int:
    return max(1, math.ceil(records / size))


@dataclass
class Run:
    """What one connection did in one run: its facts and the minimum of each part."""

    connection: CountingConnection
    log: list[LoggedRequest]
    work: Work
    emulator: Emulator
    before: dict[str, int]
    #: minimum requests by what they are for
    parts: Counter[str] = field(default_factory=Counter)

    def add(self, why: str, requests: int) -> None:
        if requests:
            self.parts[why] += requests

    def created(self, entity: str) -> int:
        return self.work.writes[(entity, "created")]

    def updated(self, entity: str) -> int:
        return self.work.writes[(entity, "updated")]


class Model(ABC):
    """One API's minimum for a run's work: each API prices its reads and writes."""

    system = ""
    #: canonical entity -> where it is stored
    tables: Mapping[str, Table] = {}

    def minimum(self, run: Run, entities: list[str]) -> None:
        for entity in entities:
            self.read(run, entity, run.work.to_read.get(entity, 0))
        for entity in sorted({entity for entity, _kind in run.work.writes}):
            self.write(run, entity, run.created(entity), run.updated(entity))
        self.fixed(run)

    @abstractmethod
    def read(self, run: Run, entity: str, records: int) -> None:
        """Add the minimum requests that read ``records`` of ``entity``."""

    @abstractmethod
    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        """Add the minimum requests that make these creates and updates."""

    def fixed(self, run: Run) -> None:  # noqa: B027 - most APIs need none
        """Requests the API needs once per run, whatever the records (none by default)."""


class CrmInCloud(Model):
    """OData searches of at most 100 records with no total; ``CreateOrUpdate`` per record,
    answering only the id (README A5, A7). Reading the records back, and the stored record
    of an update (the write replaces it whole), takes a search per 40 ids (a short URL).
    ``TaxValue`` and ``CatalogCategories`` have no list of records (A11, A12): one request
    for the codes or ids, then one per record."""

    system = "crmincloud"
    tables: Mapping[str, Table] = {
        "company": Table("company"), "contact": Table("contact"),
        "product": Table("catalog"), "quote": Table("quote"), "vat_rate": Table("taxvalue"),
    }

    def read(self, run: Run, entity: str, records: int) -> None:
        if entity == "vat_rate":
            run.add("VAT rates: the codes, then one GET each (A12)",
                    1 + len(self.tables[entity].rows(run.emulator)))
            return
        run.add("list pages", pages_without_total(records, 100))
        if entity == "product":
            named = {r.get("category") for r in run.connection.read["product"]} - {None, 0, ""}
            run.add("categories named by the items read: one GET each (A11)",
                    min(len(named), records))
            new = len(Table("catalogcategories").rows(run.emulator)) - run.before["categories"]
            if new:
                run.add("new categories: the ids, the unread ones, a POST each (A11)",
                        1 + max(0, run.before["categories"] - len(named)) + new)

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        run.add("creates and updates, one each", creates + updates)
        run.add("read back what was written, 40 ids a search", math.ceil((creates + updates) / 40))
        run.add("the stored record of each update, 40 ids a search", math.ceil(updates / 40))
        if entity == "product":  # what was read back names its category by id
            read = {c.get(CATEGORY) for c in run.connection.read_contexts["product"]}
            written = {c.get(CATEGORY) for c in run.connection.written_contexts["product"]}
            new = len(Table("catalogcategories").rows(run.emulator)) - run.before["categories"]
            run.add("categories of the items written, neither read nor new: one GET each (A11)",
                    max(0, len(written - read - {None, ""}) - new))

    def fixed(self, run: Run) -> None:
        run.add("login", 1)


class FattureInCloud(Model):
    """Pages of at most 100 with ``last_page``; one POST or PUT per record (no batch). A
    document carries its client's data (a GET of each client not read in the run) and the
    payment method; a product its VAT type (the list, read for vat_rate anyway)."""

    system = "fattureincloud"
    tables: Mapping[str, Table] = {
        "company": Table("/clients"), "product": Table("/products"),
        "quote": Table("/documents", ("type", "quote")), "vat_rate": Table("/vat_types"),
        "order": Table("/documents", ("type", "order")),
    }

    def read(self, run: Run, entity: str, records: int) -> None:
        if entity == "vat_rate":
            run.add("VAT types: one list", 1)
        elif entity != "order":
            run.add("list pages", pages_with_total(records, 100))

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        run.add("creates and updates, one each", creates + updates)

    def fixed(self, run: Run) -> None:
        documents = [r for e in ("quote", "order", "invoice") for r in run.connection.written[e]]
        clients = {str((r.get("entity") or {}).get("id")) for r in documents} - {"None"}
        read = {str(r.get("id")) for r in run.connection.read["company"]}
        run.add("clients of the documents written, not read in the run: one GET each",
                len(clients - read))
        if any(r.get("payment_method") for r in documents):
            run.add("payment methods: one list", 1)


class QuickBooks(Model):
    """Queries of at most 1000 records with no total; change data capture answers up to 1000
    objects in one request; writes in batches of 30. An invoice is mapped with the rates of
    its tax codes (TaxCode and TaxRate, a query each) and the kind of its customer (a query
    for those not read in the run)."""

    system = "quickbooks"
    tables: Mapping[str, Table] = {
        "company": Table("Customer"), "contact": Table("Customer"),
        "product": Table("Item"), "invoice": Table("Invoice"),
    }

    def read(self, run: Run, entity: str, records: int) -> None:
        run.add("list pages (query, or one change data capture)",
                pages_without_total(records, 1000) if run.before["run"] == 0 else 1)
        invoices = run.connection.read["invoice"] if entity == "invoice" else []
        if invoices and records:
            run.add("tax codes and rates of the invoices read", 2)
            customers = {str(r.get("Id")) for e in ("company", "contact")
                         for r in run.connection.read[e]}
            wanted = {str((r.get("CustomerRef") or {}).get("value")) for r in invoices}
            run.add("kinds of their customers not read in the run", 1 if wanted - customers else 0)

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        run.add("batches of 30", math.ceil((creates + updates) / 30))


class Bitrix24(Model):
    """Lists of 50 in fast mode (``start=-1``: no total, stop at a short page,
    ``huge-data.md``); writes as ``batch`` of 50 commands, an invoice being two (the item and
    its product rows); an invoice's product rows are read with one batch per page."""

    system = "bitrix24"
    tables: Mapping[str, Table] = {
        "company": Table("companies"), "contact": Table("contacts"),
        "product": Table("products"), "invoice": Table("invoices"),
    }

    def read(self, run: Run, entity: str, records: int) -> None:
        run.add("list pages", pages_without_total(records, 50))
        if entity == "invoice":
            read = min(len(run.connection.read["invoice"]), records)
            run.add("product rows of the invoices read: a batch per page", math.ceil(read / 50))

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        commands = (creates + updates) * (2 if entity == "invoice" else 1)
        run.add("batches of 50 commands", math.ceil(commands / 50))


MODELS: dict[str, Model] = {m.system: m for m in (CrmInCloud(), FattureInCloud(), QuickBooks(),
                                                   Bitrix24())}


# -- the scenarios ----------------------------------------------------------------------------
#: (side 0 or 1, entity, how many, canonical field, new value from (index, old value))
Change = tuple[int, str, int, str, Callable[[int, Any], Any]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    systems: tuple[str, str]
    names: tuple[str, str]
    factories: tuple[Callable[[EmulatorOptions], Any], Callable[[EmulatorOptions], Any]]
    options: tuple[EmulatorOptions, EmulatorOptions]
    sync: str
    changes: tuple[Change, ...]
    #: entities each side reads (in the sync's order)
    entities: tuple[str, ...]


SCENARIOS = (
    Scenario(
        "seed 000", "CRM in Cloud <-> Fatture in Cloud, 100 records each",
        ("crmincloud", "fattureincloud"), ("crm", "fic"), (crm_app, fic_app),
        (EmulatorOptions(records=100, seed=3, rate_limits=False),
         EmulatorOptions(records=100, seed=3, rate_limits=False)),
        SYNC_000,
        ((0, "company", 2, "city", lambda i, _old: f"Bergamo {i}"),
         (1, "product", 1, "price", lambda _i, old: (old or Decimal(1)) + 1),
         (0, "quote", 1, "subject", lambda i, _old: f"Offerta rivista {i}")),
        ("vat_rate", "company", "product", "quote"),
    ),
    Scenario(
        "seed 004", "QuickBooks -> Bitrix24, 200 records per list",
        ("quickbooks", "bitrix24"), ("qbo", "b24"), (qbo_app, b24_app),
        (EmulatorOptions(records=200, seed=4, rate_limits=False),
         EmulatorOptions(records=0, seed=4, rate_limits=False)),
        SYNC_004,
        ((0, "company", 2, "city", lambda i, _old: f"Köln {i}"),
         (0, "invoice", 1, "notes", lambda i, _old: f"changed {i}")),
        ("company", "contact", "product", "invoice"),
    ),
)


def edit(connector: str, settings: dict[str, Any], change: Change) -> None:
    """Change records the way a user would, through the system's API (not counted)."""
    _side, entity, count, name, value = change
    # QuickBooks tokens rotate: an edit must not use up the ones the sync's store holds
    quickbooks = connector == "quickbooks"
    extra: dict[str, Any] = {"credentials": MemoryCredentials()} if quickbooks else {}
    with Connection("bench-edit", load_connector(connector), settings, **extra) as conn:
        records = sorted((record for page in conn.fetch(entity)
                          for record in conn.map_page(entity, page)),
                         key=lambda r: int(str(r.id)))[:count]
        items = []
        for i, record in enumerate(records):
            context: dict[str, Any] = {}  # what map(out) notes for upsert
            native = conn.map_out(
                entity, record.model_copy(update={name: value(i, getattr(record, name))}), context
            )
            items.append(UpsertItem(key=f"bench-edit-{entity}-{i}", id=record.id,
                                    changed=frozenset({name}), record=native, context=context))
        failed = [r.error for r in conn.upsert(entity, items) if not r.ok]
    if failed:
        raise RuntimeError(f"editing {entity} failed: {failed}")


def _mark(emulator: Emulator) -> datetime | None:
    return emulator.store.clock.last


def _to_read(model: Model, emulator: Emulator, entities: tuple[str, ...], first: bool,
             since: datetime | None) -> Work:
    """What a run has to read: everything the first time, then what changed since ``since``
    (when the previous run began: its own writes and the edits made after it)."""
    work = Work()
    for entity in entities:
        if entity in model.tables:
            rows = model.tables[entity].rows(emulator)
            work.to_read[entity] = len(rows) if first or since is None else sum(
                1 for row in rows if row[UPDATED] > since)
    return work


def _written(model: Model, emulator: Emulator, began: datetime | None, work: Work) -> None:
    for entity, table in model.tables.items():
        if entity == "contact" and model.system == "quickbooks":
            continue  # one Customer table for both
        for row in table.rows(emulator):
            if began is not None and row[UPDATED] <= began:
                continue
            kind = "created" if began is None or row[CREATED] > began else "updated"
            work.writes[(entity, kind)] += 1


def run_scenario(scenario: Scenario, folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        emulators = [factory(options)
                     for factory, options in zip(scenario.factories, scenario.options, strict=True)]
        urls = [stack.enter_context(running(e.app)) for e in emulators]
        settings = [{**e.settings_for(url), "rate_limit": False}
                    for e, url in zip(emulators, urls, strict=True)]
        path = folder / f"{scenario.name.replace(' ', '_')}.toml"
        path.write_text(f'[state]\nurl = "sqlite:///{folder / scenario.names[0]}.db"\n'
                        'credentials = "plain"\n'
                        + "".join(connection_toml(n, s, c) for n, s, c in zip(
                            scenario.names, scenario.systems, settings, strict=True))
                        + scenario.sync, encoding="utf-8")
        config = config_module.load(path)
        [sync_name] = config.syncs
        store = StateStore(config.state.url, credentials=config.state.credentials)
        stack.callback(store.close)
        models = [MODELS[s] for s in scenario.systems]
        previous: list[datetime | None] = [None, None]
        for index, label in enumerate(RUNS):
            if label == "change":
                for change in scenario.changes:
                    edit(scenario.systems[change[0]], settings[change[0]], change)
            # runs start in a later second than the last writes, as runs minutes apart do: a
            # read that begins in the second of writes stamped in whole seconds (Bitrix24,
            # Fatture in Cloud) must read that second again, whatever the connector
            time.sleep(1.01 - time.time() % 1.0)
            began = [_mark(e) for e in emulators]
            before = [{"run": index, "categories": len(emulators[i].store.tables.get(
                "catalogcategories", []))} for i in range(2)]
            work = [_to_read(models[i], emulators[i], scenario.entities, index == 0, previous[i])
                    for i in range(2)]
            logs: list[list[LoggedRequest]] = [[], []]
            counting = [
                CountingConnection(
                    name, load_connector(config.connections[name].connector),
                    config.connections[name].settings, credentials=store.credentials(name),
                    request_log=log.append)
                for name, log in zip(scenario.names, logs, strict=True)]
            connections: dict[Side, Connection] = {"left": counting[0], "right": counting[1]}
            summary = run_sync(sync_name, config.syncs[sync_name], connections, store)
            for connection in counting:
                connection.close()
            if summary.failed:
                raise RuntimeError(f"{scenario.name} {label}: the run failed: " + "; ".join(
                    f"{r.entity}: {r.message or dict(r.counts)}" for r in summary.entities))
            for i in range(2):
                _written(models[i], emulators[i], began[i], work[i])
                run = Run(counting[i], logs[i], work[i], emulators[i], before[i])
                models[i].minimum(run, [e for e in scenario.entities if e in models[i].tables])
                sent = Counter(f"{entry.method} {_shape(entry.url)}" for entry in logs[i])
                rows.append({
                    "scenario": scenario.name, "title": scenario.title, "run": label,
                    "connection": scenario.names[i], "system": scenario.systems[i],
                    "requests": len(logs[i]), "minimum": sum(run.parts.values()),
                    "read": sum(work[i].to_read.values()),
                    "written": sum(work[i].writes.values()),
                    "minimum_parts": dict(run.parts), "sent": dict(sent)})
            previous = began
    return rows


def _shape(url: str) -> str:
    """A request's endpoint without ids and query: what the JSON's ``sent`` groups by."""
    path = urlsplit(url).path.removeprefix(MASK)
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


#: why a ratio stays above the target, by (system, run); the figures come from ``sent``
REASONS: dict[tuple[str, str], str] = {}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | run | connection | records to read | records written | requests "
             "| API minimum | requests / minimum | target | meets target |",
             "|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        ratio = row["requests"] / row["minimum"] if row["minimum"] else float("inf")
        lines.append(
            f"| {row['scenario']}: {row['title']} | {row['run']} | {row['connection']} "
            f"({row['system']}) | {row['read']:,} | {row['written']:,} | {row['requests']:,} "
            f"| {row['minimum']:,} | {ratio:.2f} | <= {TARGET} "
            f"| {'yes' if ratio <= TARGET else 'NO'} |")
    return "\n".join(lines)


def reasons(rows: list[dict[str, Any]]) -> str:
    """A line per row above the target: what was sent, and why."""
    lines = []
    for row in rows:
        if row["minimum"] and row["requests"] / row["minimum"] <= TARGET:
            continue
        sent = ", ".join(f"{n} `{what}`" for what, n in sorted(
            row["sent"].items(), key=lambda item: -item[1]))
        why = REASONS.get((row["system"], row["run"]), "not explained yet")
        lines.append(f"- {row['scenario']} {row['run']}, {row['connection']}: "
                     f"{row['requests']} requests for a minimum of {row['minimum']} ({sent}). "
                     f"Why: {why}.")
    return "\n".join(lines)


def section(rows: list[dict[str, Any]], commit: str, when: str) -> str:
    """The ``## Requests per record`` section of bench/RESULTS.md."""
    models = "\n".join(f"- **{m.system}**: {' '.join((type(m).__doc__ or '').split())}"
                       for m in MODELS.values())
    above = reasons(rows)
    return (
        "## Requests per record\n\n"
        f"`python bench/run.py --requests-only` on {when}, commit {commit}. Each seed scenario "
        "runs four times over HTTP between its emulators: *initial* (the first sync), *echo* "
        "(the next run: it reads back what the first wrote, which a connector cannot tell from "
        "a user's edit made just after), *idle* (nothing changed) and *change* (a few records "
        "edited on each side first). *requests* counts every request of the connection's "
        "request log, retries included. The *API minimum* is what the API needs for the same "
        "work, measured on the emulators' stores (records each entity had to read: all of "
        "them at first, then those changed since the previous run began; records created or "
        "updated) and priced by each API's rules: a list page per N records (`R // N + 1` "
        "pages where the answer does not say whether more follow, `ceil(R / N)` where it "
        "does), a write per record or a batch per N, and the reference reads the API forces. "
        "Counts, not timings: each run starts in a later second than the writes before it, as "
        "runs minutes apart do, and then they are the same on every machine.\n\n"
        + table(rows) + "\n\n"
        + "How each minimum is priced:\n\n" + models + "\n"
        + ("\nAbove the target:\n\n" + above + "\n" if above else "")
    )


def measure() -> list[dict[str, Any]]:
    os.environ.setdefault("SYNCBRIDGE_RETRY_BACKOFF", "0.05")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as folder:
        for scenario in SCENARIOS:
            print(f"requests per record, {scenario.name}:", file=sys.stderr)
            rows += run_scenario(scenario, Path(folder))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    args = parser.parse_args()
    rows = measure()
    if args.table:
        print(table(rows))
        print(reasons(rows))
    else:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
