"""The fault check's tests: Tiny CRM (``tiny_api``) is a plain module beside them."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
# the test API is a plain module beside the tests (pytest runs with --import-mode=importlib)
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
