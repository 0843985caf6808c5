"""Talking to the Accounting API: paths, ``minorversion``, envelopes, Faults, idempotent retries.

One :class:`QuickBooksApi` per connection (kept on the client with ``client.resource``) holds
what every hook needs: the company (``realmId``) the tokens belong to, the ``SyncToken`` last
seen of each object (so an update rarely needs a read first), which customers are companies
and which are people, and the pacing of the batch endpoint. Requests go through the
connection's :class:`syncbridge.http.Client` (auth, retries, rate limit, request log); this
layer adds what is QuickBooks' own:

* ``minorversion`` on every request;
* response bodies parsed with ``Decimal`` numbers, and ``Fault`` bodies raised as
  :class:`QboFault` (401/403 as :class:`~syncbridge.errors.AuthError`, with the fix);
* a write carrying a ``requestid`` is re-sent, unchanged, when its answer is lost (a dropped
  connection, a 5xx): QuickBooks answers a repeated ``requestid`` with the first response, so
  the retry cannot write twice. The core retry layer cannot do this for a POST on its own;
* the company's tax codes as VAT percentages (:mod:`~syncbridge_quickbooks.taxes`), read once.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from syncbridge.describe import RateLimit
from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.http.ratelimit import build_limiter
from syncbridge.http.retry import backoff_from_env
from syncbridge.oauth import OAuth2Auth
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


class QboFault(ConnectorError):
    """QuickBooks answered with a ``Fault`` (or an error status without one)."""

    def __init__(self, status: int, fault: Mapping[str, Any] | None) -> None:
        self.status = status
        fault = fault or {}
        errors = fault.get("Error") or fault.get("error") or []
        self.errors: list[Mapping[str, Any]] = [e for e in errors if isinstance(e, Mapping)]
        self.fault_type = str(fault.get("type") or "")
        super().__init__(self.describe())

    @property
    def code(self) -> str:
        """The first error's code ("5010", "6240", "003001"...), or "" when there is none."""
        if not self.errors:
            return ""
        return str(self.errors[0].get("code") or "")

    def describe(self) -> str:
        """QuickBooks' own words: ``6240 Duplicate Name Exists Error: The name supplied ...``."""
        parts = []
        for error in self.errors:
            message = str(error.get("Message") or error.get("message") or "").strip()
            detail = str(error.get("Detail") or error.get("detail") or "").strip()
            code = str(error.get("code") or "").strip()
            text = f"{code} {message}".strip()
            if detail and detail != message:
                text = f"{text}: {detail}"
            parts.append(text)
        described = "; ".join(p for p in parts if p) or "no error details"
        return f"{described} (HTTP {self.status})"


class NoAnswer(ConnectorError):
    """A request got no usable answer even after it was re-sent."""


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


def loads(content: bytes) -> Any:
    """JSON with every non-integer number as ``Decimal``."""
    return json.loads(content, parse_float=Decimal)


def request_id(*parts: str) -> str:
    """A ``requestid`` for these parts: the key itself when it fits, else its digest."""
    if len(parts) == 1 and len(parts[0]) <= MAX_REQUEST_ID:
        return parts[0]
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()
    return f"sb-{digest}"


class QuickBooksApi:
    """The Accounting API of one connection's company; get it with :func:`api`."""

    def __init__(self, client: Client) -> None:
        settings = client.settings
        if not isinstance(settings, QuickBooksSettings):
            raise ConnectorError(
                f"the quickbooks connector needs QuickBooksSettings, got {type(settings).__name__}"
            )
        self.client = client
        self.settings = settings
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
        resend: bool = False,
    ) -> dict[str, Any]:
        """One API request; the parsed envelope, or QboFault / AuthError / NoAnswer.

        :param resend: the request is safe to repeat (a read, or a write with a
            ``requestid``): when its answer is lost or a 5xx, send it again, unchanged.
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
        attempts = 1 + (self.settings.max_retries if resend else 0)
        for attempt in range(attempts):
            last = attempt + 1 >= attempts
            try:
                response = self.client.request(
                    method, self.prefix + path, params=query, content=content, headers=headers
                )
            except httpx.TransportError as error:
                if last:
                    raise NoAnswer(
                        f"no answer from QuickBooks to {method} {path} "
                        f"({type(error).__name__}: {error})"
                    ) from None
                self._pause(attempt)
                continue
            if response.status_code >= 500 and not last:
                self._pause(attempt)
                continue
            return self._decode(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int) -> None:
        """Exponential backoff with full jitter, on the core's backoff base."""
        time.sleep(random.uniform(0, backoff_from_env() * 2**attempt))

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = loads(response.content) if response.content.strip() else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        fault = data.get("Fault") or data.get("fault")
        status = response.status_code
        if status == 401:
            raise AuthError(
                f"{self.connection}: QuickBooks refused the access token "
                f"({QboFault(status, fault).describe()}); run `syncbridge auth "
                f"{self.connection}` to re-authorise"
            )
        if status == 403:
            raise AuthError(
                f"{self.connection}: the app may not use company {self.realm} "
                f"({QboFault(status, fault).describe()}); run `syncbridge auth "
                f"{self.connection}` as a user of that company"
            )
        if fault or status >= 400:
            raise QboFault(status, fault if isinstance(fault, Mapping) else None)
        return data

    # -- reads -----------------------------------------------------------------------------

    def query(self, statement: str) -> tuple[dict[str, Any], str | None]:
        """Run a statement: its ``QueryResponse`` and the envelope's ``time``."""
        if len(statement) <= MAX_QUERY_IN_URL:
            data = self.call("GET", "/query", params={"query": statement})
        else:
            data = self.call("POST", "/query", text=statement, resend=True)
        answer = data.get("QueryResponse") or {}
        if answer.get("Fault"):
            raise QboFault(400, answer["Fault"])
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
            raise QboFault(404, None)
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
        data = self.call("POST", f"/{entity.path}", params=params, body=body, resend=True)
        record = data.get(entity.name)
        if not isinstance(record, dict):
            raise ConnectorError(f"QuickBooks answered a {entity.name} write without the object")
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
            resend=True,
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
