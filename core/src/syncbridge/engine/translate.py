"""Projecting a record for the other side: synced fields, overrides, and translated ids.

A canonical record holds its own side's ids in reference fields (``company_id``,
``lines.product_id``). Before it is compared with, or written to, the other side, each id is
replaced by the linked id there; an id with no link yet means the record must wait.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from syncbridge.engine.context import EntityContext, Side, other
from syncbridge.engine.db import LinkStore
from syncbridge.models.statistics import pyramid_class

#: the id a dry run gives a reference to a record it plans to create or link
PLANNED = "(planned)"


class Translator:
    """Translates references from ``source`` ids to the other side's, with a lookup cache."""

    def __init__(
        self, ctx: EntityContext, db: Connection, references: dict[str, str] | None = None
    ) -> None:
        self.ctx, self.db = ctx, db
        self._cache: dict[tuple[Side, str, str], str | None] = {}
        references = ctx.model.references if references is None else references
        linked = ctx.linked_entities
        self._refs = {path: entity for path, entity in references.items() if entity in linked}
        self._dropped = [
            path for path, entity in references.items() if entity not in linked and "." in path
        ]

    def prefetch(self, source: Side, contents: list[dict[str, Any]]) -> None:
        """Look up every reference of ``contents`` at once: one query per referenced entity."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for content in contents:
            for path, entity in self._refs.items():
                for value in _values(content, path):
                    if (source, entity, value) not in self._cache:
                        wanted[entity].add(value)
        for entity, ids in wanted.items():
            sync, flipped = self.ctx.borrowed.get(entity, (self.ctx.sync, False))
            side = other(source) if flipped else source  # the source's side in that sync
            target = other(side)
            links = LinkStore(sync, entity).by_side(self.db, side, ids)
            for value in ids:
                link = links.get(value)
                linked = None if link is None else (
                    link.right_id if target == "right" else link.left_id)
                if linked is None and (entity, source, value) in self.ctx.planned:
                    linked = PLANNED
                self._cache[(source, entity, value)] = linked

    def _lookup(self, source: Side, entity: str, value: str) -> str | None:
        key = (source, entity, value)
        if key not in self._cache:
            self.prefetch(source, [_with(entity_path(self._refs, entity), value)])
        return self._cache.get(key)

    def project(self, source: Side, content: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """``content`` as the other side should hold it, and the references still unlinked."""
        ctx = self.ctx
        projected = {name: content.get(name) for name in ctx.synced_fields}
        for target_field, source_field in ctx.rule.fields.items():
            if source == "left":
                projected[target_field] = content.get(source_field)
            else:
                projected[source_field] = content.get(target_field)
        self._narrow(projected)
        return projected, self.translate(source, projected)

    def classified(self, content: dict[str, Any]) -> dict[str, Any]:
        """``content`` with its sales pyramid's classes computed from its sales, when the
        rule says how (``pyramid``): what each side is compared as, so that new figures are
        a change of their classes too."""
        if self.ctx.rule.pyramid is None:
            return content
        content = dict(content)
        self._classify(content)
        return content

    def _classify(self, content: dict[str, Any]) -> None:
        """Set the sales pyramid's classes of ``content`` from its sales (``pyramid``)."""
        pyramid = self.ctx.rule.pyramid
        if pyramid is None:
            return
        for sales, klass in (
            ("sales_current", "pyramid_current"),
            ("sales_previous", "pyramid_previous"),
        ):
            if sales in content and klass in self.ctx.synced_fields:
                value = content[sales]
                amount = None if value in (None, "") else Decimal(str(value))
                found = pyramid_class(amount, pyramid.a_from, pyramid.b_from)
                content[klass] = None if found is None else str(found)

    def translate(self, source: Side, projected: dict[str, Any]) -> list[str]:
        """Replace ``source`` ids in ``projected`` by linked ids; returns the unlinked ones."""
        missing: list[str] = []
        for path, entity in self._refs.items():
            head, _, tail = path.partition(".")
            if head not in projected:
                continue
            if not tail:
                value = projected[head]
                if value is not None:
                    linked = self._lookup(source, entity, str(value))
                    if linked is None:
                        missing.append(f"{entity} {value}")
                    projected[head] = linked
                continue
            items = projected[head] or []
            translated = []
            for item in items:
                item = dict(item)
                value = item.get(tail)
                if value is not None:
                    linked = self._lookup(source, entity, str(value))
                    if linked is None:
                        missing.append(f"{entity} {value}")
                    item[tail] = linked
                translated.append(item)
            projected[head] = translated
        for path in self._dropped:
            strip_nested(projected, path)
        return missing

    def comparable(self, content: dict[str, Any]) -> dict[str, Any]:
        """A target record as :meth:`project` gives the source's: nested references this
        sync does not translate removed, items cut to the fields both sides map."""
        if not self._dropped and not self.ctx.item_fields:
            return content
        content = dict(content)
        for path in self._dropped:
            strip_nested(content, path)
        self._narrow(content)
        return content

    def merged(self, target: dict[str, Any], projected: dict[str, Any]) -> dict[str, Any]:
        """What to write over ``target``: ``projected``, with each item's fields the source
        does not map kept from the target's item in the same place (a CRM without units
        must not blank the units of an invoice's lines). Items are paired by position, and
        only when both lists are as long: lines added or removed cannot be paired safely.
        """
        payload = {**target, **projected}
        for name in self.ctx.item_fields:
            ours, theirs = projected.get(name), target.get(name)
            if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
                payload[name] = [
                    {**old, **new} if isinstance(old, dict) else new
                    for new, old in zip(ours, theirs, strict=True)
                ]
        return payload

    def _narrow(self, content: dict[str, Any]) -> None:
        for name, keep in self.ctx.item_fields.items():
            items = content.get(name)
            if isinstance(items, list):
                content[name] = [
                    {k: v for k, v in item.items() if k in keep} if isinstance(item, dict)
                    else item
                    for item in items
                ]


def entity_path(refs: dict[str, str], entity: str) -> str:
    return next(path for path, target in refs.items() if target == entity)


def _with(path: str, value: str) -> dict[str, Any]:
    head, _, tail = path.partition(".")
    return {head: [{tail: value}]} if tail else {head: value}


def _values(content: dict[str, Any], path: str) -> list[str]:
    head, _, tail = path.partition(".")
    value = content.get(head)
    if not tail:
        return [str(value)] if value is not None else []
    return [str(item[tail]) for item in value or [] if item.get(tail) is not None]


def strip_nested(content: dict[str, Any], path: str) -> None:
    head, _, tail = path.partition(".")
    if head in content and isinstance(content[head], list):
        content[head] = [{k: v for k, v in item.items() if k != tail} for item in content[head]]


def differences(projected: dict[str, Any], target: dict[str, Any]) -> frozenset[str]:
    """Fields whose projected value differs from what the target holds."""
    return frozenset(name for name, value in projected.items() if target.get(name) != value)
