"""Paginators decide the next request from the last answer (answers built as httpx builds
them; the loops that send them are tested over HTTP in test_resource.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from syncbridge.rest import (
    AfterId,
    CursorToken,
    NextLink,
    Offset,
    PageNumber,
    Reply,
    Request,
    select,
    walk,
)

URL = "https://api.example/v1/items"


def reply(params: dict[str, Any], body: Any, size: int = 2, **headers: str) -> Reply:
    request = Request("/items", params)
    response = httpx.Response(
        200, json=body, headers=headers, request=httpx.Request("GET", URL, params=params)
    )
    return Reply(request, response, body, list(select(body, "data") or []), size)


def two(*extra: Any) -> dict[str, Any]:
    return {"data": [{"id": 1}, {"id": 2}], **dict(extra)}


def test_page_numbers_stop_at_a_short_page() -> None:
    pages = PageNumber()
    assert pages.first(2) == {"page": 1, "per_page": 2}
    following = pages.next(reply({"page": 1, "per_page": 2, "sort": "id"}, two()))
    assert following == Request("/items", {"page": 2, "per_page": 2, "sort": "id"})
    assert pages.next(reply({"page": 2, "per_page": 2}, {"data": [{"id": 3}]})) is None
    assert pages.next(reply({"page": 2, "per_page": 2}, {"data": []})) is None


@pytest.mark.parametrize(
    ("paginator", "body", "more"),
    [
        (PageNumber(last_page="meta.last"), two(("meta", {"last": 1})), False),
        (PageNumber(last_page="meta.last"), two(("meta", {"last": 2})), True),
        (PageNumber(total="total"), two(("total", 2)), False),
        (PageNumber(total="total"), two(("total", 3)), True),
        (PageNumber(has_more="more"), two(("more", False)), False),
        (Offset(total="total"), two(("total", 2)), False),
        (Offset(has_more="more"), two(("more", True)), True),
    ],
)
def test_what_the_body_says_about_a_next_page_wins(paginator: Any, body: Any, more: bool) -> None:
    assert (paginator.next(reply(paginator.first(2), body)) is not None) is more


def test_positions_map_to_requests() -> None:
    assert PageNumber().at(0, 10) == ({"page": 1, "per_page": 10}, 0)
    assert PageNumber().at(25, 10) == ({"page": 3, "per_page": 10}, 5)
    assert PageNumber(start=0, size_param=None).at(9, 10) == ({"page": 0}, 9)
    assert Offset().at(25, 10) == ({"offset": 25, "limit": 10}, 0)
    assert Offset(start=1, param="STARTPOSITION", size_param="MAXRESULTS").at(0, 5) == (
        {"STARTPOSITION": 1, "MAXRESULTS": 5},
        0,
    )
    following = Offset().next(reply({"offset": 4, "limit": 2}, two()))
    assert following is not None and following.params == {"offset": 6, "limit": 2}


def test_a_token_resumes_until_there_is_none() -> None:
    tokens = CursorToken(token="meta.next")
    assert tokens.first(50) == {"limit": 50}
    following = tokens.next(reply({"limit": 2}, two(("meta", {"next": "abc"}))))
    assert following == Request("/items", {"limit": 2, "cursor": "abc"})
    assert tokens.next(reply({"limit": 2}, two(("meta", {"next": None})))) is None
    # the same token again would never end
    assert tokens.next(reply({"cursor": "abc"}, two(("meta", {"next": "abc"})))) is None
    headed = CursorToken(param="after", header="X-Next")
    following = headed.next(reply({}, two(), **{"X-Next": "42"}))
    assert following is not None and following.params == {"after": "42"}


def test_next_links_come_from_the_link_header_or_the_body() -> None:
    link = '<https://api.example/v1/items?page=2&per_page=2>; rel="next", <...>; rel="last"'
    following = NextLink().next(reply({"page": 1}, two(), Link=link))
    assert following == Request("https://api.example/v1/items?page=2&per_page=2")
    assert NextLink().next(reply({"page": 1}, two())) is None
    relative = NextLink(path="links.next").next(reply({}, two(("links", {"next": "?page=3"}))))
    assert relative == Request("https://api.example/v1/items?page=3")
    looping = NextLink(path="links.next").next(reply({}, two(("links", {"next": URL}))))
    assert looping is None


def test_dotted_paths_select_into_bodies() -> None:
    body = {"data": {"items": [{"id": 7}], "errors": [{"message": "bad"}]}}
    assert select(body, "data.items.0.id") == 7
    assert select(body, "data.errors.-1.message") == "bad"
    assert select(body, "data.items.3") is None
    assert select(body, "data.items.id", default="none") == "none"
    assert select(body, None) is body
    assert select(body, lambda b: len(b)) == 1


def test_after_id_asks_for_the_ids_after_the_last_one_read() -> None:
    paginator = AfterId(param=("filter", ">ID"), id="ID", size_param=None)
    first = Request("crm.item.list", {"filter": {"=TYPE": "A"}, "start": -1})
    full = Reply(first, None, {}, [{"ID": 7}, {"ID": 9}], 2)
    assert paginator.next(full) == Request(
        "crm.item.list", {"filter": {"=TYPE": "A", ">ID": 9}, "start": -1}
    )
    assert first.params == {"filter": {"=TYPE": "A"}, "start": -1}  # nothing shared changed
    assert paginator.next(Reply(first, None, {}, [{"ID": 7}], 2)) is None  # a short page
    assert AfterId().next(Reply(Request("/items"), None, {}, [{"id": "a"}], 1)) == Request(
        "/items", {"after_id": "a"}
    )


def test_walk_pages_a_listing_sent_by_the_caller() -> None:
    rows = [{"id": n} for n in range(1, 6)]
    sent: list[dict[str, Any]] = []

    def send(request: Request) -> tuple[Any, list[dict[str, Any]], None]:
        sent.append(request.params)
        after = request.params.get("after_id", 0)
        page = [row for row in rows if row["id"] > after][: request.params["limit"]]
        return {"rows": page}, page, None

    replies = list(walk(AfterId(), Request("rpc.list", {"q": "x"}), 2, send))
    assert [[r["id"] for r in reply.records] for reply in replies] == [[1, 2], [3, 4], [5]]
    assert sent == [
        {"q": "x", "limit": 2},
        {"q": "x", "limit": 2, "after_id": 2},
        {"q": "x", "limit": 2, "after_id": 4},
    ]
