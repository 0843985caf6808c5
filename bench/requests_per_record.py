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
    python bench/requests_per_record.py --table --scenario "seed 001"   # one scenario
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syncbridge import config as config_module
from syncbridge.config import Side
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.demo import minicrm_szamlazz as seed_001
from syncbridge.demo.crm_fic import SYNC as SYNC_000
from syncbridge.demo.simplycrm_dinero import sync_config as seed_002_sync
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
from syncbridge_dinero.emulator import create_app as dinero_app
from syncbridge_fattureincloud.emulator import create_app as fic_app
from syncbridge_minicrm.emulator import create_app as minicrm_app
from syncbridge_quickbooks.emulator import create_app as qbo_app
from syncbridge_simplycrm.emulator import create_app as simply_app
from syncbridge_szamlazz.emulator import create_app as szamlazz_app
from syncbridge_szamlazz.emulator.app import SzamlazzEmulator
from syncbridge_szamlazz.reads import this_year
from syncbridge_szamlazz.settings import SzamlazzSettings

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
        #: the items given to ``upsert`` (what changed in an update) and their results
        self.items: dict[str, list[UpsertItem]] = defaultdict(list)
        self.results: dict[str, list[UpsertResult]] = defaultdict(list)

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
        self.items[entity].extend(items)
        results = super().upsert(entity, items)
        self.results[entity].extend(results)
        return results


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

    def to_read(self, emulator: Emulator, entities: tuple[str, ...], first: bool,
                since: datetime | None) -> Work:
        """What a run has to read: everything the first time, then what changed since
        ``since`` (when the previous run began: its own writes and the edits made after it)."""
        work = Work()
        for entity in entities:
            if entity in self.tables:
                rows = self.tables[entity].rows(emulator)
                work.to_read[entity] = len(rows) if first or since is None else sum(
                    1 for row in rows if row[UPDATED] > since)
        return work

    def written(self, emulator: Emulator, began: datetime | None, work: Work) -> None:
        """Count the records created or updated in the system since ``began`` into ``work``."""
        for entity, table in self.tables.items():
            if entity == "contact" and self.system == "quickbooks":
                continue  # one Customer table for both
            for row in table.rows(emulator):
                if began is not None and row[UPDATED] <= began:
                    continue
                kind = "created" if began is None or row[CREATED] > began else "updated"
                work.writes[(entity, kind)] += 1


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


class Customers(Table):
    """MiniCRM's customers: Business contacts with a card of the customer filter's status."""

    def rows(self, emulator: Emulator) -> list[Mapping[str, Any]]:
        cards = emulator.store.table("project").list(
            lambda p: p["CategoryId"] == seed_001.SALES
            and p["StatusId"] == seed_001.STATUS_IDS["Customer"])
        customers = {card["ContactId"] for card in cards}
        return [row for row in emulator.store.table("contact").list()
                if row["id"] in customers and row.get("Type") == "Business"]


#: the canonical fields of each MiniCRM address (README: the office and the mailing address)
_ADDRESS_ROLES = {
    "main": frozenset({"address", "postal_code", "city", "province", "country"}),
    "mailing": frozenset({"mailing_address", "mailing_postal_code", "mailing_city",
                          "mailing_country"}),
}


class MiniCrm(Model):
    """R3 listings of 100 with a total (``Count``); a contact's detail and its address list
    are two requests (list rows carry neither addresses, tax numbers nor times). The customer
    filter needs the module's statuses (one schema read: labels to ids) and the list of the
    customers' cards on every run, and on a later run the contacts and cards changed since.
    A create is one PUT for the contact, one per address and one for its customer card (else
    the filter would not read it back); an update is one PUT, and where an address changed,
    the contact's address list (an address is updated by its id) and one PUT per address.
    Documents: one ``/Api/Invoice`` listing of 100 with a total holds invoices and
    proformas, a detail per document read (the rows name neither customer nor items), a POST
    per document written; a document's customer is a Business or a Person, one GET for a
    customer neither read nor written in the run."""

    system = "minicrm"
    tables: Mapping[str, Table] = {
        "company": Customers("contact"),
        "invoice": Table("invoice", ("Type", "Invoice")),
        "quote": Table("invoice", ("Type", "Proforma")),
    }

    def read(self, run: Run, entity: str, records: int) -> None:
        first = run.before["run"] == 0
        if entity == "company":
            customers = len(self.tables["company"].rows(run.emulator))
            run.add("the customers' cards, every run (the filter)",
                    pages_with_total(customers, 100))
            if not first:
                run.add("contacts changed since the cursor", pages_with_total(records, 100))
                run.add("cards changed since the cursor", 1)
            run.add("a customer's detail and its address list", 2 * records)
            return
        both = sum(run.work.to_read.get(e, 0) for e in ("invoice", "quote"))
        run.add("document list pages (invoices and proformas in one listing)",
                pages_with_total(both, 100))
        run.add("a document's detail", records)

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        if entity != "company":
            run.add("a POST per document", creates + updates)
            return
        for item in run.connection.items["company"]:
            addresses = item.context.get("addresses") or {}
            if item.is_create:
                run.add("a new contact, its addresses, its customer card", 2 + len(addresses))
                continue
            run.add("a contact update", 1)
            moved = [role for role in addresses
                     if not item.changed or item.changed & _ADDRESS_ROLES.get(role, frozenset())]
            if moved:
                run.add("the address list of an update that moved an address, a PUT each",
                        1 + len(moved))

    def fixed(self, run: Run) -> None:
        connection = run.connection
        run.add("the customer module's statuses (labels to ids)", 1)
        known = {str(r.get("Id")) for r in connection.read["company"]}
        known |= {str(r.id) for r in connection.results["company"] if r.id}
        customers = {str(r.get("CustomerId")) for e in ("invoice", "quote")
                     for r in [*connection.read[e], *connection.written[e]]}
        run.add("customers of the documents, neither read nor written: a GET each",
                len(customers - known))


class Szamlazz(Model):
    """No list and no "changed since": every read walks the number sequences, a POST per
    document, plus past the end of each sequence and year one unknown number for invoices
    (numbered without gaps by law) and ``gap`` (3) for proformas (deleted ones leave gaps).
    No login: the Agent key travels in every request. (The scenario issues documents before
    the runs, outside the count, and the sync never writes to Számlázz.hu.)"""

    system = "szamlazz"
    #: entity -> the ledger's document kinds
    kinds: Mapping[str, tuple[str, ...]] = {"invoice": ("SZ", "SS"), "quote": ("D",)}

    def to_read(self, emulator: Emulator, entities: tuple[str, ...], first: bool,
                since: datetime | None) -> Work:
        assert isinstance(emulator, SzamlazzEmulator)
        return Work(to_read={entity: sum(1 for d in emulator.ledger.documents.values()
                                         if d.kind in kinds)
                             for entity, kinds in self.kinds.items() if entity in entities})

    def written(self, emulator: Emulator, began: datetime | None, work: Work) -> None:
        return None

    def minimum(self, run: Run, entities: list[str]) -> None:
        super().minimum(run, [e for e in self.kinds if e in run.work.to_read])

    def read(self, run: Run, entity: str, records: int) -> None:
        settings = run.connection.settings
        assert isinstance(settings, SzamlazzSettings)
        years = this_year() - settings.first_year + 1
        past = 1 if entity == "invoice" else settings.gap
        run.add("a query per document (no list)", records)
        run.add("unknown numbers past the end of each sequence and year", past * years)

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        run.add("a POST per document", creates + updates)


class SimplyCrm(Model):
    """vtiger's webservice: a login is a challenge and a login; ``sync`` answers the changes of
    up to 100 modification times with ``more`` (one request when nothing changed); no batch,
    a ``create``/``update`` per record answering the record as stored. An invoice's lines
    come only with ``retrieve`` (one per invoice read); an update replaces the whole record,
    so the stored records are read first (a ``query`` per 100 ids); an invoice written needs
    its organisation's address (a ``query`` per 100 organisations) and its currency's id
    (``Currency``, read once with the invoices)."""

    system = "simplycrm"
    tables: Mapping[str, Table] = {
        "company": Table("Accounts"), "contact": Table("Contacts"),
        "product": Table("Products"), "invoice": Table("Invoice"),
    }

    def read(self, run: Run, entity: str, records: int) -> None:
        run.add("sync pages", pages_with_total(records, 100))
        if entity == "invoice":
            run.add("invoices read whole: a retrieve each (LineItems)",
                    min(records, len(run.connection.read["invoice"])))

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        run.add("creates and updates, one each", creates + updates)
        run.add("the stored record of each update, a query per 100", math.ceil(updates / 100))
        if entity == "invoice":
            accounts = {str(r.get("account_id") or "") for r in run.connection.written["invoice"]}
            run.add("the organisations of the invoices written, a query per 100",
                    math.ceil(len(accounts - {""}) / 100))

    def fixed(self, run: Run) -> None:
        run.add("login: getchallenge and login", 2)
        if run.connection.read["invoice"] or run.connection.written["invoice"]:
            run.add("currencies, once (an invoice's currency_id)", 1)


class Dinero(Model):
    """Listings of up to 1000 rows with a total; the token of the password grant once per
    run; one POST per create (no batch); an update reads the record first (PUT replaces it
    whole, and an invoice must name its current ``TimeStamp``), an invoice past draft is
    booked (one POST). An incremental read lists the deletions since the cursor apart
    (``deletedOnly=true``, one listing per entity). An invoice listing row has no lines: one
    GET per invoice read, with the kind of its customer (the contacts' ``IsPerson``, one
    listing), the accounts' VAT (accounts and VAT types, a request each) and, for a booked
    invoice not paid in full, its payments (what is still owed)."""

    system = "dinero"
    tables: Mapping[str, Table] = {
        "company": Table("contacts", ("IsPerson", False)),
        "contact": Table("contacts", ("IsPerson", True)),
        "product": Table("products"), "invoice": Table("invoices"),
    }

    def __init__(self) -> None:
        #: entities read before the run with records (they have a cursor, deletions to check)
        self.known: set[str] = set()

    def to_read(self, emulator: Emulator, entities: tuple[str, ...], first: bool,
                since: datetime | None) -> Work:
        self.known = {entity for entity in entities if entity in self.tables
                      and not first and since is not None
                      and any(row[CREATED] <= since for row in self.tables[entity].rows(emulator))}
        return super().to_read(emulator, entities, first, since)

    def read(self, run: Run, entity: str, records: int) -> None:
        run.add("list pages", pages_with_total(records, 1000))
        if entity in self.known:
            run.add("deletions since the cursor, a listing (an entity read before)", 1)
        if entity == "invoice" and records:
            read = run.connection.read["invoice"]
            run.add("invoices read whole: a GET each (a listing row has no lines)",
                    min(records, len(read)))
            contacts = len(Table("contacts").rows(run.emulator))
            run.add("the kinds of their customers (one contacts listing), accounts, VAT types",
                    pages_with_total(contacts, 1000) + 2)
            owing = sum(1 for r in read if r.get("PaymentStatus") not in (None, "Draft", "Paid"))
            run.add("payments of the booked invoices not paid in full, a GET each", owing)

    def write(self, run: Run, entity: str, creates: int, updates: int) -> None:
        run.add("creates, one POST each", creates)
        run.add("updates: the record (PUT replaces it whole), then the PUT", 2 * updates)
        if entity == "invoice":
            booked = sum(1 for c in run.connection.written_contexts["invoice"] if c.get("book"))
            run.add("invoices past draft booked, a POST each", booked)

    def fixed(self, run: Run) -> None:
        run.add("token (password grant)", 1)


MODELS: dict[str, Model] = {m.system: m for m in (CrmInCloud(), FattureInCloud(), QuickBooks(),
                                                   Bitrix24(), MiniCrm(), Szamlazz(),
                                                   SimplyCrm(), Dinero())}


# -- the scenarios ----------------------------------------------------------------------------
#: (side 0 or 1, entity, how many, canonical field, new value from (index, old value))
Change = tuple[int, str, int, str, Callable[[int, Any], Any]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    #: the emulated systems, their connections' names, emulators and options
    systems: tuple[str, ...]
    names: tuple[str, ...]
    factories: tuple[Callable[[EmulatorOptions], Any], ...]
    options: tuple[EmulatorOptions, ...]
    #: the syncs, run in the order they are written
    sync: str
    changes: tuple[Change, ...]
    #: entities each side reads (in the sync's order)
    entities: tuple[str, ...]
    #: settings added to each emulated connection's (e.g. a filter)
    settings: tuple[dict[str, Any], ...] = ()
    #: data and connections beyond the emulators: given the folder, the emulators and their
    #: connections' settings, it prepares them and returns the other connections' TOML
    setup: Callable[[Path, list[Any], list[dict[str, Any]]], str] | None = None


def _seed_001_data(folder: Path, emulators: list[Any], settings: list[dict[str, Any]]) -> str:
    """Seed 001's third system and documents: the invoicing application's customer table
    (half of MiniCRM's customers there, found by name + city + address or by the MiniCRM id,
    and 50 customers MiniCRM lacks), and 50 documents issued through Számlázz.hu to its first
    50 customers (every fifth a proforma). The ``szkh`` connection's TOML."""
    crm, _agent = emulators
    local: list[dict[str, str]] = []
    customers = Customers("contact").rows(crm)
    for index, row in enumerate(customers[: len(customers) // 2]):
        [office] = crm.store.table("address").list(
            lambda a, row=row: a["ContactId"] == row["id"] and a["Type"] == "Székhely")
        if index % 2:  # carries the MiniCRM id, under its old name and address
            local.append({"nev": f"{row['Name']} (régi)", "varos": office["City"],
                          "cim": "Régi utca 1", "minicrm_id": str(row["id"])})
        else:
            local.append({"nev": str(row["Name"]), "irsz": office["PostalCode"],
                          "varos": office["City"], "cim": office["Address"]})
    local += [{"nev": f"Helyi Ügyfél {n} Kft.", "orszag": "HU", "irsz": "1111",
               "varos": "Budapest", "cim": f"Bartók Béla út {n}"} for n in range(1, 51)]
    url = f"sqlite:///{folder / 'seed_001_szkh.db'}"
    engine = seed_001.create_invoicing_app(url, local, {})
    today = date.today()
    for index, customer in enumerate(seed_001.customers(engine)[:50]):
        seed_001.issue(settings[1], "quote" if index % 5 == 4 else "invoice", customer, today)
    engine.dispose()
    return connection_toml("szkh", "sql", {"url": url, "preset": "szamlazz-konnyen"})


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
    Scenario(
        "seed 001", "Számlázz.könnyen <-> MiniCRM: 100 MiniCRM companies (50 customers), "
        "75 local customers, 50 documents from Számlázz.hu",
        ("minicrm", "szamlazz"), ("minicrm", "szamlazz"), (minicrm_app, szamlazz_app),
        (EmulatorOptions(records=100, seed=1, rate_limits=False),
         EmulatorOptions(records=0, seed=1, rate_limits=False)),
        seed_001.SYNC,
        ((0, "company", 2, "city", lambda i, _old: f"Debrecen {i}"),),
        ("company", "quote", "invoice"),
        settings=(seed_001.CUSTOMER_FILTER, {}),
        setup=_seed_001_data,
    ),
    Scenario(
        "seed 002", "Simply CRM <-> Dinero, 100 records per module in the CRM",
        ("simplycrm", "dinero"), ("simply", "dinero"), (simply_app, dinero_app),
        (EmulatorOptions(records=100, seed=2, rate_limits=False),
         EmulatorOptions(records=0, seed=2, rate_limits=False)),
        seed_002_sync(every="manual"),  # both ways, "send CRM data first"
        ((0, "company", 2, "city", lambda i, _old: f"Odense {i}"),
         (1, "product", 1, "price", lambda _i, old: (old or Decimal(1)) + 1),
         (0, "invoice", 1, "subject", lambda i, _old: f"Faktura rettet {i}")),
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
                         key=lambda r: _order(str(r.id)))[:count]
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


def _order(record_id: str) -> tuple[int, ...] | tuple[str]:
    """Records in creation order where their ids say it: numbers, and vtiger's ``11x5``
    (module prefix, record number); other ids (GUIDs) as text."""
    parts = record_id.split("x") if "x" in record_id else [record_id]
    if all(part.isdigit() for part in parts):
        return tuple(int(part) for part in parts)
    return (record_id,)


def _mark(emulator: Emulator) -> datetime | None:
    return emulator.store.clock.last


def run_scenario(scenario: Scenario, folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        emulators = [factory(options)
                     for factory, options in zip(scenario.factories, scenario.options, strict=True)]
        count = len(emulators)
        urls = [stack.enter_context(running(e.app)) for e in emulators]
        extra = scenario.settings or tuple({} for _ in emulators)
        settings = [{**e.settings_for(url), "rate_limit": False, **more}
                    for e, url, more in zip(emulators, urls, extra, strict=True)]
        others = scenario.setup(folder, emulators, settings) if scenario.setup else ""
        path = folder / f"{scenario.name.replace(' ', '_')}.toml"
        path.write_text(f'[state]\nurl = "sqlite:///{folder / scenario.names[0]}.db"\n'
                        'credentials = "plain"\n'
                        + "".join(connection_toml(n, s, c) for n, s, c in zip(
                            scenario.names, scenario.systems, settings, strict=True))
                        + others + scenario.sync, encoding="utf-8")
        config = config_module.load(path)
        store = StateStore(config.state.url, credentials=config.state.credentials)
        stack.callback(store.close)
        models = [MODELS[s] for s in scenario.systems]
        previous: list[datetime | None] = [None] * count
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
                "catalogcategories", []))} for i in range(count)]
            work = [models[i].to_read(emulators[i], scenario.entities, index == 0, previous[i])
                    for i in range(count)]
            logs: list[list[LoggedRequest]] = [[] for _ in range(count)]
            counting = [
                CountingConnection(
                    name, load_connector(config.connections[name].connector),
                    config.connections[name].settings, credentials=store.credentials(name),
                    request_log=log.append)
                for name, log in zip(scenario.names, logs, strict=True)]
            # the connections without an emulator (a database): used, not counted
            opened: dict[str, Connection] = dict(zip(scenario.names, counting, strict=True))
            for name, spec in config.connections.items():
                if name not in opened:
                    opened[name] = Connection(name, load_connector(spec.connector),
                                              spec.settings, credentials=store.credentials(name))
            summaries = []
            for sync_name, sync in config.syncs.items():  # in the order they are written
                sides: dict[Side, Connection] = {"left": opened[sync.left],
                                                 "right": opened[sync.right]}
                summaries.append(run_sync(sync_name, sync, sides, store))
            for connection in opened.values():
                connection.close()
            failed = [summary for summary in summaries if summary.failed]
            if failed:
                raise RuntimeError(f"{scenario.name} {label}: the run failed: " + "; ".join(
                    f"{r.entity}: {r.message or dict(r.counts)}"
                    for summary in failed for r in summary.entities))
            for i in range(count):
                models[i].written(emulators[i], began[i], work[i])
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


def measure(names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every scenario's rows, or only those of the scenarios ``names`` (e.g. "seed 001")."""
    os.environ.setdefault("SYNCBRIDGE_RETRY_BACKOFF", "0.05")
    wanted = set(names)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as folder:
        for scenario in SCENARIOS:
            if wanted and scenario.name not in wanted:
                continue
            print(f"requests per record, {scenario.name}:", file=sys.stderr)
            rows += run_scenario(scenario, Path(folder))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME",
                        help='only this scenario, e.g. "seed 001" (repeatable)')
    args = parser.parse_args()
    rows = measure(args.scenario)
    if args.table:
        print(table(rows))
        print(reasons(rows))
    else:
        for row in rows:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
