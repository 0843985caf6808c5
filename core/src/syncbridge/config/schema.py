"""The shape of ``syncbridge.toml``, as pydantic models.

Every model forbids unknown keys, so a typo is an error naming the key instead of a setting
silently ignored. The configuration reference in docs/ is generated from these models: keep
``description`` on every field.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

Direction = Literal["left-to-right", "right-to-left", "both"]
Side = Literal["left", "right"]

_EVERY = re.compile(r"^(\d+)([smhd])$")
#: a sync line's name: a word that cannot be mistaken for an option (``--line NAME``)
LINE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

#: default match cascades per entity, used when a sync's entity gives no ``match``
DEFAULT_MATCH: dict[str, list[list[str]]] = {
    "company": [["vat_number"], ["tax_code"], ["name", "city"]],
    "contact": [["email"], ["first_name", "last_name", "phone"]],
    "product": [["code"]],
    # several rates share 0% (exemptions): their label tells them apart
    "vat_rate": [["rate", "name"], ["rate", "description"], ["rate"]],
    "currency": [["code"]],
    "payment_method": [["name"]],
    "unit": [["name"]],
    "sector": [["code"], ["name"]],
    # one row per customer and year: its customer is a reference, so nothing to match on
    "sales_data": [],
    "quote": [["number", "date"]],
    "order": [["number", "date"]],
    "invoice": [["number", "date"]],
    "payment": [],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StateConfig(_Strict):
    """Where syncbridge keeps what it knows between runs: links, snapshots, cursors, runs,
    the request log and OAuth tokens. One database per deployment; several machines share a
    PostgreSQL one."""

    url: str = Field(
        default="sqlite:///syncbridge-state.db",
        description="SQLAlchemy URL of the state store; a relative SQLite path is relative "
        "to the config file. PostgreSQL: postgresql+psycopg://user@host/db",
    )
    credentials: Literal["encrypted", "plain"] = Field(
        default="encrypted",
        description="how stored OAuth tokens are kept: encrypted with the Fernet key in "
        "$SYNCBRIDGE_CREDENTIALS_KEY (comma-separate several to rotate, newest first), or "
        '"plain" (readable by anyone who can read the state store)',
    )


class ConnectionConfig(_Strict):
    """One account of one system: which connector talks to it, and its settings."""

    connector: str = Field(description="name of an installed connector (`syncbridge connectors`)")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="the connector's own settings, validated by it"
    )
    extensions: list[str] = Field(
        default_factory=list,
        description="extension plugins (entry-point names or module paths) wrapping its hooks",
    )


class DeriveRule(_Strict):
    """A change of state on one side that creates a record of another entity on the other.

    The seed case: a quote accepted in the CRM becomes an order in the invoicing system,
    created once (the derivation is linked, and crash-safe like any create).
    """

    when: dict[str, Any] = Field(
        description="canonical field values the source record must have, e.g. "
        '{ status = "accepted" } (a list = any of)'
    )
    create: str = Field(description='the entity created on the other side, e.g. "order"')
    fields: list[str] = Field(
        default_factory=lambda: [
            "company_id",
            "contact_id",
            "currency",
            "lines",
            "subject",
            "notes",
            "payment_method_id",
        ],
        description="canonical fields copied from the source record (references are "
        "translated to the other side's ids)",
    )
    link_field: str | None = Field(
        default=None,
        description="field of the new record pointing at the source record's twin on the "
        "other side, e.g. quote_id",
    )
    source: Side | None = Field(
        default=None,
        description="the side whose records trigger it (default: the direction's source; "
        "required for direction = both)",
    )


class Pyramid(_Strict):
    """The thresholds of the sales pyramid: class A from ``a_from`` up, B from ``b_from``, C
    below (seed 003: the customer's pyramid class for this year and the last)."""

    a_from: Decimal = Field(description="sales from which a customer is class A")
    b_from: Decimal = Field(description="sales from which a customer is class B (C below)")

    @model_validator(mode="after")
    def _ordered(self) -> Pyramid:
        if self.a_from < self.b_from:
            raise ValueError(
                f"a_from ({self.a_from}) is below b_from ({self.b_from}); class A starts higher"
            )
        return self


class EntityRule(_Strict):
    """How one entity of a sync flows: direction, conflicts, schedule, matching, fields."""

    line: str | None = Field(
        default=None,
        description="name of the sync line this rule is: one kind of data synced, selected "
        "with `syncbridge run --line NAME` and edited with `syncbridge lines`; unique across "
        "the config",
    )
    after: list[str] = Field(
        default_factory=list,
        description="lines this line runs after when they run together (in a run of several "
        "lines, and in the daemon when they are due at once), e.g. a statistics line after "
        'the customers line: after = ["customers"]',
    )
    direction: Direction = Field(default="left-to-right", description="which way changes flow")
    priority: Side = Field(
        default="left", description="the side that wins when a record changed on both sides"
    )
    every: str = Field(
        default="manual",
        description='how often `syncbridge daemon` runs this entity: "10m", "3h", "1d" or "manual"',
    )
    match: list[list[str]] | None = Field(
        default=None,
        description="match cascade for unlinked records: key tuples tried in order; the first "
        "that finds exactly one candidate links the records",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="mapping overrides: target canonical field = source canonical field",
    )
    exclude: list[str] = Field(
        default_factory=list, description="canonical fields never transferred"
    )
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description="only records whose canonical fields have these values (a list = any of)",
    )
    deletes: bool = Field(
        default=False,
        description="propagate deletions; otherwise a record gone from one side is reported",
    )
    create: bool = Field(
        default=True,
        description="create records missing on the target (default false for reference "
        "data: VAT rates, currencies, payment methods and units are linked by value)",
    )
    update: bool = Field(
        default=True,
        description="update linked records that differ (default false for reference data)",
    )
    links: dict[str, str] = Field(
        default_factory=dict,
        description="fixed links, left id = right id (e.g. VAT type 0 = VAT rate 22)",
    )
    derive: list[DeriveRule] = Field(
        default_factory=list,
        description="records of other entities this entity's changes of state create",
    )
    pyramid: Pyramid | None = Field(
        default=None,
        description='sales_data only: the ABC thresholds, e.g. { a_from = "100000", b_from = '
        '"20000" }; the classes the other side receives (pyramid_current, pyramid_previous) '
        "are computed from the sales sent, so the source needs only the figures",
    )

    @field_validator("links")
    @classmethod
    def _one_twin_each(cls, value: dict[str, str]) -> dict[str, str]:
        """A record is linked to one record: two left ids pinned to one right id is a slip
        (the second would silently undo the first)."""
        lefts: dict[str, list[str]] = {}
        for left, right in value.items():
            lefts.setdefault(right, []).append(left)
        for right, pinned in lefts.items():
            if len(pinned) > 1:
                raise ValueError(
                    f"right {right} is pinned to left {' and '.join(pinned)}; a record is "
                    "linked to one record only: keep one of these links"
                )
        return value

    @field_validator("line")
    @classmethod
    def _line_name(cls, value: str | None) -> str | None:
        if value is not None and not LINE_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a line name; use a letter, then letters, digits, - or _ "
                '(e.g. "customers")'
            )
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        if value != "manual" and not _EVERY.match(value):
            raise ValueError(
                f'{value!r} is not a schedule; use a number and a unit ("10m", "3h", '
                '"1d", "30s") or "manual"'
            )
        return value

    @property
    def interval(self) -> timedelta | None:
        found = _EVERY.match(self.every)
        if found is None:
            return None
        return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})

    def match_keys(self, entity: str) -> list[list[str]]:
        return self.match if self.match is not None else DEFAULT_MATCH.get(entity, [])

    def creates(self, entity: str) -> bool:
        """Whether missing records are created: reference data only links by default."""
        from syncbridge.models import REFERENCE_DATA

        return self.create if "create" in self.model_fields_set else entity not in REFERENCE_DATA

    def updates(self, entity: str) -> bool:
        """Whether differing linked records are updated (reference data: not by default)."""
        from syncbridge.models import REFERENCE_DATA

        return self.update if "update" in self.model_fields_set else entity not in REFERENCE_DATA

    def allows(self, source: Side) -> bool:
        """Whether changes may flow from ``source`` to the other side."""
        if self.direction == "both":
            return True
        return self.direction == ("left-to-right" if source == "left" else "right-to-left")


class SyncConfig(_Strict):
    """Two connections kept in step, with a rule per entity."""

    left: str = Field(description="connection name of the left side")
    right: str = Field(description="connection name of the right side")
    entities: dict[str, EntityRule] = Field(default_factory=dict, description="entity name -> rule")
    links_from: dict[str, str] = Field(
        default_factory=dict,
        description="entity -> another sync whose links of that entity translate this sync's "
        "references to it, for a system that keeps no such records of its own: Számlázz.hu "
        "invoices name their buyer by the invoicing app's customer id, so a szamlazz <-> "
        'minicrm sync says links_from = { company = "szkh_minicrm" }. The two syncs share a '
        "connection; the other side of this sync uses the other side's ids of that sync",
    )
    #: entity -> (sync, flipped): resolved from ``links_from`` when the whole configuration
    #: is checked (:func:`syncbridge.config.loader.parse`); flipped when this sync's left side
    #: is that sync's right
    _borrowed: dict[str, tuple[str, bool]] = PrivateAttr(default_factory=dict)

    @property
    def borrowed(self) -> dict[str, tuple[str, bool]]:
        return self._borrowed

    @model_validator(mode="after")
    def _two_sides(self) -> SyncConfig:
        if self.left == self.right:
            raise ValueError("left and right must be two different connections")
        return self


class Config(_Strict):
    """The whole ``syncbridge.toml``."""

    state: StateConfig = Field(default_factory=StateConfig)
    connections: dict[str, ConnectionConfig] = Field(default_factory=dict)
    syncs: dict[str, SyncConfig] = Field(default_factory=dict)

    def sync_order(self) -> list[str]:
        """The syncs in the order to run them: by name, except that a sync taking another's
        links (``links_from``) runs after it, so its references find this run's links."""
        order: list[str] = []
        placed: set[str] = set()

        def place(name: str, seen: frozenset[str]) -> None:
            if name in placed or name in seen or name not in self.syncs:
                return  # a cycle is a configuration error, said when it is loaded
            for lender in sorted(set(self.syncs[name].links_from.values())):
                place(lender, seen | {name})
            placed.add(name)
            order.append(name)

        for name in sorted(self.syncs):
            place(name, frozenset())
        return order

    def lines(self) -> dict[str, tuple[str, str]]:
        """Every sync line: name -> (sync, entity), in the order of the file."""
        return {
            rule.line: (sync_name, entity)
            for sync_name, sync in self.syncs.items()
            for entity, rule in sync.entities.items()
            if rule.line is not None
        }

    def unit_edges(self) -> dict[tuple[str, str], set[tuple[str, str]]]:
        """(sync, entity) -> the (sync, entity) pairs it runs after: the entity before it in
        its sync's dependency order, the lender of each of its sync's ``links_from``, and
        the lines of its ``after``. Names that do not resolve are left out (they are
        configuration errors, said when the file is loaded)."""
        from syncbridge.models import DEPENDENCY_ORDER

        lines = self.lines()
        edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for sync_name, sync in self.syncs.items():
            entities = [name for name in DEPENDENCY_ORDER if name in sync.entities]
            lenders = [
                (lender, entity)
                for entity, lender in sync.links_from.items()
                if lender in self.syncs and entity in self.syncs[lender].entities
            ]
            for index, entity in enumerate(entities):
                before = edges.setdefault((sync_name, entity), set())
                if index:
                    before.add((sync_name, entities[index - 1]))
                before.update(unit for unit in lenders if unit[0] != sync_name)
                before.update(
                    lines[name] for name in sync.entities[entity].after if name in lines
                )
                before.discard((sync_name, entity))
        return edges

    def run_order(self) -> list[tuple[str, str]]:
        """Every (sync, entity) in the order a run of all of them goes: the syncs in
        :meth:`sync_order` and each sync's entities in dependency order, except that a line
        waits for the lines of its ``after`` (it moves no earlier than that order puts it).
        A configuration without ``after`` runs exactly in the order of the syncs."""
        from syncbridge.models import DEPENDENCY_ORDER

        base = [
            (sync_name, entity)
            for sync_name in self.sync_order()
            for entity in DEPENDENCY_ORDER
            if entity in self.syncs[sync_name].entities
        ]
        edges = self.unit_edges()
        order: list[tuple[str, str]] = []
        placed: set[tuple[str, str]] = set()
        waiting = list(base)
        while waiting:
            ready = next(
                (unit for unit in waiting if edges.get(unit, set()) <= placed), waiting[0]
            )  # with a cycle (a configuration error, said when it is loaded): base order
            waiting.remove(ready)
            placed.add(ready)
            order.append(ready)
        return order
