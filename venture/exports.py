"""Spreadsheet export: the only module that writes xlsx or csv.

    frame = pd.DataFrame(rows).rename(columns={"name": _("Organization"), "amount": _("Amount (yuan)")})
    return dataframe_response(frame, filename="2025年资助名单.xlsx", money_columns=[_("Amount (yuan)")])

Column headers are the frame's column labels as given (callers translate them); the index is not written
(``reset_index()`` first to keep it).

Formula injection. A string cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could be
run as a formula by a spreadsheet program. Only strings are treated; numbers stay numbers.

- xlsx: the cell keeps **exactly the original string**. It is written as a text cell (inline string, never a
  formula) with the Text number format and Excel's "quote prefix" flag, so Excel shows it as text and keeps it
  text even when someone edits the cell; pandas/openpyxl read back the original string.
- csv: the cell is written as the original string **prefixed with a single quote** (``=1+2`` -> ``'=1+2``), the
  usual OWASP neutralization, because csv has no cell types.

xlsx files are written directly as SpreadsheetML (inline strings, one small style sheet). A maintained library was
measured against it on the same frames (bench/bench_xlsx.py; figures in the README): XlsxWriter takes about three
times as long and openpyxl's write-only mode longer still, beyond the 1.5x this project allows for the change, so
the writer stays. Money
columns (``money_columns=``) are numbers with the ``#,##0.00`` format; Decimals are written digit for digit, never
through float. Dates and datetimes become Excel dates in the project's time zone. The header row is bold and frozen,
column widths follow the content (CJK characters count double). Same input, same bytes.
"""

import csv
import datetime as dt
import io
import itertools
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from venture.money import format_money

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
UTF8_BOM = b"\xef\xbb\xbf"

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 1_048_576
MAX_CELL_CHARS = 32_767
WIDTH_SAMPLE_ROWS = 500
MIN_WIDTH, MAX_WIDTH = 6, 60

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\"]+')
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)

# Cell styles (indexes into cellXfs below).
S_DEFAULT, S_HEADER, S_MONEY, S_TEXT, S_DATE, S_DATETIME, S_HEADER_TEXT = range(7)


def is_formula_like(value):
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralize(value):
    """The csv form of a string cell: formula-like strings get a leading single quote."""
    return "'" + value if is_formula_like(value) else value


# --- Values ------------------------------------------------------------------------------------------------------


def _normalize(value):
    """A cell value as None, str, bool, int, float, Decimal, date or naive local datetime.

    Missing values (None, NaN, NaT, pd.NA) become None; numpy scalars are unwrapped; aware datetimes are shown in the
    project's time zone (Excel has none); anything else (lazy translations, enums, ...) becomes its string.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is dt.date:  # the common cases first
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dt.datetime):
        value = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        return (timezone.localtime(value) if timezone.is_aware(value) else value).replace(tzinfo=None)
    if isinstance(value, dt.date | str):
        return value
    return str(value)


def _columns(frame):
    """(label, series) per column, by position (duplicate labels are fine); datetimes made naive local time."""
    columns = []
    for j, label in enumerate(frame.columns):
        series = frame.iloc[:, j]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert(timezone.get_current_timezone()).dt.tz_localize(None)
        columns.append((str(label), series))
    return columns


def _display_width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --- xlsx --------------------------------------------------------------------------------------------------------


def _column_letter(index):
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(value):
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS]
    if _NEEDS_ESCAPE.search(value):
        value = escape(_ILLEGAL_XML.sub("", value), {"\r": "&#13;"})
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


def _string_cell(ref, value, header=False):
    if is_formula_like(value):
        style = S_HEADER_TEXT if header else S_TEXT
    else:
        style = S_HEADER if header else S_DEFAULT
    style_attr = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{style_attr} t="inlineStr"><is>{_xml_text(value)}</is></c>'


def _cell(ref, value, money):
    """One <c> element, or "" for an empty cell."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):  # fast path for the common numeric cells
        text = repr(value) if kind is float else value
        return f'<c r="{ref}" s="{S_MONEY}"><v>{text}</v></c>' if money else f'<c r="{ref}"><v>{text}</v></c>'
    if kind is not str:  # strings, the other common case, need no normalizing
        value = _normalize(value)
        if value is None:
            return ""
    if isinstance(value, str):
        return _string_cell(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        text = repr(value) if isinstance(value, float) else format(value, "f") if isinstance(value, Decimal) else value
        return f'<c r="{ref}" s="{S_MONEY}"><v>{text}</v></c>' if money else f'<c r="{ref}"><v>{text}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{S_DATETIME}"><v>{serial!r}</v></c>'
    return f'<c r="{ref}" s="{S_DATE}"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'


def _cell_display(value, money):
    """The text a cell shows, to size its column."""
    value = _normalize(value)
    if value is None:
        return ""
    if money and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format_money(value, symbol=False)
    if isinstance(value, dt.datetime):
        return "yyyy-mm-dd hh:mm:ss"
    return str(value)


def _widths(columns, money_columns):
    widths = []
    for label, series in columns:
        money = label in money_columns
        sample = [_cell_display(v, money) for v in series.iloc[:WIDTH_SAMPLE_ROWS].tolist()]
        width = max([_display_width(label) + 2, *(_display_width(text) for text in sample)]) + 2
        widths.append(min(max(width, MIN_WIDTH), MAX_WIDTH))
    return widths


def _sheet_xml(frame, money_columns):
    columns = _columns(frame)
    n_rows = len(frame) + 1
    if n_rows > MAX_ROWS:
        raise ValueError(f"A sheet holds at most {MAX_ROWS - 1} data rows; got {len(frame)}.")
    letters = [_column_letter(j) for j in range(len(columns))]
    last = f"{letters[-1]}{n_rows}" if letters else "A1"
    cols = "".join(
        f'<col min="{j}" max="{j}" width="{width}" customWidth="1"/>'
        for j, width in enumerate(_widths(columns, money_columns), start=1)
    )
    header = "".join(_string_cell(f"{letters[j]}1", label, header=True) for j, (label, _values) in enumerate(columns))
    cell_columns = []
    for j, (label, series) in enumerate(columns):
        money, letter = label in money_columns, letters[j]
        if pd.api.types.is_datetime64_dtype(series.dtype):  # vectorized: no per-cell time zone work
            serials = ((series - pd.Timestamp(_EXCEL_EPOCH)) / pd.Timedelta(days=1)).tolist()
            cells = [
                "" if v != v else f'<c r="{letter}{r}" s="{S_DATETIME}"><v>{v!r}</v></c>'
                for r, v in enumerate(serials, start=2)
            ]
        else:
            cells = [_cell(f"{letter}{r}", v, money) for r, v in enumerate(series.tolist(), start=2)]
        cell_columns.append(cells)
    rows = [f'<row r="1">{header}</row>']
    rows.extend(f'<row r="{r}">{"".join(cells)}</row>' for r, cells in enumerate(zip(*cell_columns, strict=True), 2))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
        + "".join(rows)
        + "</sheetData></worksheet>"
    )


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'  # S_DEFAULT
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'  # S_HEADER
    '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'  # S_MONEY #,##0.00
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>'  # S_TEXT
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'  # S_DATE
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'  # S_DATETIME
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1" '
    'quotePrefix="1"/>'  # S_HEADER_TEXT
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _sheet_names(names):
    """Excel-valid, unique sheet names: at most 31 characters, none of []:*?/\\, not blank."""
    result, seen = [], set()
    for index, name in enumerate(names, start=1):
        clean = _BAD_SHEET_CHARS.sub("_", _ILLEGAL_XML.sub("", str(name))).strip().strip("'")[:31] or f"Sheet{index}"
        candidate, n = clean, 2
        while candidate.casefold() in seen:
            suffix = f" ({n})"
            candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def _zip(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same input, same bytes
            # Level 1: several times faster than the default, and repetitive sheet XML still compresses well.
            archive.writestr(info, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return buffer.getvalue()


def _check_money_columns(frames, money_columns):
    money_columns = {str(name) for name in money_columns}
    known = {str(label) for frame in frames for label in frame.columns}
    if unknown := money_columns - known:
        raise ValueError(f"money_columns not in the data: {sorted(unknown)}")
    return money_columns


def _workbook_parts(names):
    """The parts of an xlsx package besides its sheets: (name, text) each, for the sheets ``names`` in order."""
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return [
        (
            "[Content_Types].xml",
            head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>",
        ),
        (
            "_rels/.rels",
            head + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            head + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>',
        ),
        (
            "xl/_rels/workbook.xml.rels",
            head + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}<Relationship Id="rId{len(names) + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>',
        ),
        ("xl/styles.xml", _STYLES),
    ]


def to_xlsx_bytes(frames, *, money_columns=()):
    """An xlsx workbook with one sheet per ``{sheet name: DataFrame}`` entry, in order."""
    if not frames:
        raise ValueError("to_xlsx_bytes needs at least one sheet.")
    money_columns = _check_money_columns(frames.values(), money_columns)
    parts = _workbook_parts(_sheet_names(frames))
    for i, frame in enumerate(frames.values(), start=1):
        parts.append((f"xl/worksheets/sheet{i}.xml", _sheet_xml(frame, money_columns)))
    return _zip(parts)


# --- Streaming: rows in, a file out, in constant memory -----------------------------------------------------------

STREAM_BATCH = 1000  # rows turned into XML (or csv) and handed to the compressor at a time
CELL_CACHE = 20_000  # distinct values of a column whose XML is kept while a sheet is written


@dataclass(frozen=True)
class Sheet:
    """One sheet of a streamed workbook: its name, its header labels, and its rows, an iterable of tuples (one
    value per label) consumed once, for example a ``values_list(...).iterator()`` query. ``money`` names the labels
    of money columns."""

    name: str
    labels: Sequence[str]
    rows: Iterable[Sequence]
    money: frozenset = frozenset()


def _row_widths(labels, sample, money):
    """Column widths from the header and the first rows, as ``_widths`` sizes a frame's."""
    widths = []
    for j, label in enumerate(labels):
        texts = [_cell_display(row[j], label in money) for row in sample]
        width = max([_display_width(label) + 2, *(_display_width(text) for text in texts)]) + 2
        widths.append(min(max(width, MIN_WIDTH), MAX_WIDTH))
    return widths


def _sheet_stream(handle, sheet):
    """Write one sheet's XML to the (binary, compressing) ``handle`` as its rows come; returns the data rows."""
    labels = [str(label) for label in sheet.labels]
    rows = iter(sheet.rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE_ROWS))
    letters = [_column_letter(j) for j in range(len(labels))]
    money = [label in sheet.money for label in labels]
    cols = "".join(
        f'<col min="{j}" max="{j}" width="{width}" customWidth="1"/>'
        for j, width in enumerate(_row_widths(labels, sample, sheet.money), start=1)
    )
    header = "".join(_string_cell(f"{letters[j]}1", label, header=True) for j, label in enumerate(labels))
    handle.write(
        (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            "</sheetView></sheetViews>"
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData><row r="1">{header}</row>'
        ).encode()
    )
    # A cell's XML after its reference depends only on its value: kept per column for the values seen (titles,
    # names and points repeat down a column), so a repeated value costs a lookup rather than its escaping.
    columns = [(letter, is_money, {}) for letter, is_money in zip(letters, money, strict=True)]
    width = len(columns)
    n = 1
    for batch in itertools.chain([sample], iter(lambda: list(itertools.islice(rows, STREAM_BATCH)), [])):
        out = []
        for row in batch:
            n += 1
            if n > MAX_ROWS:
                raise ValueError(f"A sheet holds at most {MAX_ROWS - 1} data rows.")
            if len(row) != width:
                raise ValueError(f"Row {n} has {len(row)} values for {width} columns.")
            out.append(f'<row r="{n}">')
            for (letter, is_money, seen), value in zip(columns, row):  # noqa: B905  (lengths checked above)
                key = (value.__class__, value)
                try:
                    tail = seen[key]
                except KeyError:
                    tail = _cell_tail(value, is_money)
                    if len(seen) < CELL_CACHE:
                        seen[key] = tail
                except TypeError:  # an unhashable value
                    tail = _cell_tail(value, is_money)
                if tail:
                    out.append(f'<c r="{letter}{n}"{tail}')
            out.append("</row>")
        handle.write("".join(out).encode())
    handle.write(b"</sheetData></worksheet>")
    return n - 1


def _cell_tail(value, money):
    """A cell's XML after ``<c r="A1"``, or "" for an empty cell."""
    text = _cell("@", value, money)
    return text[len('<c r="@"') :] if text else ""


def write_xlsx(target, sheets):
    """Write an xlsx workbook of ``sheets`` (``Sheet``s, in order) to the binary file ``target``, one batch of rows
    at a time: the memory used does not grow with the rows (the first ``WIDTH_SAMPLE_ROWS`` of each sheet size its
    columns, as for a frame). The cells are those ``to_xlsx_bytes`` writes for the same values (the sheet has no
    ``<dimension>``, an optional element, since the rows are not counted before they are written). Returns the
    number of data rows of each sheet."""
    if not sheets:
        raise ValueError("write_xlsx needs at least one sheet.")
    counts = []
    with zipfile.ZipFile(target, "w") as archive:
        for name, text in _workbook_parts(_sheet_names([sheet.name for sheet in sheets])):
            info = _zip_info(name)
            archive.writestr(info, text.encode("utf-8"))
        for i, sheet in enumerate(sheets, start=1):
            with archive.open(_zip_info(f"xl/worksheets/sheet{i}.xml"), "w") as handle:
                counts.append(_sheet_stream(handle, sheet))
    return counts


def _zip_info(name):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same input, same bytes
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = 1  # type: ignore[attr-defined]  # as in _zip (Python < 3.13 has no public name for it)
    return info


def write_csv(target, labels, rows, *, money=frozenset()):
    """Write a csv (as ``to_csv_bytes``: UTF-8 with a BOM, CRLF) of ``rows`` (an iterable of tuples, consumed once)
    under ``labels`` to the binary file ``target``, a batch of rows at a time. Returns the number of data rows."""
    labels = [str(label) for label in labels]
    flags = [label in money for label in labels]
    target.write(UTF8_BOM)
    text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([neutralize(label) for label in labels])
        n = 0
        rows = iter(rows)
        for batch in iter(lambda: list(itertools.islice(rows, STREAM_BATCH)), []):
            writer.writerows([_csv_value(v, m) for v, m in zip(row, flags, strict=True)] for row in batch)
            n += len(batch)
        text.flush()
    finally:
        text.detach()  # the caller's file stays open
    return n


# --- csv ---------------------------------------------------------------------------------------------------------


def _csv_value(value, money):
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if kind is int and not money:
        return str(value)
    value = _normalize(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralize(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if money and isinstance(value, int | float | Decimal):
        return f"{Decimal(str(value)):.2f}"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)  # int, date


def to_csv_bytes(frame, *, money_columns=()):
    """UTF-8 csv with a BOM (Excel on Chinese Windows then reads it as UTF-8), CRLF line ends."""
    money_columns = _check_money_columns([frame], money_columns)
    columns = _columns(frame)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(label) for label, _values in columns])
    converted = []
    for label, series in columns:
        if pd.api.types.is_datetime64_dtype(series.dtype):
            converted.append(series.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").tolist())
        else:
            money = label in money_columns
            converted.append([_csv_value(v, money) for v in series.tolist()])
    writer.writerows(zip(*converted, strict=True))
    return UTF8_BOM + out.getvalue().encode("utf-8")


# --- HTTP --------------------------------------------------------------------------------------------------------


def download_name(filename, fmt):
    """An attachment's name: no control characters, slashes or quotes, with the format's extension."""
    filename = _UNSAFE_FILENAME.sub("_", filename).strip() or "export"
    return filename if filename.lower().endswith(f".{fmt}") else f"{filename}.{fmt}"


def dataframe_response(frame, *, filename, fmt="xlsx", sheet_name=None, money_columns=()):
    """A download of ``frame`` as xlsx (default) or csv, with an attachment name (Chinese names via RFC 5987).

    For xlsx, ``frame`` may also be a ``{sheet name: DataFrame}`` mapping (one sheet each).
    """
    if fmt == "xlsx":
        frames = frame if isinstance(frame, Mapping) else {sheet_name or _("Data"): frame}
        content, content_type = to_xlsx_bytes(frames, money_columns=money_columns), XLSX_CONTENT_TYPE
    elif fmt == "csv":
        if isinstance(frame, Mapping):
            raise ValueError("A csv file holds one table; pass a single DataFrame.")
        content, content_type = to_csv_bytes(frame, money_columns=money_columns), CSV_CONTENT_TYPE
    else:
        raise ValueError(f"Unknown export format {fmt!r}; use 'xlsx' or 'csv'.")
    filename = download_name(filename, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
