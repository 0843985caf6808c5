"""``python -m syncbridge.docsgen DIR``: write the generated pages into DIR (to read or diff)."""

from __future__ import annotations

import sys
from pathlib import Path

from syncbridge.docsgen import pages


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m syncbridge.docsgen DIR", file=sys.stderr)
        return 2
    root = Path(argv[0])
    for path, text in pages().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
