"""What happened to one record in a run: the words of every report, count and exit code.

A ``StrEnum``, so a report row stored as text, a ``--json`` report and a ``Counter`` keyed by
outcome all agree with the engine without conversions, while the engine itself branches on
members, never on the human-readable reason beside them (reasons are for people and change
wording freely).
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """The outcomes, in the order reports list them."""

    CREATED = "created"
    #: a record made from another entity's record (a document's party, say)
    DERIVED = "derived"
    UPDATED = "updated"
    #: paired with its twin by matching; written only where the twins differ
    LINKED = "linked"
    DELETED = "deleted"
    #: changed on both sides; the priority side's values kept
    CONFLICT = "conflict"
    #: more than one candidate twin: left for the user to pin (never guessed)
    AMBIGUOUS = "ambiguous"
    #: a write an interrupted run or a lost answer may or may not have made, held until it is
    #: found or settled (docs/concepts/safety.md): never sent again meanwhile
    UNKNOWN = "unknown"
    #: waits for a record it refers to (retried next run)
    WAITING = "waiting"
    FAILED = "failed"
    #: its twin is gone and deletions are not propagated
    MISSING = "missing"
    #: outside the entity's filter
    FILTERED = "filtered"
    SKIPPED = "skipped"
    #: identical on both sides to the last sync: counted, without a report row (a full run
    #: over 100k linked records must not write 100k rows)
    UNCHANGED = "unchanged"


#: every outcome, in report order
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
#: outcomes that make ``syncbridge run`` exit 1: each needs a look
FAILURES: frozenset[Outcome] = frozenset({Outcome.FAILED, Outcome.UNKNOWN})
