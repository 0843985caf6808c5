"""The base of every canonical model."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict

from syncbridge.models.types import AwareDatetime

#: fields that identify a record on one side and never take part in comparisons
META_FIELDS = frozenset({"id", "updated_at"})


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

    id: str | None = None
    updated_at: AwareDatetime | None = None

    def content(self) -> dict[str, Any]:
        """The comparable content: every field but the identity/meta fields, JSON-ready."""
        return self.model_dump(mode="json", exclude=set(META_FIELDS))

    def fingerprint(self) -> str:
        """A stable hash of :meth:`content`, used to recognise unchanged records and echoes."""
        return content_hash(self.content())


def content_hash(content: dict[str, Any]) -> str:
    import hashlib

    return hashlib.blake2b(
        orjson.dumps(content, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()
