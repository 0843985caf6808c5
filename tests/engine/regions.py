"""An extension giving the sql connector a per-record context, as QuickBooks and Bitrix24 do.

``fetch`` gives each company whose name :data:`REGIONS` knows the context ``{"region": ...}``
(a fact the record itself does not carry, as a connector looks one up while reading), and
``map(in)`` writes it into the canonical ``notes``: what a record maps to depends on its
context. A record named in :data:`BROKEN` fails to map in with a :class:`RecordError`, until
a test fixes it. :data:`SEEN` records the context ``map(in)`` was given, by company name, in
this process (a forked mapping worker's calls are not seen here).

Used as ``extensions = ["tests.engine.regions"]`` on a test bed's left connection.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from syncbridge.errors import RecordError
from syncbridge.hookspecs import hookimpl
from syncbridge.records import Page

#: company name -> its region, what the system knows beside the record
REGIONS: dict[str, str] = {}
#: company names whose mapping fails
BROKEN: set[str] = set()
#: company name -> the context map(in) was last given (in this process)
SEEN: dict[str, dict[str, Any]] = {}


def reset() -> None:
    REGIONS.clear()
    BROKEN.clear()
    SEEN.clear()


@hookimpl(wrapper=True)
def fetch(
    client: Any, entity: str, since: str | None, query: Any
) -> Generator[None, Iterator[Page], Iterator[Page]]:
    pages = yield
    if entity != "company":
        return pages

    def with_context() -> Iterator[Page]:
        for page in pages:
            page.context = {
                str(record["id"]): {"region": REGIONS[record["name"]]}
                for record in page.records
                if record.get("name") in REGIONS
            }
            yield page

    return with_context()


@hookimpl(wrapper=True)
def map(
    entity: str, record: Any, direction: str, context: dict[str, Any]
) -> Generator[None, Any, Any]:
    if direction == "in" and entity == "company":
        SEEN[record["name"]] = dict(context)
        if record["name"] in BROKEN:
            raise RecordError(f"{record['name']}: not mapped yet")
    result = yield
    if direction == "in" and entity == "company" and "region" in context:
        result = result.model_copy(update={"notes": f"region {context['region']}"})
    return result
