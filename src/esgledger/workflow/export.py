"""CSV and XLSX exports that a spreadsheet never runs as formulas.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, WPS and LibreOffice as a formula when the file is opened (CSV) or re-saved, so an
exported note such as ``=HYPERLINK("http://evil","click")`` would become a live link. A
spreadsheet whose locale separates CSV cells with ``;`` (or a tab) reads ``y;=1+1`` as two
cells, the second a formula. Following the OWASP guidance on CSV injection, one rule
(:func:`neutralise`, through :func:`safe_cell`) prefixes with a single quote ``'`` (shown as
text, never evaluated) any text that starts like a formula or holds a separator (``,`` ``;``
tab) followed, after any double quotes, by such a start; :func:`write_csv` also quotes every
such cell, and every cell holding a separator, so that a reader of any of these separators
takes it as one cell. Numbers stay numbers, negative ones included (the rule looks at the
Python type: a number is never text).

A ``;`` or tab reader sees a quoted cell as one cell only when it starts its line (a quote
opens a field only at a field's start; an unquoted field ends at a line break, and a quote
in the middle of one may then open a field that runs into the next line), so in CSV
:func:`csv_cell` also puts a ``'`` after each ``;``, tab or line break that is followed (after
any double quotes) by a formula start: ``y;=1+1;z`` is written ``'y;'=1+1;z``, which a ``;``
reader takes as cells that start with ``'`` wherever the cell stands. XLSX cells keep the text
with one leading ``'`` at most.

:func:`write_csv` writes UTF-8 with a byte order mark, so that Excel opens Chinese text
correctly; :func:`write_xlsx` writes every string cell with the string data type, so nothing is
ever stored as a formula.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula (OWASP)."""

QUOTE = "'"

SEPARATORS = (",", ";", "\t")
"""Characters some spreadsheet locale reads as the separator of CSV cells."""
_SEPARATED_FORMULA = re.compile('[,;\t]"*[=+\\-@\t\r]')
_NEEDS_QUOTES = re.compile('[,;\t"\r\n]')
_INNER_FORMULA = re.compile('([;\t\r\n])(?="*[=+\\-@\t\r])')

EXCEL_SHEET_TITLE_MAX = 31

# Characters XML 1.0 cannot carry (an XLSX is XML): control characters other than tab, line
# feed and carriage return, and the non-characters U+FFFE and U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CR = re.compile("\r\n?")


def starts_a_formula(text: str) -> bool:
    """Whether a spreadsheet of some locale would read a formula in ``text``: it starts with
    one of :data:`FORMULA_PREFIXES`, or a separator is followed by one (``y;=1+1``)."""
    return text.startswith(FORMULA_PREFIXES) or _SEPARATED_FORMULA.search(text) is not None


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` when some locale would read a formula in it
    (:func:`starts_a_formula`); unchanged otherwise."""
    return QUOTE + text if starts_a_formula(text) else text


def safe_cell(value: object) -> object:
    """A value that is safe to put in a spreadsheet cell of an export.

    ``None``, booleans, numbers (``int``, ``float``, ``Decimal``, negative ones included),
    dates and times are returned as they are; text starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return, or holding a separator followed by one, gets a leading
    ``'``; any other object is turned into its ``str`` and neutralised the same way.
    """
    if value is None or isinstance(value, bool | int | float | Decimal | date | time):
        return value
    return neutralise(value if isinstance(value, str) else str(value))


def xlsx_text(text: str) -> str:
    """The text as an XLSX cell can hold it, neutralised.

    Characters XML cannot carry are removed first (so that a removed control character never
    uncovers a leading ``=``), then the text is neutralised like :func:`safe_cell`, then line
    breaks become ``\\n`` (a carriage return does not survive XML line-end normalisation;
    ``\\n`` is Excel's own line break in a cell).
    """
    return _CR.sub("\n", neutralise(_XML_ILLEGAL.sub("", text)))


def csv_cell(value: object) -> object:
    """The value a ``,`` reader reads from a CSV export's cell: :func:`safe_cell`, with a
    ``'`` after each ``;``, tab or line break followed by a formula start, for the readers of
    the other locales."""
    safe = safe_cell(value)
    if not isinstance(safe, str):
        return safe
    return _INNER_FORMULA.sub(r"\1" + QUOTE, safe)


def _csv_field(value: object) -> str:
    """One CSV field: a number as written; text through :func:`csv_cell`, quoted when it
    was neutralised or holds a separator, a quote or a line break."""
    safe = csv_cell(value)
    if safe is None:
        return ""
    if isinstance(safe, datetime | date | time):
        return safe.isoformat()
    if not isinstance(safe, str):
        return str(safe)  # a number (a negative one too) or a boolean: never text
    neutralised = safe.startswith(QUOTE) and starts_a_formula(safe[len(QUOTE) :])
    if neutralised or _NEEDS_QUOTES.search(safe):
        return '"' + safe.replace('"', '""') + '"'
    return safe


def _csv_line(values: Sequence[object]) -> str:
    fields = [_csv_field(v) for v in values]
    if fields == [""]:
        return '""\r\n'  # a lone empty field (a blank line would be no row)
    return ",".join(fields) + "\r\n"


def write_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> bytes:
    """CSV (UTF-8 with BOM, CRLF line ends, ``,`` between cells) of ``rows`` in the order of
    ``columns``.

    A missing key or ``None`` is an empty cell; every cell, the header included, passes
    through :func:`csv_cell`; a neutralised cell, or one holding a separator of any locale,
    a quote or a line break, is quoted.
    """
    out = [_csv_line(columns)]
    out.extend(_csv_line([row.get(c) for c in columns]) for row in rows)
    return "".join(out).encode("utf-8-sig")


def _xlsx_value(value: object) -> tuple[object, bool]:
    """(value to write, whether it is text) for one XLSX cell."""
    if value is None or isinstance(value, bool | int | Decimal):
        return value, False
    if isinstance(value, float):
        # NaN and infinities have no XLSX representation (Excel repairs such a file)
        return (value if math.isfinite(value) else None), False
    if isinstance(value, datetime | time) and value.tzinfo is not None:
        return xlsx_text(value.isoformat()), True  # Excel has no time zones
    if isinstance(value, date | time):
        return value, False
    return xlsx_text(value if isinstance(value, str) else str(value)), True


def write_xlsx(sheets: Mapping[str, tuple[Sequence[str], Sequence[Mapping[str, object]]]]) -> bytes:
    """An XLSX workbook with one sheet per entry: ``title -> (columns, rows)``.

    The first row of a sheet is the bold header; then one row per mapping, in the order of the
    columns. Numbers are written as numbers (NaN and infinities as empty cells), dates as
    dates, everything else as text through :func:`xlsx_text` with the string data type set
    explicitly, so that no cell is ever a formula. Raises :class:`ValueError` for a sheet
    title Excel cannot take (longer than 31 characters, or with ``[]:*?/\\``).
    """
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for title, (columns, rows) in sheets.items():
        if not title or len(title) > EXCEL_SHEET_TITLE_MAX:
            raise ValueError(f"sheet title {title!r} must have 1 to 31 characters")
        sheet = book.create_sheet(title)
        for col, name in enumerate(columns, start=1):
            cell = sheet.cell(1, col)
            cell.value = xlsx_text(name)
            cell.data_type = "s"
            cell.font = bold
        for number, row in enumerate(rows, start=2):
            for col, name in enumerate(columns, start=1):
                value, is_text = _xlsx_value(row.get(name))
                if value is None:
                    continue
                cell = sheet.cell(number, col)
                cell.value = value
                if is_text:
                    cell.data_type = "s"
        for col, name in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(col)].width = max(10, min(60, len(name) + 4))
        if columns:
            sheet.freeze_panes = "A2"
    if not book.worksheets:
        book.create_sheet("export")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
