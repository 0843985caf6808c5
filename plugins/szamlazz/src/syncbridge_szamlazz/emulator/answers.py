"""The Agent's answers, in the shapes of its published examples (``responses/``).

* Every answer is HTTP 200. Success headers: ``szlahu_szamlaszam``, ``szlahu_id``,
  ``szlahu_nettovegosszeg``, ``szlahu_bruttovegosszeg``, ``szlahu_kintlevoseg``,
  ``szlahu_vevoifiokurl`` (URL-encoded); a refusal: ``szlahu_error`` (URL-encoded, ``+`` for
  spaces, as Java's URLEncoder writes it) and ``szlahu_error_code``.
* A request with ``valaszVerzio=2`` gets an ``xmlszamlavalasz`` document served as
  ``application/octet-stream`` (what szamlazz.py checks for before parsing XML); one without
  gets the PDF itself, or the Agent's text answers (``xmlagentresponse=DONE;<number>``, or a
  refusal's ``[ERR] ...`` text with a Java stack trace under it).
* Queries answer the ``szamla`` document of ``responses/szamla.xsd`` (every element the XSD
  requires, in its order; the published example omits some of them).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from urllib.parse import quote_plus

from starlette.responses import Response

from syncbridge_szamlazz import xmltree
from syncbridge_szamlazz.emulator import pdf
from syncbridge_szamlazz.emulator.ledger import Document, key_percent

XML = "application/octet-stream"
#: the seller: the emulated account's company
SELLER = {
    "id": 201,
    "nev": "Syncbridge Teszt Kft.",
    "orszag": "Magyarország",
    "irsz": "1086",
    "telepules": "Budapest",
    "cim": "Szerdahelyi utca 4-8",
    "adoszam": "12892312-2-42",
    "bank": "OTP Bank",
    "bankszamla": "11773016-11111018-00000000",
}
_UNIFIED = {"átutalás", "készpénz", "bankkártya", "csekk", "utánvét", "PayPal", "barion"}
#: the tail of every text-mode refusal: the Agent's Java stack trace (as published)
_TRACE = (
    "---------- [CEG:978] [MODUL:SZAMLAZZGUI] "
    "[INSTANCE:hu.kboss.szamlazz.gui.action.AcXmlSzamla]\n"
    "hu.kboss.szamlazz.controller.Controller.executeAction(Controller.java:715)\n"
    "hu.kboss.szamlazz.controller.Controller.doPost(Controller.java:639)\n"
    "javax.servlet.http.HttpServlet.service(HttpServlet.java:641)\n"
)


def number_text(value: Decimal) -> str:
    """An amount as the Agent prints it: no trailing zeros, no exponent."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def error_headers(code: int, message: str) -> dict[str, str]:
    return {"szlahu_error": quote_plus(message), "szlahu_error_code": str(code)}


def refusal(code: int, message: str, xml_answer: bool, root: str = "xmlszamlavalasz") -> Response:
    """A refusal: the XML answer or the text one, with the error headers either way."""
    headers = error_headers(code, message)
    if xml_answer:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{root} xmlns="http://www.szamlazz.hu/{root}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            "  <sikeres>false</sikeres>\n"
            f"  <hibakod>{code}</hibakod>\n"
            f"  <hibauzenet><![CDATA[{message}]]></hibauzenet>\n"
            f"</{root}>\n"
        )
        return Response(body.encode(), 200, headers, media_type=XML)
    text = f"[ERR] {message} ---------- t.getMessage(): {message} {_TRACE}"
    return Response(text.encode(), 200, headers, media_type="text/plain; charset=UTF-8")


def buyer_url(document: Document) -> str:
    return (
        "https://www.szamlazz.hu/szamla/?page=vevoifiokpay"
        f"&partguid=p{document.id:014d}&szfejguid=s{document.id:020d}"
    )


def success_headers(document: Document) -> dict[str, str]:
    return {
        "szlahu_szamlaszam": document.number,
        "szlahu_id": str(document.id),
        "szlahu_nettovegosszeg": number_text(document.net),
        "szlahu_bruttovegosszeg": number_text(document.gross),
        "szlahu_kintlevoseg": number_text(document.outstanding),
        "szlahu_vevoifiokurl": quote_plus(buyer_url(document)),
    }


def document_pdf(document: Document) -> bytes:
    """The document's PDF: number, parties, items and totals."""
    title = {"D": "Díjbekérő", "SS": "Sztornó számla"}.get(document.kind, "Számla")
    lines = [
        f"Számlaszám: {document.number}",
        f"Eladó: {SELLER['nev']}, {SELLER['irsz']} {SELLER['telepules']}, {SELLER['cim']}",
        f"Vevő: {document.buyer.get('nev', '')}, {document.buyer.get('irsz', '')} "
        f"{document.buyer.get('telepules', '')}, {document.buyer.get('cim', '')}",
        f"Kelt: {document.issued}  Teljesítés: {document.fulfilled}  "
        f"Fizetési határidő: {document.due}",
        "",
    ]
    for item in document.items:
        lines.append(
            f"{item.name}: {number_text(item.quantity)} {item.unit} x "
            f"{number_text(item.unit_price)} = {number_text(item.net)} + ÁFA "
            f"{item.vat_key} {number_text(item.vat)} = {number_text(item.gross)}"
        )
    lines += [
        "",
        f"Nettó: {number_text(document.net)} {document.currency}",
        f"ÁFA: {number_text(document.vat)} {document.currency}",
        f"Bruttó: {number_text(document.gross)} {document.currency}",
    ]
    return pdf.render(f"{title} {document.number}", lines)


def created(
    document: Document, xml_answer: bool, with_pdf: bool, account_url: bool = True
) -> Response:
    """The answer to a create, a storno or a credit entry."""
    headers = success_headers(document)
    if not xml_answer:
        if with_pdf:
            return Response(document_pdf(document), 200, headers, media_type="application/pdf")
        text = f"xmlagentresponse=DONE;{document.number}"
        return Response(text.encode(), 200, headers, media_type="text/plain; charset=UTF-8")
    pairs: list[tuple[str, xmltree.Value]] = [
        ("sikeres", True),
        ("szamlaszam", document.number),
        ("szamlanetto", number_text(document.net)),
        ("szamlabrutto", number_text(document.gross)),
    ]
    if account_url:
        pairs += [
            ("kintlevoseg", number_text(document.outstanding)),
            ("vevoifiokurl", buyer_url(document)),
        ]
    if with_pdf:
        pairs.append(("pdf", base64.b64encode(document_pdf(document)).decode()))
    body = xmltree.render("xmlszamlavalasz", "http://www.szamlazz.hu/xmlszamlavalasz", pairs)
    return Response(body, 200, headers, media_type=XML)


def pdf_answer(document: Document, xml_answer: bool) -> Response:
    """``action-szamla_agent_pdf``: the PDF, raw or base64 in an ``xmlszamlavalasz``."""
    headers = success_headers(document)
    if not xml_answer:
        return Response(document_pdf(document), 200, headers, media_type="application/pdf")
    body = xmltree.render(
        "xmlszamlavalasz",
        "http://www.szamlazz.hu/xmlszamlavalasz",
        [
            ("sikeres", True),
            ("szamlaszam", document.number),
            ("szamlanetto", number_text(document.net)),
            ("szamlabrutto", number_text(document.gross)),
            ("pdf", base64.b64encode(document_pdf(document)).decode()),
        ],
    )
    return Response(body, 200, headers, media_type=XML)


def deleted() -> Response:
    body = xmltree.render(
        "xmlszamladbkdelvalasz", "http://www.szamlazz.hu/xmlszamladbkdelvalasz", [("sikeres", True)]
    )
    return Response(body, 200, media_type=XML)


def _unified(method: str) -> str:
    lowered = method.strip().lower()
    for name in _UNIFIED:
        if name.lower() == lowered:
            return name
    return "egyéb"


def _vat_pairs(key: str) -> list[tuple[str, xmltree.Value]]:
    """``afatipus`` (a code) before ``afakulcs`` (the number), as the query schema orders them."""
    percent = key_percent(key)
    code = None if key in ("27", "18", "5", "0") else key
    return [("afatipus", code), ("afakulcs", number_text(percent))]


def szamla(document: Document, with_pdf: bool) -> bytes:
    """``action-szamla_agent_xml``'s answer: the ``szamla`` document."""
    buyer = document.buyer
    totals: dict[str, list[Decimal]] = {}
    for item in document.items:
        sums = totals.setdefault(item.vat_key, [Decimal(0)] * 3)
        sums[0] += item.net
        sums[1] += item.vat
        sums[2] += item.gross
    paid = [
        (
            "kifizetes",
            [
                ("datum", payment.day),
                ("jogcim", payment.title),
                ("osszeg", number_text(payment.amount)),
                ("megjegyzes", payment.comment or None),
            ],
        )
        for payment in document.payments
    ]
    pairs: list[tuple[str, xmltree.Value]] = [
        (
            "szallito",
            [
                ("id", SELLER["id"]),
                ("nev", SELLER["nev"]),
                (
                    "cim",
                    [
                        ("orszag", SELLER["orszag"]),
                        ("irsz", SELLER["irsz"]),
                        ("telepules", SELLER["telepules"]),
                        ("cim", SELLER["cim"]),
                    ],
                ),
                ("adoszam", SELLER["adoszam"]),
                ("bank", [("nev", SELLER["bank"]), ("bankszamla", SELLER["bankszamla"])]),
            ],
        ),
        (
            "alap",
            [
                ("id", document.id),
                ("szamlaszam", document.number),
                ("gazdEsemAzon", document.id * 7),
                ("tipus", document.kind),
                ("eszamla", 1 if document.e_invoice else 0),
                ("hivszamlaszam", document.refers_to or None),
                ("kelt", document.issued),
                ("telj", document.fulfilled),
                ("fizh", document.due),
                ("fizmod", document.payment_method),
                ("fizmodunified", _unified(document.payment_method)),
                ("keszpenz", _unified(document.payment_method) == "készpénz"),
                ("rendelesszam", document.order_number or None),
                ("nyelv", document.language),
                ("devizanem", document.currency),
                ("megjegyzes", document.notes),
                ("penzforg", False),
                ("kata", False),
                ("katafokonyv", False),
                ("email", "seller@example.com"),
                ("teszt", False),
                ("sztornozott", True if document.reversed else None),
            ],
        ),
        (
            "vevo",
            [
                ("id", 220000 + document.id),
                ("nev", buyer.get("nev", "")),
                ("azonosito", buyer.get("azonosito") or None),
                (
                    "cim",
                    [
                        ("orszag", buyer.get("orszag") or None),
                        ("irsz", buyer.get("irsz", "")),
                        ("telepules", buyer.get("telepules", "")),
                        ("cim", buyer.get("cim", "")),
                    ],
                ),
                ("email", buyer.get("email") or None),
                ("adoszam", buyer.get("adoszam", "")),
                ("adoszameu", buyer.get("adoszamEU") or None),
                ("lokacio", 1),
                ("privatePersonIndicator", not buyer.get("adoszam")),
            ],
        ),
        (
            "tetelek",
            [
                (
                    "tetel",
                    [
                        ("nev", item.name),
                        ("azonosito", item.code or None),
                        ("mennyiseg", number_text(item.quantity)),
                        ("mennyisegiegyseg", item.unit),
                        ("nettoegysegar", number_text(item.unit_price)),
                        *_vat_pairs(item.vat_key),
                        ("netto", number_text(item.net)),
                        ("afa", number_text(item.vat)),
                        ("brutto", number_text(item.gross)),
                        ("megjegyzes", item.comment or None),
                        ("sztetordering", position),
                    ],
                )
                for position, item in enumerate(document.items, start=1)
            ],
        ),
        (
            "osszegek",
            [
                *(
                    (
                        "afakulcsossz",
                        [
                            *_vat_pairs(key),
                            ("netto", number_text(sums[0])),
                            ("afa", number_text(sums[1])),
                            ("brutto", number_text(sums[2])),
                        ],
                    )
                    for key, sums in totals.items()
                ),
                (
                    "totalossz",
                    [
                        ("netto", number_text(document.net)),
                        ("afa", number_text(document.vat)),
                        ("brutto", number_text(document.gross)),
                    ],
                ),
            ],
        ),
        ("kifizetesek", paid or None),
        ("pdf", base64.b64encode(document_pdf(document)).decode() if with_pdf else None),
    ]
    return xmltree.render("szamla", "http://www.szamlazz.hu/szamla", pairs)
