"""Reading documents: the Agent cannot list them, so the connector walks their numbers.

``action-szamla_agent_xml`` answers one document by number (or order number, or external
id); there is no list and no "changed since". Invoices are numbered without gaps in
sequences per prefix and year (:mod:`.numbers`), so a full read asks for
``<head>-<year>-1``, ``-2``, ... of every year from ``first_year`` to this one, and ends a
year's sequence after ``gap`` unknown numbers in a row (proformas leave gaps when deleted).
That is one POST per document plus ``gap`` per sequence and year: the minimum the Agent
allows.

No incremental read is declared: a document's number never changes but its payments and
storno flag do, and nothing tells which old document changed, so every read is a full walk
(README assumption 4). ``query["ids"]`` reads just those numbers. VAT keys are a fixed
list, read without a request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncbridge import Client, ConnectorError, NativeRecord, Page
from syncbridge_szamlazz import agent, numbers, vat
from syncbridge_szamlazz.settings import SzamlazzSettings, settings_of

BUDAPEST = ZoneInfo("Europe/Budapest")

#: canonical entity -> the sequence its documents are numbered in
KINDS: dict[str, numbers.Kind] = {"invoice": "invoice", "quote": "proforma"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def native_of(document: Mapping[str, Any]) -> NativeRecord:
    """A ``szamla`` query answer in the native form :mod:`.mapping` reads (the create
    request's vocabulary)."""
    base = document.get("alap") or {}
    buyer = document.get("vevo") or {}
    address = buyer.get("cim") or {}
    items = (document.get("tetelek") or {}).get("tetel", [])
    record: NativeRecord = {
        "szamlaszam": _text(base.get("szamlaszam")),
        "tipus": _text(base.get("tipus")),
        "sztornozott": _text(base.get("sztornozott")) or "false",
        "hivatkozottSzamlaszam": _text(base.get("hivszamlaszam")),
        "fejlec": {
            "keltDatum": _text(base.get("kelt")),
            "teljesitesDatum": _text(base.get("telj")),
            "fizetesiHataridoDatum": _text(base.get("fizh")),
            "fizmod": _text(base.get("fizmod")),
            "penznem": _text(base.get("devizanem")),
            "szamlaNyelve": _text(base.get("nyelv")),
            "megjegyzes": _text(base.get("megjegyzes")),
            "rendelesSzam": _text(base.get("rendelesszam")),
        },
        "vevo": {
            "id": _text(buyer.get("id")),
            "nev": _text(buyer.get("nev")),
            "orszag": _text(address.get("orszag")),
            "irsz": _text(address.get("irsz")),
            "telepules": _text(address.get("telepules")),
            "cim": _text(address.get("cim")),
            "email": _text(buyer.get("email")),
            "adoszam": _text(buyer.get("adoszam")),
            "adoszamEU": _text(buyer.get("adoszameu")),
            "azonosito": _text(buyer.get("azonosito")),
        },
        "tetelek": [
            {
                "megnevezes": _text(item.get("nev")),
                "azonosito": _text(item.get("azonosito")),
                "mennyiseg": _text(item.get("mennyiseg")),
                "mennyisegiEgyseg": _text(item.get("mennyisegiegyseg")),
                "nettoEgysegar": _text(item.get("nettoegysegar")),
                # a code (AAM...) when the item has one, else the rate
                "afakulcs": _text(item.get("afatipus")) or _text(item.get("afakulcs")),
                "nettoErtek": _text(item.get("netto")),
                "afaErtek": _text(item.get("afa")),
                "bruttoErtek": _text(item.get("brutto")),
            }
            for item in items
        ],
        "kifizetesek": [
            {
                "datum": _text(p.get("datum")),
                "jogcim": _text(p.get("jogcim")),
                "osszeg": _text(p.get("osszeg")),
                "megjegyzes": _text(p.get("megjegyzes")),
            }
            for p in (document.get("kifizetesek") or {}).get("kifizetes", [])
        ],
    }
    return record


def query(
    client: Client, *, number: str = "", order_number: str = "", external_id: str = ""
) -> NativeRecord | None:
    """One document by number, order number or external id; None when the Agent has no
    such document. Raises AuthError / ConnectorError for anything else."""
    settings = settings_of(client)
    pairs: list[tuple[str, Any]] = [
        *agent.credentials(settings),
        ("szamlaszam", number or None),
        ("rendelesSzam", order_number or None),
        ("pdf", False),
        ("szamlaKulsoAzon", external_id or None),
    ]
    try:
        answer = agent.read(client, agent.QUERY_XML, pairs)
    except agent.AgentRefusal as refusal:
        if refusal.code in agent.NOT_FOUND_CODES:
            return None
        raise
    if answer.body.get("root") != "szamla":
        what = number or order_number or external_id
        raise ConnectorError(
            f"{agent.SYSTEM} answered the query for {what} without a szamla document"
        )
    return native_of(answer.body)


def this_year() -> int:
    return datetime.now(BUDAPEST).year


def walk(client: Client, settings: SzamlazzSettings, kind: numbers.Kind) -> Iterator[NativeRecord]:
    """Every document of the sequence of ``kind``, year by year, in number order."""
    sequence = numbers.sequence(kind, settings.prefix, settings.e_invoice)
    for year in range(settings.first_year, this_year() + 1):
        n, misses = 0, 0
        while misses < settings.gap:
            n += 1
            record = query(client, number=sequence.number(year, n))
            if record is None:
                misses += 1
                continue
            misses = 0
            yield record


def payments_of(document: NativeRecord) -> list[NativeRecord]:
    """The credit entries of an invoice as payment records, ``<number>/<position>`` their id
    (an entry has no id of its own; entries are only ever appended by this connector)."""
    number = str(document.get("szamlaszam") or "")
    head = document.get("fejlec") or {}
    buyer = document.get("vevo") or {}
    return [
        {
            "id": f"{number}/{position}",
            "szamlaszam": number,
            "penznem": head.get("penznem", ""),
            "vevoAzonosito": buyer.get("azonosito", ""),
            **entry,
        }
        for position, entry in enumerate(document.get("kifizetesek") or [], start=1)
    ]


def _payments(records: Iterator[NativeRecord], ids: list[str] | None) -> Iterator[NativeRecord]:
    wanted = set(ids) if ids else None
    for record in records:
        if record.get("tipus") != "SZ":
            continue
        for payment in payments_of(record):
            if wanted is None or payment["id"] in wanted:
                yield payment


def _pages(records: Iterator[NativeRecord], size: int) -> Iterator[Page]:
    page: list[NativeRecord] = []
    for record in records:
        page.append(record)
        if len(page) >= size:
            yield Page(page)
            page = []
    yield Page(page)


def _by_ids(client: Client, ids: list[str]) -> Iterator[NativeRecord]:
    for number in dict.fromkeys(ids):
        record = query(client, number=number)
        if record is not None:
            yield record


def fetch_pages(
    client: Client, entity: str, since: str | None, query_: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook (``since`` is never set: no incremental read is declared)."""
    settings = settings_of(client)
    if entity == "vat_rate":
        keys = [{"afakulcs": key, "leiras": vat.CODES.get(key, f"{key}%")} for key in vat.KEYS]
        yield from (
            Page(keys[i : i + settings.page_size]) for i in range(0, len(keys), settings.page_size)
        )
        return
    ids = query_.get("ids")
    if entity == "payment":
        wanted = [str(i) for i in ids] if ids else None
        invoices = [i.rpartition("/")[0] for i in wanted] if wanted else None
        source = _by_ids(client, invoices) if invoices else walk(client, settings, "invoice")
        yield from _pages(_payments(source, wanted), settings.page_size)
        return
    if entity not in KINDS:
        raise ConnectorError(f"szamlazz cannot read {entity!r}")
    kind = KINDS[entity]
    records = _by_ids(client, [str(i) for i in ids]) if ids else walk(client, settings, kind)
    proformas = kind == "proforma"  # the invoice sequence holds storno invoices too
    yield from _pages(
        (r for r in records if (r.get("tipus") == "D") == proformas), settings.page_size
    )
