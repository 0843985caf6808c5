"""Real PDF documents for the emulator's invoices: small, valid, readable by any viewer.

A one-page PDF 1.4 with the document's number, parties and totals in Helvetica, written by
hand (no dependency): the objects, then a cross-reference table whose byte offsets are
computed as they are written, which is what makes it a valid file rather than PDF-looking
bytes. Text is written in WinAnsi: characters it lacks (ő, ű) print as their base letter.
"""

from __future__ import annotations

import unicodedata

_WINANSI_EXTRA = {"ő": "ö", "Ő": "Ö", "ű": "ü", "Ű": "Ü"}


def _text(value: str) -> bytes:
    """``value`` as a PDF string literal in WinAnsi (cp1252), escaped."""
    value = "".join(_WINANSI_EXTRA.get(ch, ch) for ch in value)
    encoded = value.encode("cp1252", errors="replace")
    if b"?" in encoded and "?" not in value:  # a letter cp1252 lacks: drop its accent
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
        encoded = value.encode("cp1252", errors="replace")
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def render(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF showing ``title`` and ``lines``."""
    content = [b"BT /F1 16 Tf 56 790 Td " + _text(title) + b" Tj ET"]
    y = 760
    for line in lines[:45]:
        content.append(b"BT /F1 10 Tf 56 %d Td " % y + _text(line) + b" Tj ET")
        y -= 16
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
