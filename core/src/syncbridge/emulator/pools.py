"""Small pools of realistic names and places for seeded emulator data, per country.

Kept deliberately small (about ten entries per list): the aim is data that reads like each
system's home market (an Italian invoicing emulator full of Rossi S.r.l. in Milano, a Danish one
of Jensen ApS in Aarhus), with accents and umlauts that exercise encoding, not a fake-data
library. :mod:`syncbridge.emulator.fake` draws from these with a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class City:
    name: str
    postcode: str
    #: province/state code where the country's addresses carry one (IT, US), else ""
    region: str = ""


@dataclass(frozen=True)
class CountryPool:
    """What makes data look local: names, streets, cities, formats, rates."""

    code: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217
    vat_rate: Decimal  # standard rate, percent
    tld: str
    phone: str  # pattern, "#" = a random digit
    street_format: str  # "{street} {number}" or "{number} {street}"
    family_name_first: bool
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[City, ...]
    company_suffixes: tuple[str, ...]
    company_trades: tuple[str, ...]
    company_format: str  # "{last} {trade} {suffix}" or "{trade} {last} {suffix}"


POOLS: dict[str, CountryPool] = {
    "IT": CountryPool(
        code="IT", currency="EUR", vat_rate=Decimal("22"), tld="it", phone="+39 3## ### ####",
        street_format="{street} {number}", family_name_first=False,
        first_names=("Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Matteo",
                     "Sara", "Giovanni", "Elena"),
        last_names=("Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
                    "Gallo", "Conti"),
        streets=("Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele II", "Via Mazzini",
                 "Via Dante Alighieri", "Piazza del Duomo", "Via Verdi", "Viale Europa"),
        cities=(City("Milano", "20121", "MI"), City("Roma", "00184", "RM"),
                City("Torino", "10121", "TO"), City("Bologna", "40121", "BO"),
                City("Firenze", "50122", "FI"), City("Napoli", "80133", "NA"),
                City("Verona", "37121", "VR"), City("Bari", "70121", "BA")),
        company_suffixes=("S.r.l.", "S.p.A.", "S.n.c."),
        company_trades=("Costruzioni", "Trasporti", "Consulenze", "Alimentari", "Impianti"),
        company_format="{last} {trade} {suffix}",
    ),
    "HU": CountryPool(
        code="HU", currency="HUF", vat_rate=Decimal("27"), tld="hu", phone="+36 20 ### ####",
        street_format="{street} {number}.", family_name_first=True,
        first_names=("Bence", "Anna", "Máté", "Zsófia", "Levente", "Eszter", "Dávid", "Réka",
                     "Gábor", "Katalin"),
        last_names=("Nagy", "Kovács", "Tóth", "Szabó", "Horváth", "Varga", "Kiss", "Molnár",
                    "Németh", "Farkas"),
        streets=("Kossuth Lajos utca", "Petőfi Sándor utca", "Rákóczi út", "Andrássy út",
                 "Ady Endre utca", "Dózsa György út", "Széchenyi tér", "Bajcsy-Zsilinszky út"),
        cities=(City("Budapest", "1052"), City("Debrecen", "4024"), City("Szeged", "6720"),
                City("Pécs", "7621"), City("Győr", "9021"), City("Miskolc", "3525"),
                City("Kecskemét", "6000"), City("Székesfehérvár", "8000")),
        company_suffixes=("Kft.", "Zrt.", "Bt."),
        company_trades=("Építő", "Szállítmányozási", "Tanácsadó", "Kereskedelmi", "Informatikai"),
        company_format="{last} {trade} {suffix}",
    ),
    "DK": CountryPool(
        code="DK", currency="DKK", vat_rate=Decimal("25"), tld="dk", phone="+45 2# ## ## ##",
        street_format="{street} {number}", family_name_first=False,
        first_names=("Mads", "Sofie", "Frederik", "Ida", "Mikkel", "Freja", "Rasmus", "Emma",
                     "Søren", "Mette"),
        last_names=("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen",
                    "Larsen", "Sørensen", "Rasmussen", "Jørgensen"),
        streets=("Vesterbrogade", "Nørrebrogade", "Østergade", "Algade", "Søndergade",
                 "Jernbanegade", "Havnegade", "Strandvejen"),
        cities=(City("København", "1620"), City("Aarhus", "8000"), City("Odense", "5000"),
                City("Aalborg", "9000"), City("Esbjerg", "6700"), City("Randers", "8900"),
                City("Kolding", "6000"), City("Vejle", "7100")),
        company_suffixes=("ApS", "A/S", "I/S"),
        company_trades=("Byg", "Transport", "Rådgivning", "Handel", "Data"),
        company_format="{last} {trade} {suffix}",
    ),
    "ES": CountryPool(
        code="ES", currency="EUR", vat_rate=Decimal("21"), tld="es", phone="+34 6## ### ###",
        street_format="{street}, {number}", family_name_first=False,
        first_names=("Javier", "Lucía", "Carlos", "María", "Alejandro", "Carmen", "Pablo",
                     "Laura", "Sergio", "Marta"),
        last_names=("García", "Fernández", "González", "Rodríguez", "López", "Martínez",
                    "Sánchez", "Pérez", "Gómez", "Martín"),
        streets=("Calle Mayor", "Gran Vía", "Calle de Alcalá", "Paseo de Gracia",
                 "Avenida de la Constitución", "Calle Real", "Plaza de España", "Calle Serrano"),
        cities=(City("Madrid", "28013"), City("Barcelona", "08007"), City("Valencia", "46002"),
                City("Sevilla", "41001"), City("Zaragoza", "50001"), City("Málaga", "29015"),
                City("Bilbao", "48001"), City("Valladolid", "47001")),
        company_suffixes=("S.L.", "S.A.", "S.L.U."),
        company_trades=("Construcciones", "Transportes", "Consultores", "Distribuciones",
                        "Sistemas"),
        company_format="{trade} {last} {suffix}",
    ),
    "DE": CountryPool(
        code="DE", currency="EUR", vat_rate=Decimal("19"), tld="de", phone="+49 151 ########",
        street_format="{street} {number}", family_name_first=False,
        first_names=("Lukas", "Anna", "Leon", "Lea", "Felix", "Laura", "Jonas", "Hannah", "Paul",
                     "Julia"),
        last_names=("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
                    "Becker", "Schulz", "Hoffmann"),
        streets=("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schulstraße", "Dorfstraße",
                 "Bergstraße", "Lindenstraße", "Kirchstraße"),
        cities=(City("Berlin", "10115"), City("Hamburg", "20095"), City("München", "80331"),
                City("Köln", "50667"), City("Frankfurt am Main", "60311"),
                City("Stuttgart", "70173"), City("Düsseldorf", "40213"), City("Leipzig", "04109")),
        company_suffixes=("GmbH", "AG", "KG"),
        company_trades=("Bau", "Logistik", "Beratung", "Handel", "Systeme"),
        company_format="{last} {trade} {suffix}",
    ),
    "US": CountryPool(
        code="US", currency="USD", vat_rate=Decimal("0"), tld="com", phone="+1 ### 555 01##",
        street_format="{number} {street}", family_name_first=False,
        first_names=("James", "Emily", "Michael", "Olivia", "Robert", "Sophia", "David", "Ava",
                     "William", "Madison"),
        last_names=("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis",
                    "Wilson", "Anderson", "Taylor"),
        streets=("Main Street", "Oak Avenue", "Maple Drive", "Park Avenue", "Elm Street",
                 "Washington Boulevard", "Cedar Lane", "Lake Shore Drive"),
        cities=(City("New York", "10001", "NY"), City("Chicago", "60601", "IL"),
                City("Austin", "78701", "TX"), City("Seattle", "98101", "WA"),
                City("Denver", "80202", "CO"), City("Boston", "02108", "MA"),
                City("Miami", "33130", "FL"), City("San Diego", "92101", "CA")),
        company_suffixes=("LLC", "Inc.", "Corp."),
        company_trades=("Construction", "Logistics", "Consulting", "Trading", "Systems"),
        company_format="{last} {trade} {suffix}",
    ),
}

#: (name, unit) of goods and services that any of the countries would invoice
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Consulting hour", "h"), ("Installation service", "h"), ("Annual maintenance", "year"),
    ("Software licence", "pcs"), ("Office chair", "pcs"), ("Desk lamp", "pcs"),
    ("Laptop stand", "pcs"), ("Printer paper A4", "pack"), ("Toner cartridge", "pcs"),
    ("Network cable 5 m", "pcs"), ("Training day", "day"), ("Cloud hosting", "month"),
    ("Website design", "pcs"), ("Espresso machine", "pcs"), ("Coffee beans 1 kg", "kg"),
    ("Olive oil 1 l", "l"), ("Delivery", "pcs"), ("Support plan", "month"),
    ("USB-C dock", "pcs"), ("Whiteboard", "pcs"),
)
