"""What a connector says about itself.

The engine plans everything from these declarations, so they must be true: the conformance
kit (`syncbridge.testing`) fails a connector that declares a capability it cannot honour, or
honours one it did not declare.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from syncbridge.settings import ConnectorSettings


class Capability(StrEnum):
    """One thing a connector can do with one entity."""

    READ = "read"
    INCREMENTAL = "incremental"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    BATCH = "batch"
    #: a create re-sent with the same ``UpsertItem.key`` never makes a second record
    IDEMPOTENT_CREATE = "idempotent_create"
    #: ``lookup`` finds a record by the ``UpsertItem.key`` written with it
    LOOKUP = "lookup"
    #: ``fetch`` honours ``query["filter"]`` (canonical field -> a value or a list of values),
    #: leaving out records that do not match (it may return some that do not: the engine
    #: checks every record again)
    FILTER = "filter"


class RateLimit(BaseModel):
    """A published limit: at most ``requests`` in any ``seconds`` window.

    ``paths``: the URL paths (prefixes) the limit counts, when the API limits only some of its
    endpoints (MiniCRM: ``/Api/R3/``, not its invoice endpoints); empty, every request. A
    connection's requests outside every limit's paths are not paced at all.
    """

    model_config = ConfigDict(frozen=True)

    requests: int = Field(gt=0)
    seconds: float = Field(gt=0)
    paths: tuple[str, ...] = ()

    def __str__(self) -> str:
        scope = f" on {', '.join(self.paths)}" if self.paths else ""
        return f"{self.requests} requests / {self.seconds:g} s{scope}"


def item_fields(name: str, *fields: str) -> frozenset[str]:
    """``{name}`` plus ``name.field`` for each of ``fields``: the part of each item of the
    list field ``name`` (a document's ``lines``) a connector maps, for :attr:`EntityInfo.fields`.
    """
    return frozenset({name, *(f"{name}.{field}" for field in fields)})


class EntityInfo(BaseModel):
    """How one canonical entity is served by a connector."""

    model_config = ConfigDict(frozen=True)

    name: str
    capabilities: frozenset[Capability]
    #: native endpoint or table, for documentation and error messages
    source: str = ""
    #: largest batch ``upsert`` accepts for this entity
    batch_size: int = Field(default=1, ge=1)
    #: page size ``fetch`` asks for
    page_size: int = Field(default=100, ge=1)
    #: canonical fields the connector maps for this entity; None = all of the model's fields.
    #: The engine only compares and writes fields both sides map, so a system without a
    #: field never blanks it on the other side. The same goes for the items of a list:
    #: ``lines.vat_percent`` and the like (see :func:`item_fields`) name the fields of each
    #: line the connector maps; a connector naming ``lines`` alone maps them all.
    fields: frozenset[str] | None = None
    #: fields the system assigns and the connector reads but never writes: a document's
    #: number in its sequence, the system's own id offered as ``external_id``. The engine
    #: never writes them here; where the two sides differ, this side's value is the truth and
    #: flows to the other side (when this side's changes flow)
    read_only: frozenset[str] = frozenset()
    #: key of the native id in a native record (used to name a record that fails to map)
    id_field: str = "id"
    notes: str = ""

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities


class ConnectorInfo(BaseModel):
    """Everything the core needs to know about a connector before it runs it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    title: str
    version: str = "0"
    settings: type[ConnectorSettings] = ConnectorSettings
    entities: dict[str, EntityInfo] = Field(default_factory=dict)
    #: entities the system has no notion of, with the reason shown at config time
    unsupported: dict[str, str] = Field(default_factory=dict)
    rate_limits: tuple[RateLimit, ...] = ()
    #: requests in flight at once against one account
    max_concurrency: int = Field(default=4, ge=1)
    #: False for connectors that never speak HTTP (the sql connector)
    uses_http: bool = True
    docs: str = ""

    def entity(self, name: str) -> EntityInfo:
        """The entity, or a KeyError whose message says why it is missing."""
        if name in self.entities:
            return self.entities[name]
        if name in self.unsupported:
            raise KeyError(f"{self.name} does not support {name!r}: {self.unsupported[name]}")
        raise KeyError(
            f"{self.name} has no entity {name!r}; it offers: {', '.join(sorted(self.entities))}"
        )
