"""The error map, over real HTTP: every failure becomes the right error with one exact line.

The Changes API answers ``/scripted/<name>`` as each test scripts it: HTML error pages,
bodies cut short, an HTML page with status 200, refused credentials, a connection dropped
after the server handled a POST.
"""

from __future__ import annotations

import httpx
import pytest
from changes_api import ChangesApi, Connect, Scripted

from syncbridge.emulator.server import free_port
from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.records import UpsertItem
from syncbridge.rest import (
    BodyError,
    ErrorMap,
    Incremental,
    Resource,
    describe,
    outcome_unknown,
)

ERRORS = ErrorMap(system="Changes API", message="error.message")

HTML_502 = Scripted(
    502,
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
    "text/html",
)
CUT = Scripted(200, b'{"data": [{"id": 1, "updated_at": "2026-03-01T08:0')
HTML_200 = Scripted(200, b"<html><body>Maintenance in progress</body></html>", "text/html")
GOOD = Scripted(200, b'{"data": [{"id": 1}]}')


def item(record_id: str | None = None) -> UpsertItem:
    return UpsertItem(key="k-1", record={"name": "Rossi S.r.l."}, id=record_id)


# -- reads --------------------------------------------------------------------------------
def test_an_html_502_is_one_line_after_the_transport_retried(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("html502", HTML_502)

    with pytest.raises(ConnectorError) as raised:
        ERRORS.get(client, path)

    assert str(raised.value) == (
        "Changes API answered GET /scripted/html502 with HTTP 502 Bad Gateway "
        "(an HTML page, not JSON)"
    )
    assert type(raised.value) is ConnectorError
    assert len(api.handled) == 3  # the first try and the transport's two retries


def test_a_body_cut_short_is_read_again_then_fails_the_read(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("cut", CUT)

    with pytest.raises(ConnectorError) as raised:
        ERRORS.get(client, path)

    assert str(raised.value) == (
        "Changes API answered GET /scripted/cut with HTTP 200 OK "
        f"(JSON cut short after {len(CUT.body)} bytes), 3 times"
    )
    assert len(api.handled) == 3


def test_an_html_page_with_status_200_is_no_answer(api: ChangesApi, client: Client) -> None:
    path = api.script("maintenance", HTML_200)

    with pytest.raises(ConnectorError) as raised:
        ERRORS.get(client, path)

    assert str(raised.value) == (
        "Changes API answered GET /scripted/maintenance with HTTP 200 OK "
        "(an HTML page, not JSON), 3 times"
    )


def test_a_corrupted_answer_read_again_is_used(api: ChangesApi, client: Client) -> None:
    path = api.script("flaky", CUT, HTML_200, GOOD)

    assert ERRORS.get(client, path) == {"data": [{"id": 1}]}
    assert len(api.handled) == 3


def test_401_is_an_auth_error_naming_the_connection_and_the_fix(
    api: ChangesApi, client: Client
) -> None:
    path = api.script(
        "refused", Scripted(401, b'{"error": {"message": "API key not valid"}}')
    )

    with pytest.raises(AuthError) as raised:
        ERRORS.get(client, path)

    assert str(raised.value) == (
        "Changes API refused the credentials of connection 'shop' "
        "(HTTP 401 Unauthorized: API key not valid); run `syncbridge auth shop`"
    )
    assert len(api.handled) == 1


def test_403_is_an_auth_error_with_the_declared_hint(api: ChangesApi, client: Client) -> None:
    errors = ErrorMap(
        system="Changes API", auth_hint="check api_key in connections.{connection}.settings"
    )
    path = api.script("forbidden", Scripted(403, b'{"message": "scope crm.read missing"}'))

    with pytest.raises(AuthError) as raised:
        errors.get(client, path)

    assert str(raised.value) == (
        "Changes API refused the credentials of connection 'shop' (HTTP 403 Forbidden: "
        "scope crm.read missing); check api_key in connections.shop.settings"
    )


def test_no_secret_reaches_a_reason(api: ChangesApi, client: Client) -> None:
    """The key in the query string, and echoed by the API in its message, is masked."""
    path = api.script(
        "echo", Scripted(401, b'{"error": {"message": "key changes-secret-key\\nis unknown"}}')
    )

    with pytest.raises(AuthError) as raised:
        ERRORS.get(client, f"{path}?api_key=changes-secret-key")

    assert "changes-secret-key" not in str(raised.value)
    assert "(HTTP 401 Unauthorized: key *** is unknown)" in str(raised.value)


def test_a_declared_body_error_fails_a_success(api: ChangesApi, client: Client) -> None:
    errors = ErrorMap(
        system="Changes API",
        failure=BodyError("success", equals=False, message="error.message"),
        attempts=1,
    )
    path = api.script(
        "quota", Scripted(200, b'{"success": false, "error": {"message": "quota exceeded"}}')
    )

    with pytest.raises(ConnectorError) as raised:
        errors.get(client, path)

    assert str(raised.value) == (
        "Changes API answered GET /scripted/quota with HTTP 200 OK: quota exceeded"
    )


def test_a_404_is_nothing_when_asked_by_id(api: ChangesApi, client: Client) -> None:
    response, body = ERRORS.read(client, "/items/999", missing_ok=True)

    assert (response.status_code, body) == (404, None)
    with pytest.raises(ConnectorError, match=r"HTTP 404 Not Found: no such item$"):
        ERRORS.get(client, "/items/999")


def test_no_answer_at_all_fails_the_read_in_one_line(connect: Connect) -> None:
    client, _log = connect(base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)

    with pytest.raises(ConnectorError) as raised:
        ERRORS.get(client, "/items")

    # the connection's client says it whole (which connection, which server, what to
    # check), on one line
    reason = str(raised.value)
    assert reason.startswith('connection "shop" cannot connect to http://127.0.0.1:')
    assert "\n" not in reason and reason.endswith("then `syncbridge check shop`")


# -- writes -------------------------------------------------------------------------------
def test_a_dropped_connection_on_a_post_fails_only_that_record(
    api: ChangesApi, client: Client
) -> None:
    """The server handled the create, then the connection dropped: the outcome is unknown."""
    path = api.script("create", Scripted(201, drop=True))

    result = ERRORS.write(client, item(), "POST", path, json={"name": "Rossi S.r.l."})

    assert (result.key, result.ok, result.id) == ("k-1", False, None)
    assert result.error == (
        "no answer from Changes API to POST /scripted/create (RemoteProtocolError: Server "
        "disconnected without sending a response.); it may have been written: the next run "
        "checks before sending it again"
    )
    assert api.handled == [("POST", "create")]  # handled once, never sent again


def test_a_refused_write_keeps_the_api_message(api: ChangesApi, client: Client) -> None:
    path = api.script(
        "invalid", Scripted(422, b'{"error": {"message": "name is required", "field": "name"}}')
    )

    result = ERRORS.write(client, item("7"), "PUT", path, json={})

    assert (result.ok, result.id) == (False, "7")
    assert result.error == "HTTP 422 Unprocessable Entity: name is required"


def test_an_unreadable_success_on_a_write_may_have_written(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("created", HTML_200)

    result = ERRORS.write(client, item(), "POST", path, json={})

    assert result.error == (
        "HTTP 200 OK (an HTML page, not JSON); it may have been written: the next run checks "
        "before sending it again"
    )
    assert len(api.handled) == 1


def test_an_html_502_on_a_write_is_summarised(api: ChangesApi, client: Client) -> None:
    path = api.script("bad-gateway", HTML_502)

    result = ERRORS.write(client, item(), "POST", path, json={})

    assert result.error == "HTTP 502 Bad Gateway (an HTML page, not JSON)"


def test_a_write_gives_the_id_and_the_record_as_stored(api: ChangesApi, client: Client) -> None:
    result = ERRORS.write(client, item(), "POST", "/items", json={}, record="data")

    assert result.ok and result.id == "1"
    assert result.record is not None and result.record["version"] == 1


def test_an_update_answered_204_is_ok(api: ChangesApi, client: Client) -> None:
    path = api.script("updated", Scripted(204, b"", ""))

    result = ERRORS.write(client, item("7"), "PUT", path, json={})

    assert (result.ok, result.id, result.record) == (True, "7", None)


def test_outcome_unknown_tells_a_write_that_may_have_happened(
    api: ChangesApi, client: Client
) -> None:
    dropped = ERRORS.write(client, item(), "POST", api.script("lost", Scripted(201, drop=True)))
    unreadable = ERRORS.write(client, item(), "POST", api.script("html", HTML_200))
    refused = ERRORS.write(client, item(), "POST", api.script("no", HTML_502))
    written = ERRORS.write(client, item(), "POST", "/items", json={}, record="data")

    assert [outcome_unknown(r) for r in (dropped, unreadable, refused, written)] == [
        True, True, False, False
    ]


def test_a_missing_record_is_done_where_missing_is_ok(api: ChangesApi, client: Client) -> None:
    """A delete of a record already gone did what was asked (``missing_ok``)."""
    path = api.script("gone", Scripted(404, b'{"error": {"message": "no such item"}}'))

    done = ERRORS.write(client, item("7"), "PUT", path, missing_ok=True)
    refused = ERRORS.write(client, item("7"), "PUT", path)

    assert (done.ok, done.id, done.record) == (True, "7", None)
    assert (refused.ok, refused.error) == (False, "HTTP 404 Not Found: no such item")


def _quota(response: httpx.Response) -> str | None:
    if response.status_code == 403 and response.headers.get("Retry-After"):
        return f"the quota is used up: it resets in {response.headers['Retry-After']} s"
    return None


def test_an_answer_that_stops_the_entity_ends_reads_and_writes_alike(
    api: ChangesApi, client: Client
) -> None:
    """``stop``: a used-up quota ends the entity, on a write too; other answers do not."""
    errors = ErrorMap(
        system="Changes API", message="error.message", auth_statuses=frozenset({401}), stop=_quota
    )
    quota = api.script("quota", Scripted(403, b'{"error": {"message": "quota"}}',
                                         headers={"Retry-After": "120"}))
    scope = api.script("scope", Scripted(403, b'{"error": {"message": "no scope"}}'))
    said = (
        "Changes API answered {} /scripted/quota with HTTP 403 Forbidden: quota; the quota "
        "is used up: it resets in 120 s"
    )

    with pytest.raises(ConnectorError) as read:
        errors.get(client, quota)
    with pytest.raises(ConnectorError) as written:
        errors.write(client, item(), "POST", quota)
    refused = errors.write(client, item(), "POST", scope)

    assert (str(read.value), str(written.value)) == (said.format("GET"), said.format("POST"))
    assert (refused.ok, refused.error) == (False, "HTTP 403 Forbidden: no scope")


def test_a_create_whose_answer_names_no_id_failed(api: ChangesApi, client: Client) -> None:
    path = api.script("anonymous", Scripted(201, b'{"data": {"name": "x"}}'))

    result = ERRORS.write(client, item(), "POST", path, json={}, record="data")

    assert result.error == "HTTP 201 Created, but the answer names no id of the new record"


def test_401_on_a_write_stops_the_entity(api: ChangesApi, client: Client) -> None:
    path = api.script("expired", Scripted(401, b'{"error": "invalid_token"}'))

    with pytest.raises(AuthError, match=r"\(HTTP 401 Unauthorized: invalid_token\)"):
        ERRORS.write(client, item(), "POST", path, json={})


# -- one line for any answer --------------------------------------------------------------
def test_answers_are_described_in_one_line(api: ChangesApi, client: Client) -> None:
    cases = {
        "plain": (Scripted(503, b"upstream connect error\n", "text/plain"),
                  "HTTP 503 Service Unavailable: upstream connect error"),
        "empty": (Scripted(500, b"", ""), "HTTP 500 Internal Server Error"),
        "busy": (Scripted(429, b"{}", headers={"Retry-After": "3600"}),
                 "HTTP 429 Too Many Requests; asked to retry after 3600 s"),
        "long": (Scripted(400, b'{"message": "' + b"x" * 500 + b'"}'),
                 "HTTP 400 Bad Request: " + "x" * 199 + "…"),
        "csv": (Scripted(200, b"id;name\n1;a\n", "text/csv"),
                "HTTP 200 OK (a text/csv body, not JSON)"),
    }
    for name, (answer, expected) in cases.items():
        path = api.script(name, answer)
        response = client.post(path)  # a POST: no transport retries
        assert describe(response) == expected, name


def test_doing_names_requests_whose_path_holds_a_secret(api: ChangesApi, client: Client) -> None:
    """``doing``: a webhook's code is in the path, so requests are named by their method."""
    errors = ErrorMap(
        system="Changes API", message="error.message",
        doing=lambda request: request.url.path.rsplit("/", 1)[-1].partition("-")[2],
    )
    path = api.script("s3cr3t-items.list", Scripted(400, b'{"error": {"message": "bad"}}'))

    with pytest.raises(ConnectorError) as raised:
        errors.get(client, path)

    assert str(raised.value) == "Changes API answered items.list with HTTP 400 Bad Request: bad"


# -- APIs that refuse with a success status (ErrorMap.refused) ------------------------------
ENVELOPED = ErrorMap(
    system="Vtiger API",
    refused=BodyError("success", equals=False, message=lambda b: "{code}: {message}".format(
        **b["error"]
    )),
    auth_refused=lambda body: body["error"]["code"] == "INVALID_SESSIONID",
)
SYNTAX = Scripted(
    200, b'{"success": false, "error": {"code": "QUERY_SYNTAX_ERROR", "message": "no ;"}}'
)
SESSION = Scripted(
    200, b'{"success": false, "error": {"code": "INVALID_SESSIONID", "message": "expired"}}'
)


def test_a_refusal_in_a_success_body_fails_a_read_at_once(api: ChangesApi, client: Client) -> None:
    path = api.script("syntax", SYNTAX)

    with pytest.raises(ConnectorError) as raised:
        ENVELOPED.get(client, path)

    assert str(raised.value) == (
        "Vtiger API answered GET /scripted/syntax with QUERY_SYNTAX_ERROR: no ;"
    )
    assert len(api.handled) == 1  # the API's final word: not asked again


def test_a_refused_session_in_a_success_body_is_an_auth_error(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("session", SESSION)

    with pytest.raises(AuthError) as raised:
        ENVELOPED.get(client, path)

    assert "(INVALID_SESSIONID: expired); run `syncbridge auth" in str(raised.value)
    with pytest.raises(AuthError):
        ENVELOPED.write(client, item(), "POST", path, json={})


def test_a_refusal_in_a_success_body_fails_the_write_with_nothing_written(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("refused-write", SYNTAX)

    result = ENVELOPED.write(client, item("7"), "POST", path, json={})

    assert (result.ok, result.unknown, result.error) == (False, False, "QUERY_SYNTAX_ERROR: no ;")
    with pytest.raises(ConnectorError) as raised:
        ENVELOPED.send(client, "POST", path, json={})
    assert str(raised.value) == (
        "Vtiger API answered POST /scripted/refused-write with QUERY_SYNTAX_ERROR: no ;"
    )


def test_a_change_feed_reports_the_ids_it_lists_as_deleted(
    api: ChangesApi, client: Client
) -> None:
    path = api.script(
        "feed",
        Scripted(
            200,
            b'{"success": true, "result": {"updated": [{"id": "11x1", "modifiedtime": '
            b'"2026-03-01 08:00:00"}], "deleted": ["11x7", "11x9"]}}',
        ),
    )
    feed = Resource(
        path,
        records="result.updated",
        deleted="result.deleted",
        incremental=Incremental(field="modifiedtime", since="modifiedTime"),
    )

    since = list(feed.fetch(client, ENVELOPED, "2026-01-01T00:00:00.000000+00:00", {}))
    full = list(feed.fetch(client, ENVELOPED, None, {}))

    assert [(len(p.records), p.deleted) for p in since] == [(1, ["11x7", "11x9"])]
    assert [(len(p.records), p.deleted) for p in full] == [(1, [])]  # nothing read before


def test_a_create_by_put_sent_once_is_not_repeated_after_a_dropped_answer(
    api: ChangesApi, client: Client
) -> None:
    """PUT is idempotent by HTTP's rules, so the transport repeats it; a PUT that creates (as
    MiniCRM's do) is marked ``once``: handled once, its outcome unknown."""
    path = api.script("put-create", Scripted(201, drop=True))

    result = ERRORS.write(client, item(), "PUT", path, json={}, once=True)

    assert (result.ok, result.unknown) == (False, True)
    assert len(api.handled) == 1
    ERRORS.write(client, item(), "PUT", path, json={})
    assert len(api.handled) == 4  # without it: the first try and the transport's two retries


def test_a_read_by_post_declared_repeatable_is_retried_like_a_get(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("query", HTML_502)

    with pytest.raises(ConnectorError):
        ERRORS.read(client, path, method="POST", repeatable=True, json={})
    assert len(api.handled) == 3  # the first try and the transport's two retries
    with pytest.raises(ConnectorError):
        ERRORS.read(client, path, method="POST", json={})
    assert len(api.handled) == 4  # a POST is not repeated after an answer came
