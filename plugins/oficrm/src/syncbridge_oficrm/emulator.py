"""A stand-in OfiCRM database: the preset's tables, created and seeded with Spanish data.

OfiCRM is reached through its database, so its "emulator" is a database, not an HTTP
server: :func:`create_database` creates the ``oficrm`` preset's tables (SQLAlchemy
``create_all``, with the names a connection's settings give) in any SQLAlchemy URL and
seeds them, deterministically for a seed: sectors, customers with valid NIF/CIF tax ids
(python-stdnum computes their check characters and validates them) and each customer's
sales data for this year and the last, with its pyramid class.

From a shell (``syncbridge emulate`` serves HTTP emulators only)::

    syncbridge-oficrm-emulate sqlite:///oficrm.db --records 50
    python -m syncbridge_oficrm.emulator postgresql+psycopg://postgres@127.0.0.1/test

prints the ``[connections.oficrm]`` block that reaches it.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from stdnum.es import cif as es_cif
from stdnum.es import dni as es_dni
from stdnum.es import nif as es_nif

from syncbridge.models import PyramidClass, pyramid_class
from syncbridge_oficrm.preset import create
from syncbridge_oficrm.settings import OficrmSettings
from syncbridge_sql.database import create_engine

__all__ = ["SECTORS", "Seeded", "create_database", "main", "spanish_cif", "spanish_nif"]

SECTORS: tuple[tuple[str, str], ...] = (
    ("AGV", "Agencias de viaje"),
    ("HOS", "Hostelería"),
    ("CON", "Construcción"),
    ("COM", "Comercio minorista"),
    ("TRA", "Transporte y logística"),
    ("SAN", "Sanidad"),
)
_CITIES = (
    ("Madrid", "Madrid", "280"),
    ("Barcelona", "Barcelona", "080"),
    ("Valencia", "Valencia", "460"),
    ("Sevilla", "Sevilla", "410"),
    ("Zaragoza", "Zaragoza", "500"),
    ("Málaga", "Málaga", "290"),
    ("Bilbao", "Vizcaya", "480"),
    ("Alicante", "Alicante", "030"),
)
_COMPANY_NAMES = (
    "Viajes Sol y Mar",
    "Hoteles Costa Brava",
    "Construcciones Ebro",
    "Ferretería La Llave",
    "Transportes Guadalquivir",
    "Clínica Santa Elena",
    "Viajes Pirineo",
    "Hostal El Rincón",
)
_PEOPLE = (
    "María García López",
    "José Martínez Ruiz",
    "Carmen Fernández Gil",
    "Javier Sánchez Mora",
)
_STREETS = ("Calle Mayor", "Avenida de la Constitución", "Calle Real", "Paseo de Gracia")
#: pyramid thresholds of the seeded classes (A from 50 000 €, B from 10 000 €)
A_FROM = Decimal("50000")
B_FROM = Decimal("10000")


def spanish_nif(number: int) -> str:
    """The NIF of a person: 8 digits and the DNI check letter."""
    digits = f"{number % 100_000_000:08d}"
    return digits + str(es_dni.calc_check_digit(digits))


def spanish_cif(letter: str, number: int) -> str:
    """The CIF of a company (``A`` an S.A., ``B`` an S.L.): letter, 7 digits, check digit."""
    body = f"{letter}{number % 10_000_000:07d}"
    return body + str(es_cif.calc_check_digits(body))[0]


@dataclass(frozen=True)
class Seeded:
    """What :func:`create_database` put in: counts, and the settings that reach it."""

    sectors: int
    customers: int
    sales_data: int
    settings: dict[str, Any]


def _customers(rng: random.Random, count: int, sector_ids: list[int]) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        city, province, postal = rng.choice(_CITIES)
        if index % 4 == 3:  # a self-employed customer ("autónomo"): a person's NIF
            name = f"{_PEOPLE[index % len(_PEOPLE)]} ({index + 1})"
            tax_id = spanish_nif(rng.randrange(10**7, 10**8))
        else:
            suffix = "S.A." if index % 3 == 0 else "S.L."
            name = f"{_COMPANY_NAMES[index % len(_COMPANY_NAMES)]} {index + 1} {suffix}"
            tax_id = spanish_cif("A" if suffix == "S.A." else "B", rng.randrange(10**7))
        assert es_nif.is_valid(tax_id), tax_id
        rows.append(
            {
                "external_id": f"C{index + 1:06d}",
                "name": name,
                "tax_code": tax_id,
                "address": f"{rng.choice(_STREETS)}, {rng.randrange(1, 200)}",
                "postal_code": f"{postal}{rng.randrange(1, 99):02d}",
                "city": city,
                "province": province,
                "country": "ES",
                "phone": f"+34 9{rng.randrange(10**7, 10**8)}",
                "email": f"cliente{index + 1}@example.es",
                "sector": sector_ids[index % len(sector_ids)],
            }
        )
    return rows


def _sales(rng: random.Random, customer_id: int, today: date) -> dict[str, Any]:
    current = Decimal(rng.randrange(0, 12_000_000)) / 100
    previous = Decimal(rng.randrange(0, 12_000_000)) / 100
    return {
        "company_id": customer_id,
        "year": today.year,
        "sales_current": current,
        "sales_previous": previous,
        "pyramid_current": (pyramid_class(current, A_FROM, B_FROM) or PyramidClass.C).value,
        "pyramid_previous": (pyramid_class(previous, A_FROM, B_FROM) or PyramidClass.C).value,
        "statistics_date": today,
    }


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def create_database(url: str, records: int = 25, seed: int = 3, **settings: Any) -> Seeded:
    """Create OfiCRM's tables in ``url`` and seed ``records`` customers (with sales data).

    ``settings`` are connection settings (``tables``, ``columns``, ``key_column``): the tables
    are created under the names they give, and the rows written through them, so a
    connection with the same settings reads exactly what was seeded.
    """
    config = OficrmSettings.model_validate({**settings, "url": url})
    engine = create_engine(config)
    try:
        meta = create(
            engine, tables=config.tables, columns=config.columns, key_column=config.key_column
        )
        cols = config.columns
        tables = {entity: meta.tables[config.table_name(entity)] for entity in cols}
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as connection:
            sector_ids = []
            for code, name in SECTORS:
                values: dict[str, Any] = {
                    cols["sector"]["code"]: code,
                    cols["sector"]["name"]: name,
                }
                values[cols["sector"]["updated_at"]] = now
                result = connection.execute(sa.insert(tables["sector"]).values(values))
                sector_ids.append(_new_id(result))
            customers = _customers(rng, records, sector_ids)
            for customer in customers:
                values = {cols["company"][f]: v for f, v in customer.items() if f != "sector"}
                values[cols["company"]["sector_id"]] = customer["sector"]
                values[cols["company"]["updated_at"]] = now
                result = connection.execute(sa.insert(tables["company"]).values(values))
                sales = _sales(rng, _new_id(result), now.date())
                row = {cols["sales_data"][f]: v for f, v in sales.items()}
                row[cols["sales_data"]["updated_at"]] = now
                connection.execute(sa.insert(tables["sales_data"]).values(row))
    finally:
        engine.dispose()
    return Seeded(
        sectors=len(SECTORS),
        customers=records,
        sales_data=records,
        settings={**settings, "url": url},
    )


def main(argv: list[str] | None = None) -> None:
    """``syncbridge-oficrm-emulate URL``: create and seed, print the connection block."""
    parser = argparse.ArgumentParser(
        prog="syncbridge-oficrm-emulate",
        description="Create a stand-in OfiCRM database (the oficrm preset) and seed it.",
    )
    parser.add_argument("url", help="SQLAlchemy URL, e.g. sqlite:///oficrm.db")
    parser.add_argument("--records", type=int, default=25, help="customers to seed")
    parser.add_argument("--seed", type=int, default=3, help="seed of the generated data")
    args = parser.parse_args(argv)
    seeded = create_database(args.url, records=args.records, seed=args.seed)
    safe = OficrmSettings(url=args.url).safe_url
    print(
        f"# {seeded.customers} customers, {seeded.sectors} sectors, "
        f"{seeded.sales_data} sales data rows\n"
        f'[connections.oficrm]\nconnector = "oficrm"\n'
        f'[connections.oficrm.settings]\nurl = "{safe}"'
    )


if __name__ == "__main__":
    main()
