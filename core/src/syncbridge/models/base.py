"""The base of every canonical model."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict

from syncbridge.models.types import AwareDatetime

#: fields that identify a record on one side and never take part in comparisons
META_FIELDS = frozenset({"id", "updated_at"})
_EXCLUDED = set(META_FIELDS)  # the serializer's own type for it


class CanonicalRecord(BaseModel):
    """A record in syncbridge's own vocabulary, the only thing the engine compares.

    ``id`` is the record's native id on the side it was read from; ``updated_at`` its last
    modification there. ``references`` maps a field path (``"company_id"``, or
    ``"lines.product_id"`` inside a list) to the entity it points at: the engine translates
    those ids between sides through its links, and holds back a record whose reference is
    not linked yet.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=True)

    entity: ClassVar[str] = ""
    references: ClassVar[dict[str, str]] = {}
    #: the field that dates a record's content (the day statistics were computed), if any:
    #: a run reports the latest it read, so a person sees how fresh what was sent is
    as_of: ClassVar[str | None] = None

    id: str | None = None
    updated_at: AwareDatetime | None = None

    @classmethod
    def item_fields(cls, name: str) -> frozenset[str] | None:
        """The fields of each item of ``name`` when it is a list of objects (a document's
        ``lines``), else None: what a connector may declare as ``lines.<field>``."""
        info = cls.model_fields.get(name)
        args = list(get_args(info.annotation)) if info is not None else []
        while args:  # through Optional[...] and list[...] to the item model
            arg = args.pop(0)
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return frozenset(arg.model_fields)
            args.extend(get_args(arg))
        return None

    @classmethod
    def has_field(cls, path: str) -> bool:
        """Whether ``path`` names a field (``city``) or a field of each item of a list of
        objects (``lines.unit``)."""
        head, dot, tail = path.partition(".")
        if not dot:
            return head in cls.model_fields
        return tail in (cls.item_fields(head) or ())

    def content(self) -> dict[str, Any]:
        """The comparable content: every field but the identity/meta fields, JSON-ready."""
        return self.model_dump(mode="json", exclude=set(META_FIELDS))

    def fingerprint(self) -> str:
        """A stable hash of :meth:`content`, used to recognise unchanged records and echoes."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[str, str]:
        """``(fingerprint, JSON of content)``: what the state store keeps of a record.

        One pass of pydantic's own serializer gives both, which matters on a full read: it
        is done for every record. Fields come out in the model's order, so equal content
        always gives equal JSON and an equal hash.
        """
        data = self.__pydantic_serializer__.to_json(self, exclude=_EXCLUDED)
        return hashlib.blake2b(data, digest_size=16).hexdigest(), data.decode()
