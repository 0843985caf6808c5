"""``syncbridge.config.parse``: every mistake is a ConfigError naming the key path and the fix."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from syncbridge.config import Config, EntityRule, parse
from syncbridge.errors import ConfigError
from syncbridge.models import model_for

TWO = """
[connections.a]
connector = "sql"
[connections.b]
connector = "sql"
[syncs.main]
left = "a"
right = "b"
"""

ENTITIES = (
    "vat_rate, currency, payment_method, unit, sector, company, product, contact, sales_data, "
    "quote, order, invoice, payment"
)


def company_fields() -> str:
    fields = set(model_for("company").model_fields) - {"id", "updated_at"}
    # the list offered to the user is the editable fields, never the engine's metadata
    assert {"name", "city", "vat_number"} <= fields
    return ", ".join(sorted(fields))


def error_of(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, env=env or {})
    return str(caught.value)


def rule(body: str, entity: str = "company") -> str:
    """A config syncing ``entity`` between a and b with ``body`` as its rule."""
    return f"{TWO}[syncs.main.entities.{entity}]\n{body}\n"


def test_a_minimal_config_parses_with_the_documented_defaults() -> None:
    config = parse(rule(""), env={})
    assert isinstance(config, Config)
    assert config.state.url == "sqlite:///syncbridge-state.db"
    assert config.connections["a"].connector == "sql"
    assert config.connections["a"].settings == {}
    assert config.connections["a"].extensions == []
    company = config.syncs["main"].entities["company"]
    assert (company.direction, company.priority, company.every) == (
        "left-to-right",
        "left",
        "manual",
    )
    assert (company.create, company.update, company.deletes) == (True, True, False)
    assert company.interval is None
    assert company.match_keys("company") == [["vat_number"], ["tax_code"], ["name", "city"]]


RULE_KEYS = (
    "after, create, deletes, derive, direction, every, exclude, fields, filter, line, links, "
    "match, priority, pyramid, update"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[stat]\nurl = 'x'\n",
            "stat: unknown key; did you mean 'state'? "
            "(keys allowed here: connections, state, syncs)",
        ),
        (
            '[connections.a]\nconnector = "sql"\nconector = "sql"\n',
            "connections.a.conector: unknown key; did you mean 'connector'? "
            "(keys allowed here: connector, extensions, settings)",
        ),
        (
            rule('drection = "both"'),
            "syncs.main.entities.company.drection: unknown key; did you mean 'direction'? "
            f"(keys allowed here: {RULE_KEYS})",
        ),
        (
            TWO + "entity = 1\n",
            "syncs.main.entity: unknown key; did you mean 'entities'? "
            "(keys allowed here: entities, left, links_from, right)",
        ),
        (
            TWO + "zzz = 1\n",
            "syncs.main.zzz: unknown key (keys allowed here: entities, left, links_from, right)",
        ),
    ],
    ids=["top-level", "connection", "entity-rule", "sync", "nothing-close"],
)
def test_an_unknown_key_is_named_with_its_path(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_missing_required_keys_are_each_named() -> None:
    text = '[connections.a]\nsettings = {}\n[syncs.main]\nleft = "a"\n'
    assert error_of(text) == (
        "connections.a.connector: required key is missing\n"
        "syncs.main.right: required key is missing"
    )


def test_a_bad_direction_shows_the_allowed_values() -> None:
    assert error_of(rule('direction = "sideways"')) == (
        "syncs.main.entities.company.direction: 'sideways' is not allowed; "
        "input should be 'left-to-right', 'right-to-left' or 'both'"
    )


def test_a_bad_priority_shows_the_allowed_values() -> None:
    assert error_of(rule('priority = "middle"')) == (
        "syncs.main.entities.company.priority: 'middle' is not allowed; "
        "input should be 'left' or 'right'"
    )


@pytest.mark.parametrize("every", ["5x", "10", "m", "1.5h", "10 m", "-1m", "Manual"])
def test_a_bad_schedule_is_refused_with_examples(every: str) -> None:
    assert error_of(rule(f'every = "{every}"')) == (
        f"syncs.main.entities.company.every: {every!r} is not a schedule; use a number and a "
        'unit ("10m", "3h", "1d", "30s") or "manual"'
    )


@pytest.mark.parametrize(
    ("every", "interval"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("3h", timedelta(hours=3)),
        ("1d", timedelta(days=1)),
        ("90m", timedelta(minutes=90)),
        ("manual", None),
    ],
)
def test_valid_schedules_give_their_interval(every: str, interval: timedelta | None) -> None:
    config = parse(rule(f'every = "{every}"'), env={})
    entity_rule = config.syncs["main"].entities["company"]
    assert entity_rule.every == every
    assert entity_rule.interval == interval
    assert EntityRule(every=every).interval == interval


def test_an_unknown_entity_lists_the_known_ones() -> None:
    assert error_of(rule("", entity="widget")) == (
        f"syncs.main.entities.widget: unknown entity; use one of: {ENTITIES}"
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('match = [["vat_number"], ["nme"]]', "match[1]: unknown field 'nme'"),
        ('exclude = ["nme"]', "exclude: unknown field 'nme'"),
        ('fields = { name = "nme" }', "fields.name: unknown field 'nme'"),
        ('fields = { nme = "name" }', "fields.nme: unknown field 'nme'"),
        ('filter = { cty = "Roma" }', "filter.cty: unknown field"),
    ],
    ids=["match", "exclude", "fields-source", "fields-target", "filter"],
)
def test_an_unknown_field_lists_the_entity_fields(body: str, where: str) -> None:
    assert error_of(rule(body)) == (
        f"syncs.main.entities.company.{where}; fields of company: {company_fields()}"
    )


@pytest.mark.parametrize("field", ["id", "updated_at"])
def test_metadata_fields_are_not_fields_a_rule_may_name(field: str) -> None:
    assert error_of(rule(f'exclude = ["{field}"]')) == (
        f"syncs.main.entities.company.exclude: unknown field {field!r}; "
        f"fields of company: {company_fields()}"
    )


def test_a_reference_field_cannot_be_a_match_key() -> None:
    assert error_of(rule('match = [["email"], ["company_id", "last_name"]]', entity="contact")) == (
        "syncs.main.entities.contact.match[1]: 'company_id' is a reference (ids differ between "
        "systems) and cannot be a match key; match on the values instead"
    )


def test_an_empty_match_key_tuple_is_refused() -> None:
    assert error_of(rule("match = [[]]")) == (
        "syncs.main.entities.company.match[0]: an empty key tuple matches nothing"
    )


def test_a_valid_rule_keeps_its_values() -> None:
    config = parse(
        rule(
            'direction = "both"\npriority = "right"\nmatch = [["email"], ["name", "city"]]\n'
            'exclude = ["notes"]\nfields = { website = "email" }\n'
            'filter = { country = ["IT", "HU"] }\ndeletes = true\n'
        ),
        env={},
    )
    company = config.syncs["main"].entities["company"]
    assert company.direction == "both"
    assert company.priority == "right"
    assert company.match_keys("company") == [["email"], ["name", "city"]]
    assert company.exclude == ["notes"]
    assert company.fields == {"website": "email"}
    assert company.filter == {"country": ["IT", "HU"]}
    assert company.deletes is True
    assert company.allows("left") and company.allows("right")


@pytest.mark.parametrize(
    ("direction", "from_left", "from_right"),
    [("left-to-right", True, False), ("right-to-left", False, True), ("both", True, True)],
)
def test_direction_decides_which_side_may_send(
    direction: str, from_left: bool, from_right: bool
) -> None:
    company = parse(rule(f'direction = "{direction}"'), env={}).syncs["main"].entities["company"]
    assert (company.allows("left"), company.allows("right")) == (from_left, from_right)


def test_problems_in_several_entities_are_reported_together() -> None:
    text = TWO + '[syncs.main.entities.company]\nexclude = ["nme"]\n[syncs.main.entities.widget]\n'
    lines = error_of(text).splitlines()
    assert lines == [
        f"syncs.main.entities.company.exclude: unknown field 'nme'; fields of company: "
        f"{company_fields()}",
        f"syncs.main.entities.widget: unknown entity; use one of: {ENTITIES}",
    ]


def test_variables_are_substituted_from_the_given_environment() -> None:
    text = (
        '[connections.a]\nconnector = "sql"\nextensions = ["${EXT}"]\n'
        '[connections.a.settings]\nurl = "postgresql+psycopg://erp:${PW}@db/${DB}"\n'
        'plain = "no $dollar {braces} or $NAME here"\n'
    )
    config = parse(text, env={"PW": "s3cr3t", "DB": "erp", "EXT": "acme.ext"})
    assert config.connections["a"].settings == {
        "url": "postgresql+psycopg://erp:s3cr3t@db/erp",
        "plain": "no $dollar {braces} or $NAME here",
    }
    assert config.connections["a"].extensions == ["acme.ext"]


def test_variables_come_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SB_TEST_URL", "sqlite:///from-env.db")
    config = parse('[connections.a]\nconnector = "sql"\nsettings = { url = "${SB_TEST_URL}" }\n')
    assert config.connections["a"].settings["url"] == "sqlite:///from-env.db"


def test_a_missing_variable_names_the_key_and_the_variable() -> None:
    text = '[connections.a]\nconnector = "sql"\n[connections.a.settings]\nurl = "${NOPE}"\n'
    assert error_of(text, env={"OTHER": "x"}) == (
        "connections.a.settings.url: environment variable NOPE is not set; export it or put "
        "the value in the file"
    )


def test_a_missing_variable_inside_a_list_names_the_index() -> None:
    text = '[connections.a]\nconnector = "sql"\nextensions = ["ok", "${MISSING_EXT}"]\n'
    assert error_of(text) == (
        "connections.a.extensions[1]: environment variable MISSING_EXT is not set; export it "
        "or put the value in the file"
    )


def test_invalid_toml_is_a_config_error_with_the_parser_position() -> None:
    text = "[connections\nconnector = 'sql'\n"
    with pytest.raises(tomllib.TOMLDecodeError) as parser:
        tomllib.loads(text)
    message = error_of(text)
    assert message.endswith(f" is not valid TOML: {parser.value}")
    assert "(at line 1, column 13)" in message


def test_left_and_right_must_differ() -> None:
    text = '[connections.a]\nconnector = "sql"\n[syncs.s]\nleft = "a"\nright = "a"\n'
    assert error_of(text) == "syncs.s: left and right must be two different connections"


def test_a_sync_naming_an_unknown_connection_lists_the_defined_ones() -> None:
    text = (
        '[connections.a]\nconnector = "sql"\n[connections.b]\nconnector = "sql"\n'
        '[syncs.s]\nleft = "a"\nright = "zz"\n'
    )
    assert error_of(text) == "syncs.s.right: no connection named 'zz' (connections: a, b)"


def test_a_sync_without_any_connection_defined_says_so() -> None:
    assert error_of('[syncs.s]\nleft = "x"\nright = "y"\n') == (
        "syncs.s.left: no connection named 'x' (connections: none defined)\n"
        "syncs.s.right: no connection named 'y' (connections: none defined)"
    )


def test_exclude_may_name_a_field_of_each_document_line() -> None:
    config = parse(rule('exclude = ["lines.unit"]', entity="invoice"), env={})
    assert config.syncs["main"].entities["invoice"].exclude == ["lines.unit"]
    assert error_of(rule('exclude = ["lines.unti"]', entity="invoice")) == (
        "syncs.main.entities.invoice.exclude: unknown field 'lines.unti'; fields of each of "
        "lines: code, description, discount_percent, product_id, quantity, unit, unit_id, "
        "unit_price, vat_percent, vat_rate_id"
    )
    # a field that holds no list of objects has no items to name
    assert error_of(rule('exclude = ["number.x"]', entity="invoice")).startswith(
        "syncs.main.entities.invoice.exclude: unknown field 'number.x'; fields of invoice: ")


def test_two_records_pinned_to_one_are_refused() -> None:
    assert error_of(rule('links = { "1" = "7", "2" = "7" }')) == (
        "syncs.main.entities.company.links: right 7 is pinned to left 1 and 2; a record is "
        "linked to one record only: keep one of these links"
    )
