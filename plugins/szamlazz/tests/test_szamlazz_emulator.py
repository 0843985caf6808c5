"""The emulated Agent over real HTTP: validation, auth, answer shapes, PDFs, numbering,
duplicates, storno, credit entries and proforma deletes, as raw multipart requests."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from urllib.parse import unquote_plus

import httpx
import pypdf
import xmlschema

from syncbridge_szamlazz.emulator import AGENT_KEY, PASSWORD, USERNAME
from syncbridge_szamlazz.emulator.schemas import XSD_DIR

from .conftest import YEAR, Agent, invoice_xml, query_xml

VALASZ = "{http://www.szamlazz.hu/xmlszamlavalasz}"
SZAMLA = "{http://www.szamlazz.hu/szamla}"
CREATE = "action-xmlagentxmlfile"
QUERY = "action-szamla_agent_xml"


def _tag(response: httpx.Response, name: str, ns: str = VALASZ) -> str | None:
    found = ET.fromstring(response.content).find(f"{ns}{name}")
    return None if found is None else found.text


def _error(response: httpx.Response) -> tuple[str, str]:
    return response.headers["szlahu_error_code"], unquote_plus(response.headers["szlahu_error"])


def test_an_invoice_is_issued_with_the_xml_answer(agent: Agent) -> None:
    response = agent.post(CREATE, invoice_xml(order="A-1"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    number = f"SBT-{YEAR}-4"  # three seeded invoices come first
    assert _tag(response, "sikeres") == "true"
    assert _tag(response, "szamlaszam") == number
    assert (_tag(response, "szamlanetto"), _tag(response, "szamlabrutto")) == ("10000", "12700")
    assert response.headers["szlahu_szamlaszam"] == number
    assert response.headers["szlahu_nettovegosszeg"] == "10000"
    assert response.headers["szlahu_bruttovegosszeg"] == "12700"
    assert response.headers["szlahu_kintlevoseg"] == "12700"
    assert "szlahu_error" not in response.headers


def test_numbers_follow_each_sequence_and_prefix(agent: Agent) -> None:
    numbers = [
        agent.post(CREATE, invoice_xml()).headers["szlahu_szamlaszam"],
        agent.post(CREATE, invoice_xml()).headers["szlahu_szamlaszam"],
        agent.post(CREATE, invoice_xml(prefix="WEB")).headers["szlahu_szamlaszam"],
        agent.post(CREATE, invoice_xml(proforma=True)).headers["szlahu_szamlaszam"],
    ]
    assert numbers == [f"SBT-{YEAR}-4", f"SBT-{YEAR}-5", f"WEB-{YEAR}-1", f"D-SBT-{YEAR}-4"]


def test_an_unregistered_prefix_is_refused(agent: Agent) -> None:
    response = agent.post(CREATE, invoice_xml(prefix="NOPE"))
    code, message = _error(response)
    assert code == "202"
    assert message.startswith("A megadott számlaszám előtag (NOPE) nem használható")
    assert _tag(response, "sikeres") == "false"
    assert _tag(response, "hibakod") == "202"


def test_a_request_failing_its_xsd_gets_error_57(agent: Agent) -> None:
    bad = invoice_xml().replace("<szamlaNyelve>hu</szamlaNyelve>", "")
    response = agent.post(CREATE, bad)
    code, message = _error(response)
    assert code == "57"
    assert message.startswith("XML beolvasási hiba.")
    assert "szamlaNyelve" in message
    assert response.text.startswith("[ERR] XML beolvasási hiba.")


def test_elements_out_of_schema_order_are_refused(agent: Agent) -> None:
    swapped = invoice_xml().replace(
        "<irsz>2030</irsz>\n    <telepules>Érd</telepules>",
        "<telepules>Érd</telepules>\n    <irsz>2030</irsz>",
    )
    assert _error(agent.post(CREATE, swapped))[0] == "57"


def test_what_published_clients_send_is_accepted(agent: Agent) -> None:
    """Empty credentials beside the key, an empty csoportazonosito (docs-inline XSD only),
    ``<arfolyam>0.0</arfolyam>``, and either filename style, or none."""
    for filename in ("action-xmlagentxmlfile", "request.xml", "invoice.xml", None):
        response = agent.post(CREATE, invoice_xml(), filename=filename)
        assert "szlahu_error" not in response.headers, (filename, response.headers)


def test_wrong_credentials_get_error_3(agent: Agent) -> None:
    response = agent.post(CREATE, invoice_xml(key="not-the-key"))
    assert response.status_code == 200
    assert _error(response) == (
        "3",
        "Bejelentkezési hiba - a megadott login név és jelszó pároshoz nem létezik felhasználó",
    )
    assert _tag(response, "hibakod") == "3"


def test_a_user_and_password_log_in_too(agent: Agent) -> None:
    xml = invoice_xml(key="").replace(
        "<felhasznalo></felhasznalo>\n    <jelszo></jelszo>",
        f"<felhasznalo>{USERNAME}</felhasznalo>\n    <jelszo>{PASSWORD}</jelszo>",
    )
    assert "szlahu_error" not in agent.post(CREATE, xml).headers
    wrong = xml.replace(PASSWORD, "guess")
    assert _error(agent.post(CREATE, wrong))[0] == "3"


def test_a_repeated_order_number_is_refused(agent: Agent) -> None:
    agent.post(CREATE, invoice_xml(order="ORDER-9"))
    response = agent.post(CREATE, invoice_xml(order="ORDER-9"))
    assert _error(response) == ("71", "Már létező rendelésszám: ORDER-9.")
    text = agent.post(CREATE, invoice_xml(order="ORDER-9", response_version=1))
    assert text.text.startswith("[ERR] Már létező rendelésszám: ORDER-9.")
    assert len([n for n in agent.emulator.ledger.documents if n.startswith("SBT-")]) == 4


def test_amounts_that_do_not_add_up_are_refused(agent: Agent) -> None:
    assert _error(agent.post(CREATE, invoice_xml(net="9000")))[0] == "259"
    assert _error(agent.post(CREATE, invoice_xml(vat="2000")))[0] == "260"
    assert _error(agent.post(CREATE, invoice_xml(gross="13000")))[0] == "261"
    # within the rounding tolerance of 2 HUF
    assert "szlahu_error" not in agent.post(CREATE, invoice_xml(vat="2701", gross="12701")).headers


def test_the_pdf_is_a_real_pdf(agent: Agent) -> None:
    raw = agent.post(CREATE, invoice_xml(response_version=1, download=True))
    assert raw.headers["content-type"] == "application/pdf"
    number = raw.headers["szlahu_szamlaszam"]
    text = pypdf.PdfReader(io.BytesIO(raw.content)).pages[0].extract_text()
    assert f"Számla {number}" in text and "Bruttó: 12700 HUF" in text
    wrapped = agent.post(CREATE, invoice_xml(download=True))
    pdf = base64.b64decode(_tag(wrapped, "pdf") or "")
    assert pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().startswith("Számla")


def test_the_query_answer_is_valid_against_the_published_schema(agent: Agent) -> None:
    response = agent.post(QUERY, query_xml(f"SBT-{YEAR}-1", pdf=True))
    assert response.headers["content-type"] == "application/octet-stream"
    schema = xmlschema.XMLSchema(str(XSD_DIR / "szamla.xsd"))
    schema.validate(response.content)
    assert _tag(response, "pdf", SZAMLA)


def test_an_unknown_number_is_reported_in_band(agent: Agent) -> None:
    response = agent.post(QUERY, query_xml("SBT-1999-1"))
    assert response.status_code == 200
    assert _error(response) == ("7", "Hiányzó adat: nincs ilyen számla a rendszerben (SBT-1999-1).")


def test_storno_issues_a_negative_invoice_and_marks_the_original(agent: Agent) -> None:
    number = agent.post(CREATE, invoice_xml()).headers["szlahu_szamlaszam"]
    storno = f"""<?xml version="1.0" encoding="UTF-8"?>
<xmlszamlast xmlns="http://www.szamlazz.hu/xmlszamlast">
  <beallitasok><szamlaagentkulcs>{AGENT_KEY}</szamlaagentkulcs><eszamla>false</eszamla>
  <szamlaLetoltes>false</szamlaLetoltes><valaszVerzio>2</valaszVerzio></beallitasok>
  <fejlec><szamlaszam>{number}</szamlaszam><tipus>SS</tipus></fejlec>
</xmlszamlast>"""
    response = agent.post("action-szamla_agent_st", storno)
    assert _tag(response, "sikeres") == "true"
    assert _tag(response, "szamlaszam") == f"SBT-{YEAR}-5"
    assert _tag(response, "szamlabrutto") == "-12700"
    original = agent.post(QUERY, query_xml(number))
    assert ET.fromstring(original.content).findtext(f"{SZAMLA}alap/{SZAMLA}sztornozott") == "true"
    again = agent.post("action-szamla_agent_st", storno)
    assert _error(again)[0] == "7"


def test_a_credit_entry_lowers_what_is_outstanding(agent: Agent) -> None:
    number = agent.post(CREATE, invoice_xml()).headers["szlahu_szamlaszam"]
    pay = f"""<?xml version="1.0" encoding="UTF-8"?>
<xmlszamlakifiz xmlns="http://www.szamlazz.hu/xmlszamlakifiz">
  <beallitasok><szamlaagentkulcs>{AGENT_KEY}</szamlaagentkulcs><szamlaszam>{number}</szamlaszam>
  <additiv>true</additiv><valaszVerzio>2</valaszVerzio></beallitasok>
  <kifizetes><datum>{YEAR}-03-05</datum><jogcim>Átutalás</jogcim><osszeg>2700</osszeg></kifizetes>
</xmlszamlakifiz>"""
    response = agent.post("action-szamla_agent_kifiz", pay)
    assert _tag(response, "kintlevoseg") == "10000"
    assert response.headers["szlahu_kintlevoseg"] == "10000"
    paid = ET.fromstring(agent.post(QUERY, query_xml(number)).content)
    assert paid.findtext(f"{SZAMLA}kifizetesek/{SZAMLA}kifizetes/{SZAMLA}osszeg") == "2700"


def test_a_proforma_is_deleted_once(agent: Agent) -> None:
    number = agent.post(CREATE, invoice_xml(proforma=True)).headers["szlahu_szamlaszam"]
    delete = f"""<?xml version="1.0" encoding="UTF-8"?>
<xmlszamladbkdel xmlns="http://www.szamlazz.hu/xmlszamladbkdel">
  <beallitasok><szamlaagentkulcs>{AGENT_KEY}</szamlaagentkulcs></beallitasok>
  <fejlec><szamlaszam>{number}</szamlaszam></fejlec>
</xmlszamladbkdel>"""
    ns = "{http://www.szamlazz.hu/xmlszamladbkdelvalasz}"
    first = agent.post("action-szamla_agent_dijbekero_torlese", delete)
    assert _tag(first, "sikeres", ns) == "true"
    xmlschema.XMLSchema(str(XSD_DIR / "xmlszamladbkdelvalasz.xsd")).validate(first.content)
    second = agent.post("action-szamla_agent_dijbekero_torlese", delete)
    assert _tag(second, "hibakod", ns) == "335"
    assert _tag(second, "hibauzenet", ns) == (
        "nincs ilyen díjbekérő a rendszerben, már törlésre került vagy nem is létezett"
    )
    assert _error(agent.post(QUERY, query_xml(number)))[0] == "7"


def test_a_post_without_an_action_part_gets_error_53(agent: Agent) -> None:
    response = httpx.post(agent.agent_url, files={"something-else": ("a.xml", b"<a/>")})
    assert _error(response)[0] == "53"


def _receipt_xml(call_id: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xmlnyugtacreate xmlns="http://www.szamlazz.hu/xmlnyugtacreate">
  <beallitasok><szamlaagentkulcs>{AGENT_KEY}</szamlaagentkulcs><pdfLetoltes>true</pdfLetoltes>
  </beallitasok>
  <fejlec><hivasAzonosito>{call_id}</hivasAzonosito><elotag>NYGT</elotag><fizmod>készpénz</fizmod>
  <penznem>HUF</penznem></fejlec>
  <tetelek><tetel><megnevezes>Kávé</megnevezes><mennyiseg>2</mennyiseg>
  <mennyisegiEgyseg>db</mennyisegiEgyseg><nettoEgysegar>500</nettoEgysegar><afakulcs>27</afakulcs>
  <netto>1000</netto><afa>270</afa><brutto>1270</brutto></tetel></tetelek>
  <kifizetesek><kifizetes><fizetoeszkoz>készpénz</fizetoeszkoz><osszeg>1270</osszeg></kifizetes>
  </kifizetesek>
</xmlnyugtacreate>"""


def _receipt_action(
    agent: Agent, action: str, root: str, head: str, extra: str = ""
) -> httpx.Response:
    settings = f"<szamlaagentkulcs>{AGENT_KEY}</szamlaagentkulcs>"
    if root != "xmlnyugtasend":
        settings += "<pdfLetoltes>false</pdfLetoltes>"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="http://www.szamlazz.hu/{root}">'
        f"<beallitasok>{settings}</beallitasok><fejlec>{head}</fejlec>{extra}</{root}>"
    )
    return agent.post(f"action-szamla_agent_nyugta_{action}", xml)


def test_receipts_are_created_once_per_call_id_got_reversed_and_sent(agent: Agent) -> None:
    ns = "{http://www.szamlazz.hu/xmlnyugtavalasz}"
    answer_schema = xmlschema.XMLSchema(str(XSD_DIR / "xmlnyugtavalasz.xsd"))
    created = agent.post("action-szamla_agent_nyugta_create", _receipt_xml("call-1"))
    answer_schema.validate(created.content)
    root = ET.fromstring(created.content)
    number = root.findtext(f"{ns}nyugta/{ns}alap/{ns}nyugtaszam")
    assert number == f"NYGT-{YEAR}-1"
    pdf = base64.b64decode(root.findtext(f"{ns}nyugtaPdf") or "")
    assert f"Nyugta {number}" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    again = agent.post("action-szamla_agent_nyugta_create", _receipt_xml("call-1"))
    assert _error(again)[0] == "338"
    assert ET.fromstring(again.content).findtext(f"{ns}hibakod") == "338"

    got = _receipt_action(agent, "get", "xmlnyugtaget", f"<nyugtaszam>{number}</nyugtaszam>")
    answer_schema.validate(got.content)
    storno = _receipt_action(agent, "storno", "xmlnyugtast", f"<nyugtaszam>{number}</nyugtaszam>")
    answer_schema.validate(storno.content)
    alap = ET.fromstring(storno.content).find(f"{ns}nyugta/{ns}alap")
    assert alap is not None
    assert (alap.findtext(f"{ns}tipus"), alap.findtext(f"{ns}stornozottNyugtaszam")) == (
        "SN",
        number,
    )
    original = _receipt_action(agent, "get", "xmlnyugtaget", f"<nyugtaszam>{number}</nyugtaszam>")
    assert ET.fromstring(original.content).findtext(f"{ns}nyugta/{ns}alap/{ns}stornozott") == "true"

    send_ns = "{http://www.szamlazz.hu/xmlnyugtasendvalasz}"
    send_schema = xmlschema.XMLSchema(str(XSD_DIR / "xmlnyugtasendvalasz.xsd"))
    head = f"<nyugtaszam>{number}</nyugtaszam>"
    unsent = _receipt_action(
        agent,
        "send",
        "xmlnyugtasend",
        head,
        "<emailKuldes><email>a@example.com</email></emailKuldes>",
    )
    send_schema.validate(unsent.content)
    assert _error(unsent) == ("7", "Hiányzó adat: emailtargy elem.")
    mailed = _receipt_action(
        agent,
        "send",
        "xmlnyugtasend",
        head,
        "<emailKuldes><email>a@example.com</email><emailTargy>Nyugta</emailTargy></emailKuldes>",
    )
    assert ET.fromstring(mailed.content).findtext(f"{send_ns}sikeres") == "true"
