"""What a write needs from Fatture in Cloud besides the record, looked up once per connection.

A document names its client, payment method and VAT types by id, but the spec requires the
client's and the payment method's ``name`` in the body (and a document keeps its own copy of
the client's details), a product's ``default_vat`` must carry its ``value``, and a line may
carry only a VAT percentage. Asked for every record, these lookups cost a request per record
(the engine sends one record per ``upsert`` call); kept here, on the connection, they cost
a request per run, or none:

- **VAT types, payment methods** (``/info/...``, short lists without ``updated_at``): read
  once and kept :data:`MAX_AGE`; a read of the ``vat_rate`` or ``payment_method`` entity
  refreshes them, and an id or a percentage not found reads them again (once per
  :data:`RECHECK`: one added in Fatture in Cloud since is found, one that does not exist is
  not asked for on every record).
- **clients**: every client the connection reads (``fetch``) or writes (the record as
  stored) is kept, the latest :data:`MAX_CLIENTS`, each for :data:`MAX_AGE`; a client not
  kept is read by id. A client deleted through the connection is forgotten.

The object lives on the connection's client (``client.resource``) and is used by several
threads at once (the engine's senders), so its tables are guarded by a lock; two threads
missing the same entry at once may both read it, which is harmless.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from syncbridge import NativeRecord
from syncbridge.rest import ErrorMap, select

#: seconds a list or a client is kept before it is read again
MAX_AGE = 600.0
#: seconds after reading a list before a miss in it reads it again
RECHECK = 60.0
#: clients kept (the most recently read or written)
MAX_CLIENTS = 5000
#: client fields copied into a document's ``entity`` (the spec requires its ``name``)
ENTITY_FIELDS = (
    "id",
    "name",
    "vat_number",
    "tax_code",
    "address_street",
    "address_postal_code",
    "address_city",
    "address_province",
    "country",
    "country_iso",
)


class Lookups:
    """The lists and clients of one connection (see the module docstring).

    :param errors: the connection's error map; :param company: ``/c/{company_id}``.
    :param clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self, errors: ErrorMap, company: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.errors = errors
        self.company = company
        self.clock = clock
        self._lock = threading.Lock()
        #: /info list name -> (when read, records)
        self._lists: dict[str, tuple[float, list[NativeRecord]]] = {}
        #: client id -> (when read or written, the record), the least recently kept first
        self._clients: dict[int, tuple[float, NativeRecord]] = {}

    # -- the /info lists ------------------------------------------------------------------
    def listing(
        self, client: httpx.Client, name: str, *, fresh: bool = False
    ) -> list[NativeRecord]:
        """``GET /c/{company}/info/<name>?fieldset=detailed``'s records, read again when
        ``fresh`` or older than :data:`MAX_AGE`, else as kept."""
        with self._lock:
            kept = self._lists.get(name)
        if kept is not None and not fresh and self.clock() - kept[0] < MAX_AGE:
            return kept[1]
        path = f"{self.company}/info/{name}"
        response, body = self.errors.read(client, path, params={"fieldset": "detailed"})
        doing = f"GET {response.request.url.path}"
        records = self.errors.records(body, "data", doing)
        with self._lock:
            self._lists[name] = (self.clock(), records)
        return records

    def _find(
        self, client: httpx.Client, name: str, wanted: Callable[[NativeRecord], bool]
    ) -> NativeRecord | None:
        found = next(filter(wanted, self.listing(client, name)), None)
        with self._lock:
            age = self.clock() - self._lists[name][0]
        if found is None and age >= RECHECK:  # added in Fatture in Cloud since it was read
            found = next(filter(wanted, self.listing(client, name, fresh=True)), None)
        return found

    def vat_type(self, client: httpx.Client, vat_id: int) -> NativeRecord:
        """``{"id", "value"}``: a product's ``default_vat`` must carry its value (spec)."""
        found = self._find(client, "vat_types", lambda vat: vat.get("id") == vat_id)
        if found is None:
            raise ValueError(f"VAT type {vat_id} does not exist in Fatture in Cloud")
        return {"id": vat_id, "value": found.get("value")}

    def vat_id(self, client: httpx.Client, value: float) -> int:
        """The VAT type of a percentage; 0% is refused: it needs its nature (N1-N7)."""
        if value == 0:
            raise ValueError(
                "a 0% line needs a linked VAT type (the exemption nature decides which)"
            )
        found = self._find(
            client,
            "vat_types",
            lambda vat: vat.get("value") == value and not vat.get("is_disabled"),
        )
        if found is None:
            raise ValueError(f"Fatture in Cloud has no VAT type of {value:g}%")
        return int(found["id"])

    def payment_method(self, client: httpx.Client, method_id: int) -> NativeRecord:
        """``{"id", "name"}``: the spec requires the method's name."""
        found = self._find(client, "payment_methods", lambda method: method.get("id") == method_id)
        if found is None:
            raise ValueError(f"payment method {method_id} does not exist in Fatture in Cloud")
        return {"id": method_id, "name": found.get("name") or str(method_id)}

    # -- clients ----------------------------------------------------------------------------
    def learn(self, records: Iterable[NativeRecord]) -> None:
        """Keep these clients, as read or as stored by a write."""
        now = self.clock()
        with self._lock:
            clients = self._clients
            for record in records:
                native_id = record.get("id")
                if type(native_id) is int:
                    clients.pop(native_id, None)  # kept anew: the last to go
                    clients[native_id] = (now, record)
            while len(clients) > MAX_CLIENTS:
                del clients[next(iter(clients))]

    def forget(self, native_id: str) -> None:
        """A client deleted through the connection."""
        if native_id.isdigit():
            with self._lock:
                self._clients.pop(int(native_id), None)

    def entity(self, client: httpx.Client, client_id: int) -> NativeRecord:
        """The client's details a document carries (:data:`ENTITY_FIELDS`)."""
        with self._lock:
            kept = self._clients.get(client_id)
        record: Any = None
        if kept is not None and self.clock() - kept[0] < MAX_AGE:
            record = kept[1]
        else:
            path = f"{self.company}/entities/clients/{client_id}"
            _response, body = self.errors.read(client, path, missing_ok=True)
            record = select(body, "data")
            if not isinstance(record, dict):
                raise ValueError(f"client {client_id} does not exist in Fatture in Cloud")
            self.learn([record])
        return {key: record[key] for key in ENTITY_FIELDS if record.get(key) is not None}
