"""The query language: what the connector writes, and what the emulator's parser accepts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncbridge_quickbooks import query as q
from syncbridge_quickbooks.emulator.query import Condition, QueryError, parse


def test_the_connector_writes_statements_quickbooks_reads() -> None:
    statement = q.select(
        "Customer",
        [q.changed_since("2024-05-01T10:00:00-07:00"), q.ANY_ACTIVE],
        order_by="Metadata.LastUpdatedTime",
        start=1001,
        max_results=1000,
    )
    assert statement == (
        "SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '2024-05-01T10:00:00-07:00' "
        "AND Active IN (true, false) ORDERBY Metadata.LastUpdatedTime STARTPOSITION 1001 "
        "MAXRESULTS 1000"
    )
    parsed = parse(statement)
    assert parsed.entity == "Customer" and (parsed.start, parsed.max_results) == (1001, 1000)
    assert parsed.conditions == (
        Condition("Metadata.LastUpdatedTime", ">=", "2024-05-01T10:00:00-07:00"),
        Condition("Active", "IN", (True, False)),
    )
    assert parsed.order == (("Metadata.LastUpdatedTime", False),)


def test_literals_are_escaped_so_a_name_cannot_change_the_statement() -> None:
    name = "O'Brien \\ Sons' AND Id = '1"
    parsed = parse(q.select("Customer", [f"DisplayName = {q.literal(name)}"]))
    assert parsed.conditions == (Condition("DisplayName", "=", name),)
    assert parse(q.select("Invoice", [q.id_in(["3", "12"])])).conditions == (
        Condition("Id", "IN", ("3", "12")),
    )


def test_keywords_are_case_insensitive_and_numbers_are_decimal() -> None:
    parsed = parse("select count(*) from Invoice where TotalAmt > 99.5 maxresults 10;")
    assert parsed.count and parsed.max_results == 10
    assert parsed.conditions == (Condition("TotalAmt", ">", Decimal("99.5")),)


def test_a_select_list_may_name_fields_beside_the_star() -> None:
    # python-quickbooks' Item.all() sends this; QuickBooks answers it with whole objects
    parsed = parse("SELECT *, Sku FROM Item MAXRESULTS 100")
    assert (parsed.entity, parsed.columns, parsed.max_results) == ("Item", ("*", "Sku"), 100)
    assert parse("select Id, MetaData.LastUpdatedTime, * from Customer").columns == (
        "Id",
        "MetaData.LastUpdatedTime",
        "*",
    )
    assert parse("SELECT * FROM Item").columns == ("*",)


@pytest.mark.parametrize(
    ("statement", "detail"),
    [
        ("SELECT * FROM Item WHERE Name = 'a' OR Name = 'b'", "OR is not supported"),
        ("SELECT * FROM Item STARTPOSITION 0", "STARTPOSITION must be at least 1"),
        ('SELECT * FROM Item WHERE Name = "a"', 'Encountered ""a"" at line 1, column 32'),
        ("SELECT * Item", 'Encountered " word "Item" "'),
        ("SELECT *, FROM Item", 'Encountered " word "FROM" "'),
        ("SELECT *, Sku, * FROM Item", 'Encountered " punct "*" " at line 1, column 16'),
        ("SELECT FROM Item", 'Encountered " word "FROM" "'),
        ("SELECT *, Sku Name FROM Item", 'Encountered " word "Name" "'),
        ("SELECT * FROM Item ORDER BY Name", "ORDER is not supported"),
        ("", "the query is empty"),
    ],
)
def test_what_quickbooks_refuses_is_refused(statement: str, detail: str) -> None:
    with pytest.raises(QueryError) as error:
        parse(statement)
    assert detail in error.value.detail


def test_conditions_compare_like_quickbooks() -> None:
    record = {
        "DisplayName": "Müller GmbH",
        "Active": True,
        "Balance": Decimal("12.50"),
        "CustomerRef": {"value": "7"},
        "MetaData": {"LastUpdatedTime": "2024-05-01T10:00:05-07:00"},
    }
    assert Condition("displayname", "=", "müller gmbh").matches(record)
    assert Condition("DisplayName", "LIKE", "Mü%").matches(record)
    assert Condition("Active", "=", True).matches(record)
    assert Condition("Balance", ">=", Decimal("12.5")).matches(record)
    assert Condition("CustomerRef", "=", "7").matches(record)  # a reference compares its value
    assert Condition("Metadata.LastUpdatedTime", ">", "2024-05-01T17:00:00Z").matches(record)
    assert not Condition("Metadata.LastUpdatedTime", ">", "2024-05-01T17:00:05Z").matches(record)
    assert not Condition("Missing", "=", "x").matches(record)
