"""``upsert`` and ``delete``: creates, sparse and full updates, batches, stale SyncTokens.

* **Creates** carry ``requestid`` = the engine's idempotency key (``UpsertItem.key``; a digest
  when longer than QuickBooks keeps), so a create re-sent after a lost answer, by the
  transport or by the next run, gets the first answer back instead of a second object.
* **No answer** (a dropped connection, a body that cannot be read, even after the transport
  re-sent the request) is that record's failure with an unknown outcome
  (``UpsertResult.unknown``), for one write as for each write of a batch: never the entity's.
  The engine's outbox looks for the record before it is created again.
* **Updates** need the object's current ``SyncToken``. When the engine says which fields
  changed (``UpsertItem.changed``) and all of them map to properties, a **sparse** update sends
  only those, with the ``SyncToken`` last seen by ``fetch`` (no read first); QuickBooks keeps
  everything else, including fields another user changed meanwhile. Otherwise a **full**
  update reads the object, replaces the properties the mapping owns (clearing those the
  record no longer has) and sends the rest back as it was, so fields syncbridge does not map
  (terms, custom fields, classes) survive. An update's ``requestid`` is a digest of key,
  ``SyncToken`` and body: a resend of the same update is recognised, a later update is not.
* **5010 Stale Object**: the object changed since its ``SyncToken`` was seen; it is read
  again and the update sent once more with the new token. A second 5010 is reported.
* **Batches**: more than one item goes through ``POST /batch``, 30 to a request, with the
  batch's ``requestid`` derived from its items'; a ``Fault`` in one item's answer fails only
  that item (a 5010 there is retried alone, as above).
* **VAT of document lines**: a sales line that carries a percentage (``vat_percents``, in the
  context ``map`` out gave the item) is written with the tax code of that percentage when it
  names none, and refused when the code it names charges another (:func:`taxes.code_for`):
  QuickBooks would otherwise book it at no or at the wrong rate, and the document's total
  would change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from syncbridge.errors import AuthError, ConnectorError
from syncbridge.records import UpsertItem, UpsertResult
from syncbridge.rest import OutcomeUnknown
from syncbridge_quickbooks import taxes
from syncbridge_quickbooks.api import QboFault, QuickBooksApi, dumps, request_id
from syncbridge_quickbooks.entities import ENTITIES, INVOICE
from syncbridge_quickbooks.mapping import SPECS, WriteSpec
from syncbridge_quickbooks.native import make_ref, ref
from syncbridge_quickbooks.reads import context_of

#: items per ``POST /batch``
BATCH_SIZE = 30
#: what QuickBooks computes or stamps: never sent back in a full update
_SERVER_OWNED = frozenset({"MetaData", "domain", "status", "sparse", "time"})


#: what a sparse update carries besides the properties it changes
_SPARSE_FRAME = frozenset({"Id", "SyncToken", "sparse"})


@dataclass
class Write:
    """One prepared write: the body QuickBooks gets, and the context (``UpsertItem.context``,
    completed) its answer is read with."""

    item: UpsertItem
    body: dict[str, Any]
    operation: str
    request: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """A sparse update with nothing to change (only computed fields differed)."""
        return self.body.get("sparse") is True and set(self.body) <= _SPARSE_FRAME


def _value(value: Any) -> Any:
    """A reference's id, or the value itself."""
    return ref(value) if isinstance(value, Mapping) else value


class Rejected(Exception):
    """A write that cannot be sent, with the reason to report."""


def failed(item: UpsertItem, error: Exception, prefix: str = "") -> UpsertResult:
    """``item``'s failure for ``error``; its outcome unknown when the request went out and no
    usable answer came back (the engine's outbox then checks before sending it again).
    Refused credentials are every record's failure: they end the entity."""
    if isinstance(error, AuthError):
        raise error
    unknown = isinstance(error, OutcomeUnknown)
    return UpsertResult.failed(item.key, f"{prefix}{error}", item.id, unknown=unknown)


class Writer:
    """The writes of one ``upsert`` (or ``delete``) call for one canonical entity."""

    def __init__(self, api: QuickBooksApi, entity: str) -> None:
        self.api = api
        self.entity = entity
        self.qbo = ENTITIES[entity]
        self.spec: WriteSpec | None = SPECS.get(entity)

    # -- upsert ----------------------------------------------------------------------------

    def upsert(self, items: list[UpsertItem]) -> Iterator[UpsertResult]:
        if self.spec is None:
            for item in items:
                yield UpsertResult.failed(
                    item.key, f"QuickBooks {self.qbo.name} objects are read-only", item.id
                )
            return
        if len(items) == 1:
            yield self.single(items[0])
            return
        for start in range(0, len(items), BATCH_SIZE):
            yield from self.batch(items[start : start + BATCH_SIZE])

    def single(self, item: UpsertItem) -> UpsertResult:
        try:
            current = None if self.cheap(item) else self.current(item)
            write = self.prepare(item, current)
            try:
                return self.send(write)
            except QboFault as fault:
                if fault.code != "5010" or item.is_create:
                    raise
            return self.again(item)
        except (ConnectorError, Rejected) as error:
            return failed(item, error)

    def again(self, item: UpsertItem) -> UpsertResult:
        """After a 5010: read the object for its new SyncToken and send the update once more."""
        try:
            assert item.id is not None
            return self.send(self.prepare(item, self.api.read(self.qbo, item.id)))
        except QboFault as fault:
            return UpsertResult.failed(
                item.key, f"{fault} (sent again with the current SyncToken)", item.id
            )
        except (ConnectorError, Rejected) as error:
            return failed(item, error)

    def send(self, write: Write) -> UpsertResult:
        """One write on its own; an empty one is not sent (the object is read instead)."""
        if write.empty:
            assert write.item.id is not None
            return self.done(write, self.api.read(self.qbo, write.item.id))
        return self.done(write, self.api.post(self.qbo, write.body, request=write.request))

    def batch(self, items: list[UpsertItem]) -> Iterator[UpsertResult]:
        results: dict[str, UpsertResult] = {}
        needed = [item.id for item in items if item.id is not None and not self.cheap(item)]
        currents: dict[str, dict[str, Any]] = {}
        if needed:
            try:
                currents = {str(r["Id"]): r for r in self.api.by_ids(self.qbo, needed)}
            except AuthError:
                raise
            except ConnectorError as error:
                for item in items:
                    results[item.key] = failed(item, error)
        writes: list[Write] = []
        for item in items:
            if item.key in results:
                continue
            try:
                if item.id in needed and item.id not in currents:
                    raise Rejected(f"{self.qbo.name} {item.id} was not found in QuickBooks")
                writes.append(self.prepare(item, currents.get(str(item.id))))
            except (ConnectorError, Rejected) as error:
                results[item.key] = failed(item, error)
        for write in [w for w in writes if w.empty]:
            try:
                results[write.item.key] = self.send(write)
            except ConnectorError as error:
                results[write.item.key] = failed(write.item, error)
        writes = [w for w in writes if not w.empty]
        if writes:
            results.update(self.send_batch(writes))
        for item in items:
            yield results.get(item.key) or UpsertResult.failed(
                item.key, "no result for this record", item.id
            )

    def send_batch(self, writes: list[Write]) -> dict[str, UpsertResult]:
        requests = [
            {"bId": str(n), "operation": w.operation, self.qbo.name: w.body}
            for n, w in enumerate(writes)
        ]
        try:
            answers = self.api.batch(requests, request=request_id(*(w.request for w in writes)))
        except AuthError:
            raise
        except ConnectorError as error:
            # no usable answer: each write of the batch may have been carried out (unknown),
            # a refusal of the whole batch carried out none; never the entity's failure
            return {w.item.key: failed(w.item, error, "the batch failed: ") for w in writes}
        by_bid = {str(a.get("bId")): a for a in answers}
        results: dict[str, UpsertResult] = {}
        for n, write in enumerate(writes):
            item = write.item
            answer = by_bid.get(str(n))
            if answer is None:
                results[item.key] = UpsertResult.failed(
                    item.key, "QuickBooks returned no answer for this item of the batch", item.id
                )
            elif isinstance(answer.get("Fault"), Mapping):
                fault = QboFault.of(answer["Fault"])
                if fault.code == "5010" and not item.is_create:
                    results[item.key] = self.again(item)
                else:
                    results[item.key] = UpsertResult.failed(item.key, str(fault), item.id)
            elif isinstance(answer.get(self.qbo.name), dict):  # the write is done
                record = answer[self.qbo.name]
                self.api.remember(self.qbo, [record])
                results[item.key] = self.done(write, record)
            else:
                results[item.key] = UpsertResult.failed(
                    item.key,
                    "QuickBooks answered this item of the batch without the object; it may have "
                    "been written: the next run checks before sending it again",
                    item.id,
                    unknown=True,
                )
        return results

    # -- preparing -------------------------------------------------------------------------

    def cheap(self, item: UpsertItem) -> bool:
        """A create, or a sparse update whose SyncToken is known: nothing to read first."""
        if item.is_create:
            return True
        assert item.id is not None
        return (
            self.sparse_properties(item, item.record) is not None
            and self.api.sync_token(self.qbo, item.id) is not None
        )

    def current(self, item: UpsertItem) -> dict[str, Any] | None:
        return None if item.id is None else self.api.read(self.qbo, item.id)

    def sparse_properties(self, item: UpsertItem, body: Mapping[str, Any]) -> list[str] | None:
        """The properties a sparse update of ``item.changed`` sends, or None: update fully."""
        assert self.spec is not None
        if not item.changed:
            return None
        wanted: list[str] = []
        for name in sorted(item.changed):
            props = self.spec.fields.get(name)
            if props is None:
                return None
            wanted.extend(p for p in props if p not in self.spec.create_only)
        wanted = list(dict.fromkeys(wanted))
        if any(p not in body and p not in self.spec.keep for p in wanted):
            return None  # a property to clear: only a full update clears
        return [p for p in wanted if p in body]

    def prepare(self, item: UpsertItem, current: Mapping[str, Any] | None) -> Write:
        assert self.spec is not None
        body, context = dict(item.record), dict(item.context)
        body.pop("Id", None)
        body.pop("SyncToken", None)
        self.tax_codes(body, context)
        if item.is_create:
            self.complete(body, context)
            return Write(item, body, "create", request_id(item.key), context)
        assert item.id is not None
        self.refuse_create_only(item, current)
        for prop in self.spec.create_only:
            body.pop(prop, None)
        sparse = self.sparse_properties(item, body)
        if sparse is not None and current is None:
            token = self.api.sync_token(self.qbo, item.id)
            if token is None:
                raise Rejected(f"the SyncToken of {self.qbo.name} {item.id} is unknown")
            payload = {p: body[p] for p in sparse}
            payload.update({"Id": item.id, "SyncToken": token, "sparse": True})
        elif sparse is not None and current is not None:
            payload = {p: body[p] for p in sparse}
            payload.update({"Id": item.id, "SyncToken": current["SyncToken"], "sparse": True})
        else:
            if current is None:
                current = self.api.read(self.qbo, item.id)
            payload = {
                k: v
                for k, v in current.items()
                if k not in self.spec.owned and k not in _SERVER_OWNED
            }
            payload.update(body)
            payload.update({"Id": item.id, "SyncToken": current["SyncToken"]})
            payload = self.strip_computed(payload)
        digest = dumps(payload).decode()
        return Write(
            item,
            payload,
            "update",
            request_id(item.key, str(payload["SyncToken"]), digest),
            context,
        )

    def strip_computed(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Drop the subtotal line QuickBooks appends: it is recomputed from the others."""
        lines = payload.get("Line")
        if isinstance(lines, list):
            payload["Line"] = [
                line for line in lines if line.get("DetailType") != "SubTotalLineDetail"
            ]
        return payload

    def refuse_create_only(self, item: UpsertItem, current: Mapping[str, Any] | None) -> None:
        """A change to what QuickBooks fixes at creation is reported, not silently dropped."""
        assert self.spec is not None
        for name in sorted(item.changed):
            for prop in self.spec.fields.get(name, ()):
                if prop not in self.spec.create_only:
                    continue
                if current is not None and _value(item.record.get(prop)) == _value(
                    current.get(prop)
                ):
                    continue
                raise Rejected(
                    f"QuickBooks does not let {prop} of a {self.qbo.name} change after it is "
                    f"created ({name} differs); change it in QuickBooks or leave {name} out "
                    "of the sync"
                )

    def tax_codes(self, body: dict[str, Any], context: Mapping[str, Any]) -> None:
        """Give each sales line that carries a VAT percentage the tax code of it."""
        wanted = context.get("vat_percents")
        lines = body.get("Line")
        if not isinstance(wanted, list) or not isinstance(lines, list):
            return
        codes = self.api.tax_codes()
        body["Line"] = lines = [dict(line) if isinstance(line, dict) else line for line in lines]
        for position, (line, percent) in enumerate(zip(lines, wanted, strict=False)):
            if percent is None or not isinstance(line, dict):
                continue
            detail = line.get("SalesItemLineDetail")
            if line.get("DetailType") != "SalesItemLineDetail" or not isinstance(detail, dict):
                continue
            line["SalesItemLineDetail"] = detail = dict(detail)  # the item's record stays as is
            named = ref(detail.get("TaxCodeRef"))
            if named is not None and named not in taxes.PSEUDO_TAX_CODES and named not in codes:
                codes = self.api.tax_codes([named])  # created since the codes were read
            try:
                code = taxes.code_for(codes, named, Decimal(str(percent)), position + 1)
            except taxes.TaxCodeError as error:
                raise Rejected(str(error)) from None
            if code is None:
                detail.pop("TaxCodeRef", None)
            else:
                detail["TaxCodeRef"] = make_ref(code)

    def complete(self, body: dict[str, Any], context: dict[str, Any]) -> None:
        """What a create needs beyond the mapped fields."""
        if self.entity == "product":
            kind = body.setdefault("Type", self.api.settings.item_type)
            if kind in ("Service", "NonInventory") and "IncomeAccountRef" not in body:
                body["IncomeAccountRef"] = {"value": self.api.income_account()}
        elif self.entity == "payment" and "CustomerRef" not in body:
            invoices = [
                link["TxnId"]
                for line in body.get("Line") or []
                for link in line.get("LinkedTxn") or []
                if link.get("TxnType") == "Invoice"
            ]
            if not invoices:
                raise Rejected("a payment needs a company_id or an invoice_id to know its payer")
            invoice = self.api.read(INVOICE, str(invoices[0]))
            customer = ref(invoice.get("CustomerRef"))
            if customer is None:
                raise Rejected(f"invoice {invoices[0]} has no customer")
            body["CustomerRef"] = {"value": customer}
            kind = self.api.kinds([customer]).get(customer)
            if kind is not None:
                context["customer"] = kind

    def done(self, write: Write, record: Mapping[str, Any]) -> UpsertResult:
        """The answer as a result, with the context ``fetch`` would give it."""
        stored = dict(record)
        id = str(stored.get("Id"))
        # what the write asked for is done: the record reads back as fetch would give it
        kept = {k: v for k, v in write.context.items() if k != "vat_percents"}
        context = {**kept, **context_of(self.api, self.entity, [stored]).get(id, {})}
        return UpsertResult(key=write.item.key, id=id, ok=True, record=stored, context=context)

    # -- delete ----------------------------------------------------------------------------

    def delete(self, ids: list[str]) -> Iterator[UpsertResult]:
        """Transactions are deleted; name-list objects are made inactive (QuickBooks' delete)."""
        for id in ids:
            yield self.delete_one(id)

    def delete_one(self, id: str, *, again: bool = False) -> UpsertResult:
        try:
            token = self.api.sync_token(self.qbo, id) if not again else None
            if token is None:
                token = str(self.api.read(self.qbo, id)["SyncToken"])
            if self.qbo.name_list:
                body: dict[str, Any] = {"Id": id, "SyncToken": token, "sparse": True}
                body["Active"] = False
                operation = None
            else:
                body, operation = {"Id": id, "SyncToken": token}, "delete"
            self.api.post(
                self.qbo, body, request=request_id("delete", id, token), operation=operation
            )
            return UpsertResult(key=id, id=id)
        except QboFault as fault:
            if fault.code == "610":
                return UpsertResult(key=id, id=id)  # already gone: the delete's aim is met
            if fault.code == "5010" and not again:
                return self.delete_one(id, again=True)
            return UpsertResult.failed(id, str(fault), id)
        except AuthError:
            raise
        except ConnectorError as error:
            return UpsertResult.failed(
                id, str(error), id, unknown=isinstance(error, OutcomeUnknown)
            )
