"""``syncbridge pick FILE``: review a selection file in the terminal (seed 003).

``syncbridge plan --line L --selection FILE`` writes a selection (see
:mod:`syncbridge.cli.selection`); this command shows its rows (tick box, side, id, action,
record label, reason) and its columns, and lets the person tick and untick them with the
keyboard before ``syncbridge run --selection FILE``:

- arrow keys (and PgUp, PgDn, Home, End): move in the pane;
- space: tick or untick the row or column under the cursor;
- Tab: switch between the rows and the columns;
- ``/``: filter the rows: the text typed keeps the rows whose record label, id, action or
  reason contains it (any case); Enter keeps the filtered list, Esc drops the filter;
- ``a`` / ``n``: tick / untick every row shown (every column, in the columns);
- ``s`` or Enter: save the file and leave; ``q`` or Esc (or Ctrl+C): leave without saving.

Saving changes only the ``tick`` keys that the person changed, through tomlkit, so the file's
comments, order, line endings and every other key stay as they were.

Why prompt_toolkit: it is a maintained, typed (``py.typed``), pure-Python toolkit (the one
behind IPython's prompt) that runs on Linux, macOS and Windows terminals, and a full-screen
``Application`` with ``KeyBindings`` and a ``Buffer`` for the filter text is the whole of this
picker: no curses (absent from Windows' Python) and no screen code of our own. Textual would
also do, but it is a much larger framework (CSS, widgets, its own event loop) for a list of
tick boxes.

The picker needs a terminal; without one (a pipe, CI) it refuses with exit 2 and points at
editing the file by hand, which is the other documented way to review a selection.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import click
import tomlkit
from prompt_toolkit.application import Application, get_app
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.data_structures import Point
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import (
    ConditionalContainer,
    Dimension,
    FormattedTextControl,
    HSplit,
    Layout,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.styles import Style
from prompt_toolkit.widgets import Frame
from tomlkit.exceptions import ParseError

from syncbridge.cli.common import EXIT_USAGE, say
from syncbridge.errors import ConfigError

__all__ = ["Column", "Picker", "Row", "load", "pick", "save"]

Pane = Literal["rows", "columns"]

HELP = (
    "↑↓ move  space tick  Tab rows/columns  / filter  a tick all shown  n untick all shown  "
    "s/Enter save  q/Esc quit"
)
FILTER_HELP = "type to filter the rows  Enter keep the filter  Esc drop it"

#: widths the record label and the id are cut to in the rows pane
_LABEL_WIDTH, _ID_WIDTH = 32, 14


@dataclass
class Row:
    """A ``[[rows]]`` entry as the picker shows it."""

    side: str
    id: str
    action: str
    record: str
    reason: str
    tick: bool
    original: bool

    def matches(self, query: str) -> bool:
        wanted = query.casefold()
        return any(wanted in text.casefold() for text in (self.record, self.id, self.action,
                                                         self.reason))


@dataclass
class Column:
    """A key of the ``[columns]`` table."""

    name: str
    tick: bool
    original: bool


@dataclass
class Picker:
    """What a pick is at any moment, apart from the screen: the ticks, the filter, the pane
    and the cursor in each pane (an index into what the pane shows)."""

    rows: list[Row]
    columns: list[Column]
    pane: Pane = "rows"
    query: str = ""
    cursor: dict[str, int] = field(default_factory=lambda: {"rows": 0, "columns": 0})

    def shown(self) -> list[Row]:
        """The rows the filter keeps, in the file's order."""
        return [row for row in self.rows if row.matches(self.query)] if self.query else self.rows

    def items(self) -> list[Row] | list[Column]:
        return self.shown() if self.pane == "rows" else self.columns

    def at(self) -> int:
        """The cursor of the active pane, kept within what it shows."""
        count = len(self.items())
        self.cursor[self.pane] = max(0, min(self.cursor[self.pane], count - 1))
        return self.cursor[self.pane]

    def move(self, delta: int) -> None:
        self.cursor[self.pane] = self.at() + delta
        self.at()

    def home(self, end: bool = False) -> None:
        self.cursor[self.pane] = len(self.items()) - 1 if end else 0
        self.at()

    def switch(self) -> None:
        self.pane = "columns" if self.pane == "rows" else "rows"

    def toggle(self) -> None:
        items = self.items()
        if items:
            item = items[self.at()]
            item.tick = not item.tick

    def tick_shown(self, tick: bool) -> None:
        """``a``/``n``: tick or untick every row shown, or every column."""
        for item in self.items():
            item.tick = tick

    def filter(self, query: str) -> None:
        self.query = query
        self.cursor["rows"] = 0

    def changes(self) -> int:
        everything: list[Row | Column] = [*self.rows, *self.columns]
        return sum(item.tick != item.original for item in everything)

    def summary(self) -> str:
        rows = sum(row.tick for row in self.rows)
        columns = sum(column.tick for column in self.columns)
        return (
            f"{rows} of {len(self.rows)} rows and {columns} of {len(self.columns)} columns "
            "ticked"
        )


def load(path: Path) -> tuple[tomlkit.TOMLDocument, Picker, str]:
    """The file's document, a :class:`Picker` of its rows and columns and its text; a
    ConfigError naming the key and the fix for a file that is not a selection."""
    where = f"pick {path}"
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"{where}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text; plan the selection again") from None
    try:
        document = tomlkit.parse(text)
    except ParseError as error:
        raise ConfigError(f"{where} is not valid TOML: {error}") from None
    raw: dict[str, Any] = document.unwrap()
    columns, rows = raw.get("columns", {}), raw.get("rows", [])
    if not isinstance(columns, dict) or not all(isinstance(v, bool) for v in columns.values()):
        raise ConfigError(f"{where}: columns must be field = true|false")
    if not isinstance(rows, list):
        raise ConfigError(f"{where}: rows must be [[rows]] tables")
    picked: list[Row] = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("side") not in ("left", "right") or "id" not in row:
            raise ConfigError(f"{where}: rows[{index}] needs side (left|right) and id")
        tick = row.get("tick", True)
        if not isinstance(tick, bool):
            raise ConfigError(f"{where}: rows[{index}].tick must be true or false")
        picked.append(
            Row(
                side=str(row["side"]),
                id=str(row["id"]),
                action=str(row.get("action", "")),
                record=str(row.get("record", "")),
                reason=str(row.get("reason", "")),
                tick=tick,
                original=tick,
            )
        )
    chosen = [Column(name=str(name), tick=tick, original=tick) for name, tick in columns.items()]
    return document, Picker(rows=picked, columns=chosen), text


def save(document: tomlkit.TOMLDocument, picker: Picker) -> str:
    """The document's text with the ticks the person changed, nothing else touched (a tick
    added to a row that had none ends its line as the file's other lines do)."""
    before = document.as_string()
    crlf = "\r\n" in before and "\n" not in before.replace("\r\n", "")
    for row, table in zip(picker.rows, document.get("rows", []), strict=True):
        if row.tick != row.original:
            table["tick"] = row.tick
    for column in picker.columns:
        if column.tick != column.original:
            document["columns"][column.name] = column.tick  # type: ignore[index]
    text = tomlkit.dumps(document)
    return text.replace("\r\n", "\n").replace("\n", "\r\n") if crlf else text


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def pick(file: Path) -> None:
    """Tick and untick the rows and columns of a selection file, in the terminal.

    FILE is written by `syncbridge plan --line L --selection FILE`. Keys: arrows move,
    space ticks or unticks, Tab switches rows/columns, / filters the rows (Enter keeps the
    filter, Esc drops it), a / n tick / untick all shown, s or Enter saves, q or Esc quits
    without saving. Then `syncbridge run --selection FILE` transfers what stays ticked.
    """
    document, picker, before = load(file)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        say(
            f"syncbridge pick needs a terminal and this is not one; edit {file} by hand "
            "instead: set tick = false on the rows and columns that must not be transferred."
        )
        raise click.exceptions.Exit(EXIT_USAGE)
    header = " · ".join(
        f"{key} {document[key]}" for key in ("line", "entity", "sync", "planned")
        if key in document
    )
    if not _application(picker, f"{file}  {header}").run():
        dropped = f"; {picker.changes()} change(s) dropped" if picker.changes() else ""
        say(f"{file} left as it was (nothing saved{dropped})")
        return
    if file.read_bytes().decode("utf-8", "replace") != before:
        say(f"{file} changed while the picker was open; nothing saved: pick it again")
        raise click.exceptions.Exit(EXIT_USAGE)
    if picker.changes():
        file.write_bytes(save(document, picker).encode("utf-8"))
        say(f"saved {file}: {picker.summary()}; then syncbridge run --selection {file}")
    else:
        say(f"{file} unchanged: {picker.summary()}")


def _application(picker: Picker, title: str) -> Application[bool]:
    """The full-screen picker; its ``run()`` answers True to save, False to leave."""

    widths = {
        "side": max([4, *(len(row.side) for row in picker.rows)]),
        "id": min(_ID_WIDTH, max([2, *(len(row.id) for row in picker.rows)])),
        "action": max([6, *(len(row.action) for row in picker.rows)]),
        "record": min(_LABEL_WIDTH, max([6, *(len(row.record) for row in picker.rows)])),
    }

    def cell(text: str, width: int) -> str:
        return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)

    def line(tick: str, side: str, rid: str, action: str, record: str, reason: str) -> str:
        return " ".join(
            [tick, cell(side, widths["side"]), cell(rid, widths["id"]),
             cell(action, widths["action"]), cell(record, widths["record"]), reason]
        )

    def box(item: Row | Column) -> str:
        mark = "[x]" if item.tick else "[ ]"
        return mark + ("*" if item.tick != item.original else " ")

    def lines(pane: Pane) -> StyleAndTextTuples:
        items: list[Row | Column] = [*(picker.shown() if pane == "rows" else picker.columns)]
        active = picker.pane == pane and not filtering()
        current = picker.cursor[pane]
        fragments: StyleAndTextTuples = []
        for index, item in enumerate(items):
            text = (
                line(box(item), item.side, item.id, item.action, item.record, item.reason)
                if isinstance(item, Row)
                else f"{box(item)} {item.name}"
            )
            style = "class:off" if not item.tick else ""
            if index == current:
                style += " class:cursor" if active else " class:cursor-idle"
            fragments.append((style, text + "\n"))
        if not items:
            empty = "no columns" if pane == "columns" else "no rows"
            fragments.append(("class:dim", "no row matches the filter" if picker.query
                              and pane == "rows" else empty))
        return fragments

    def rows_title() -> str:
        shown = picker.shown()
        ticked = sum(row.tick for row in picker.rows)
        narrowed = f", {len(shown)} shown" if picker.query else ""
        return f" Rows: {ticked} of {len(picker.rows)} ticked{narrowed} "

    def columns_title() -> str:
        ticked = sum(column.tick for column in picker.columns)
        return f" Columns: {ticked} of {len(picker.columns)} "

    def status() -> StyleAndTextTuples:
        changes = picker.changes()
        unsaved = f"{changes} change(s) (*) not saved" if changes else "no change"
        return [("", f" {picker.summary()} · "), ("class:status", unsaved)]

    def help_line() -> StyleAndTextTuples:
        return [("class:help", FILTER_HELP if filtering() else HELP)]

    query = Buffer(multiline=False, on_text_changed=lambda buffer: picker.filter(buffer.text))
    filtering = Condition(lambda: get_app().layout.has_focus(query))
    browsing = ~filtering

    rows_window = Window(
        FormattedTextControl(
            lambda: lines("rows"),
            focusable=True,
            show_cursor=False,
            get_cursor_position=lambda: Point(0, picker.cursor["rows"]),
        ),
        wrap_lines=False,
    )
    columns_window = Window(
        FormattedTextControl(
            lambda: lines("columns"),
            focusable=True,
            show_cursor=False,
            get_cursor_position=lambda: Point(0, picker.cursor["columns"]),
        ),
        wrap_lines=False,
    )
    heading = line("    ", "side", "id", "action", "record", "reason")
    column_width = max([22, *(len(column.name) + 6 for column in picker.columns)])
    body = VSplit(
        [
            Frame(
                HSplit([Window(FormattedTextControl([("class:heading", heading)]), height=1),
                        rows_window]),
                title=rows_title,
            ),
            Frame(columns_window, title=columns_title, width=Dimension(preferred=column_width + 2,
                                                                        max=column_width + 2)),
        ]
    )
    filter_line = ConditionalContainer(
        VSplit([Window(FormattedTextControl("/ "), width=2), Window(BufferControl(query),
                                                                    height=1)]),
        filter=filtering | Condition(lambda: bool(picker.query)),
    )
    root = HSplit(
        [
            Window(FormattedTextControl([("class:title", " " + title)]), height=1),
            body,
            filter_line,
            Window(FormattedTextControl(status), height=1),
            Window(FormattedTextControl(help_line), wrap_lines=True, dont_extend_height=True),
        ]
    )

    bindings = KeyBindings()

    def focus_pane() -> None:
        get_app().layout.focus(rows_window if picker.pane == "rows" else columns_window)

    @bindings.add("up", filter=browsing)
    @bindings.add("k", filter=browsing)
    def _up(event: KeyPressEvent) -> None:
        picker.move(-1)

    @bindings.add("down", filter=browsing)
    @bindings.add("j", filter=browsing)
    def _down(event: KeyPressEvent) -> None:
        picker.move(1)

    @bindings.add("pageup", filter=browsing)
    def _page_up(event: KeyPressEvent) -> None:
        picker.move(-10)

    @bindings.add("pagedown", filter=browsing)
    def _page_down(event: KeyPressEvent) -> None:
        picker.move(10)

    @bindings.add("home", filter=browsing)
    def _home(event: KeyPressEvent) -> None:
        picker.home()

    @bindings.add("end", filter=browsing)
    def _end(event: KeyPressEvent) -> None:
        picker.home(end=True)

    @bindings.add(" ", filter=browsing)
    def _toggle(event: KeyPressEvent) -> None:
        picker.toggle()

    @bindings.add("tab", filter=browsing)
    @bindings.add("s-tab", filter=browsing)
    def _switch(event: KeyPressEvent) -> None:
        picker.switch()
        focus_pane()

    @bindings.add("a", filter=browsing)
    def _all(event: KeyPressEvent) -> None:
        picker.tick_shown(True)

    @bindings.add("n", filter=browsing)
    def _none(event: KeyPressEvent) -> None:
        picker.tick_shown(False)

    @bindings.add("/", filter=browsing)
    def _filter(event: KeyPressEvent) -> None:
        picker.pane = "rows"
        event.app.layout.focus(query)

    @bindings.add("enter", filter=filtering, eager=True)
    def _keep_filter(event: KeyPressEvent) -> None:
        focus_pane()

    @bindings.add("escape", filter=filtering, eager=True)
    def _drop_filter(event: KeyPressEvent) -> None:
        query.text = ""
        focus_pane()

    @bindings.add("s", filter=browsing)
    @bindings.add("enter", filter=browsing, eager=True)
    def _save(event: KeyPressEvent) -> None:
        event.app.exit(result=True)

    @bindings.add("q", filter=browsing)
    @bindings.add("escape", filter=browsing, eager=True)
    @bindings.add("c-c")
    def _quit(event: KeyPressEvent) -> None:
        event.app.exit(result=False)

    style = Style.from_dict(
        {
            "title": "bold",
            "heading": "bold",
            "cursor": "reverse",
            "cursor-idle": "underline",
            "off": "fg:ansibrightblack",
            "dim": "italic",
            "status": "fg:ansiyellow",
            "help": "reverse",
        }
    )
    application: Application[bool] = Application(
        layout=Layout(root, focused_element=rows_window),
        key_bindings=bindings,
        style=style,
        full_screen=True,
    )
    # Esc alone: no waiting for the rest of an escape sequence that is not coming
    application.ttimeoutlen = 0.05
    application.timeoutlen = 0.05
    return application
