"""The emulated Számla Agent: ``POST /szamla/``, one multipart file part per action.

A request goes through what the real Agent does, in order (README, "Emulator"):

1. a ``multipart/form-data`` body with one part whose field name is a known action (any
   filename, any or no Content-Type: published clients differ), else error 53;
2. the XML valid against the action's docs-inline XSD (:mod:`.schemas`), else error 57
   "XML beolvasási hiba" with the validator's reason;
3. credentials inside the XML: the Agent key, or user and password (unused ones may be sent
   empty, as szamlazz.py does), else error 3;
4. the action itself (:mod:`.ledger`), its refusals in-band with their codes.

Every answer is HTTP 200 (:mod:`.answers`); only the base's injected faults and the rate
limiter answer otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import Emulator, EmulatorOptions
from syncbridge_szamlazz import xmltree
from syncbridge_szamlazz.emulator import answers, receipts, schemas
from syncbridge_szamlazz.emulator.ledger import Item, Ledger, Payment, Refusal, today
from syncbridge_szamlazz.emulator.seed import populate

AGENT_KEY = "emulated-agent-key-0123456789abcdefghijklmnopqrst"
USERNAME = "konyvelo@example.com"
PASSWORD = "emulated-password"
PREFIXES = ("SBT", "WEB")

LOGIN_FAILED = (
    3,
    "Bejelentkezési hiba - a megadott login név és jelszó pároshoz nem létezik felhasználó",
)
_LISTS = ("tetel", "kifizetes")
#: the actions whose answers are always XML, and the root of that XML
ANSWER_ROOTS = {
    "xmlszamladbkdel": "xmlszamladbkdelvalasz",
    "xmlnyugtacreate": "xmlnyugtavalasz",
    "xmlnyugtaget": "xmlnyugtavalasz",
    "xmlnyugtast": "xmlnyugtavalasz",
    "xmlnyugtasend": "xmlnyugtasendvalasz",
}


def _decimal(value: Any, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value).strip() or default)
    except InvalidOperation:
        return Decimal(default)


def _date(value: Any) -> date | None:
    text = str(value or "").strip()
    return date.fromisoformat(text) if text else None


def _bool(value: Any) -> bool:
    return str(value or "").strip().lower() in ("true", "1")


class SzamlazzEmulator(Emulator):
    """One Számlázz.hu account behind the Agent URL."""

    system = "szamlazz"
    title = "Számlázz.hu Számla Agent"
    #: none enforced: the one published figure (500 invoices per 10 minutes, test
    #: environment) counts issued invoices, not requests, and the Agent's answer past it is
    #: not documented (README assumption 10); injected 429 bursts still answer 429
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    countries = ("HU",)

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.ledger = Ledger(PREFIXES)
        self.receipts = receipts.Receipts()
        super().__init__(options)

    # -- hooks --------------------------------------------------------------------------
    def populate(self) -> None:
        populate(self.ledger, self.fake, self.options.records)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/szamla/", self.agent, methods=["POST"]),
            Route("/szamla", self.agent, methods=["POST"]),
        ]

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": f"{base_url}/szamla/",
            "agent_key": AGENT_KEY,
            "prefix": PREFIXES[0],
            "first_year": today().year,
        }

    def error(self, status: int, message: str, **details: Any) -> Response:
        """The base's own errors (injected 500s, 429s, unknown paths) in the Agent's text
        form; ``szlahu_down`` marks the service as unavailable on 5xx."""
        response = answers.refusal(1 if status >= 500 else 53, message, xml_answer=False)
        response.status_code = status
        if status >= 500:
            response.headers["szlahu_down"] = "true"
        return response

    def rate_limit_key(self, request: Request) -> str:
        # credentials travel inside the XML: the emulator holds one account
        return "account"

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return self.error(429, "Túl sok kérés, kérjük próbálja újra később.")

    # -- the one endpoint ---------------------------------------------------------------
    async def agent(self, request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # not a multipart body at all
            form = None
        action, content = None, b""
        if form is not None:
            for name, value in form.multi_items():
                if name in schemas.ACTIONS:
                    action = name
                    if isinstance(value, UploadFile):
                        content = await value.read()
                    else:
                        content = str(value).encode()
                    break
        if action is None:
            return answers.refusal(53, "Hiányzó XML fájl. (RPC struktúra hiba)", xml_answer=False)
        root = schemas.ACTIONS[action]
        problem = schemas.problem(root, content)
        if problem is not None:
            return answers.refusal(57, f"XML beolvasási hiba. {problem}", xml_answer=False)
        _, body = xmltree.parse(content, _LISTS)
        settings = body.get("beallitasok", body)
        answer_root = ANSWER_ROOTS.get(root, "xmlszamlavalasz")
        # the answers of these always come as XML; the invoice actions' when asked
        xml_answer = root in ANSWER_ROOTS or str(settings.get("valaszVerzio", "")).strip() == "2"
        if not self._authenticated(settings):
            code, message = LOGIN_FAILED
            return answers.refusal(code, message, xml_answer, answer_root)
        try:
            if root.startswith("xmlnyugta"):
                return receipts.dispatch(self.receipts, root, body)
            return self._dispatch(root, body, settings, xml_answer)
        except Refusal as refused:
            return answers.refusal(refused.code, refused.message, xml_answer, answer_root)

    def _authenticated(self, settings: dict[str, Any]) -> bool:
        key = str(settings.get("szamlaagentkulcs") or "").strip()
        if key:
            return key == AGENT_KEY
        user = str(settings.get("felhasznalo") or "").strip()
        password = str(settings.get("jelszo") or "")
        return user == USERNAME and password == PASSWORD

    def _dispatch(
        self, root: str, body: dict[str, Any], settings: dict[str, Any], xml_answer: bool
    ) -> Response:
        ledger = self.ledger
        if root == "xmlszamla":
            document = ledger.issue(*self._fields(body))
            return answers.created(document, xml_answer, _bool(settings.get("szamlaLetoltes")))
        if root == "xmlszamlast":
            head = body["fejlec"]
            document = ledger.reverse(
                str(head["szamlaszam"]),
                _date(head.get("keltDatum")),
                _date(head.get("teljesitesDatum")),
            )
            return answers.created(document, xml_answer, _bool(settings.get("szamlaLetoltes")))
        if root == "xmlszamlakifiz":
            payments = [
                Payment(
                    day=_date(p["datum"]) or today(),
                    title=str(p["jogcim"]),
                    amount=_decimal(p["osszeg"]),
                    comment=str(p.get("leiras") or ""),
                )
                for p in body.get("kifizetes", [])
            ]
            document = ledger.pay(str(settings["szamlaszam"]), payments, _bool(settings["additiv"]))
            return answers.created(document, xml_answer, with_pdf=False)
        if root == "xmlszamlaxml":
            document = ledger.find(
                str(body.get("szamlaszam") or ""),
                str(body.get("rendelesSzam") or ""),
                str(body.get("szamlaKulsoAzon") or ""),
            )
            content = answers.szamla(document, _bool(body.get("pdf")))
            return Response(content, 200, answers.success_headers(document), media_type=answers.XML)
        if root == "xmlszamlapdf":
            document = ledger.find(
                str(body.get("szamlaszam") or ""),
                str(body.get("rendelesSzam") or ""),
                str(body.get("szamlaKulsoAzon") or ""),
            )
            return answers.pdf_answer(document, xml_answer)
        if root == "xmlszamladbkdel":
            head = body.get("fejlec", {})
            ledger.delete_proforma(
                str(head.get("szamlaszam") or ""), str(head.get("rendelesszam") or "")
            )
            return answers.deleted()
        raise Refusal(
            53, f"A(z) {root} művelet ezen a felületen nem érhető el (az emulátor nem kezeli)."
        )

    def _fields(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """A create request's document fields, and the prefix to number it with."""
        settings, head, buyer = body["beallitasok"], body["fejlec"], body["vevo"]
        proforma = _bool(head.get("dijbekero"))
        prefix = self.ledger.prefix(str(head.get("szamlaszamElotag") or "").strip())
        items = [
            Item(
                name=str(t["megnevezes"]),
                code=str(t.get("azonosito") or ""),
                quantity=_decimal(t["mennyiseg"]),
                unit=str(t["mennyisegiEgyseg"]),
                unit_price=_decimal(t["nettoEgysegar"]),
                vat_key=str(t["afakulcs"]).strip(),
                net=_decimal(t["nettoErtek"]),
                vat=_decimal(t["afaErtek"]),
                gross=_decimal(t["bruttoErtek"]),
                comment=str(t.get("megjegyzes") or ""),
            )
            for t in body["tetelek"].get("tetel", [])
        ]
        issued = _date(head.get("keltDatum")) or today()
        fields = {
            "kind": "D" if proforma else "SZ",
            "e_invoice": _bool(settings.get("eszamla")),
            "issued": issued,
            "fulfilled": _date(head["teljesitesDatum"]) or issued,
            "due": _date(head["fizetesiHataridoDatum"]) or issued,
            "payment_method": str(head["fizmod"]),
            "currency": str(head["penznem"]).strip() or "HUF",
            "language": str(head["szamlaNyelve"]),
            "notes": str(head.get("megjegyzes") or ""),
            "order_number": str(head.get("rendelesSzam") or "").strip(),
            "external_id": str(settings.get("szamlaKulsoAzon") or "").strip(),
            "buyer": {
                name: str(buyer.get(name) or "")
                for name in (
                    "nev",
                    "orszag",
                    "irsz",
                    "telepules",
                    "cim",
                    "email",
                    "adoszam",
                    "adoszamEU",
                    "azonosito",
                    "telefonszam",
                )
            },
            "items": items,
            "paid_at_issue": _bool(head.get("fizetve")),
        }
        return fields, prefix


def create_app(options: EmulatorOptions) -> SzamlazzEmulator:
    """The entry point ``syncbridge.emulators: szamlazz``."""
    return SzamlazzEmulator(options)
