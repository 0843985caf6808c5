"""Markdown helpers shared by the generators.

The sources the generators read (pydantic descriptions, click help, reST docstrings, plugin
READMEs) were written for other renderers. These helpers turn them into Markdown that
mkdocs renders as written and that ``mkdocs build --strict`` accepts: nothing taken for an
HTML tag, no ``|`` breaking a table, no link pointing outside the site.
"""

from __future__ import annotations

import html
import inspect
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`(?P<body>[^`]+)`")
_PARAM = re.compile(
    r"^:(?:param|parameter|arg|keyword)\s+(?:[^:]*\s)?(?P<name>\w+):\s*(?P<text>.*)$"
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,5})(\s)")
_README_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")


def inline(text: str) -> str:
    """One line of prose: whitespace collapsed, ``<``/``>``/``&`` escaped outside code spans.

    Help texts say things like ``<conn>`` that Markdown would take for an HTML tag, and a
    table cell must not contain a raw newline or ``|``.
    """
    return _outside_code(" ".join(text.split()), _escape)


def _escape(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("*", "\\*")


def code(text: object) -> str:
    """``text`` as an inline code span, whatever backticks it contains."""
    value = str(text)
    ticks = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table; cells must already be inline Markdown (see :func:`inline`)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def slug(text: str) -> str:
    """The anchor mkdocs' default ``toc`` extension gives a heading (for links we write)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", ascii_text).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def rst_to_markdown(docstring: str | None) -> str:
    """A reST docstring as Markdown: the subset our docstrings use.

    Handles double-backtick literals, Sphinx roles (``:class:`~a.B``` becomes ```B```),
    ``:param name:`` fields (collected into one parameter list), definition lists (a term
    line followed by an indented body) and ``::`` literal blocks (fenced: TOML when they
    start with a table header, Python otherwise).
    """
    lines = inspect.cleandoc(docstring or "").splitlines()
    out: list[str] = []
    index = 0

    def indented(at: int) -> bool:
        return at < len(lines) and lines[at].startswith(" ") and bool(lines[at].strip())

    def next_text(at: int) -> int:
        while at < len(lines) and not lines[at].strip():
            at += 1
        return at

    while index < len(lines):
        line = lines[index]
        if _PARAM.match(line):
            params: list[tuple[str, str]] = []
            while index < len(lines) and (found := _PARAM.match(lines[index])):
                body = [found.group("text")]
                index += 1
                while indented(index):
                    body.append(lines[index].strip())
                    index += 1
                params.append((found.group("name"), " ".join(body)))
                if _PARAM.match(lines[next_text(index)] if next_text(index) < len(lines) else ""):
                    index = next_text(index)
            out.extend(_param_list(params))
            continue
        if line.rstrip().endswith("::") and not line.startswith(" "):
            lead = line.rstrip()[:-2].rstrip()
            if lead:
                out.append(_prose(lead) + ":")
            index += 1
            block: list[str] = []
            while index < len(lines) and (not lines[index].strip() or lines[index].startswith(" ")):
                block.append(lines[index])
                index += 1
            body_text = inspect.cleandoc("\n".join(block).strip("\n"))
            language = "toml" if body_text.lstrip().startswith("[") else "python"
            out.extend(["", f"```{language}", body_text, "```", ""])
            continue
        if line.strip() and not line.startswith(" ") and indented(index + 1):
            if out and out[-1].strip() and not out[-1].startswith("- "):
                out.append("")
            index += 1
            body = []
            while indented(index):
                body.append(lines[index].strip())
                index += 1
            out.append(f"- {_prose(line.strip())} — {_prose(' '.join(body))}")
            continue
        out.append(_prose(line.strip()))
        index += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def _param_list(params: list[tuple[str, str]]) -> list[str]:
    lines = ["", "**Parameters**", ""]
    lines.extend(f"- {code(name)} — {_prose(text)}" for name, text in params)
    lines.append("")
    return lines


def _roles(line: str) -> str:
    """Sphinx roles and reST literals on one line, as Markdown code spans."""

    def role(found: re.Match[str]) -> str:
        body = found.group("body")
        target = re.search(r"<([^>]+)>$", body)
        if target:
            body = body[: target.start()].strip() or target.group(1)
        elif body.startswith("~"):
            body = body[1:].rsplit(".", 1)[-1]
        return code(body)

    line = _ROLE.sub(role, line)
    return re.sub(r"``(.+?)``", lambda m: code(m.group(1)), line)


def _prose(line: str) -> str:
    """One line of a reST paragraph as Markdown, ``<`` escaped outside code."""
    return _outside_code(_roles(line), lambda text: text.replace("<", "&lt;"))


def rst_inline(text: str) -> str:
    """A short reST text (a ``#:`` comment, a field doc) as one line of inline Markdown."""
    return inline(_roles(" ".join(text.split())))


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the parts of ``text`` that are not code spans."""
    out: list[str] = []
    position = 0
    for found in _CODE_SPAN.finditer(text):
        out.append(change(text[position : found.start()]))
        out.append(found.group(0))
        position = found.end()
    out.append(change(text[position:]))
    return "".join(out)


def first_line(docstring: str | None) -> str:
    """The summary line of a docstring, as Markdown."""
    text = inspect.cleandoc(docstring or "")
    return rst_inline(text.split("\n\n", 1)[0]) if text else ""


def embed_readme(text: str) -> str:
    """A plugin README made safe to embed in a page of the site.

    Headings go one level down (the page has its own title). Relative links and images
    point into the plugin's source tree rather than the site, and an in-page link may name
    a heading the README does not have: both become plain text, since ``--strict`` would
    fail the whole site on them.
    """
    lines = text.splitlines()
    anchors = {
        slug(found.group(2)) for found in map(_README_HEADING.match, _prose_lines(lines)) if found
    }
    out: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        line = _HEADING.sub(lambda m: "#" + m.group(1) + m.group(2), line)
        out.append(_LINK.sub(lambda found: _link(found, anchors), line))
    return "\n".join(out).strip() + "\n"


def _prose_lines(lines: list[str]) -> Iterator[str]:
    """The lines of a Markdown text outside fenced code blocks."""
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield line


def _link(found: re.Match[str], anchors: set[str]) -> str:
    target = found.group("target")
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        return found.group(0)  # http:, https:, mailto:
    if target.startswith("#") and target[1:] in anchors and not found.group("bang"):
        return found.group(0)
    return found.group("text")
