"""Benchmark of the ledger import (issue #15): a valid file of 10,000 rows (csv and xlsx) imported through the page
(form, reading, the one expenditure rule for every row, bulk insert, running totals), and hostile files of about
20 MB refused: a 20 MB csv of ~700,000 rows, an xlsx whose rows fit the size limit but not the row limit, and an
xlsx zip bomb (a 20 MB file whose parts unpack to far more than the limit).

Builds one funded project in a fresh SQLite database in a temporary data folder (removed afterwards). Each timed
import runs in a transaction rolled back afterwards, so every run starts from the same empty ledger. Prints the
median of several runs in seconds, the peak Python memory of one run (tracemalloc) and the process's peak RSS.
Figures, not a timed test; the targets are < 5 s for 10,000 rows, < 2 s for a hostile file, < 300 MB of memory.

Run from the project root:  .venv/bin/python bench/bench_import.py [--runs 5] [--rows 10000]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EXPECTED_ROWS = [0]  # rows a valid file holds, checked in the ledger after each valid import
CPU = []  # CPU seconds of each import (the machine may be shared: wall time then overstates the work)
HEADER = ["日期", "预算科目", "明细项目", "金额", "收款方", "摘要", "凭证号"]


def configure(data_dir):
    os.environ["VENTURE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    os.environ["DEBUG"] = "false"
    # A file over LEDGER_IMPORT_BACKGROUND_ROWS is imported by the worker: run the task inside the request, so that the
    # time printed is the whole import (the request's check and storing, then the task's reading and writing), not
    # only the queuing.
    os.environ["TASKS_BACKEND"] = "immediate"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venture.settings")
    import django
    from django.conf import settings

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client records the response's context (the import report)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build():
    from django.utils import timezone

    from tests import factories
    from venture.awards.models import Award
    from venture.awards.services import create_agreement
    from venture.competitions.models import Stage
    from venture.supervision import services

    today = timezone.localdate()
    start = today - datetime.timedelta(days=300)
    staff = factories.user("bench_staff", role="staff")
    competition = factories.competition(
        stage=Stage.SUPERVISION,
        fund_pool=Decimal("30000000.00"),
        project_start_earliest=start,
        project_end_latest=start + datetime.timedelta(days=400),
    )
    proposal = factories.proposal(
        competition, factories.organization(), status="awarded", title="导入压测项目", requested=Decimal("100000.00")
    )
    factories.budget(proposal, [("人员经费", 3000, 10), ("活动经费", 500, 120), ("管理费", 10000, 1)])
    award = Award.objects.create(
        competition=competition, proposal=proposal, rank=1, amount=Decimal("100000.00"), status="final"
    )
    project = services.sign_agreement(agreement=create_agreement(award=award), signed_on=start, by=staff)
    lines = [(ln.category.name, ln.item) for ln in project.lines.select_related("category")]
    return staff, project, project.period_start, (min(today, project.period_end) - project.period_start).days + 1, lines


def rows(n, start, span, lines, seed=0):
    rnd = random.Random(seed)
    for r in range(n):
        category, item = lines[r % len(lines)]
        yield [
            (start + datetime.timedelta(days=rnd.randrange(span))).strftime("%Y/%-m/%-d"),
            category,
            item,
            f"¥{rnd.randrange(1, 499)}.{rnd.randrange(100):02d}",
            "示范市某供应商",
            "活动物资采购",
            f"PZ-{seed}-{r:06d}",
        ]


def csv_bytes(data, encoding="gb18030"):
    lines = [",".join(HEADER), *(",".join(row) for row in data)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _cell(ref, value):
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx_bytes(data):
    """A minimal valid xlsx with inline strings, written by hand (fast for hostile sizes)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData>'
    ]
    for r, row in enumerate([HEADER, *data], start=1):
        parts.append(f'<row r="{r}">' + "".join(_cell(f"{chr(65 + i)}{r}", v) for i, v in enumerate(row)) + "</row>")
    parts.append("</sheetData></worksheet>")
    return _package("".join(parts).encode())


def _package(sheet, extra=None):
    buffer = io.BytesIO()
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/'
            f'2006/main" xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="台账" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data, method in extra or ():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def zip_bomb(size=20 * 1024 * 1024):
    """A 20 MB xlsx: a small valid sheet, a part of zeros that unpacks to 1 GB (streamed into the zip, ~1 MB
    compressed) and random bytes stored up to 20 MB."""
    buffer = io.BytesIO(xlsx_bytes([]))
    zeros = b"\0" * (64 * 1024 * 1024)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/media/image1.bin", "w", force_zip64=True) as member:
            for _ in range(16):
                member.write(zeros)
        pad = size - len(buffer.getvalue()) - 1024
        z.writestr(zipfile.ZipInfo("xl/media/padding.bin"), os.urandom(max(pad, 0)), compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def timed_import(client, project, name, data, expect):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from venture.supervision.models import Expenditure

    with transaction.atomic():
        upload = SimpleUploadedFile(name, data)
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.post(f"/supervision/projects/{project.pk}/ledger/import/", {"file": upload})
        elapsed = time.perf_counter() - t0
        CPU.append(time.process_time() - c0)
        if response.status_code != expect:
            report = response.context and response.context.get("import_report")
            form = response.context and response.context.get("import_form")
            raise AssertionError((name, response.status_code, report and report.failed[:3], form and form.errors))
        if expect == 302:  # every row is in the ledger
            stored = Expenditure.objects.filter(project=project).count()
            assert stored == EXPECTED_ROWS[0], (name, stored, EXPECTED_ROWS[0])
        transaction.set_rollback(True)
    return elapsed


def measure(label, runs, fn):
    CPU.clear()
    times = [fn() for _ in range(runs)]
    cpu = statistics.median(CPU)
    tracemalloc.start()
    fn()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<52}{statistics.median(times):>9.2f}{cpu:>9.2f}{peak / 1024 / 1024:>11.1f}{rss:>10.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="venture-bench-import-"))
    try:
        configure(data_dir)
        from django.core.management import call_command
        from django.test import Client

        call_command("migrate", verbosity=0, interactive=False)
        staff, project, start, span, lines = build()
        client = Client()
        client.force_login(staff)
        valid = list(rows(args.rows, start, span, lines))
        EXPECTED_ROWS[0] = len(valid)
        valid_csv, valid_xlsx = csv_bytes(valid), xlsx_bytes(valid)
        print(
            f"valid csv {len(valid_csv) / 1e6:.1f} MB, valid xlsx {len(valid_xlsx) / 1e6:.1f} MB; {args.runs} runs "
            "each; RSS is the process's peak so far (the hostile files are built after the valid runs)"
        )
        print(f"{'import':<52}{'median s':>9}{'CPU s':>9}{'peak MiB':>11}{'RSS MiB':>10}")
        measure(
            f"{args.rows:,} valid rows, csv (GB18030)",
            args.runs,
            lambda: timed_import(client, project, "台账.csv", valid_csv, 302),
        )
        measure(
            f"{args.rows:,} valid rows, xlsx",
            args.runs,
            lambda: timed_import(client, project, "台账.xlsx", valid_xlsx, 302),
        )
        hostile_csv = csv_bytes(rows(760_000, start, span, lines, seed=1))[: 20 * 1024 * 1024 - 1]
        hostile_xlsx = xlsx_bytes(list(rows(250_000, start, span, lines, seed=2)))
        bomb = zip_bomb()
        print(
            f"hostile csv {len(hostile_csv) / 1e6:.1f} MB, many-row xlsx {len(hostile_xlsx) / 1e6:.1f} MB, zip "
            f"bomb {len(bomb) / 1e6:.1f} MB (built in this process: RSS from here counts them)"
        )
        measure(
            "20 MB csv (~760,000 rows): refused",
            args.runs,
            lambda: timed_import(client, project, "台账.csv", hostile_csv, 400),
        )
        measure(
            "xlsx of 250,000 rows under the size limit: refused",
            args.runs,
            lambda: timed_import(client, project, "台账.xlsx", hostile_xlsx, 400),
        )
        measure(
            "20 MB xlsx zip bomb (1 GB unpacked): refused",
            args.runs,
            lambda: timed_import(client, project, "台账.xlsx", bomb, 400),
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
