"""An offline Simply CRM: vtiger's ``webservice.php`` as the connector and public clients meet it.

Serve it with ``syncbridge emulate simplycrm`` or, in a test::

    emulator = create_app(EmulatorOptions(records=30, rate_limits=False))
    with running(emulator.app) as url:
        settings = emulator.settings_for(url)   # base_url, username, access_key

One endpoint, ``/webservice.php``, GET or POST, every call naming ``operation``:

* parameters are read by the operation's **type**, not the HTTP method (vtiger's
  ``OperationManager::getOperationInput``): GET-type operations (``getchallenge``,
  ``retrieve``, ``sync``, ``query``, ``listtypes``, ``describe``) read the query string only,
  POST-type ones (``login``, ``create``, ``update``, ``revise``, ``delete``, ``logout``,
  ``extendsession``) the form body only; ``operation`` and ``sessionName`` are read from
  either;
* every answer is HTTP 200 ``application/json``: ``{"success": true, "result": ...}`` or
  ``{"success": false, "error": {"code", "message"}}`` with vtiger's codes and words;
* ``sync`` takes up to 100 distinct ``modifiedtime`` values after ``modifiedTime`` and
  returns every record stamped with one of them (more than 100 when stamps tie);
* ``query`` runs VTQL (:mod:`~syncbridge_simplycrm.emulator.vtql`), at most 100 rows;
* ``retrieve`` of a deleted or unknown id answers ``ACCESS_DENIED``.

Records' ``modifiedtime`` shows whole seconds, so writes within one second tie, as on a real
server; :meth:`SimplyCrmEmulator.stamp` sets many records to one instant (a mass edit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.emulator import Emulator, EmulatorOptions, json_response
from syncbridge.emulator.store import Record, Table
from syncbridge_simplycrm.emulator import vtql
from syncbridge_simplycrm.emulator.modules import (
    CURRENCY,
    INVOICE,
    LINE_ITEM_PREFIX,
    MODULES,
    USERS,
    Module,
)
from syncbridge_simplycrm.emulator.records import (
    QUANTITY,
    ApiError,
    WsId,
    decimal,
    denied,
    module_named,
    normalise,
    stamp,
    totals,
)
from syncbridge_simplycrm.emulator.seed import seed
from syncbridge_simplycrm.emulator.sessions import (
    ACCESS_KEY,
    USER_ID,
    USERNAME,
    LoginRefused,
    Session,
    Sessions,
)

#: operations and their type (vtiger_ws_operation.type)
GET_OPERATIONS = frozenset({"getchallenge", "retrieve", "sync", "query", "listtypes", "describe"})
POST_OPERATIONS = frozenset(
    {"login", "create", "update", "revise", "delete", "logout", "extendsession"}
)
#: operations allowed without a session
PRELOGIN = frozenset({"getchallenge", "login"})
#: distinct modification times one ``sync`` answer covers
SYNC_TIMES = 100
ENTITY_MODULES = ("Accounts", "Contacts", "Products", "Invoice")

Handler = Callable[[dict[str, str], Session], Any]


def envelope_error(code: str, message: str, status: int = 200) -> Response:
    return json_response({"success": False, "error": {"code": code, "message": message}}, status)


class SimplyCrmEmulator(Emulator):
    """The emulated API; ``sessions`` (users, tokens, sessions) may be changed while it runs.

    :param session_idle: seconds a session lives without a request.
    """

    system = "simplycrm"
    title = "Simply CRM webservice.php (vtiger 7, emulated)"
    rate_limits: ClassVar[tuple[()]] = ()
    countries: ClassVar[tuple[str, ...] | None] = ("DK",)

    def __init__(self, options: EmulatorOptions | None = None, *, session_idle: float = 1800):
        self._next_crmid = 1
        self._numbers: dict[str, int] = {}
        self.lines: dict[int, list[dict[str, str]]] = {}
        self.deleted: dict[int, tuple[Module, str]] = {}
        super().__init__(options)
        self.sessions = Sessions(self.rng, idle=session_idle)

    # -- the store ----------------------------------------------------------------------
    def table(self, module: Module) -> Table:
        return self.store.table(module.name, id_field="crmid")

    def rows(self, module: Module) -> list[Record]:
        return self.table(module).list()

    def populate(self) -> None:
        users = self.table(USERS)
        users.insert({"user_name": USERNAME, "first_name": "Anders", "last_name": "Admin",
                      "email1": "admin@example.dk", "is_admin": "on", "status": "Active"}, id=1)
        currencies = self.table(CURRENCY)
        currencies.insert({"currency_name": "Denmark, Kroner", "currency_code": "DKK",
                           "currency_symbol": "kr", "conversion_rate": "1.00000",
                           "currency_status": "Active", "defaultid": "-11", "deleted": "0"}, id=1)
        currencies.insert({"currency_name": "Euro", "currency_code": "EUR",
                           "currency_symbol": "€", "conversion_rate": "0.13400",
                           "currency_status": "Active", "defaultid": "0", "deleted": "0"}, id=2)
        self._next_crmid = 2
        seed(self, self.options.records)

    def add(self, module: Module, element: dict[str, Any], user: str = USER_ID, *,
            owned: bool = True) -> Record:
        """Create a record as ``create`` does (validated), and return it as stored.

        :param owned: give it to ``user`` unless ``element`` names an owner (seeding); the
            API's ``create`` requires ``assigned_user_id`` instead.
        """
        values = normalise(module, element)
        if owned:
            values.setdefault("assigned_user_id", user)
        self._check(module, values, element)
        crmid = self._next_crmid
        self._next_crmid += 1
        now = self.store.clock.now()
        values.update({"createdtime": stamp(now), "modifiedtime": stamp(now),
                       "modifiedby": user})
        if module.number is not None:
            field, prefix = module.number
            self._numbers[module.name] = self._numbers.get(module.name, 0) + 1
            values[field] = f"{prefix}{self._numbers[module.name]}"
        if module.inventory:
            lines = self._lines(crmid, module, element)
            self.lines[crmid] = lines
            values.update(totals(values, lines))
        return self.table(module).insert(values, id=crmid)

    def change(self, module: Module, crmid: int, element: dict[str, Any], *, partial: bool,
               user: str = USER_ID) -> Record:
        """``update`` (every editable field replaced) or ``revise`` (the fields sent)."""
        table = self.table(module)
        current = table.get(crmid)
        if current is None:
            raise denied()
        values = normalise(module, element)
        if partial:
            merged = {**current, **values}
        else:
            kept = {k: v for k, v in current.items() if (f := module.field(k)) is None
                    or not f.editable}
            blank = {f.name: "" for f in module.fields if f.editable}
            merged = {**blank, **kept, **values}
        self._check(module, merged, element)
        merged.update({"modifiedtime": stamp(self.store.clock.now()), "modifiedby": user})
        if module.inventory:
            if "LineItems" in element or not partial:
                self.lines[crmid] = self._lines(crmid, module, element)
            merged.update(totals(merged, self.lines.get(crmid, [])))
        updated = table.replace(crmid, merged)
        assert updated is not None
        return updated

    def remove(self, module: Module, crmid: int) -> None:
        row = self.table(module).delete(crmid)
        if row is None:
            raise denied()
        self.deleted[crmid] = (module, stamp(self.store.clock.now()))

    def stamp(self, module_name: str, crmids: list[int], when: datetime) -> None:
        """Give these records one ``modifiedtime`` (what a mass edit in one second does)."""
        table = self.table(MODULES[module_name])
        for crmid in crmids:
            current = table.get(crmid)
            assert current is not None, f"{module_name} {crmid} does not exist"
            table.replace(crmid, {**current, "modifiedtime": stamp(when)})

    def _check(self, module: Module, values: dict[str, str], element: dict[str, Any]) -> None:
        missing = [name for name in module.mandatory if not str(values.get(name, "")).strip()]
        if missing:
            raise ApiError("MANDATORY_FIELDS_MISSING", f"{missing[0]} does not have a value")
        for name, value in values.items():
            field = module.field(name)
            if field is None or not value or field.type not in ("reference", "owner"):
                continue
            self._reference(field.name, field.refers_to, value)

    def _reference(self, name: str, targets: tuple[str, ...], value: str) -> None:
        invalid = ApiError("REFERENCE_INVALID", f"Invalid reference specified for {name}")
        try:
            ws = WsId.parse(value)
        except ApiError:
            raise invalid from None
        module = MODULES.get(next((t for t in targets if MODULES.get(t) and
                                   MODULES[t].prefix == ws.prefix), ""))
        if module is None or self.table(module).get(ws.crmid) is None:
            raise invalid

    def _lines(self, crmid: int, module: Module, element: dict[str, Any]) -> list[
        dict[str, str]
    ]:
        raw = element.get("LineItems")
        if not isinstance(raw, list) or not raw:
            raise ApiError("MANDATORY_FIELDS_MISSING", "Mandatory Fields Missing..")
        lines = []
        for number, item in enumerate(raw, start=1):
            if not isinstance(item, dict):
                raise ApiError("MANDATORY_FIELDS_MISSING", "Mandatory Fields Missing..")
            product = str(item.get("productid") or "")
            if not product:
                raise ApiError("MANDATORY_FIELDS_MISSING", "productid does not have a value")
            self._reference("productid", ("Products",), product)
            line = {
                "parent_id": f"{module.prefix}x{crmid}",
                "productid": product,
                "sequence_no": str(number),
                "quantity": decimal(item.get("quantity") or 1, QUANTITY),
                "listprice": decimal(item.get("listprice") or 0),
                "discount_percent": decimal(item.get("discount_percent"), QUANTITY),
                "discount_amount": decimal(item.get("discount_amount")),
                "comment": str(item.get("comment") or ""),
                "description": str(item.get("description") or ""),
                "incrementondel": "0",
                "tax1": decimal(item.get("tax1"), QUANTITY),
                "id": f"{LINE_ITEM_PREFIX}x{crmid * 1000 + number}",
            }
            lines.append(line)
        return lines

    # -- rendering ------------------------------------------------------------------------
    def render(self, module: Module, row: Record) -> dict[str, Any]:
        """A record as ``retrieve``/``query``/``sync`` answer it."""
        body: dict[str, Any] = {f.name: "" for f in module.fields}
        body.update({k: v for k, v in row.items() if k in body})
        body["id"] = f"{module.prefix}x{row['crmid']}"
        return body

    def retrieved(self, module: Module, row: Record) -> dict[str, Any]:
        body = self.render(module, row)
        if module.inventory:
            body["LineItems"] = [dict(line) for line in self.lines.get(int(row["crmid"]), [])]
        return body

    # -- HTTP -----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [Route("/webservice.php", self.webservice, methods=["GET", "POST"])]

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "username": USERNAME, "access_key": ACCESS_KEY,
                "rate_limit": self.options.rate_limits}

    def error(self, status: int, message: str, **details: Any) -> Response:
        code = {429: "API_LIMIT_EXCEEDED", 404: "UNKNOWN_OPERATION"}.get(
            status, "INTERNAL_SERVER_ERROR")
        return envelope_error(code, message, status)

    def rate_limit_key(self, request: Request) -> str:
        return request.query_params.get("sessionName", "")

    async def webservice(self, request: Request) -> Response:
        query = dict(request.query_params)
        form: dict[str, str] = {}
        if request.method == "POST":
            kind = request.headers.get("content-type", "")
            if kind.startswith("application/x-www-form-urlencoded"):
                form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"),
                                      keep_blank_values=True))
            elif kind.startswith("multipart/form-data"):
                parsed = await request.form()
                form = {k: v for k, v in parsed.items() if isinstance(v, str)}
        either = {**query, **form}
        operation = either.get("operation", "")
        try:
            result = self.call(operation, query, form, either.get("sessionName", ""))
        except ApiError as error:
            return envelope_error(error.code, error.message)
        except LoginRefused as refused:
            return envelope_error(refused.code, refused.message)
        return json_response({"success": True, "result": result})

    def call(self, operation: str, query: dict[str, str], form: dict[str, str],
             session_name: str) -> Any:
        if operation in GET_OPERATIONS:
            params = query
        elif operation in POST_OPERATIONS:
            params = form
        else:
            raise ApiError("UNKNOWN_OPERATION", "Unknown operation requested")
        if operation == "getchallenge":
            return self.sessions.challenge(_required(params, "username"))
        if operation == "login":
            session = self.sessions.login(
                _required(params, "username"), _required(params, "accessKey")
            )
            return _login_result(session)
        if not session_name:
            raise ApiError("AUTHENTICATION_REQUIRED", "Authencation required")
        live = self.sessions.find(session_name)
        if live is None:
            raise ApiError("INVALID_SESSIONID", "Session Identifier provided is Invalid")
        handler: Handler = getattr(self, f"op_{operation}")
        return handler(params, live)

    # -- operations -------------------------------------------------------------------------
    def op_logout(self, params: dict[str, str], session: Session) -> Any:
        self.sessions.end(session.name)
        return {"message": "successfull"}

    def op_extendsession(self, params: dict[str, str], session: Session) -> Any:
        return _login_result(session)

    def op_listtypes(self, params: dict[str, str], session: Session) -> Any:
        names = [*ENTITY_MODULES, "Users", "Currency"]
        return {
            "types": names,
            "information": {
                name: {"isEntity": MODULES[name].entity, "label": MODULES[name].label,
                       "singular": MODULES[name].singular}
                for name in names
            },
        }

    def op_describe(self, params: dict[str, str], session: Session) -> Any:
        return module_named(_required(params, "elementType")).describe()

    def op_retrieve(self, params: dict[str, str], session: Session) -> Any:
        ws = WsId.parse(_required(params, "id"))
        module = ws.module
        row = self.table(module).get(ws.crmid)
        if row is None:
            raise denied()
        return self.retrieved(module, row)

    def _element(self, params: dict[str, str]) -> dict[str, Any]:
        raw = _required(params, "element")
        try:
            element = json.loads(raw)
        except ValueError:
            raise ApiError("INVALID_PARAMETER", "element is not valid JSON") from None
        if not isinstance(element, dict):
            raise ApiError("INVALID_PARAMETER", "element is not a JSON object")
        return element

    def op_create(self, params: dict[str, str], session: Session) -> Any:
        module = module_named(_required(params, "elementType"))
        if not module.entity:
            raise denied()
        row = self.add(module, self._element(params), f"19x{session.user.id}", owned=False)
        return self.retrieved(module, row)

    def _write(self, params: dict[str, str], session: Session, partial: bool) -> Any:
        element = self._element(params)
        if "id" not in element:
            raise ApiError("MANDATORY_FIELDS_MISSING", "id does not have a value")
        ws = WsId.parse(element["id"])
        module = ws.module
        if not module.entity:
            raise denied()
        row = self.change(module, ws.crmid, element, partial=partial,
                          user=f"19x{session.user.id}")
        return self.retrieved(module, row)

    def op_update(self, params: dict[str, str], session: Session) -> Any:
        return self._write(params, session, partial=False)

    def op_revise(self, params: dict[str, str], session: Session) -> Any:
        return self._write(params, session, partial=True)

    def op_delete(self, params: dict[str, str], session: Session) -> Any:
        ws = WsId.parse(_required(params, "id"))
        module = ws.module
        if not module.entity:
            raise denied()
        self.remove(module, ws.crmid)
        return {"status": "successful"}

    def op_query(self, params: dict[str, str], session: Session) -> Any:
        try:
            query = vtql.parse(_required(params, "query"))
        except vtql.VtqlError as error:
            raise ApiError(error.code, error.message) from None
        module = module_named(query.module)
        for column in query.referenced():
            if column not in module.names:
                raise ApiError("ACCESS_DENIED", f"Permission to access '{column}' attribute "
                               "denied.")
        for group in query.where:
            for condition in group:
                field = module.field(condition.column)
                is_ref = condition.column == "id" or (
                    field is not None and field.type in ("reference", "owner"))
                if is_ref and any("x" not in v for v in condition.values):
                    raise ApiError("INVALID_ID", "Id specified is incorrect")
        rows = [self.render(module, row) for row in self.rows(module)]
        return vtql.run(query, rows, _sort_key)

    def op_sync(self, params: dict[str, str], session: Session) -> Any:
        raw = _required(params, "modifiedTime")
        try:
            since = datetime.fromtimestamp(int(float(raw)), UTC)
        except (ValueError, OverflowError):
            raise ApiError("INVALID_PARAMETER", "modifiedTime is not a timestamp") from None
        sync_type = params.get("syncType") or "user"
        if sync_type == "application" and not session.user.admin:
            raise ApiError("ACCESS_DENIED", "Only admin users can perform application sync")
        wanted = params.get("elementType") or ""
        if wanted:
            module = MODULES.get(wanted)
            if module is None or not module.entity:
                raise denied()
            modules = [module]
        else:
            modules = [MODULES[name] for name in ENTITY_MODULES]
        owner = f"19x{session.user.id}"
        after = stamp(since)
        rows = [
            (module, row)
            for module in modules
            for row in self.rows(module)
            if row["modifiedtime"] > after
            and (sync_type == "application" or row.get("assigned_user_id") == owner)
        ]
        times = sorted({row["modifiedtime"] for _module, row in rows})
        gone = sorted(
            (when, f"{module.prefix}x{crmid}")
            for crmid, (module, when) in self.deleted.items()
            if when > after and module in modules
        )
        taken = times[:SYNC_TIMES]
        newest = taken[-1] if taken else None
        updated = [
            self.render(module, row)
            for module, row in sorted(rows, key=lambda mr: (mr[1]["modifiedtime"],
                                                            mr[1]["crmid"]))
            if newest is not None and row["modifiedtime"] <= newest
        ]
        deleted = [wid for when, wid in gone if newest is None or when <= newest]
        more = len(times) > SYNC_TIMES
        last = (
            int(datetime.strptime(newest, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())
            if newest is not None
            else int(since.timestamp())
        )
        if newest is None and gone:
            last = int(datetime.strptime(gone[-1][0], "%Y-%m-%d %H:%M:%S")
                       .replace(tzinfo=UTC).timestamp())
        return {"updated": updated, "deleted": deleted, "lastModifiedTime": last, "more": more}



def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError("MANDATORY_FIELDS_MISSING", f"{name} does not have a value")
    return value


def _login_result(session: Session) -> dict[str, str]:
    return {"sessionName": session.name, "userId": f"19x{session.user.id}", "version": "0.22",
            "vtigerVersion": "7.1.0"}


def _sort_key(column: str, value: Any) -> Any:
    text = str(value or "")
    if column == "id" or ("x" in text and text.replace("x", "").isdigit()):
        _prefix, _x, crmid = text.partition("x")
        if crmid.isdigit():
            return (0, int(crmid), "")
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0, text.lower())


def create_app(options: EmulatorOptions) -> SimplyCrmEmulator:
    return SimplyCrmEmulator(options)


__all__ = ["INVOICE", "SimplyCrmEmulator", "create_app"]
