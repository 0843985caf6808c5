"""What counts as one readable line in a reason."""

from __future__ import annotations

import pytest

from syncbridge.testing.readable import LONGEST_REASON, unreadable


@pytest.mark.parametrize(
    "reason",
    [
        "HTTP 502 Bad Gateway (an HTML page, not JSON)",
        "HTTP 422 Unprocessable Entity: name is required",
        "the right rejected it: HTTP 200 OK (JSON cut short after 57 bytes); it may have been "
        "written: the next run checks before sending it again",
        "price must be < 1000 and > 0",
    ],
)
def test_sentences_are_readable(reason: str) -> None:
    assert unreadable(reason, {"s3cr3t-token"}) is None


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("HTTP 502: <!DOCTYPE html>\n<html><head><title>502</title>", "holds HTML"),
        ("HTTP 502: <html><body><h1>Bad Gateway</h1></body></html>", "holds HTML"),
        ("We&rsquo;ll be back soon", "holds HTML"),
        ('Traceback (most recent call last):\n  File "x.py", line 1', "holds a traceback"),
        ("first line\nsecond line", "spans 2 lines"),
        ("x" * (LONGEST_REASON + 1), "characters long"),
        ("", "says nothing"),
    ],
)
def test_markup_tracebacks_and_pasted_bodies_are_not(reason: str, why: str) -> None:
    found = unreadable(reason)
    assert found is not None and why in found


def test_a_secret_is_named_but_never_shown() -> None:
    found = unreadable("GET /deals?token=s3cr3t-token failed", {"s3cr3t-token"})
    assert found is not None and "secret" in found
    assert "s3cr3t-token" not in found and "***" in found


def test_an_empty_reason_may_be_allowed() -> None:
    assert unreadable("  ", empty_ok=True) is None
