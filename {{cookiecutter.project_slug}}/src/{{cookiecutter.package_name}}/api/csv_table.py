"""CSV tables in and out of /predict/csv: read within limits, written safe for spreadsheets.

Reading: the body is cut into lines as bytes (a newline byte is never part of a UTF-8
character), each line decoded on its own and handed to Python's `csv` reader, so every limit
holds while the table is read, before anything large is built:
- a row (one line, or more when a quoted cell holds line breaks) over `max_row_bytes` is
  refused before it is parsed, so a header of a million names costs nothing;
- the header: at most `max_columns` names, each name once;
- every row has exactly as many fields as the header (a 422 naming its line: pandas would
  silently turn extra leading fields into an index and shift every column);
- at most `max_rows` rows (413).
pandas reads a table faster but checks none of this as it reads. Quoting is strict (a
stray quote is a 422 naming the line); blank lines are skipped, as pandas skips them.

Writing: a cell that starts with = + - @, a tab or a carriage return is written with a
leading apostrophe (the OWASP rule against CSV formula injection), unless it is a number
such as -3.5; the writer quotes any cell holding a comma, a quote or a line break.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import HTTPException

from ..data.cleaning import number
from .problems import refused

BOM = b"\xef\xbb\xbf"
FORMULA_START = frozenset("=+-@\t\r")
BYTES_PER_COLUMN = 1024  # a row may hold this much per allowed column, on average


@dataclass(frozen=True)
class CsvLimits:
    max_columns: int
    max_rows: int

    @property
    def max_row_bytes(self) -> int:
        return self.max_columns * BYTES_PER_COLUMN


class _Lines:
    """The body's lines as text, for `csv.reader`; counts lines and the current row's bytes."""

    def __init__(self, body: bytes, max_row_bytes: int) -> None:
        self.body = body
        self.pos = len(BOM) if body.startswith(BOM) else 0
        # Lines end in \n (or \r\n); in \r alone when there is no \n (old Mac spreadsheets).
        self.newline = b"\r" if b"\n" not in body and b"\r" in body else b"\n"
        self.max_row_bytes = max_row_bytes
        self.line = 0  # lines handed out so far
        self.row_line = 1  # the line the current row starts on
        self.row_bytes = 0

    def next_row(self) -> None:
        self.row_line = self.line + 1
        self.row_bytes = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        body, start = self.body, self.pos
        if start >= len(body):
            raise StopIteration
        end = body.find(self.newline, start)
        end = len(body) if end < 0 else end + 1
        self.row_bytes += end - start
        if self.row_bytes > self.max_row_bytes:
            what = "the header" if self.row_line == 1 else "a row"
            raise HTTPException(
                413,
                f"line {self.row_line}: {what} of over {self.max_row_bytes} bytes, the limit "
                f"({BYTES_PER_COLUMN} bytes per column allowed)",
            )
        self.line += 1
        self.pos = end
        try:
            return body[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise refused(
                ("body", f"line {self.line}"),
                f"not UTF-8 text (byte {exc.start + 1}); save it as UTF-8",
                "csv_encoding",
            ) from None


class CsvReader:
    """A CSV body's header and rows, checked against `limits` as they are read."""

    def __init__(self, body: bytes, limits: CsvLimits) -> None:
        self.limits = limits
        self._lines = _Lines(body, limits.max_row_bytes)
        self._rows = csv.reader(self._lines, strict=True)
        self.header = self._header()

    def _next(self) -> list[str] | None:
        """The next row that is not blank, or None at the end."""
        while True:
            self._lines.next_row()
            try:
                cells = next(self._rows)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise refused(
                    ("body", f"line {self._lines.row_line}"),
                    f"not a well-formed CSV row ({exc})",
                    "csv_format",
                ) from None
            if cells:
                return cells

    def _header(self) -> list[str]:
        names = self._next()
        if names is None:
            raise refused(("body",), "no CSV header line (the column names)", "csv_header")
        limit = self.limits.max_columns
        if len(names) > limit:
            raise HTTPException(413, f"header: {len(names)} columns, the limit is {limit}")
        seen: dict[str, int] = {}
        for i, name in enumerate(names, 1):
            if name in seen:
                raise refused(
                    ("body", "header", name),
                    f"the column appears twice (columns {seen[name]} and {i})",
                    "csv_header",
                )
            seen[name] = i
        return names

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) for each row; a 422 at the first row whose field count is not
        the header's, a 413 past `max_rows` rows."""
        width, limit, count = len(self.header), self.limits.max_rows, 0
        while (cells := self._next()) is not None:
            line = self._lines.row_line
            if len(cells) != width:
                fields = f"{len(cells)} field" + ("s" if len(cells) != 1 else "")
                raise refused(
                    ("body", f"line {line}"),
                    f"{fields}, but the header has {width} columns",
                    "csv_fields",
                )
            count += 1
            if count > limit:
                raise HTTPException(413, f"body: more than {limit} rows, the limit is {limit}")
            yield line, cells


def formula_safe(cell: str) -> str:
    """The cell with a leading apostrophe when a spreadsheet would read it as a formula."""
    if cell[:1] in FORMULA_START and number(cell) != number(cell):  # NaN: not a number
        return "'" + cell
    return cell


class CsvWriter:
    """A CSV text built row by row, formula-safe when `escape` is set."""

    def __init__(self, escape: bool) -> None:
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, lineterminator="\n")
        self.escape = escape

    def write(self, rows: Sequence[Sequence[str]]) -> None:
        if self.escape:
            safe = FORMULA_START
            rows = [
                [formula_safe(cell) if cell[:1] in safe else cell for cell in row] for row in rows
            ]
        self._writer.writerows(rows)

    def text(self) -> str:
        return self._text.getvalue()
