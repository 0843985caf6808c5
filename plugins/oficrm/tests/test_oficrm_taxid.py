"""Spanish tax ids (NIF/NIE/CIF): checked with python-stdnum, errors naming the field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from stdnum.es import nif

from syncbridge.errors import RecordError
from syncbridge.records import UpsertItem
from syncbridge_oficrm.emulator import spanish_cif, spanish_nif
from syncbridge_oficrm.taxid import spanish_tax_id

if TYPE_CHECKING:
    from conftest import OfiDb

WHERE = "tax_code (clientes.cif_nif)"


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("B58378431", "B58378431"),
        ("b-58378431", "B58378431"),
        ("ES B58378431", "B58378431"),
        ("12345678Z", "12345678Z"),
        ("X1234567L", "X1234567L"),
        ("A28015865", "A28015865"),
    ],
)
def test_valid_ids_come_back_compact(raw: str, compact: str) -> None:
    assert spanish_tax_id(raw, WHERE) == compact


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("B58378432", "its check letter/digit is wrong"),
        ("12345678A", "its check letter/digit is wrong"),
        ("1234", "it must have 9 characters"),
    ],
)
def test_invalid_ids_name_the_field_and_the_fix(raw: str, why: str) -> None:
    with pytest.raises(ValueError) as raised:
        spanish_tax_id(raw, WHERE)
    assert str(raised.value).startswith(
        f"tax_code (clientes.cif_nif): {raw!r} is not a valid Spanish NIF/CIF: {why}"
    )
    assert "correct the customer's tax id" in str(raised.value)


def test_the_generators_make_ids_stdnum_accepts() -> None:
    for number in range(0, 10_000_000, 99_991):
        assert nif.is_valid(spanish_cif("B", number)) and nif.is_valid(spanish_nif(number))


def test_a_bad_tax_id_read_from_oficrm_fails_that_record(sqlite_db: OfiDb) -> None:
    crm = sqlite_db.connect(sqlite_db.seed(records=2, columns={"company": {"tax_code": "nif"}}))
    with sqlite_db.engine.begin() as db:
        db.exec_driver_sql(
            f"UPDATE clientes_{sqlite_db.suffix} SET nif = 'B58378432' WHERE id_cliente = 2"
        )
    first, second = [r for page in crm.fetch("company") for r in page.records]
    assert crm.map_in("company", first).tax_code is not None
    with pytest.raises(RecordError) as raised:
        crm.map_in("company", second)
    assert str(raised.value).startswith(
        f"tax_code (clientes_{sqlite_db.suffix}.nif): 'B58378432' is not a valid Spanish "
        "NIF/CIF: its check letter/digit is wrong"
    )


def test_a_bad_tax_id_is_not_written_and_the_rest_are(sqlite_db: OfiDb) -> None:
    crm = sqlite_db.connect(sqlite_db.seed(records=0))
    results = crm.upsert(
        "company",
        [
            UpsertItem(key="bad", record={"name": "Mala S.L.", "tax_code": "B58378432"}),
            UpsertItem(key="good", record={"name": "Buena S.L.", "tax_code": "b58378431"}),
            UpsertItem(
                key="fr", record={"name": "Bon SARL", "country": "FR", "tax_code": "732829320"}
            ),
        ],
    )
    assert [r.ok for r in results] == [False, True, True]
    assert results[0].error is not None and results[0].error.startswith(
        f"tax_code (clientes_{sqlite_db.suffix}.cif_nif): 'B58378432' is not a valid"
    )
    assert sqlite_db.rows("SELECT nombre, cif_nif FROM clientes_{s} ORDER BY id_cliente") == [
        ("Buena S.L.", "B58378431"),
        ("Bon SARL", "732829320"),
    ]
