"""Reading a ledger spreadsheet as finance officers produce it: a csv in UTF-8 (with or without BOM), GB18030/GBK
(Chinese Excel's "CSV") or UTF-16 (Excel's "Unicode text", tab separated), or an xlsx (read with python-calamine, a fast reader of the cached values). Limits are
checked before reading: at most ``settings.LEDGER_IMPORT_MAX_ROWS`` rows, and for an xlsx the uncompressed size of
its parts (a zip bomb is refused from its directory, without inflating anything).

``read_ledger`` returns a ``LedgerFile``: the column names as written in the file for each field (the row report
names them), the rows as {field: cell value} (xlsx cells keep their types: numbers, dates), and the file's SHA-256.
Formula cells without a saved value are refused with "save values, not formulas"."""

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import iterparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from openpyxl import load_workbook
from python_calamine import CalamineError, CalamineWorkbook

LEDGER_COLUMNS = {
    # accepted headers (Chinese or English, compared without case and blanks) -> field
    "日期": "date",
    "date": "date",
    "支出日期": "date",
    "预算科目": "category",
    "category": "category",
    "budgetcategory": "category",
    "明细项目": "item",
    "item": "item",
    "budgetline": "item",
    "金额": "amount",
    "amount": "amount",
    "金额(元)": "amount",
    "金额（元）": "amount",
    "收款方": "payee",
    "payee": "payee",
    "收款单位": "payee",
    "摘要": "description",
    "说明": "description",
    "description": "description",
    "凭证号": "voucher_no",
    "vouchernumber": "voucher_no",
    "voucher": "voucher_no",
    "发票代码": "invoice_code",
    "invoicecode": "invoice_code",
    "发票号码": "invoice_number",
    "invoicenumber": "invoice_number",
    "收款方信用代码": "payee_uscc",
    "统一社会信用代码": "payee_uscc",
    "payeeuscc": "payee_uscc",
}
REQUIRED = ("date", "category", "amount", "payee", "description", "voucher_no")
SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass
class LedgerFile:
    name: str
    sha256: str
    headers: dict = field(default_factory=dict)  # field -> the column name as written in the file
    rows: list = field(default_factory=list)  # [(row number in the file, {field: value})]


def _key(header):
    return re.sub(r"\s", "", str(header or "")).lower()


def _columns(header_row):
    """{column index: field} and {field: header as written}; refuses a file lacking a required column."""
    columns, headers = {}, {}
    for i, h in enumerate(header_row):
        name = LEDGER_COLUMNS.get(_key(h))
        if name and name not in headers:
            columns[i], headers[name] = name, str(h).strip()
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        raise ValidationError(
            _("The ledger lacks the column(s): %(cols)s.")
            % {"cols": pgettext("list separator", ", ").join(str(COLUMN_LABELS[m]) for m in missing)}
        )
    return columns, headers


# A column as the ledger template heads it in the UI language (日期 … in Chinese; date … in English): the names the
# import accepts either way (LEDGER_COLUMNS), and what the import report and the template call them.
COLUMN_LABELS = {
    "date": pgettext_lazy("ledger column", "Date"),
    "category": pgettext_lazy("ledger column", "Budget category"),
    "item": pgettext_lazy("ledger column", "Item"),
    "amount": pgettext_lazy("ledger column", "Amount"),
    "payee": pgettext_lazy("ledger column", "Payee"),
    "description": pgettext_lazy("ledger column", "Description"),
    "voucher_no": pgettext_lazy("ledger column", "Voucher number"),
    "invoice_code": pgettext_lazy("ledger column", "Invoice code"),
    "invoice_number": pgettext_lazy("ledger column", "Invoice number"),
    "payee_uscc": pgettext_lazy("ledger column", "Payee USCC"),
}


def _too_many():
    return ValidationError(
        _("A ledger file holds at most %(n)s rows; split the file.") % {"n": settings.LEDGER_IMPORT_MAX_ROWS}
    )


def _rows(records, columns, start):
    """Rows with any content, as (row number, {field: value}); stops (refusing) past the row limit."""
    rows, limit = [], settings.LEDGER_IMPORT_MAX_ROWS
    for n, record in enumerate(records, start=start):
        values = {}
        for i, name in columns.items():
            value = record[i] if i < len(record) else None
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                values[name] = value
        if values:
            if len(rows) >= limit:
                raise _too_many()
            rows.append((n, values))
    return rows


def decode(data):
    """Text of a csv file and its delimiter: BOMs first, then strict UTF-8, then GB18030 (a superset of GBK)."""
    unrecognized = ValidationError(
        _("The file's text encoding was not recognized; save it from Excel as “CSV UTF-8” or as an .xlsx workbook.")
    )
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            text = data[3:].decode("utf-8", errors="strict")
        elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        elif len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:1] != b"\x00":  # UTF-16 LE without a BOM
            text = data.decode("utf-16-le")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
    except UnicodeDecodeError as exc:  # a BOM or NUL pattern that lied, or bytes no encoding reads
        raise unrecognized from exc
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return text, delimiter


def _read_csv(data):
    text, delimiter = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError(_("The ledger has no rows."))
        columns, headers = _columns(header)
        return headers, _rows(reader, columns, start=2)
    except csv.Error as exc:
        raise ValidationError(_("The file could not be read as a spreadsheet: %(error)s") % {"error": exc}) from exc


def _check_zip(upload):
    """The xlsx's parts, from its directory: their uncompressed size within the limit (no inflation needed)."""
    try:
        with zipfile.ZipFile(upload) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationError(_("The file is not a valid .xlsx workbook.")) from exc
    if total > settings.LEDGER_IMPORT_MAX_UNCOMPRESSED:
        raise ValidationError(
            _(
                "The workbook unpacks to %(mb)s MB, more than a ledger of %(n)s rows needs; save "
                "only the ledger sheet, as values."
            )
            % {"mb": total // (1024 * 1024), "n": settings.LEDGER_IMPORT_MAX_ROWS}
        )
    upload.seek(0)


def _formula_cells(upload, sheet_path, wanted):
    """Cells (e.g. "D7") of the sheet holding a formula without a saved value, among the ``wanted`` coordinates."""
    found = []
    upload.seek(0)
    with zipfile.ZipFile(upload) as archive, archive.open(sheet_path) as part:
        for _event, element in iterparse(part):
            if element.tag == f"{SHEET_NS}c":
                ref = element.get("r")
                if ref in wanted and element.find(f"{SHEET_NS}f") is not None and not element.findtext(f"{SHEET_NS}v"):
                    found.append(ref)
                element.clear()
    return found


def _xlsx_records(sheet):
    """The sheet's rows from A1 as tuples, lazily. python-calamine yields rows from the first (A1's) row but cells from
    the first used column: pad them back to column A, so indexes and row numbers are the file's. A damaged part
    found while reading is the same refusal as one found on opening."""
    if sheet.start is None:
        return
    pad = ("",) * sheet.start[1]
    try:
        for record in sheet.iter_rows():
            yield pad + tuple(_whole(value) for value in record)
    except CalamineError as exc:
        raise ValidationError(_("The file is not a valid .xlsx workbook.")) from exc


def _whole(value):
    """A number cell is read as a float: a whole one as an int, as it is written (voucher and invoice numbers are
    often number cells: 12345, not 12345.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _read_xlsx(upload):
    _check_zip(upload)
    try:
        book = CalamineWorkbook.from_filelike(upload)
        sheet = book.get_sheet_by_index(0)
    except (CalamineError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationError(_("The file is not a valid .xlsx workbook.")) from exc
    try:
        records = _xlsx_records(sheet)
        header = next(records, None)
        if header is None:
            raise ValidationError(_("The ledger has no rows."))
        columns, headers = _columns(header)
        rows = _rows(records, columns, start=2)
        # A required cell read as empty may be a formula Excel never calculated: look, only then, in the XML.
        letters = {i: _letter(i) for i in columns}
        suspects = {
            f"{letters[i]}{n}"
            for n, values in rows
            for i, name in columns.items()
            if name in REQUIRED and name not in values
        }
        if suspects:
            cells = _formula_cells(upload, _first_sheet_path(upload), suspects)
            if cells:
                raise ValidationError(
                    _(
                        "Cells %(cells)s hold formulas without saved values: save values, not "
                        "formulas (in Excel: copy, then Paste Special → Values), and upload again."
                    )
                    % {"cells": ", ".join(sorted(cells, key=_cell_order)[:20])}
                )
    finally:
        book.close()
    return headers, rows


def _first_sheet_path(upload):
    """The zip path of the workbook's first sheet (openpyxl reads the workbook's parts list, not the rows)."""
    upload.seek(0)
    book = load_workbook(upload, read_only=True, data_only=True)
    try:
        return book.worksheets[0]._worksheet_path
    finally:
        book.close()


def _letter(index):
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell_order(ref):
    m = re.match(r"([A-Z]+)(\d+)", ref)
    return (int(m[2]), len(m[1]), m[1])


def read_ledger(upload):
    """A ``LedgerFile`` from an uploaded .csv or .xlsx; ValidationError naming the problem otherwise."""
    name = upload.name.lower()
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1 << 20), b""):
        digest.update(chunk)
    upload.seek(0)
    if name.endswith(".csv") or name.endswith(".txt"):
        headers, rows = _read_csv(upload.read())
    elif name.endswith(".xlsx"):
        headers, rows = _read_xlsx(upload)
    else:
        raise ValidationError(_("Upload the ledger as .xlsx or .csv."))
    if not rows:
        raise ValidationError(_("The ledger has no rows."))
    return LedgerFile(name=upload.name, sha256=digest.hexdigest(), headers=headers, rows=rows)
