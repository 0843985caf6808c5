"""Sync lines in the config: ``line`` names an entity rule, ``after`` orders lines; every
mistake is an error naming the key and the fix."""

from __future__ import annotations

import pytest

from syncbridge.config import parse
from syncbridge.errors import ConfigError

THREE = """
[connections.erp]
connector = "sql"
[connections.crm]
connector = "sql"
[connections.stats]
connector = "sql"
[syncs.b_main]
left = "erp"
right = "crm"
[syncs.b_main.entities.company]
{customers}
[syncs.b_main.entities.invoice]
{invoices}
[syncs.a_stats]
left = "stats"
right = "crm"
[syncs.a_stats.entities.company]
{statistics}
"""


def config(customers: str = "", invoices: str = "", statistics: str = "") -> str:
    return THREE.format(customers=customers, invoices=invoices, statistics=statistics)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, env={})
    return str(caught.value)


def test_a_config_without_lines_runs_as_it_always_did() -> None:
    parsed = parse(config(), env={})
    assert parsed.lines() == {}
    assert parsed.run_order() == [
        ("a_stats", "company"),
        ("b_main", "company"),
        ("b_main", "invoice"),
    ]


def test_after_moves_a_line_behind_the_lines_it_names() -> None:
    parsed = parse(
        config(
            customers='line = "customers"',
            invoices='line = "invoices"',
            statistics='line = "statistics"\nafter = ["customers"]',
        ),
        env={},
    )
    assert parsed.lines() == {
        "customers": ("b_main", "company"),
        "invoices": ("b_main", "invoice"),
        "statistics": ("a_stats", "company"),
    }
    # statistics waits for customers and goes no earlier; invoices keeps its place
    assert parsed.run_order() == [
        ("b_main", "company"),
        ("a_stats", "company"),
        ("b_main", "invoice"),
    ]
    rule = parsed.syncs["a_stats"].entities["company"]
    assert (rule.line, rule.after) == ("statistics", ["customers"])


def test_line_names_are_unique_and_words() -> None:
    assert error_of(config(customers='line = "customers"', statistics='line = "customers"')) == (
        "syncs.a_stats.entities.company.line: 'customers' is already the line of "
        "syncs.b_main.entities.company; line names are unique across the config: rename one "
        "of them"
    )
    assert error_of(config(customers='line = "--all"')) == (
        "syncs.b_main.entities.company.line: '--all' is not a line name; use a letter, then "
        'letters, digits, - or _ (e.g. "customers")'
    )


def test_after_names_lines_and_says_the_fix() -> None:
    assert error_of(config(statistics='after = ["customers"]', customers='line = "customers"')) == (
        "syncs.a_stats.entities.company.after: only a line runs after others; name this rule "
        'first (line = "...", or `syncbridge lines add NAME --sync a_stats --entity company`)'
    )
    assert error_of(
        config(customers='line = "customers"', statistics='line = "stats"\nafter = ["custmers"]')
    ) == (
        "syncs.a_stats.entities.company.after: no line named 'custmers'; did you mean "
        "'customers'? (lines: customers, stats)"
    )
    assert error_of(config(customers='line = "customers"\nafter = ["customers"]')) == (
        "syncs.b_main.entities.company.after: line 'customers' cannot run after itself; "
        "remove it"
    )


def test_after_cannot_reverse_a_syncs_dependency_order() -> None:
    assert error_of(
        config(customers='line = "customers"\nafter = ["invoices"]', invoices='line = "invoices"')
    ) == (
        "syncs.b_main.entities.company.after: line 'invoices' syncs invoice, which sync b_main "
        "runs after company (records are written before what points at them); remove "
        "'invoices' from after"
    )


def test_lines_running_after_each_other_in_a_circle_are_refused() -> None:
    assert error_of(
        config(
            customers='line = "customers"\nafter = ["statistics"]',
            statistics='line = "statistics"\nafter = ["customers"]',
        )
    ) == (
        "syncs.a_stats.entities.company.after: the lines would run after each other in a "
        "circle (customers -> statistics -> customers, where a -> b means b runs after a); "
        "remove one of these names from an after"
    )


def test_syncs_taking_links_round_a_circle_are_refused() -> None:
    text = """
[connections.a]
connector = "sql"
[connections.b]
connector = "sql"
[connections.c]
connector = "sql"
[syncs.x]
left = "a"
right = "b"
links_from = { contact = "z" }
[syncs.x.entities.company]
[syncs.y]
left = "b"
right = "c"
links_from = { company = "x" }
[syncs.y.entities.product]
[syncs.z]
left = "c"
right = "a"
links_from = { product = "y" }
[syncs.z.entities.contact]
"""
    assert error_of(text) == (
        "syncs.x.links_from: the syncs would take links from each other in a circle "
        "(x/company -> y/product -> z/contact -> x/company, where a -> b means b runs after "
        "a); one of them must sync the entity itself"
    )
