"""The three shared document modules: PDF (venture.pdf), spreadsheet export (venture.exports), SVG charts
(venture.charts)."""

import base64
import csv
import datetime as dt
import io
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pypdf
import pytest
from django.test import RequestFactory
from django.utils import translation
from django.utils.safestring import SafeString

from venture import charts, exports, pdf

ROOT = Path(__file__).resolve().parents[2]
ORG = "示范市晨曦社会工作服务中心"
SVG = "{http://www.w3.org/2000/svg}"
# A 1x1 transparent PNG.
PNG_DATA_URI = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
        )
    ).decode()
)


# --- PDF ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def pdf_templates(settings, tmp_path):
    """A folder of throw-away templates in front of the project's templates; returns a function writing one."""
    folder = tmp_path / "templates"
    folder.mkdir()
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [folder, *engine["DIRS"]]}]

    def write(name, text):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return name

    return write


def pages_text(pdf_bytes):
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages]


THREE_PAGES = """{% extends "pdf/base.html" %}
{% block title %}测试{% endblock %}
{% block running_header %}示范市总工会 · 公益创投{% endblock %}
{% block content %}
<h1>{{ org }}</h1><p>申请金额：{{ amount }}</p>
<p class="page-break">第二页</p>
<p class="page-break">第三页</p>
{% endblock %}"""


def test_render_pdf_keeps_chinese_names_and_amounts_exactly(pdf_templates):
    name = pdf_templates("t/three.html", THREE_PAGES)
    with translation.override("zh-hans"):
        data = pdf.render_pdf(name, {"org": ORG, "amount": "¥123,456.78"})
    assert data.startswith(b"%PDF-")
    first = pages_text(data)[0]
    assert ORG in first
    assert "¥123,456.78" in first


def test_page_breaks_page_count_footer_and_running_header(pdf_templates):
    name = pdf_templates("t/three.html", THREE_PAGES)
    with translation.override("zh-hans"):
        texts = pages_text(pdf.render_pdf(name, {"org": ORG, "amount": "¥1.00"}))
    assert len(texts) == 3
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} 页，共 3 页" in text
        assert "示范市总工会 · 公益创投" in text
    assert "第二页" in texts[1] and "第三页" in texts[2]


def test_footer_follows_the_language(pdf_templates):
    name = pdf_templates("t/three.html", THREE_PAGES)
    with translation.override("en"):
        texts = pages_text(pdf.render_pdf(name, {"org": ORG, "amount": "¥1.00"}))
    assert [re.search(r"Page \d of \d", text).group() for text in texts] == [
        "Page 1 of 3",
        "Page 2 of 3",
        "Page 3 of 3",
    ]


def test_weasyprint_runs_in_a_child_process_that_reports_its_memory(pdf_templates, caplog):
    name = pdf_templates("t/three.html", THREE_PAGES)
    caplog.set_level("INFO", logger="venture.pdf")
    with translation.override("zh-hans"):
        data = pdf.render_pdf(name, {"org": ORG, "amount": "¥1.00"})
    assert len(pages_text(data)) == 3
    [record] = [r for r in caplog.records if r.name == "venture.pdf"]
    assert record.renderer_pid != os.getpid() and record.renderer_peak_kib > 0
    assert f"PDF t/three.html rendered in process {record.renderer_pid}: " in record.getMessage()
    assert "weasyprint" not in sys.modules  # the worker never loads it, so never holds its memory
    assert multiprocessing.active_children() == []


def test_a_weasyprint_failure_is_raised_with_the_child_traceback():
    nested = "<div>" * 5000 + "深" + "</div>" * 5000  # deeper than Python's recursion limit
    with pytest.raises(pdf.RenderError) as failure:
        pdf.write_pdf(nested, base_url="http://testserver/")
    message = str(failure.value)
    assert message.startswith("WeasyPrint failed: RecursionError: maximum recursion depth exceeded")
    assert "Traceback in the PDF renderer process:" in message and "weasyprint/" in message
    assert multiprocessing.active_children() == []
    assert pages_text(pdf.write_pdf("<p>之后照常</p>", base_url="http://testserver/")) == ["之后照常"]


def test_a_renderer_that_dies_or_overruns_is_reported_and_gone(monkeypatch):
    long = "".join(f"<p>第{i}段 示范市晨曦社会工作服务中心</p>" for i in range(3000))
    with pytest.raises(pdf.RenderError, match="took too long and was stopped"):
        pdf.write_pdf(long, base_url="http://testserver/", timeout=0.2)
    assert multiprocessing.active_children() == []

    # The renderer asks this process for the image; the fake fetcher kills it right then, while it waits for the
    # answer, so the death happens at one known point whatever the machine's load.
    def kill_the_renderer(url, *, origin):
        [child] = [c for c in multiprocessing.active_children() if c.name == "venture-pdf"]
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
        return b"", "image/png"

    monkeypatch.setattr(pdf, "fetch_local", kill_the_renderer)
    with pytest.raises(pdf.RenderError) as raised:
        pdf.write_pdf('<p>示范</p><img src="http://testserver/static/x.png">', base_url="http://testserver/")
    assert str(raised.value) == "The PDF renderer process ended without a result (exit code -9)."
    assert multiprocessing.active_children() == []


def test_a_worker_keeps_its_renderer_for_the_next_document_within_its_limits(settings, caplog):
    settings.PDF_RENDERER_KEEP_SECONDS = 30
    caplog.set_level("INFO", logger="venture.pdf")
    try:
        texts = [pages_text(pdf.write_pdf(f"<p>第{n}份 {ORG}</p>", base_url="http://testserver/")) for n in (1, 2)]
        assert texts == [[f"第1份 {ORG}"], [f"第2份 {ORG}"]]
        first, second = [r for r in caplog.records if r.name == "venture.pdf"]
        assert (first.renderer_reused, second.renderer_reused) == (False, True)
        assert second.renderer_pid == first.renderer_pid and second.renderer_peak_kib > 0
        [child] = multiprocessing.active_children()
        assert child.pid == first.renderer_pid

        # A failure ends it; the next document gets a fresh one.
        with pytest.raises(pdf.RenderError, match="RecursionError"):
            pdf.write_pdf("<div>" * 5000 + "</div>" * 5000, base_url="http://testserver/")
        assert multiprocessing.active_children() == []
        assert pages_text(pdf.write_pdf("<p>之后</p>", base_url="http://testserver/")) == ["之后"]
        third = [r for r in caplog.records if r.name == "venture.pdf"][-1]
        assert not third.renderer_reused and third.renderer_pid != first.renderer_pid

        # Over the memory limit after a document: not kept.
        settings.PDF_RENDERER_KEEP_MAX_KIB = 1
        pdf.write_pdf("<p>再之后</p>", base_url="http://testserver/")
        assert multiprocessing.active_children() == []
    finally:
        pdf.stop_renderer()
    assert multiprocessing.active_children() == []


def test_page_counter_content_turns_the_translated_label_into_css():
    assert pdf.page_counter_content("第 %(n)s 页，共 %(total)s 页") == (
        '"第 " counter(page) " 页，共 " counter(pages) " 页"'
    )
    assert pdf.page_counter_content('Page %(n)s of "%(total)s"') == (
        '"Page " counter(page) " of \\"" counter(pages) "\\""'
    )


def test_table_of_contents_gets_page_numbers(pdf_templates):
    name = pdf_templates(
        "t/book.html",
        """{% extends "pdf/base.html" %}{% block content %}
        {% include "pdf/_toc.html" with entries=toc heading="目录" %}
        {% for entry in toc %}<h2 id="{{ entry.id }}" class="page-break">{{ entry.title }}</h2>{% endfor %}
        {% endblock %}""",
    )
    toc = [
        {"id": "org", "title": "机构概况"},
        {"id": "budget", "title": "预算明细"},
        {"id": "plan", "title": "实施计划"},
    ]
    with translation.override("zh-hans"):
        texts = pages_text(pdf.render_pdf(name, {"toc": toc}))
    assert len(texts) == 4
    found = re.findall(r"(机构概况|预算明细|实施计划)\s*\.*\s*(\d+)", texts[0])
    assert found == [("机构概况", "2"), ("预算明细", "3"), ("实施计划", "4")]


def test_only_data_uris_and_local_static_files_are_fetched(pdf_templates, caplog):
    name = pdf_templates(
        "t/images.html",
        """{% extends "pdf/base.html" %}{% block content %}
        <p>图片</p><img src="{{ local }}" alt=""><img src="http://example.com/tracker.png" alt="">
        <img src="file:///etc/hostname" alt="">{% endblock %}""",
    )
    with translation.override("zh-hans"):
        data = pdf.render_pdf(name, {"local": PNG_DATA_URI}, request=RequestFactory().get("/"))
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert len(page.images) == 1  # the data: URI; the remote and file: ones were refused
    refused = [r.getMessage() for r in caplog.records if "Refused to fetch" in r.getMessage()]
    assert any("http://example.com/tracker.png" in message for message in refused)
    assert any("file:///etc/hostname" in message for message in refused)


def test_fetch_local_rules():
    css = (ROOT / "static" / "css" / "print.css").read_bytes()
    origin = "http://testserver"
    assert pdf.fetch_local("http://testserver/static/css/print.css", origin=origin) == (css, "text/css")
    assert pdf.fetch_local((ROOT / "static/css/print.css").as_uri(), origin=None) == (css, "text/css")
    assert pdf.fetch_local("data:text/plain;base64,5Lit5paH", origin=None) == ("中文".encode(), "text/plain")
    for url in (
        "http://example.com/static/css/print.css",  # another origin, even for a static path
        "https://testserver/static/css/print.css",  # another scheme is another origin
        "http://testserver/accounts/login/",  # not a static file
        "http://testserver/static/../venture/settings.py",
        "http://testserver/static/%2e%2e/venture/settings.py",
        (ROOT / "venture" / "settings.py").as_uri(),
        (ROOT / "static" / ".." / "venture" / "settings.py").as_uri(),
        "file://otherhost/etc/passwd",
        "ftp://example.com/x.css",
    ):
        with pytest.raises(pdf.FetchRefused):
            pdf.fetch_local(url, origin=origin)


def test_charts_render_inside_a_pdf(pdf_templates):
    name = pdf_templates(
        "t/chart.html",
        '{% extends "pdf/base.html" %}{% block content %}<figure class="pdf-chart">{{ chart }}</figure>{% endblock %}',
    )
    chart = charts.bar_chart([("权益保障", 4), ("技能培训", 3)], title="各领域入围项目数")
    with translation.override("zh-hans"):
        text = pages_text(pdf.render_pdf(name, {"chart": chart}))[0]
    assert "各领域入围项目数" in text and "权益保障" in text and "技能培训" in text


def test_check_environment_is_clean_on_this_machine():
    assert pdf.check_environment() == []


def test_check_environment_reports_the_apt_command_for_what_is_missing():
    problems = pdf.check_environment(font_lookup=lambda family: False, library_lookup=lambda names: True)
    assert [p.id for p in problems] == ["venture.W001"]
    assert problems[0].hint == "安装命令：sudo apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig"
    problems = pdf.check_environment(font_lookup=lambda family: True, library_lookup=lambda names: False)
    assert [p.id for p in problems] == ["venture.W002"]
    assert problems[0].hint == "安装命令：sudo apt-get install -y --no-install-recommends libharfbuzz-subset0"
    both = pdf.check_environment(font_lookup=lambda family: False, library_lookup=lambda names: False)
    assert [p.id for p in both] == ["venture.W001", "venture.W002"]


def test_lookups_ask_fontconfig_and_the_dynamic_loader():
    assert pdf.font_family_installed("Noto Sans CJK SC") is True
    assert pdf.font_family_installed("No Such Family 42") is False
    assert pdf.library_available(pdf.HB_SUBSET_LIBRARIES) is True
    assert pdf.library_available(("libno-such-library.so.0",)) is False


def test_manage_py_check_shows_the_missing_font(tmp_path):
    """The real lookup, on a fontconfig that knows no fonts, through `manage.py check` (the check is tagged "pdf")."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{tmp_path / 'none'}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "VENTURE_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--tag", "pdf"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert "(venture.W001)" in output
    assert "sudo apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig" in output
    assert "venture.W002" not in output


def test_pdf_response_headers():
    response = pdf.pdf_response(b"%PDF-1.7 test", f"{ORG}/申报书.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E7%A4%BA%E8%8C%83%E5%B8%82%E6%99%A8%E6%9B%A6%E7%A4%BE%E4%BC%9A%E5%B7%A5"
        "%E4%BD%9C%E6%9C%8D%E5%8A%A1%E4%B8%AD%E5%BF%83_%E7%94%B3%E6%8A%A5%E4%B9%A6.pdf"
    )
    assert response.content == b"%PDF-1.7 test"
    assert pdf.pdf_response(b"", "notice.pdf")["Content-Disposition"] == 'attachment; filename="notice.pdf"'


# --- Spreadsheets ------------------------------------------------------------------------------------------------

HYPERLINK = '=HYPERLINK("http://x")'


@pytest.fixture
def money_frame():
    return pd.DataFrame(
        {
            "机构名称": [ORG, HYPERLINK, "+86 138 0000 0000", "@SUM(A1)"],
            "金额（元）": [Decimal("123456.78"), Decimal("0.10"), Decimal("-5.00"), None],
            "人数": [120, -5, 0, 7],
            "得分": [85.25, 90.0, float("nan"), 60.5],
        }
    )


def test_xlsx_round_trip_keeps_numbers_and_formula_like_text_exactly(money_frame):
    data = exports.to_xlsx_bytes({"资助名单": money_frame}, money_columns=["金额（元）"])
    back = pd.read_excel(io.BytesIO(data), sheet_name="资助名单")
    assert list(back.columns) == ["机构名称", "金额（元）", "人数", "得分"]
    # xlsx: the original string exactly, as a text cell (documented in venture.exports).
    assert back["机构名称"].tolist() == [ORG, HYPERLINK, "+86 138 0000 0000", "@SUM(A1)"]
    assert back["金额（元）"].tolist()[:3] == [123456.78, 0.1, -5.0]
    assert pd.isna(back["金额（元）"].iloc[3])
    assert back["人数"].tolist() == [120, -5, 0, 7]
    assert back["得分"].tolist()[:2] == [85.25, 90.0] and back["得分"].tolist()[3] == 60.5


def test_xlsx_cells_styles_and_layout(money_frame):
    data = exports.to_xlsx_bytes({"资助名单": money_frame}, money_columns=["金额（元）"])
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere: Excel evaluates nothing
    assert '<c r="B2" s="2"><v>123456.78</v></c>' in sheet_xml  # the Decimal digit for digit
    sheet = openpyxl.load_workbook(io.BytesIO(data))["资助名单"]
    link = sheet["A3"]
    assert (link.value, link.data_type, link.quotePrefix, link.number_format) == (HYPERLINK, "s", True, "@")
    assert (sheet["A2"].data_type, sheet["A2"].quotePrefix) == ("s", False)
    assert sheet["B2"].number_format == "#,##0.00" and sheet["B2"].value == 123456.78
    assert sheet["C3"].value == -5 and sheet["C3"].data_type == "n" and not sheet["C3"].quotePrefix
    assert sheet["B5"].value is None and sheet["D4"].value is None
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    # Widths: CJK characters count double. 13 CJK characters -> 26, plus padding 2.
    assert sheet.column_dimensions["A"].width == 28
    assert sheet.column_dimensions["C"].width == 8


def test_xlsx_dates_in_local_time_and_deterministic_bytes():
    shanghai = ZoneInfo("Asia/Shanghai")
    frame = pd.DataFrame(
        {
            "提交时间": [dt.datetime(2025, 5, 6, 1, 30, tzinfo=dt.UTC), None],
            "截止日期": [dt.date(2025, 5, 31), dt.date(2025, 6, 1)],
        }
    )
    data = exports.to_xlsx_bytes({"s": frame})
    assert data == exports.to_xlsx_bytes({"s": frame})
    sheet = openpyxl.load_workbook(io.BytesIO(data))["s"]
    assert (
        sheet["A2"].value
        == dt.datetime(2025, 5, 6, 9, 30)
        == dt.datetime(2025, 5, 6, 1, 30, tzinfo=dt.UTC).astimezone(shanghai).replace(tzinfo=None)
    )
    assert sheet["A3"].value is None
    assert sheet["B2"].value == dt.datetime(2025, 5, 31) and sheet["B2"].number_format == "yyyy-mm-dd"


def test_xlsx_several_sheets_with_excel_valid_names():
    frame = pd.DataFrame({"a": [1]})
    data = exports.to_xlsx_bytes({"预算/支出": frame, "x" * 40: frame, "X" * 40: frame, "": frame})
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["预算_支出", "x" * 31, "X" * 27 + " (2)", "Sheet4"]


def test_unknown_money_column_is_an_error(money_frame):
    with pytest.raises(ValueError, match="金额"):
        exports.to_xlsx_bytes({"s": money_frame}, money_columns=["金额"])


def test_csv_bom_neutralized_strings_and_plain_numbers(money_frame):
    frame = money_frame.assign(备注=["=1+2", "-5", "\tTAB", "普通"])
    data = exports.to_csv_bytes(frame, money_columns=["金额（元）"])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    assert rows[0] == ["机构名称", "金额（元）", "人数", "得分", "备注"]
    assert [row[4] for row in rows[1:]] == ["'=1+2", "'-5", "'\tTAB", "普通"]
    assert [row[0] for row in rows[1:]] == [ORG, "'" + HYPERLINK, "'+86 138 0000 0000", "'@SUM(A1)"]
    assert [row[1] for row in rows[1:]] == ["123456.78", "0.10", "-5.00", ""]
    assert [row[2] for row in rows[1:]] == ["120", "-5", "0", "7"]
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["人数"].tolist() == [120, -5, 0, 7]
    assert back["备注"].tolist()[0] == "'=1+2"


def test_dataframe_response_xlsx_and_csv(money_frame):
    response = exports.dataframe_response(money_frame, filename="2025年资助名单", money_columns=["金额（元）"])
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''2025%E5%B9%B4%E8%B5%84%E5%8A%A9%E5%90%8D%E5%8D%95.xlsx"
    )
    assert pd.read_excel(io.BytesIO(response.content))["人数"].tolist() == [120, -5, 0, 7]
    response = exports.dataframe_response(money_frame, filename="list.csv", fmt="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="list.csv"'
    assert response.content.startswith(exports.UTF8_BOM)
    with pytest.raises(ValueError):
        exports.dataframe_response(money_frame, filename="x", fmt="ods")


# --- Charts ------------------------------------------------------------------------------------------------------

SCORES = {
    ORG: [82, 85.5, 90, 78, 88],
    "<script>alert(1)</script>": [70, 75, None, 60],
    "骑手之家": [91, 95, 93],
}


def test_strip_plot_is_accessible_escaped_svg_with_one_circle_per_value():
    svg = charts.strip_plot(SCORES, width=600, marks={ORG: 85.17}, highlight="骑手之家", title="终评得分 & 分布")
    assert isinstance(svg, SafeString)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "终评得分 & 分布"
    assert root[0].tag == f"{SVG}title" and root[0].text == "终评得分 & 分布"
    assert len(root.findall(f".//{SVG}circle")) == 5 + 3 + 3  # None is left out
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts
    assert "85.17" in texts
    assert not any(element.tag.endswith("script") for element in root.iter())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_charts_are_deterministic_and_parse():
    made = [
        lambda: charts.strip_plot(SCORES, width=500, marks={ORG: 85.17}),
        lambda: charts.bar_chart([("权益保障", 4), ("技能培训", Decimal("3.50")), ("<b>", -1)], title="项目数"),
        lambda: charts.grouped_bars(
            ["人员费", "活动费", "管理费"], {"预算": [Decimal("5000.00"), 8000, 1200], "支出": [4200, 8600, None]}
        ),
        lambda: charts.line_chart(
            {"累计支出": [(dt.date(2025, 3, 1), 0), (dt.date(2025, 5, 1), 18000.5), (dt.date(2025, 4, 1), 12000)]}
        ),
    ]
    for make in made:
        first, second = make(), make()
        assert first == second
        ET.fromstring(first)


def test_bar_and_grouped_bars_draw_one_rect_per_value():
    root = ET.fromstring(charts.bar_chart([("权益保障", 4), ("技能培训", Decimal("3.50")), ("空", None)]))
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["权益保障：4", "技能培训：3.50"]
    root = ET.fromstring(
        charts.grouped_bars(["人员费", "活动费"], {"预算": [Decimal("5000.00"), 8000], "支出": [4200, None]})
    )
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert [bar.find(f"{SVG}title").text for bar in bars] == [
        "人员费 · 预算：5000.00",
        "人员费 · 支出：4200",
        "活动费 · 预算：8000",
    ]


def test_line_chart_points_sorted_by_x():
    root = ET.fromstring(
        charts.line_chart(
            {"累计支出": [(dt.date(2025, 5, 1), 18000.5), (dt.date(2025, 3, 1), 0), (dt.date(2025, 4, 1), 12000)]}
        )
    )
    titles = [circle.find(f"{SVG}title").text for circle in root.iter(f"{SVG}circle")]
    assert titles == ["累计支出 · 2025-03-01：0", "累计支出 · 2025-04-01：12000", "累计支出 · 2025-05-01：18000.5"]


def test_empty_chart_says_no_data():
    with translation.override("en"):
        root = ET.fromstring(charts.strip_plot({}, title="Scores"))
    assert "No data" in [element.text for element in root.iter(f"{SVG}text")]
