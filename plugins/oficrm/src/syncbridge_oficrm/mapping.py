"""Native <-> canonical for OfiCRM's customers, sectors and sales data.

Every entity maps as the sql connector maps any table (its native records are already keyed
by canonical field names); customers add OfiCRM's one rule of its own: a Spanish customer's
tax id is a NIF/NIE or CIF, checked with python-stdnum in both directions. A bad one fails
that record only, with a message naming the canonical field, the OfiCRM column and the fix.

``map`` may run in a forked process: everything here depends on its arguments only.
"""

from __future__ import annotations

from syncbridge.errors import RecordError
from syncbridge.models import CanonicalRecord
from syncbridge.records import NativeRecord
from syncbridge_oficrm.settings import OficrmSettings
from syncbridge_oficrm.taxid import spanish_tax_id
from syncbridge_sql import mapping as sql_mapping

__all__ = ["check_tax_id", "map_in", "map_out"]


def check_tax_id(record: NativeRecord, settings: OficrmSettings) -> NativeRecord:
    """``record`` with its Spanish tax id in compact form; RecordError naming the field.

    Only customers of Spain (or of no country, when ``default_country`` is ES) are checked:
    python-stdnum has no reason to judge a French SIREN as a NIF.
    """
    value = record.get("tax_code")
    if value is None or not str(value).strip():
        return record
    country = str(record.get("country") or settings.default_country).strip().upper()
    if country != "ES":
        return record
    where = f"tax_code ({settings.column_of('company', 'tax_code')})"
    try:
        return {**record, "tax_code": spanish_tax_id(str(value), where)}
    except ValueError as error:
        raise RecordError(str(error)) from None


def map_in(entity: str, record: NativeRecord, settings: OficrmSettings) -> CanonicalRecord:
    """Native dict -> canonical model; a bad tax id or value fails this record only."""
    if entity == "company":
        record = check_tax_id(record, settings)
    return sql_mapping.map_in(entity, record)


def map_out(entity: str, record: CanonicalRecord) -> NativeRecord:
    """Canonical model -> native dict, in the Python values the sql layer converts per column."""
    return sql_mapping.map_out(entity, record)
