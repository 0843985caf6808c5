"""Writing: issue documents, find them by key, delete proformas, reverse, credit entries.

* **Issue** (``action-xmlagentxmlfile``): one POST per document, nothing read back (the
  answer gives the number, the native id). The engine's idempotency key goes into the order
  number (``rendelesSzam``) and the external id (``szamlaKulsoAzon``): the account refuses a
  repeated order number (error 71, "Már létező rendelésszám"), so a create sent twice never
  makes two invoices; the connector then asks for the document with that order number and
  reports it as the create's outcome (IDEMPOTENT_CREATE). :func:`lookup_keys` asks the same
  way after a crash (LOOKUP).
* **No update**: an issued invoice is immutable. A change is a storno (:func:`reverse`) and a
  new invoice, which is an accounting decision the engine never takes on its own: it reports
  the change as a conflict (documents are ``locked``).
* **Delete** is only for proformas (``action-szamla_agent_dijbekero_torlese``).
* **Payments** are credit entries added to their invoice (:func:`add_payment`).
* A write whose answer was lost is ``failed(..., unknown=True)``: only that record's.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from syncbridge import AuthError, Client, ConnectorError, UpsertItem, UpsertResult
from syncbridge.rest import OutcomeUnknown
from syncbridge_szamlazz import agent, reads, taxnumber
from syncbridge_szamlazz.settings import SzamlazzSettings, settings_of

#: the buyer elements in schema order, and the ones the schema requires
BUYER = (
    "nev",
    "orszag",
    "irsz",
    "telepules",
    "cim",
    "email",
    "sendEmail",
    "adoszam",
    "adoszamEU",
    "postazasiNev",
    "postazasiOrszag",
    "postazasiIrsz",
    "postazasiTelepules",
    "postazasiCim",
    "azonosito",
    "telefonszam",
    "megjegyzes",
)
BUYER_REQUIRED = ("nev", "irsz", "telepules", "cim")
ITEM = (
    "megnevezes",
    "azonosito",
    "mennyiseg",
    "mennyisegiEgyseg",
    "nettoEgysegar",
    "afakulcs",
    "nettoErtek",
    "afaErtek",
    "bruttoErtek",
    "megjegyzes",
)
ITEM_REQUIRED = (
    "megnevezes",
    "mennyiseg",
    "nettoEgysegar",
    "afakulcs",
    "nettoErtek",
    "afaErtek",
    "bruttoErtek",
)


def _buyer(record: dict[str, Any], settings: SzamlazzSettings) -> list[tuple[str, Any]]:
    """The ``vevo`` element: tax numbers normalised (ValueError naming the field)."""
    buyer = dict(record.get("vevo") or {})
    if settings.buyer_required and not str(buyer.get("nev") or "").strip():
        raise ValueError(
            "vevo.nev: the buyer has no name. Számlázz.hu keeps no customers: the buyer's "
            "name and address travel inside each invoice, and canonical invoices carry only "
            "the customer's id. Fill vevo (nev, irsz, telepules, cim) with an extension "
            "wrapping map (README, 'Buyers')"
        )
    if buyer.get("adoszam"):
        buyer["adoszam"] = taxnumber.normalise(str(buyer["adoszam"]))
    if buyer.get("adoszamEU"):
        eu = str(buyer["adoszamEU"])
        buyer["adoszamEU"] = taxnumber.normalise_eu(eu) if eu.upper().startswith("HU") else eu
    pairs: list[tuple[str, Any]] = []
    for name in BUYER:
        value = buyer.get(name)
        if value in (None, "") and name not in BUYER_REQUIRED:
            continue
        pairs.append((name, "" if value is None else str(value)))
    return pairs


def _item_value(line: dict[str, Any], name: str) -> Any:
    """An item element's value: the unit is required but may be empty (a line without
    one); an empty optional element is left out."""
    value = line.get(name)
    if name == "mennyisegiEgyseg":
        return value or ""
    return None if value in (None, "") else value


def issue_request(item: UpsertItem, settings: SzamlazzSettings) -> list[tuple[str, Any]]:
    """The ``xmlszamla`` of a create: the native document, the key and the settings."""
    record = item.record
    head = dict(record.get("fejlec") or {})
    currency = str(head.get("penznem") or "HUF")
    proforma = record.get("tipus") == "D"
    header: list[tuple[str, Any]] = [
        ("keltDatum", head.get("keltDatum") or None),
        ("teljesitesDatum", head["teljesitesDatum"]),
        ("fizetesiHataridoDatum", head["fizetesiHataridoDatum"]),
        ("fizmod", head.get("fizmod") or settings.payment_method),
        ("penznem", currency),
        ("szamlaNyelve", head.get("szamlaNyelve") or settings.language),
        ("megjegyzes", head.get("megjegyzes") or None),
        # a currency other than HUF is converted at the MNB's rate of the day
        ("arfolyamBank", None if currency == "HUF" else "MNB"),
        ("rendelesSzam", item.key),
        ("dijbekero", True if proforma else None),
        ("szamlaszamElotag", settings.prefix),
        ("fizetve", True if str(head.get("fizetve", "")).lower() == "true" else None),
    ]
    items = []
    for line in record.get("tetelek") or []:
        missing = [name for name in ITEM_REQUIRED if line.get(name) in (None, "")]
        if missing:
            raise ValueError(f"tetelek.{missing[0]}: every item needs it")
        items.append(("tetel", [(name, _item_value(line, name)) for name in ITEM]))
    return [
        (
            "beallitasok",
            [
                *agent.credentials(settings),
                ("eszamla", settings.e_invoice),
                ("szamlaLetoltes", False),
                ("valaszVerzio", 2),
                ("aggregator", "syncbridge"),
                ("szamlaKulsoAzon", item.key),
            ],
        ),
        ("fejlec", header),
        ("elado", []),
        ("vevo", _buyer(record, settings)),
        ("tetelek", items),
    ]


def _issued_before(client: Client, item: UpsertItem) -> UpsertResult:
    """The create's order number is taken: the document made with this key is the outcome."""
    try:
        found = reads.query(client, order_number=item.key)
    except AuthError:
        raise
    except ConnectorError as error:
        return UpsertResult.failed(
            item.key,
            f"its order number is taken and the document could not be read: {error}",
            unknown=True,
        )
    if found is None:
        return UpsertResult.failed(
            item.key,
            f"{agent.SYSTEM} says order number {item.key} is taken, yet finds no document with it",
            unknown=True,
        )
    return UpsertResult(key=item.key, id=str(found["szamlaszam"]))


def issue(client: Client, item: UpsertItem) -> UpsertResult:
    """Issue one document; every failure but refused credentials is this record's.

    The create is sent as repeatable (its order number cannot be issued twice), so the
    transport retries it after a 5xx or a dropped connection; a repeat the Agent refuses as
    a taken order number, or an answer that cannot be read, is settled at once by asking for
    the document with that order number.
    """
    settings = settings_of(client)
    try:
        pairs = issue_request(item, settings)
    except (KeyError, ValueError) as error:
        return UpsertResult.failed(item.key, str(error).strip("'\""))
    try:
        answer = agent.write(client, agent.CREATE, pairs, repeatable=True)
    except AuthError:
        raise
    except OutcomeUnknown as error:
        settled = _issued_before(client, item)
        if settled.ok:
            return settled
        return UpsertResult.failed(item.key, str(error), unknown=True)
    except agent.AgentRefusal as refusal:
        if refusal.code in agent.DUPLICATE_ORDER_CODES:
            return _issued_before(client, item)
        return UpsertResult.failed(item.key, str(refusal))
    except ConnectorError as error:  # an error status the transport gave up on
        return UpsertResult.failed(item.key, str(error))
    number = answer.header("szlahu_szamlaszam") or str(answer.body.get("szamlaszam") or "")
    if not number:
        return UpsertResult.failed(
            item.key,
            f"{agent.SYSTEM} answered without the new document's number; "
            "it may have been written: the next run checks before sending it again",
            unknown=True,
        )
    # what was sent, under the number the Agent gave it: the document as it now reads
    return UpsertResult(key=item.key, id=number, record={**item.record, "szamlaszam": number})


def _invoice_locks(client: Client) -> defaultdict[str, threading.Lock]:
    """One lock per invoice number, for the connection: a credit entry's id is its position,
    so two entries added to one invoice at once must not both count the same ones."""
    locks: defaultdict[str, threading.Lock] = client.resource(
        "szamlazz.invoice_locks", lambda: defaultdict(threading.Lock)
    )
    return locks


def add_payment(client: Client, item: UpsertItem) -> UpsertResult:
    """Add one credit entry to its invoice: a query (which entries are there, in which
    currency) and the additive ``action-szamla_agent_kifiz``. Its id is
    ``<number>/<position>``. Not repeatable (a repeat adds it twice): a lost answer is an
    unknown outcome the engine settles by content on the next run."""
    record = item.record
    number = str(record.get("szamlaszam") or "")
    settings = settings_of(client)
    with _invoice_locks(client)[number]:
        try:
            invoice = reads.query(client, number=number)
        except AuthError:
            raise
        except ConnectorError as error:
            return UpsertResult.failed(item.key, f"invoice {number} could not be read: {error}")
        if invoice is None or invoice.get("tipus") != "SZ":
            return UpsertResult.failed(
                item.key, f"invoice_id: {number} is no invoice in {agent.SYSTEM}"
            )
        currency = str((invoice.get("fejlec") or {}).get("penznem") or "HUF")
        if str(record.get("penznem") or currency) != currency:
            return UpsertResult.failed(
                item.key,
                f"currency: the payment is in {record.get('penznem')}, invoice {number} in "
                f"{currency}; credit entries are in the invoice's currency",
            )
        entry = {
            "datum": str(record["datum"]),
            "jogcim": str(record.get("jogcim") or settings.payment_method),
            "osszeg": str(record["osszeg"]),
            "megjegyzes": str(record.get("megjegyzes") or ""),
        }
        try:
            credit(
                client,
                number,
                Decimal(entry["osszeg"]),
                date.fromisoformat(entry["datum"]),
                entry["jogcim"],
                entry["megjegyzes"],
            )
        except AuthError:
            raise
        except OutcomeUnknown as error:
            return UpsertResult.failed(item.key, str(error), unknown=True)
        except ConnectorError as error:
            return UpsertResult.failed(item.key, str(error))
        [stored] = reads.payments_of({**invoice, "kifizetesek": [entry]})
        position = len(invoice.get("kifizetesek") or []) + 1
        stored["id"] = f"{number}/{position}"
        return UpsertResult(key=item.key, id=stored["id"], record=stored)


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook: creates only (issued documents and credit entries never change)."""
    if entity == "payment":
        for item in items:
            if item.is_create:
                yield add_payment(client, item)
            else:
                yield UpsertResult.failed(
                    item.key,
                    f"credit entry {item.id} cannot be changed through the Agent: change it in "
                    "Számlázz.hu",
                    item.id,
                )
        return
    if entity not in reads.KINDS:
        raise ConnectorError(f"szamlazz does not write {entity!r}")
    for item in items:
        if item.is_create:
            yield issue(client, item)
        else:
            yield UpsertResult.failed(
                item.key,
                f"{item.id} is issued and Számlázz.hu never edits an issued document: reverse "
                "it (storno) and issue a new one, or delete the proforma, in Számlázz.hu",
                item.id,
            )


def lookup_keys(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: one query by order number per key (the Agent has no search).
    All or nothing: a failed query raises ConnectorError. Credit entries carry no key (no
    LOOKUP declared): none is ever found."""
    if entity == "payment":
        return {}
    if entity not in reads.KINDS:
        raise ConnectorError(f"szamlazz does not write {entity!r}")
    proforma = entity == "quote"
    found: dict[str, str] = {}
    for key in dict.fromkeys(keys):
        record = reads.query(client, order_number=key)
        if record is not None and (record.get("tipus") == "D") == proforma:
            found[key] = str(record["szamlaszam"])
    return found


def delete_proformas(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """The ``delete`` hook, for proformas; one already gone counts as deleted."""
    if entity != "quote":
        raise ConnectorError(
            f"szamlazz cannot delete {entity!r}: an issued invoice is reversed (storno), "
            "never deleted"
        )
    settings = settings_of(client)
    for number in ids:
        pairs = [
            ("beallitasok", agent.credentials(settings)),
            ("fejlec", [("szamlaszam", number)]),
        ]
        try:
            # deleting twice is harmless (the second is "no such proforma"): repeatable
            agent.write(client, agent.DELETE_PROFORMA, pairs, repeatable=True)
        except AuthError:
            raise
        except OutcomeUnknown as error:
            yield UpsertResult.failed(number, str(error), number, unknown=True)
            continue
        except agent.AgentRefusal as refusal:
            if refusal.code != agent.NO_PROFORMA_CODE:
                yield UpsertResult.failed(number, str(refusal), number)
                continue
        except ConnectorError as error:
            yield UpsertResult.failed(number, str(error), number)
            continue
        yield UpsertResult(key=number, id=number)


def reverse(client: Client, number: str, on: date | None = None) -> str:
    """Reverse (storno) invoice ``number``: the number of the storno invoice issued.

    The Agent issues a negative copy in the same sequence and marks the original reversed.
    Raises AgentRefusal, AuthError or ConnectorError (OutcomeUnknown when the answer was
    lost: read the original back to see whether it is reversed before trying again).
    """
    settings = settings_of(client)
    pairs = [
        (
            "beallitasok",
            [
                *agent.credentials(settings),
                ("eszamla", settings.e_invoice),
                ("szamlaLetoltes", False),
                ("aggregator", "syncbridge"),
                ("valaszVerzio", 2),
            ],
        ),
        ("fejlec", [("szamlaszam", number), ("keltDatum", on), ("tipus", "SS")]),
    ]
    answer = agent.write(client, agent.REVERSE, pairs)
    return answer.header("szlahu_szamlaszam") or str(answer.body.get("szamlaszam") or "")


def credit(
    client: Client, number: str, amount: Decimal, on: date, title: str, note: str = ""
) -> Decimal:
    """Add a credit entry (payment) to invoice ``number``: what is still outstanding after it.

    Sent additively (``additiv=true``): the entries already there are kept.
    """
    settings = settings_of(client)
    pairs = [
        (
            "beallitasok",
            [
                *agent.credentials(settings),
                ("szamlaszam", number),
                ("additiv", True),
                ("aggregator", "syncbridge"),
                ("valaszVerzio", 2),
            ],
        ),
        (
            "kifizetes",
            [("datum", on), ("jogcim", title), ("osszeg", amount), ("leiras", note or None)],
        ),
    ]
    answer = agent.write(client, agent.PAY, pairs)
    outstanding = answer.header("szlahu_kintlevoseg") or str(answer.body.get("kintlevoseg") or "0")
    return Decimal(outstanding)
