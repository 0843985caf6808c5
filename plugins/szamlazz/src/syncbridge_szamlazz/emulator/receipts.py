"""Receipts (nyugta): create, get, storno and send, answered as ``xmlnyugtavalasz``.

A receipt is numbered ``<elotag>-<year>-<n>`` in its prefix's sequence (the published example
is ``NYGT-2017-123``); a storno receipt (type ``SN``) takes the next number and marks the
original ``stornozott``. The call id (``hivasAzonosito``) makes a create idempotent: a second
create with the same call id is refused with error 338 (README assumption 20). Receipts always
answer in XML (there is no ``valaszVerzio``), with the error headers on a refusal, as the
invoice actions do. Sending one by e-mail needs the subject (error 7, "Hiányzó adat:
emailtargy elem.", the published example).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from syncbridge_szamlazz import xmltree
from syncbridge_szamlazz.emulator import answers
from syncbridge_szamlazz.emulator.ledger import (
    DEFAULT_TOLERANCE,
    TOLERANCE,
    Refusal,
    key_percent,
    today,
)
from syncbridge_szamlazz.emulator.pdf import render

RECEIPT_NS = "http://www.szamlazz.hu/xmlnyugtavalasz"
SEND_NS = "http://www.szamlazz.hu/xmlnyugtasendvalasz"


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value).strip() or "0")


@dataclass
class Receipt:
    id: int
    number: str
    kind: str  # NY receipt, SN storno receipt
    call_id: str
    issued: Any
    payment_method: str
    currency: str
    notes: str
    order_number: str
    items: list[dict[str, Any]]
    payments: list[dict[str, Any]] = field(default_factory=list)
    reversed: bool = False
    reverses: str = ""


class Receipts:
    """The account's receipts, by number."""

    def __init__(self) -> None:
        self.receipts: dict[str, Receipt] = {}
        self._counters: dict[tuple[str, int], int] = {}
        self._next_id = 5000

    def _number(self, prefix: str) -> str:
        year = today().year
        n = self._counters.get((prefix, year), 0) + 1
        self._counters[(prefix, year)] = n
        return f"{prefix}-{year}-{n}"

    def create(self, body: dict[str, Any]) -> Receipt:
        head = body["fejlec"]
        call_id = str(head.get("hivasAzonosito") or "").strip()
        if call_id and any(r.call_id == call_id for r in self.receipts.values()):
            raise Refusal(338, f"A megadott hívásazonosítóval már létezik nyugta: {call_id}.")
        currency = str(head["penznem"]).strip() or "HUF"
        tolerance = TOLERANCE.get(currency, DEFAULT_TOLERANCE)
        items = []
        for number, item in enumerate(body["tetelek"].get("tetel", []), start=1):
            quantity, price = _decimal(item["mennyiseg"]), _decimal(item["nettoEgysegar"])
            net, vat, gross = (_decimal(item[name]) for name in ("netto", "afa", "brutto"))
            key = str(item["afakulcs"]).strip()
            if abs(net - quantity * price) > tolerance:
                raise Refusal(259, f"A(z) {number}. tétel nettó értéke nem megfelelő: {net}")
            if abs(vat - net * key_percent(key) / 100) > tolerance:
                raise Refusal(260, f"A(z) {number}. tétel ÁFA értéke nem megfelelő: {vat}")
            if abs(gross - net - vat) > tolerance:
                raise Refusal(261, f"A(z) {number}. tétel bruttó értéke nem megfelelő: {gross}")
            items.append(
                {
                    "name": str(item["megnevezes"]),
                    "code": str(item.get("azonosito") or ""),
                    "quantity": quantity,
                    "unit": str(item["mennyisegiEgyseg"]),
                    "price": price,
                    "key": key,
                    "net": net,
                    "vat": vat,
                    "gross": gross,
                }
            )
        payments = [
            {
                "method": str(p["fizetoeszkoz"]),
                "amount": _decimal(p["osszeg"]),
                "note": str(p.get("leiras") or ""),
            }
            for p in (body.get("kifizetesek") or {}).get("kifizetes", [])
        ]
        self._next_id += 1
        receipt = Receipt(
            id=self._next_id,
            number=self._number(str(head["elotag"]).strip() or "NYGT"),
            kind="NY",
            call_id=call_id,
            issued=today(),
            payment_method=str(head["fizmod"]),
            currency=currency,
            notes=str(head.get("megjegyzes") or ""),
            order_number=str(head.get("rendelesSzam") or ""),
            items=items,
            payments=payments,
        )
        self.receipts[receipt.number] = receipt
        return receipt

    def get(self, number: str, order: str = "", call_id: str = "") -> Receipt:
        for receipt in sorted(self.receipts.values(), key=lambda r: -r.id):
            if (number and receipt.number == number) or (
                not number
                and (
                    (order and receipt.order_number == order)
                    or (call_id and receipt.call_id == call_id)
                )
            ):
                return receipt
        raise Refusal(7, f"Hiányzó adat: nincs ilyen nyugta ({number or order or call_id}).")

    def reverse(self, number: str, call_id: str) -> Receipt:
        original = self.get(number)
        if original.kind != "NY" or original.reversed:
            raise Refusal(7, f"Hiányzó adat: a(z) {number} nyugta nem sztornózható.")
        prefix = original.number.rsplit("-", 2)[0]
        self._next_id += 1
        storno = Receipt(
            id=self._next_id,
            number=self._number(prefix),
            kind="SN",
            call_id=call_id,
            issued=today(),
            payment_method=original.payment_method,
            currency=original.currency,
            notes="",
            order_number="",
            items=[
                {
                    **i,
                    "quantity": -i["quantity"],
                    "net": -i["net"],
                    "vat": -i["vat"],
                    "gross": -i["gross"],
                }
                for i in original.items
            ],
            reverses=original.number,
        )
        original.reversed = True
        self.receipts[storno.number] = storno
        return storno


def _vat(key: str) -> list[tuple[str, Any]]:
    code = None if key.replace(".", "").isdigit() else key
    return [("afatipus", code), ("afakulcs", answers.number_text(key_percent(key)))]


def receipt_pdf(receipt: Receipt) -> bytes:
    gross = sum((i["gross"] for i in receipt.items), Decimal(0))
    lines = [f"{i['name']}: {answers.number_text(i['gross'])}" for i in receipt.items]
    return render(f"Nyugta {receipt.number}", [*lines, f"Összesen: {answers.number_text(gross)}"])


def answer(receipt: Receipt, with_pdf: bool) -> Response:
    """``xmlnyugtavalasz`` with the receipt."""
    totals: dict[str, list[Decimal]] = {}
    for item in receipt.items:
        sums = totals.setdefault(item["key"], [Decimal(0)] * 3)
        sums[0] += item["net"]
        sums[1] += item["vat"]
        sums[2] += item["gross"]
    n = answers.number_text
    pairs: list[tuple[str, Any]] = [
        ("sikeres", True),
        ("nyugtaPdf", base64.b64encode(receipt_pdf(receipt)).decode() if with_pdf else None),
        (
            "nyugta",
            [
                (
                    "alap",
                    [
                        ("id", receipt.id),
                        ("hivasAzonosito", receipt.call_id or None),
                        ("nyugtaszam", receipt.number),
                        ("tipus", receipt.kind),
                        ("stornozott", receipt.reversed),
                        ("stornozottNyugtaszam", receipt.reverses or None),
                        ("kelt", receipt.issued),
                        ("fizmod", receipt.payment_method),
                        ("penznem", receipt.currency),
                        ("megjegyzes", receipt.notes or None),
                        ("teszt", False),
                        ("rendelesSzam", receipt.order_number or None),
                    ],
                ),
                (
                    "tetelek",
                    [
                        (
                            "tetel",
                            [
                                ("megnevezes", i["name"]),
                                ("azonosito", i["code"] or None),
                                ("nettoEgysegar", n(i["price"])),
                                ("mennyiseg", n(i["quantity"])),
                                ("mennyisegiEgyseg", i["unit"]),
                                ("netto", n(i["net"])),
                                *_vat(i["key"]),
                                ("afa", n(i["vat"])),
                                ("brutto", n(i["gross"])),
                            ],
                        )
                        for i in receipt.items
                    ],
                ),
                (
                    "kifizetesek",
                    [
                        (
                            "kifizetes",
                            [
                                ("fizetoeszkoz", p["method"]),
                                ("osszeg", n(p["amount"])),
                                ("leiras", p["note"] or None),
                            ],
                        )
                        for p in receipt.payments
                    ]
                    or None,
                ),
                (
                    "osszegek",
                    [
                        *(
                            (
                                "afakulcsossz",
                                [
                                    *_vat(key),
                                    ("netto", n(s[0])),
                                    ("afa", n(s[1])),
                                    ("brutto", n(s[2])),
                                ],
                            )
                            for key, s in totals.items()
                        ),
                        (
                            "totalossz",
                            [
                                ("netto", n(sum((s[0] for s in totals.values()), Decimal(0)))),
                                ("afa", n(sum((s[1] for s in totals.values()), Decimal(0)))),
                                ("brutto", n(sum((s[2] for s in totals.values()), Decimal(0)))),
                            ],
                        ),
                    ],
                ),
            ],
        ),
    ]
    return Response(
        xmltree.render("xmlnyugtavalasz", RECEIPT_NS, pairs), 200, media_type=answers.XML
    )


def sent() -> Response:
    body = xmltree.render("xmlnyugtasendvalasz", SEND_NS, [("sikeres", True)])
    return Response(body, 200, media_type=answers.XML)


def dispatch(receipts: Receipts, root: str, body: dict[str, Any]) -> Response:
    """The receipt actions (``root`` is the request's root element)."""
    settings, head = body["beallitasok"], body["fejlec"]
    with_pdf = str(settings.get("pdfLetoltes", "")).strip().lower() == "true"
    if root == "xmlnyugtacreate":
        return answer(receipts.create(body), with_pdf)
    if root == "xmlnyugtaget":
        found = receipts.get(
            str(head.get("nyugtaszam") or ""),
            str(head.get("rendelesSzam") or ""),
            str(head.get("hivasAzonosito") or ""),
        )
        return answer(found, with_pdf)
    if root == "xmlnyugtast":
        storno = receipts.reverse(str(head["nyugtaszam"]), str(head.get("hivasAzonosito") or ""))
        return answer(storno, with_pdf)
    receipts.get(str(head["nyugtaszam"]))
    mail = body.get("emailKuldes") or {}
    if not str(mail.get("emailTargy") or "").strip():
        raise Refusal(7, "Hiányzó adat: emailtargy elem.")
    return sent()
