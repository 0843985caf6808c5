"""What answers mean: Faults in one line, refused credentials, lost answers, a server down.

Every answer goes through the toolkit's ErrorMap (``api.ERRORS``); writes carry a
``requestid``, so the transport re-sends them when their answer is lost, and what is still
unanswered is that record's failure with an unknown outcome, never the entity's.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.http.client import CONNECT_DEADLINE
from syncbridge.models import Company
from syncbridge.records import UpsertItem
from syncbridge_quickbooks.api import ERRORS, QboFault
from syncbridge_quickbooks.settings import QuickBooksSettings

if TYPE_CHECKING:
    from conftest import Served

FAULT = {
    "Fault": {
        "Error": [
            {
                "Message": "Duplicate Name Exists Error",
                "Detail": "The name supplied already exists.\n  Id=58",
                "code": "6240",
            }
        ],
        "type": "ValidationFault",
    },
    "time": "2026-01-05T10:00:00.000-08:00",
}


def _client(served: Served, answer: httpx.Response) -> Client:
    settings = QuickBooksSettings.model_validate(served.settings())
    return Client(
        connection="qbo",
        settings=settings,
        base_url="https://quickbooks.test",
        transport=httpx.MockTransport(lambda request: answer),
    )


def test_a_fault_is_one_line_of_intuits_words_and_keeps_its_code(served: Served) -> None:
    client = _client(served, httpx.Response(400, json=FAULT))
    with pytest.raises(QboFault) as raised:
        ERRORS.get(client, "/v3/company/1/customer/58")
    assert str(raised.value) == (
        "QuickBooks answered GET /v3/company/1/customer/58 with HTTP 400 Bad Request: 6240 "
        "Duplicate Name Exists Error: The name supplied already exists. Id=58"
    )
    assert raised.value.code == "6240"


def test_a_401_asks_to_authorise_the_connection_again(served: Served) -> None:
    fault = {"Fault": {"Error": [{"Message": "AuthenticationFailed", "code": "3200"}]}}
    client = _client(served, httpx.Response(401, json=fault))
    with pytest.raises(AuthError) as raised:
        ERRORS.get(client, "/v3/company/1/query")
    assert str(raised.value) == (
        "QuickBooks refused the credentials of connection 'qbo' (HTTP 401 Unauthorized: 3200 "
        "AuthenticationFailed); run `syncbridge auth qbo`"
    )


def test_an_html_page_is_said_in_one_line_not_pasted(served: Served) -> None:
    page = httpx.Response(200, text="<!DOCTYPE html><html>\n<p>down</p></html>")
    client = _client(served, page)
    with pytest.raises(ConnectorError, match=r"HTTP 200 OK \(an HTML page, not JSON\), 3 times$"):
        ERRORS.get(client, "/v3/company/1/query")


def test_a_batch_whose_answer_is_lost_leaves_each_create_unknown(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=0)
    conn = served.connect(max_retries=1)
    items = [
        UpsertItem(key=f"b-{n}", record=conn.map_out("company", Company(name=f"Lost {n}")))
        for n in range(3)
    ]
    served.emulator.faults.drop_rate = 1.0  # carried out, every answer lost

    results = list(conn.upsert("company", items))  # no exception: the entity goes on

    assert [(r.key, r.ok, r.unknown) for r in results] == [
        (f"b-{n}", False, True) for n in range(3)
    ]
    assert all(r.error and r.error.startswith("the batch failed: no answer") for r in results)
    assert served.count("POST", "/batch") == 2  # re-sent once by the transport, same requestid
    assert len(served.emulator.books.tables["Customer"]) == 3  # carried out once

    served.emulator.faults.drop_rate = 0.0  # the next run sends the same batch again
    again = list(conn.upsert("company", items))
    assert all(r.ok for r in again)
    assert len(served.emulator.books.tables["Customer"]) == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_server_that_is_down_costs_the_connect_deadline_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBRIDGE_RETRY_BACKOFF", "0.5")  # the real pauses
    down: dict[str, Any] = {"base_url": f"http://127.0.0.1:{_closed_port()}"}
    conn = served.connect(**down)
    item = UpsertItem(key="k-1", record=conn.map_out("company", Company(name="Nobody Home")))

    began = time.monotonic()
    [result] = conn.upsert("company", [item])
    took = time.monotonic() - began

    assert not result.ok and result.unknown
    assert result.error is not None and "cannot connect to" in result.error
    assert took < CONNECT_DEADLINE + 1.5  # no retry loop of the connector's own on top

    began = time.monotonic()
    with pytest.raises(ConnectorError, match="cannot connect to"):
        list(conn.fetch("company"))
    assert time.monotonic() - began < CONNECT_DEADLINE + 1.5
