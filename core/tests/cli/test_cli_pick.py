"""``syncbridge pick FILE``: the terminal picker of a selection file (seed 003), driven through
a real pseudo-terminal (pexpect) as a person would: arrow keys, space, the ``/`` filter, Tab,
``a``/``n``, save or quit. What is checked is the file written, to the byte."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

from syncbridge.cli import main
from syncbridge.cli.pick import load, save

DOWN, ESC, ENTER, TAB = "\x1b[B", "\x1b", "\r", "\t"

SELECTION = """\
# syncbridge selection: untick (tick = false) the rows and the columns that must not be
# transferred, then `syncbridge run --selection review.toml`.

line = "customers"
sync = "main"
entity = "company"
planned = "2026-12-07T06:00:00+00:00"

[columns]
name = true
city = true   # where they are
phone = true

[[rows]]
tick = true
side = "left"
id = "1"
action = "created"
record = "ACME"
reason = "new on the left"
fingerprint = "aaa"

[[rows]]
tick = true  # reviewed on Monday
side = "left"
id = "2"
action = "updated"
record = "Bolt Srl"
reason = "city changed"
fingerprint = "bbb"

[[rows]]
side = "right"
id = "77"
action = "deleted"
record = "Corvo"
reason = "gone on the left"
fingerprint = "ccc"
"""


@pytest.fixture
def review(tmp_path: Path) -> Path:
    path = tmp_path / "review.toml"
    path.write_text(SELECTION, encoding="utf-8")
    return path


def _spawn(path: Path) -> pexpect.spawn:
    """The picker in a 24x100 pseudo-terminal, once its screen is up."""
    env = {**os.environ, "TERM": "xterm-256color", "LANG": "C.UTF-8", "COLUMNS": "100",
           "LINES": "24"}
    env.pop("SYNCBRIDGE_DEBUG", None)
    child = pexpect.spawn(
        sys.executable, ["-m", "syncbridge.cli", "pick", str(path)], env=env,
        dimensions=(24, 100), encoding="utf-8", timeout=20,
    )
    child.expect_exact("tick all shown")
    return child


def _keys(child: pexpect.spawn, *keys: str) -> None:
    for key in keys:
        child.send(key)
        if key == ESC:  # Esc alone: let the picker see it is not the start of a sequence
            time.sleep(0.5)


def _finish(child: pexpect.spawn) -> str:
    """What the picker said on leaving (its screen gone), its exit code checked to be 0."""
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return " ".join(str(child.before).rsplit("\x1b[?25h", 1)[-1].split())


def test_the_ticks_changed_are_saved_and_everything_else_is_kept(review: Path) -> None:
    child = _spawn(review)
    # untick Bolt (second row), filter down to Corvo and untick it, untick the city column
    _keys(child, DOWN, " ", "/", "corvo", ENTER, " ", TAB, DOWN, " ", "s")
    said = _finish(child)

    assert review.read_text(encoding="utf-8") == (
        SELECTION.replace("city = true   #", "city = false   #")
        .replace("tick = true  # reviewed", "tick = false  # reviewed")
        .replace('fingerprint = "ccc"\n', 'fingerprint = "ccc"\ntick = false\n')
    )
    assert said == (
        f"saved {review}: 1 of 3 rows and 2 of 3 columns ticked; then syncbridge run "
        f"--selection {review}"
    )


def test_tick_all_and_untick_all_act_on_the_rows_shown_or_on_the_columns(review: Path) -> None:
    child = _spawn(review)
    # "left" is in the reasons of ACME and Corvo only: untick those two, not Bolt; then,
    # the filter dropped, untick every column and tick the first one again; Enter saves
    _keys(child, "/", "LEFT", ENTER, "n", "/", ESC, TAB, "n", " ", ENTER)
    said = _finish(child)

    assert review.read_text(encoding="utf-8") == (
        SELECTION.replace("city = true   #", "city = false   #")
        .replace("phone = true", "phone = false")
        .replace('tick = true\nside = "left"\nid = "1"', 'tick = false\nside = "left"\nid = "1"')
        .replace('fingerprint = "ccc"\n', 'fingerprint = "ccc"\ntick = false\n')
    )
    assert said.startswith(f"saved {review}: 1 of 3 rows and 1 of 3 columns ticked")

    child = _spawn(review)
    _keys(child, "a", TAB, "a", "s")  # tick all rows, all columns: back to the start
    _finish(child)
    assert review.read_text(encoding="utf-8") == SELECTION.replace(
        'fingerprint = "ccc"\n', 'fingerprint = "ccc"\ntick = true\n'
    )


@pytest.mark.parametrize("leave", ["q", ESC], ids=["q", "esc"])
def test_quitting_without_saving_leaves_the_file_byte_identical(
    review: Path, leave: str
) -> None:
    before = review.read_bytes()
    child = _spawn(review)
    _keys(child, " ", DOWN, " ", TAB, "n", "/", "acme", ENTER, leave)
    said = _finish(child)

    assert review.read_bytes() == before
    assert said == f"{review} left as it was (nothing saved; 5 change(s) dropped)"


def test_a_file_changed_while_the_picker_is_open_is_not_overwritten(review: Path) -> None:
    child = _spawn(review)
    _keys(child, " ")
    edited = SELECTION.replace("phone = true", "phone = false")
    review.write_text(edited, encoding="utf-8")  # someone else's edit, meanwhile
    _keys(child, "s")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 2
    assert review.read_text(encoding="utf-8") == edited
    said = " ".join(str(child.before).rsplit("\x1b[?25h", 1)[-1].split())
    assert said == f"{review} changed while the picker was open; nothing saved: pick it again"


def test_without_a_terminal_the_picker_refuses_and_points_at_the_file(review: Path) -> None:
    before = review.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "syncbridge.cli", "pick", str(review)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "400"},
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"syncbridge pick needs a terminal and this is not one; edit {review} by hand "
        "instead: set tick = false on the rows and columns that must not be transferred.\n"
    )
    assert review.read_bytes() == before


def test_a_file_that_is_not_a_selection_is_a_config_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[rows]]\ntick = true\nid = "1"\n', encoding="utf-8")

    result = CliRunner().invoke(main, ["pick", str(broken)], prog_name="syncbridge")

    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        f"config error: pick {broken}: rows[0] needs side (left|right) and id"
    )


def test_a_file_with_windows_line_endings_keeps_them(review: Path) -> None:
    review.write_bytes(SELECTION.replace("\n", "\r\n").encode("utf-8"))
    document, picker, _text = load(review)
    picker.move(2)
    picker.toggle()  # Corvo, which had no tick key
    picker.switch()
    picker.toggle()  # name

    saved = save(document, picker)

    assert saved == (
        SELECTION.replace("name = true", "name = false")
        .replace('fingerprint = "ccc"\n', 'fingerprint = "ccc"\ntick = false\n')
        .replace("\n", "\r\n")
    )
