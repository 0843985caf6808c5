"""Fixtures: a seeded Számla Agent emulator over real HTTP (one-shot faults in front of it),
connections to it, and the request XML published clients send."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import syncbridge_szamlazz.connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge.testing.faults import OneShotFaults
from syncbridge_szamlazz.emulator import AGENT_KEY, SzamlazzEmulator
from syncbridge_szamlazz.emulator.ledger import today


@dataclass
class Agent:
    """A running emulator, its one-shot faults, and the connections a test opened."""

    emulator: SzamlazzEmulator
    url: str
    faults: OneShotFaults
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    @property
    def agent_url(self) -> str:
        return f"{self.url}/szamla/"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        settings = {**self.emulator.settings_for(self.url), "buyer_required": False}
        settings.update(overrides)
        return {key: value for key, value in settings.items() if value is not None}

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            "szamlazz",
            syncbridge_szamlazz.connector,
            self.settings(**overrides),
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def post(
        self, action: str, xml: str | bytes, filename: str | None = "request.xml"
    ) -> httpx.Response:
        """One raw multipart POST, as a client library sends it."""
        content = xml.encode() if isinstance(xml, str) else xml
        part: Any = (filename, content) if filename is not None else content
        return httpx.post(self.agent_url, files={action: part}, timeout=10)



@pytest.fixture
def make_agent() -> Iterator[Callable[..., Agent]]:
    """Start an emulator with ``records`` seeded documents of each kind (limits off)."""
    stack: list[tuple[Agent, Any]] = []

    def make(records: int = 3) -> Agent:
        emulator = SzamlazzEmulator(EmulatorOptions(records=records, rate_limits=False))
        faults = OneShotFaults(emulator)
        server = running(faults)
        url = server.__enter__()
        agent = Agent(emulator, url, faults)
        stack.append((agent, server))
        return agent

    yield make
    for agent, server in reversed(stack):
        for connection in agent.connections:
            connection.close()
        server.__exit__(None, None, None)


@pytest.fixture
def agent(make_agent: Callable[..., Agent]) -> Agent:
    return make_agent()


YEAR = today().year


def invoice_xml(
    *,
    key: str = AGENT_KEY,
    order: str = "",
    prefix: str = "",
    response_version: int = 2,
    download: bool = False,
    proforma: bool = False,
    net: str = "10000",
    vat: str = "2700",
    gross: str = "12700",
    extra_buyer: str = "",
) -> str:
    """An ``xmlszamla`` as szamlazz.py renders it: every credential element present (the
    unused ones empty), empty optional elements, ``<arfolyam>0.0</arfolyam>``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xmlszamla xmlns="http://www.szamlazz.hu/xmlszamla" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <beallitasok>
    <felhasznalo></felhasznalo>
    <jelszo></jelszo>
    <szamlaagentkulcs>{key}</szamlaagentkulcs>
    <eszamla>false</eszamla>
    <szamlaLetoltes>{"true" if download else "false"}</szamlaLetoltes>
    <valaszVerzio>{response_version}</valaszVerzio>
  </beallitasok>
  <fejlec>
    <keltDatum>{YEAR}-03-01</keltDatum>
    <teljesitesDatum>{YEAR}-03-01</teljesitesDatum>
    <fizetesiHataridoDatum>{YEAR}-03-09</fizetesiHataridoDatum>
    <fizmod>Átutalás</fizmod>
    <penznem>HUF</penznem>
    <szamlaNyelve>hu</szamlaNyelve>
    <megjegyzes></megjegyzes>
    <arfolyamBank>MNB</arfolyamBank>
    <arfolyam>0.0</arfolyam>
    <rendelesSzam>{order}</rendelesSzam>
    <dijbekeroSzamlaszam></dijbekeroSzamlaszam>
    <elolegszamla>false</elolegszamla>
    <vegszamla>false</vegszamla>
    <helyesbitoszamla>false</helyesbitoszamla>
    <helyesbitettSzamlaszam></helyesbitettSzamlaszam>
    <dijbekero>{"true" if proforma else "false"}</dijbekero>
    <szamlaszamElotag>{prefix}</szamlaszamElotag>
  </fejlec>
  <elado></elado>
  <vevo>
    <nev>Kovács Bt.</nev>
    <irsz>2030</irsz>
    <telepules>Érd</telepules>
    <cim>Tárnoki út 23.</cim>
    <email></email>
    <adoszam>12892312-2-13</adoszam>
    <csoportazonosito></csoportazonosito>{extra_buyer}
    <azonosito>C-77</azonosito>
  </vevo>
  <tetelek>
    <tetel>
      <megnevezes>Tanácsadás</megnevezes>
      <mennyiseg>2.0</mennyiseg>
      <mennyisegiEgyseg>óra</mennyisegiEgyseg>
      <nettoEgysegar>5000</nettoEgysegar>
      <afakulcs>27</afakulcs>
      <nettoErtek>{net}</nettoErtek>
      <afaErtek>{vat}</afaErtek>
      <bruttoErtek>{gross}</bruttoErtek>
      <megjegyzes></megjegyzes>
    </tetel>
  </tetelek>
</xmlszamla>
"""


def query_xml(number: str, *, key: str = AGENT_KEY, pdf: bool = False) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xmlszamlaxml xmlns="http://www.szamlazz.hu/xmlszamlaxml">
  <szamlaagentkulcs>{key}</szamlaagentkulcs>
  <szamlaszam>{number}</szamlaszam>
  <pdf>{"true" if pdf else "false"}</pdf>
</xmlszamlaxml>
"""
