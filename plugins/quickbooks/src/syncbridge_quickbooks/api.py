"""Talking to the Accounting API: paths, ``minorversion``, envelopes, Faults, idempotent writes.

One :class:`QuickBooksApi` per connection (kept on the client with ``client.resource``) holds
what every hook needs: the company (``realmId``) the tokens belong to, the ``SyncToken`` last
seen of each object (so an update rarely needs a read first), which customers are companies
and which are people, and the pacing of the batch endpoint. Requests go through the
connection's :class:`syncbridge.http.Client` (auth, retries, rate limit, request log); what
every answer means is decided by :data:`ERRORS`, the toolkit's
:class:`~syncbridge.rest.ErrorMap`; this layer adds what is QuickBooks' own:

* ``minorversion`` on every request;
* response bodies parsed with ``Decimal`` numbers; a ``Fault`` body is one line of Intuit's
  own words (``6240 Duplicate Name Exists Error: The name supplied already exists.``) and
  raised as :class:`QboFault`, which keeps its codes for the writes that act on them (5010
  stale object, 610 already deleted); 401/403 are an AuthError with the fix;
* a write carries a ``requestid``, so it is *repeatable*: QuickBooks answers a repeated
  ``requestid`` with the first response, and the transport retries it, unchanged, when its
  answer is lost or a 5xx, as it retries a read. No retry loop of its own: a server that is
  down costs the transport's connect deadline, once. A write that still gets no usable answer
  raises :class:`~syncbridge.rest.OutcomeUnknown`: the caller reports it as that record's
  failure with an unknown outcome, and the engine's outbox finds out next run;
* the company's tax codes as VAT percentages (:mod:`~syncbridge_quickbooks.taxes`), read once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from syncbridge.describe import RateLimit
from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.http.ratelimit import build_limiter
from syncbridge.oauth import OAuth2Auth
from syncbridge.rest import ErrorMap, OutcomeUnknown, one_line
from syncbridge_quickbooks import query as q
from syncbridge_quickbooks import taxes
from syncbridge_quickbooks.entities import ACCOUNT, CUSTOMER, QboEntity
from syncbridge_quickbooks.parties import Kind, customer_kind
from syncbridge_quickbooks.settings import QuickBooksSettings

#: the batch endpoint's own limit per realm, beside the 500 requests a minute
BATCH_LIMIT = RateLimit(requests=40, seconds=60)
#: the longest query sent in a URL; longer ones are POSTed as application/text
MAX_QUERY_IN_URL = 1500
#: ids per ``Id IN (...)`` lookup
IDS_PER_QUERY = 100
#: QuickBooks keeps request ids of at most this many characters
MAX_REQUEST_ID = 50


SYSTEM = "QuickBooks"


def fault_of(body: Any) -> Mapping[str, Any] | None:
    """The ``Fault`` of a body (at the top, or in a ``QueryResponse``), or None."""
    if not isinstance(body, Mapping):
        return None
    for holder in (body, body.get("QueryResponse")):
        if isinstance(holder, Mapping):
            fault = holder.get("Fault") or holder.get("fault")
            if isinstance(fault, Mapping):
                return fault
    return None


def fault_errors(fault: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    errors = fault.get("Error") or fault.get("error") or []
    return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []


def fault_text(fault: Mapping[str, Any]) -> str:
    """QuickBooks' own words, one line: ``6240 Duplicate Name Exists Error: The name ...``."""
    parts = []
    for error in fault_errors(fault):
        message = str(error.get("Message") or error.get("message") or "").strip()
        detail = str(error.get("Detail") or error.get("detail") or "").strip()
        code = str(error.get("code") or "").strip()
        text = f"{code} {message}".strip()
        if detail and detail != message:
            text = f"{text}: {detail}" if text else detail
        parts.append(text)
    described = "; ".join(p for p in parts if p)
    if not described:
        kind = str(fault.get("type") or "").strip()
        described = f"a {kind} fault without details" if kind else "a fault without details"
    return one_line(described)


def fault_codes(fault: Mapping[str, Any] | None) -> tuple[str, ...]:
    return tuple(str(e.get("code") or "") for e in fault_errors(fault or {}))


def message(body: Any) -> str | None:
    """Where an error answer keeps its reason: the ``Fault`` (see :func:`fault_text`)."""
    fault = fault_of(body)
    return None if fault is None else fault_text(fault)


class QboFault(ConnectorError):
    """QuickBooks refused a request (a ``Fault``, or an error status without one); the
    message is the one line to report, :attr:`codes` Intuit's error codes."""

    def __init__(self, reason: str, codes: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.codes = codes

    @property
    def code(self) -> str:
        """The first error's code ("5010", "6240", "610"...), or "" when there is none."""
        return self.codes[0] if self.codes else ""

    @classmethod
    def of(cls, fault: Mapping[str, Any]) -> QboFault:
        """The fault of one item of a batch."""
        return cls(fault_text(fault), fault_codes(fault))


def loads(content: bytes) -> Any:
    """JSON with every non-integer number as ``Decimal``."""
    return json.loads(content, parse_float=Decimal)


def _refusal(reason: str, response: httpx.Response) -> ConnectorError:
    try:
        body = loads(response.content)
    except ValueError:
        body = None
    return QboFault(reason, fault_codes(fault_of(body)))


#: what every answer means (see the module docstring); 401 and 403 ask to authorise again
ERRORS = ErrorMap(
    system=SYSTEM,
    message=message,
    failure=message,  # a Fault in an answer with a success status is a failure all the same
    decode=loads,
    refusal=_refusal,
)


def dumps(value: Any) -> bytes:
    """JSON with ``Decimal`` written as a JSON number, digit for digit (never via float)."""

    def encode(item: Any) -> str:
        if isinstance(item, Decimal):
            return format(item, "f")
        if isinstance(item, Mapping):
            return (
                "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in item.items()) + "}"
            )
        if isinstance(item, list | tuple):
            return "[" + ",".join(encode(v) for v in item) + "]"
        return json.dumps(item, ensure_ascii=False)

    return encode(value).encode("utf-8")


def request_id(*parts: str) -> str:
    """A ``requestid`` for these parts: the key itself when it fits, else its digest."""
    if len(parts) == 1 and len(parts[0]) <= MAX_REQUEST_ID:
        return parts[0]
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()
    return f"sb-{digest}"


class QuickBooksApi:
    """The Accounting API of one connection's company; get it with :func:`api`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.settings = settings = QuickBooksSettings.of(client)
        self.connection = client.connection
        auth = client.auth
        self.realm = self._realm(auth)
        self.prefix = f"/v3/company/{self.realm}"
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], str] = {}
        self._kinds: dict[str, Kind] = {}
        self._tax_codes: dict[str, taxes.TaxCode] | None = None
        self._income_account: str | None = settings.income_account_id
        self._batches = build_limiter([BATCH_LIMIT]) if settings.rate_limit else None

    def _realm(self, auth: httpx.Auth | None) -> str:
        stored = None
        if isinstance(auth, OAuth2Auth):
            stored = auth.credentials.load().get("realmId")
        configured = self.settings.realm_id
        if stored and configured and str(stored) != configured:
            raise AuthError(
                f"{self.connection}: the stored tokens are for company {stored} but "
                f"settings.realm_id is {configured}; remove realm_id or run "
                f"`syncbridge auth {self.connection}` for company {configured}"
            )
        realm = str(stored or configured or "")
        if not realm:
            raise AuthError(
                f"{self.connection}: not authorised (no QuickBooks company, realmId, is "
                f"stored); run `syncbridge auth {self.connection}` to re-authorise"
            )
        return realm

    def close(self) -> None:
        if self._batches is not None:
            self._batches.close()

    # -- the wire --------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        text: str | None = None,
        write: bool = False,
    ) -> dict[str, Any]:
        """One API request and its parsed envelope, answers translated by :data:`ERRORS`.

        A read raises AuthError, :class:`QboFault` or ConnectorError. A ``write`` (it carries
        a ``requestid``) is repeatable: the transport re-sends it when its answer is lost;
        it raises AuthError, :class:`QboFault` or :class:`~syncbridge.rest.OutcomeUnknown`.
        """
        query = {**(params or {}), "minorversion": str(self.settings.minor_version)}
        headers = {"Accept": "application/json"}
        content: bytes | None = None
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json"
        elif text is not None:
            content = text.encode("utf-8")
            headers["Content-Type"] = "application/text"
        url = self.prefix + path
        request: dict[str, Any] = {"params": query, "content": content, "headers": headers}
        if write:
            _response, data = ERRORS.send(self.client, method, url, repeatable=True, **request)
        else:
            _response, data = ERRORS.read(self.client, url, method=method, **request)
        return data if isinstance(data, dict) else {}

    # -- reads -----------------------------------------------------------------------------

    def query(self, statement: str) -> tuple[dict[str, Any], str | None]:
        """Run a statement: its ``QueryResponse`` and the envelope's ``time``."""
        if len(statement) <= MAX_QUERY_IN_URL:
            data = self.call("GET", "/query", params={"query": statement})
        else:
            data = self.call("POST", "/query", text=statement)
        answer = data.get("QueryResponse") or {}
        return answer, data.get("time")

    def pages(
        self, entity: QboEntity, where: list[str], order_by: str = "Id"
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """``SELECT *`` page by page (``STARTPOSITION``/``MAXRESULTS``), with each ``time``."""
        size = self.settings.page_size
        start = 1
        while True:
            statement = q.select(
                entity.name, where, order_by=order_by, start=start, max_results=size
            )
            answer, at = self.query(statement)
            rows = [r for r in answer.get(entity.name) or [] if isinstance(r, dict)]
            self.remember(entity, rows)
            yield rows, at
            if len(rows) < size:
                return
            start += len(rows)

    def by_ids(self, entity: QboEntity, ids: Iterable[str]) -> list[dict[str, Any]]:
        """The objects with these ids (inactive ones too), a hundred ids per query."""
        wanted = sorted(set(ids), key=lambda v: (len(v), v))
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            where = [q.id_in(wanted[start : start + IDS_PER_QUERY])]
            if entity.name_list:
                where.append(q.ANY_ACTIVE)
            for rows, _at in self.pages(entity, where):
                found.extend(rows)
        return found

    def read(self, entity: QboEntity, id: str) -> dict[str, Any]:
        data = self.call("GET", f"/{entity.path}/{id}")
        record = data.get(entity.name)
        if not isinstance(record, dict):
            raise QboFault(f"{SYSTEM} answered GET /{entity.path}/{id} without the {entity.name}")
        self.remember(entity, [record])
        return record

    def changes(self, entity: QboEntity, since: str) -> tuple[list[dict[str, Any]], str | None]:
        """Change data capture of one object type since ``since``: objects and ``time``."""
        data = self.call("GET", "/cdc", params={"entities": entity.name, "changedSince": since})
        rows: list[dict[str, Any]] = []
        for answer in data.get("CDCResponse") or []:
            for response in answer.get("QueryResponse") or []:
                rows.extend(r for r in response.get(entity.name) or [] if isinstance(r, dict))
        self.remember(entity, [r for r in rows if r.get("status") != "Deleted"])
        return rows, data.get("time")

    def company_info(self) -> dict[str, Any]:
        data = self.call("GET", f"/companyinfo/{self.realm}")
        info = data.get("CompanyInfo")
        return info if isinstance(info, dict) else {}

    # -- writes ----------------------------------------------------------------------------

    def post(
        self,
        entity: QboEntity,
        body: Mapping[str, Any],
        *,
        request: str,
        operation: str | None = None,
    ) -> dict[str, Any]:
        """Create or update (or ``operation=delete``) one object, idempotent by ``request``."""
        params = {"requestid": request}
        if operation:
            params["operation"] = operation
        data = self.call("POST", f"/{entity.path}", params=params, body=body, write=True)
        record = data.get(entity.name)
        if not isinstance(record, dict):
            raise OutcomeUnknown(
                f"{SYSTEM} answered a {entity.name} write without the object; it may have "
                "been written: the next run checks before sending it again"
            )
        if record.get("status") != "Deleted":
            self.remember(entity, [record])
        return record

    def batch(self, items: list[dict[str, Any]], *, request: str) -> list[dict[str, Any]]:
        """``POST /batch``: the ``BatchItemResponse`` entries (matched to items by ``bId``)."""
        if self._batches is not None:
            self._batches.try_acquire(f"{self.connection}:batch", blocking=True)
        data = self.call(
            "POST",
            "/batch",
            params={"requestid": request},
            body={"BatchItemRequest": items},
            write=True,
        )
        answers = data.get("BatchItemResponse") or []
        return [a for a in answers if isinstance(a, dict)]

    # -- what the connection remembers -----------------------------------------------------

    def remember(self, entity: QboEntity, records: Iterable[Mapping[str, Any]]) -> None:
        """Keep each object's ``SyncToken`` (and a customer's kind) for later writes."""
        with self._lock:
            for record in records:
                id = record.get("Id")
                if id is None or record.get("SyncToken") is None:
                    continue
                self._tokens[(entity.name, str(id))] = str(record["SyncToken"])
                if entity is CUSTOMER:
                    self._kinds[str(id)] = customer_kind(record)

    def sync_token(self, entity: QboEntity, id: str) -> str | None:
        with self._lock:
            return self._tokens.get((entity.name, id))

    def kinds(self, ids: Iterable[str]) -> dict[str, Kind]:
        """Whether each customer is a company or a contact, asking QuickBooks for unknown ones."""
        wanted = {str(i) for i in ids if i}
        with self._lock:
            unknown = [i for i in wanted if i not in self._kinds]
        if unknown:
            self.by_ids(CUSTOMER, unknown)
        with self._lock:
            return {i: self._kinds[i] for i in wanted if i in self._kinds}

    def tax_codes(self, wanted: Iterable[str] = ()) -> dict[str, taxes.TaxCode]:
        """Every tax code with its percentage: read once per connection, and again when a
        code in ``wanted`` is not known yet (one created since)."""
        with self._lock:
            known = self._tax_codes
        if known is None or any(code not in known for code in wanted):
            known = taxes.load(self)
            with self._lock:
                self._tax_codes = known
        return known

    def income_account(self) -> str:
        """``IncomeAccountRef`` of new items: the setting, else the first Income account."""
        if self._income_account is None:
            answer, _at = self.query(
                q.select(
                    ACCOUNT.name, [f"AccountType = {q.literal('Income')}"], start=1, max_results=1
                )
            )
            accounts = answer.get(ACCOUNT.name) or []
            if not accounts:
                raise ConnectorError(
                    "QuickBooks has no Income account for new items; set income_account_id"
                )
            self._income_account = str(accounts[0]["Id"])
        return self._income_account


_CREATE_LOCK = threading.Lock()


def api(client: Client) -> QuickBooksApi:
    """The connection's :class:`QuickBooksApi`, made on first use and closed with the client."""
    with _CREATE_LOCK:
        return client.resource("quickbooks.api", lambda: QuickBooksApi(client))
