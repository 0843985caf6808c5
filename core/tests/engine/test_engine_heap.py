"""frozen_heap: the heap is frozen for the outermost use only, and always given back."""

from __future__ import annotations

import pytest

from syncbridge.engine import heap


def test_nested_uses_unfreeze_once_at_the_end_even_after_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the collector itself is process-wide (other tests' threads may be running syncs), so
    # the calls are counted instead of made
    calls: list[str] = []
    monkeypatch.setattr(heap, "_depth", 0)
    monkeypatch.setattr(heap.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(heap.gc, "unfreeze", lambda: calls.append("unfreeze"))
    with pytest.raises(RuntimeError), heap.frozen_heap():
        assert calls == ["freeze"]
        with heap.frozen_heap():
            assert calls == ["freeze"]
        assert calls == ["freeze"]  # the inner end does not unfreeze
        raise RuntimeError("a run that fails")
    assert calls == ["freeze", "unfreeze"]
    assert heap._depth == 0
