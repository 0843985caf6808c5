"""frozen_heap: the heap is frozen for the outermost use only, and always given back."""

from __future__ import annotations

import gc

import pytest

from syncbridge.engine.heap import frozen_heap


def test_nested_uses_unfreeze_once_at_the_end_even_after_an_error() -> None:
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with frozen_heap():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # the inner end does not unfreeze
        raise RuntimeError("a run that fails")
    assert gc.get_freeze_count() == 0
