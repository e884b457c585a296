"""The project's hand-written xlsx writer (venture.exports) against maintained libraries writing the same workbook
(same cells, number formats, quote-prefixed formula-like text, bold frozen header, widths): XlsxWriter and openpyxl's
write-only mode, on the score matrix of 500 proposals x 15 judges x 4 criteria (30,000 rows, plus the judges' totals
sheet) as documents.views.scores_export writes it, and a 30,000 x 8 mixed sheet (text, money, float, int, datetime,
formula-like text) as in bench_documents.py. Prints the median of several runs of each writer and the ratio to the
hand-written one; checks that each gives the same cells (first 200 rows, read back with openpyxl).

The project replaces its writer by a library only within 1.5x of its time (issue #19). XlsxWriter is not a
dependency of the project: install it to include it (``.venv/bin/pip install XlsxWriter==3.3.1``); without it the
script measures openpyxl only.

Run from the project root:  .venv/bin/python bench/bench_xlsx.py [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venture.settings")

CATEGORIES = ["权益保障", "技能培训", "子女成长赋能", "女性关爱", "文化艺术"]
CRITERIA = ["项目定位精准性", "内容可行性", "社会效益", "资金预算"]


def score_matrix(proposals=500, judges=15):
    import pandas as pd

    rows = [
        (
            f"新就业形态劳动者关爱服务项目{p:03d}",
            f"示范市晨曦社会工作服务中心{p:03d}",
            f"评委{j:02d}",
            c,
            round(10 + (p * 7 + j * 3 + k) % 150 / 10, 1),
        )
        for p in range(proposals)
        for j in range(judges)
        for k, c in enumerate(CRITERIA)
    ]
    matrix = pd.DataFrame(rows, columns=["项目", "申报单位", "评委", "评审维度", "得分"])
    totals = pd.DataFrame(
        {
            "项目": [r[0] for r in rows[:: judges * 4]],
            "申报单位": [r[1] for r in rows[:: judges * 4]],
            **{f"评委{j:02d}": [60 + (p + j) % 40 + 0.5 for p in range(proposals)] for j in range(judges)},
        }
    )
    return {"评分明细": matrix, "评委总分": totals}, ()


def mixed(n=30_000):
    import pandas as pd
    from django.utils import timezone

    now = timezone.now()
    frame = pd.DataFrame(
        {
            "序号": range(n),
            "申报单位": [f"示范市晨曦社会工作服务中心{i}" for i in range(n)],
            "服务领域": [CATEGORIES[i % 5] for i in range(n)],
            "申请金额（元）": [Decimal("12345.67") + i for i in range(n)],
            "得分": [80 + (i % 2000) / 100 for i in range(n)],
            "服务人数": [i % 500 for i in range(n)],
            "提交时间": [now] * n,
            "备注": ['=HYPERLINK("http://x")' if i % 1000 == 0 else f"备注{i}" for i in range(n)],
        }
    )
    return {"名单": frame}, ["申请金额（元）"]


# --- The candidates: the same workbook through a library, reusing venture.exports' value handling ---------------


def _clean_text(value):
    from venture.exports import _ILLEGAL_XML, MAX_CELL_CHARS

    value = value[:MAX_CELL_CHARS]
    return _ILLEGAL_XML.sub("", value) if _ILLEGAL_XML.search(value) else value


def _xlsxwriter_sheet(sheet, frame, money_columns, formats):
    import math

    import pandas as pd

    from venture.exports import (
        _EXCEL_EPOCH,
        FORMULA_TRIGGERS,
        _columns,
        _normalize,
        _widths,
        is_formula_like,
    )

    columns = _columns(frame)
    for j, width in enumerate(_widths(columns, money_columns)):
        sheet.set_column(j, j, width)
    sheet.freeze_panes(1, 0)
    for j, (label, _values) in enumerate(columns):
        label = _clean_text(label)
        sheet.write_string(0, j, label, formats["header_text" if is_formula_like(label) else "header"])
    for j, (label, series) in enumerate(columns):
        number_format = formats["money"] if label in money_columns else None
        if pd.api.types.is_datetime64_dtype(series.dtype):
            serials = ((series - pd.Timestamp(_EXCEL_EPOCH)) / pd.Timedelta(days=1)).tolist()
            for i, serial in enumerate(serials, start=1):
                if serial == serial:
                    sheet.write_number(i, j, serial, formats["datetime"])
            continue
        for i, value in enumerate(series.tolist(), start=1):
            kind = type(value)
            if kind is int or (kind is float and math.isfinite(value)):
                sheet.write_number(i, j, value, number_format)
                continue
            if kind is not str:
                value = _normalize(value)
                if value is None:
                    continue
            if isinstance(value, str):
                value = _clean_text(value)
                sheet.write_string(i, j, value, formats["text"] if value.startswith(FORMULA_TRIGGERS) else None)
            elif isinstance(value, bool):
                sheet.write_boolean(i, j, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(i, j, value, number_format)
            else:
                sheet.write_datetime(i, j, value, formats["datetime" if isinstance(value, dt.datetime) else "date"])


def xlsxwriter_bytes(frames, *, money_columns=()):
    import xlsxwriter

    from venture.exports import _check_money_columns, _sheet_names

    money_columns = _check_money_columns(frames.values(), money_columns)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    book.set_properties({"created": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)})
    add = book.add_format
    formats = {
        "header": add({"bold": True}),
        "header_text": add({"bold": True, "num_format": "@", "quote_prefix": True}),
        "text": add({"num_format": "@", "quote_prefix": True}),
        "money": add({"num_format": "#,##0.00"}),
        "date": add({"num_format": "yyyy-mm-dd"}),
        "datetime": add({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    }
    for name, frame in zip(_sheet_names(frames), frames.values(), strict=True):
        _xlsxwriter_sheet(book.add_worksheet(name), frame, money_columns, formats)
    book.close()
    return buffer.getvalue()


def openpyxl_bytes(frames, *, money_columns=()):
    import math

    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from venture.exports import (
        FORMULA_TRIGGERS,
        _check_money_columns,
        _column_letter,
        _columns,
        _normalize,
        _sheet_names,
        _widths,
    )

    money_columns = _check_money_columns(frames.values(), money_columns)
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, frame in zip(_sheet_names(frames), frames.values(), strict=True):
        sheet = book.create_sheet(name)
        columns = _columns(frame)
        for j, width in enumerate(_widths(columns, money_columns)):
            sheet.column_dimensions[_column_letter(j)].width = width
        sheet.freeze_panes = "A2"

        def cell(value, number_format=None, text=False, font=None, sheet=sheet):
            c = WriteOnlyCell(sheet, value)
            if text:
                c.number_format, c.quotePrefix = "@", True
            elif number_format:
                c.number_format = number_format
            if font:
                c.font = font
            return c

        sheet.append(
            [cell(_clean_text(label), text=label.startswith(FORMULA_TRIGGERS), font=bold) for label, _v in columns]
        )
        prepared = []
        for label, series in columns:
            money = label in money_columns
            if pd.api.types.is_datetime64_dtype(series.dtype):
                values = [None if v is pd.NaT else v.to_pydatetime() for v in series.tolist()]
                prepared.append([cell(v, "yyyy-mm-dd hh:mm:ss") if v is not None else None for v in values])
                continue
            column = []
            for value in series.tolist():
                if not (type(value) is float and math.isfinite(value)):
                    value = _normalize(value)
                if value is None:
                    column.append(None)
                elif isinstance(value, str):
                    value = _clean_text(value)
                    column.append(
                        cell(value, text=value.startswith(FORMULA_TRIGGERS))
                        if value.startswith(FORMULA_TRIGGERS)
                        else value
                    )
                elif isinstance(value, dt.datetime):
                    column.append(cell(value, "yyyy-mm-dd hh:mm:ss"))
                elif isinstance(value, dt.date) and not isinstance(value, bool):
                    column.append(cell(value, "yyyy-mm-dd"))
                elif money and not isinstance(value, bool):
                    column.append(cell(value, "#,##0.00"))
                else:
                    column.append(value)
            prepared.append(column)
        for row in zip(*prepared, strict=True):
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def cells(data, limit=200):
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {
        sheet.title: [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows(max_row=limit)]
        for sheet in book
    }


def timed(function, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from venture import exports

    writers = [("hand-written (venture.exports)", exports.to_xlsx_bytes)]
    try:
        import xlsxwriter

        writers.append((f"XlsxWriter {xlsxwriter.__version__}", xlsxwriter_bytes))
    except ImportError:
        print("XlsxWriter is not installed: measuring openpyxl only (pip install XlsxWriter==3.3.1 to include it)")
    import openpyxl

    writers.append((f"openpyxl {openpyxl.__version__} write-only", openpyxl_bytes))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median of {args.runs} runs each")
    for label, (frames, money) in [
        ("score matrix 30,000 x 5 + totals 500 x 17", score_matrix()),
        ("mixed 30,000 x 8", mixed()),
    ]:
        print(label)
        reference = None
        for name, writer in writers:
            data, times = timed(lambda w=writer, f=frames, m=money: w(f, money_columns=m), args.runs)
            median = statistics.median(times)
            if reference is None:
                reference, expected, ratio, same = median, cells(data), "", ""
            else:
                ratio = f", {median / reference:.2f}x the hand-written"
                same = "; same cells" if cells(data) == expected else "; CELLS DIFFER"
            print(
                f"  {name}: median {median:.3f} s{ratio} ({len(data) / 1024:.0f} KiB; runs "
                f"{', '.join(f'{t:.3f}' for t in times)}){same}"
            )


if __name__ == "__main__":
    main()
