"""Figures for the shared document modules: warm PDF renders and a large xlsx/csv export. Prints; asserts nothing.

.venv/bin/python bench/bench_documents.py
"""

import io
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venture.settings")
# Plain static storage: {% static %} works without collectstatic.
os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
# Django is set up in main(), not on import: venture.pdf renders in a child process, and multiprocessing imports the
# main script there too.

TEMPLATE = """{% extends "pdf/base.html" %}
{% block title %}评审结果{% endblock %}
{% block running_header %}示范市总工会 · 2025 年度公益创投{% endblock %}
{% block content %}
<h1>2025 年度公益创投终评结果</h1>
<figure class="pdf-chart">{{ chart }}</figure>
<table class="pdf-table">
  <thead><tr><th>序号</th><th>申报单位</th><th>服务领域</th><th class="money">申请金额</th><th class="num">得分</th></tr></thead>
  <tbody>{% for row in rows %}
    <tr><td>{{ forloop.counter }}</td><td>{{ row.org }}</td><td>{{ row.category }}</td>
        <td class="money">{{ row.amount|money }}</td><td class="num">{{ row.score }}</td></tr>{% endfor %}
  </tbody>
</table>
{% endblock %}"""

CATEGORIES = ["权益保障", "技能培训", "子女成长赋能", "女性关爱", "文化艺术"]


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, times


def bench_pdf():
    import pypdf
    from django.conf import settings
    from django.utils import translation

    from venture import charts, pdf

    folder = Path(tempfile.mkdtemp())
    (folder / "bench").mkdir()
    (folder / "bench" / "two_pages.html").write_text(TEMPLATE, encoding="utf-8")
    settings.TEMPLATES[0]["DIRS"].insert(0, folder)
    rows = [
        {
            "org": f"示范市晨曦社会工作服务中心第{i}分中心",
            "category": CATEGORIES[i % 5],
            "amount": Decimal("123456.78") + i,
            "score": f"{80 + i % 17 / 3:.2f}",
        }
        for i in range(40)
    ]
    chart = charts.strip_plot({r["org"][:10] + str(i): [80, 85, 90, 88, 79] for i, r in enumerate(rows[:6])})
    context = {"rows": rows, "chart": chart}
    with translation.override("zh-hans"):
        _cold, cold_times = timed(lambda: pdf.render_pdf("bench/two_pages.html", context), 1)
        warm, warm_times = timed(lambda: pdf.render_pdf("bench/two_pages.html", context), 5)
    pages = len(pypdf.PdfReader(io.BytesIO(warm)).pages)
    print(f"PDF  {pages} pages, {len(warm) / 1024:.0f} KiB")
    print(f"     first render (imports WeasyPrint, loads fonts): {cold_times[0]:.2f} s")
    print(
        f"     warm renders: median {statistics.median(warm_times):.3f} s of 5 ({', '.join(f'{t:.3f}' for t in warm_times)})"
    )


def bench_xlsx():
    import pandas as pd
    from django.utils import timezone

    from venture import exports

    now = timezone.now()
    frame = pd.DataFrame(
        {
            "序号": range(30_000),
            "申报单位": [f"示范市晨曦社会工作服务中心{i}" for i in range(30_000)],
            "服务领域": [CATEGORIES[i % 5] for i in range(30_000)],
            "申请金额（元）": [Decimal("12345.67") + i for i in range(30_000)],
            "得分": [80 + (i % 2000) / 100 for i in range(30_000)],
            "服务人数": [i % 500 for i in range(30_000)],
            "提交时间": [now] * 30_000,
            "备注": ['=HYPERLINK("http://x")' if i % 1000 == 0 else f"备注{i}" for i in range(30_000)],
        }
    )
    data, xlsx_times = timed(lambda: exports.to_xlsx_bytes({"名单": frame}, money_columns=["申请金额（元）"]), 3)
    print(
        f"xlsx 30,000 rows x 8 columns, {len(data) / 1024:.0f} KiB: median {statistics.median(xlsx_times):.3f} s of 3 "
        f"({', '.join(f'{t:.3f}' for t in xlsx_times)})"
    )
    data, csv_times = timed(lambda: exports.to_csv_bytes(frame, money_columns=["申请金额（元）"]), 3)
    print(f"csv  30,000 rows x 8 columns, {len(data) / 1024:.0f} KiB: median {statistics.median(csv_times):.3f} s of 3")


if __name__ == "__main__":
    import django

    django.setup()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_pdf()
    bench_xlsx()
