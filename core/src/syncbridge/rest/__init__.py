"""The connector toolkit: the client-side twin of :mod:`syncbridge.emulator`.

What every connector used to write by hand, written once: paging, the incremental cursor,
and what each HTTP answer means. A connector for a REST API declares its resources and
writes only its mapping, its writes and what is truly special about its API::

    from syncbridge import hookimpl
    from syncbridge.rest import Api, ErrorMap, Incremental, PageNumber, Resource

    ERRORS = ErrorMap(system="Acme CRM", message="error.message")

    def listing(path: str) -> Resource:
        return Resource(
            path,
            records="data",                                  # where a page keeps its records
            paginator=PageNumber(last_page="meta.last_page"),
            incremental=Incremental(field="updated_at", since="updated_since"),
            by_id=f"{path}/{{id}}",                          # how query["ids"] is read
            record="data",
        )

    API = Api(ERRORS, {"company": listing("/companies"), "product": listing("/products")})

    @hookimpl
    def fetch(client, entity, since, query):
        return API.fetch(client, entity, since, query)

    @hookimpl
    def upsert(client, entity, items):
        path = API.resource(entity).path
        for item in items:
            yield ERRORS.write(client, item, "POST", path, json=item.record, record="data")

The parts, one module each:

:mod:`~syncbridge.rest.paginators`
    :class:`PageNumber`, :class:`Offset`, :class:`CursorToken`, :class:`NextLink`, :class:`AfterId`
    (and :func:`walk`, the loop for requests the toolkit does not send itself): given the
    last answer, the next request or None.
:mod:`~syncbridge.rest.cursor`
    :class:`Cursor`, the one stored cursor format (``<UTC instant>#<id>``), and
    :class:`Incremental`, the one incremental read: a resumable (time, id) keyset with
    de-duplication at the boundary instant and a signpost, so that records changed during a
    run are read again by the next one. It needs no HTTP: non-REST connectors (SQL, a
    change-data-capture endpoint, a batch API) drive :meth:`Incremental.begin` themselves.
:mod:`~syncbridge.rest.errormap`
    :class:`ErrorMap`: every status, body and transport failure turned, once, into an
    :class:`~syncbridge.errors.AuthError` with the fix, a :class:`~syncbridge.errors.
    ConnectorError` for reads, or one record's failure for writes, with one readable line
    and no secret in it. :class:`BodyError` declares a success status whose body is an error.
:mod:`~syncbridge.rest.resource`
    :class:`Resource` and :class:`Api`: the declarations from which ``fetch`` follows.
:mod:`~syncbridge.rest.instants`
    :func:`parse_instant`: the timestamps APIs send, as UTC instants.
"""

from syncbridge.rest.cursor import (
    Cursor,
    Incremental,
    IncrementalRead,
    Since,
    natural_id,
    signpost_cursor,
)
from syncbridge.rest.errormap import (
    BodyError,
    ErrorMap,
    OutcomeUnknown,
    Unusable,
    describe,
    one_line,
    outcome_unknown,
)
from syncbridge.rest.instants import instants, parse_instant
from syncbridge.rest.paginators import (
    AfterId,
    CursorToken,
    NextLink,
    Offset,
    PageNumber,
    Paginator,
    Positional,
    Reply,
    Request,
    walk,
)
from syncbridge.rest.paths import Selector, select
from syncbridge.rest.resource import Api, Resource

__all__ = [
    "AfterId",
    "Api",
    "BodyError",
    "Cursor",
    "CursorToken",
    "ErrorMap",
    "Incremental",
    "IncrementalRead",
    "NextLink",
    "Offset",
    "OutcomeUnknown",
    "PageNumber",
    "Paginator",
    "Positional",
    "Reply",
    "Request",
    "Resource",
    "Selector",
    "Since",
    "Unusable",
    "describe",
    "instants",
    "natural_id",
    "one_line",
    "outcome_unknown",
    "parse_instant",
    "select",
    "signpost_cursor",
    "walk",
]
