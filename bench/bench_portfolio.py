"""Benchmark of the supervision portfolio page at scale: 200 funded projects with 2,000 ledger entries each
(400,000 expenditure rows), plus approved lines, tranches, report schedules and open rectifications.

Builds the data in a fresh SQLite database in a temporary data folder (migrated from scratch, removed afterwards;
ledger rows bulk-inserted in chunks), then times N warm requests of /supervision/portfolio/ through
django.test.Client and prints the build time, the median and 95th percentile in ms, the number of SQL queries per
request and the peak Python memory of one request (tracemalloc). Figures, not a timed test; the target is < 300 ms.

Run from the project root:  .venv/bin/python bench/bench_portfolio.py [--projects 200] [--rows 2000] [--n 10]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHUNK = 20_000


def configure(data_dir):
    """Environment for a throwaway instance; must run before Django reads its settings."""
    os.environ["VENTURE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venture.settings")

    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast fixtures


def build(n_projects, n_rows):
    from django.db import transaction
    from django.utils import timezone

    from tests import factories
    from venture.awards.models import Award
    from venture.awards.services import create_agreement
    from venture.competitions.models import Stage
    from venture.supervision import services
    from venture.supervision.ledger import refresh_totals
    from venture.supervision.models import Expenditure, Rectification

    today = timezone.localdate()
    start = today - datetime.timedelta(days=120)  # projects run 181 days: two thirds of the way through
    staff = factories.user("bench_staff", role="staff")
    competition = factories.competition(
        stage=Stage.SUPERVISION,
        fund_pool=Decimal("30000000.00"),
        project_start_earliest=start,
        project_end_latest=start + datetime.timedelta(days=400),
    )
    projects = []
    with transaction.atomic():
        for i in range(n_projects):
            proposal = factories.proposal(
                competition,
                factories.organization(),
                status="awarded",
                title=f"压测项目{i:03d}",
                requested=Decimal("100000.00"),
            )
            factories.budget(proposal, [("人员经费", 3000, 10), ("活动经费", 500, 120), ("管理费", 10000, 1)])
            award = Award.objects.create(
                competition=competition, proposal=proposal, rank=i + 1, amount=Decimal("100000.00"), status="final"
            )
            project = services.sign_agreement(agreement=create_agreement(award=award), signed_on=start, by=staff)
            projects.append(project)
        lines = {}
        for project in projects:
            lines[project.pk] = list(project.lines.select_related("category"))
        Rectification.objects.bulk_create(
            [
                Rectification(
                    project=p,
                    what="台账缺少凭证",
                    deadline=start + datetime.timedelta(days=30 + i % 200),
                    owner="项目主管",
                )
                for i, p in enumerate(projects)
            ]
        )
    span = (today - start).days
    batch, total = [], 0
    for p_index, project in enumerate(projects):
        project_lines = lines[project.pk]
        for r in range(n_rows):
            line = project_lines[r % len(project_lines)]
            batch.append(
                Expenditure(
                    project=project,
                    date=start + datetime.timedelta(days=(r * 7 + p_index) % span),
                    line=line,
                    category=line.category,
                    amount=Decimal(f"{(r * 37 + p_index) % 40 + 1}.{r % 100:02d}"),
                    payee="示范市某供应商",
                    description="活动物资采购",
                    voucher_no=f"PZ-{p_index:03d}-{r:05d}",
                )
            )
            if len(batch) == CHUNK:
                with transaction.atomic():
                    Expenditure.objects.bulk_create(batch)
                total += len(batch)
                batch = []
    if batch:
        Expenditure.objects.bulk_create(batch)
        total += len(batch)
    with transaction.atomic():
        refresh_totals()  # what record_expenditure / import_ledger keep up to date
    return staff, total


def measure(client, url, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm up templates, translations and the connection
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    n_queries = len(queries)  # now: the next request's new connection clears the query log
    tracemalloc.start()
    client.get(url)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    return statistics.median(times), p95, n_queries, peak / 1024 / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="timed warm requests (default 10)")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--rows", type=int, default=2000, help="ledger entries per project (default 2000)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-bench-"))
    try:
        configure(data_dir)
        from django.core.management import call_command
        from django.test import Client

        call_command("migrate", verbosity=0, interactive=False)
        t0 = time.perf_counter()
        staff, n_entries = build(args.projects, args.rows)
        build_s = time.perf_counter() - t0
        db_mb = (data_dir / "venture.sqlite3").stat().st_size / 1024 / 1024
        client = Client()
        client.force_login(staff)
        print(
            f"{args.projects} funded projects x {args.rows} ledger entries = {n_entries:,} expenditure rows; "
            f"built in {build_s:.1f} s; SQLite {db_mb:.0f} MB in {data_dir}; N={args.n} warm requests"
        )
        print(f"{'page':<34}{'median ms':>11}{'p95 ms':>10}{'queries':>9}{'peak MiB':>10}")
        for label, url in [
            ("portfolio (all projects)", "/supervision/portfolio/"),
            ("portfolio (?status=active&q=压测)", "/supervision/portfolio/?status=active&q=压测"),
        ]:
            median, p95, n_queries, peak = measure(client, url, args.n)
            print(f"{label:<34}{median:>11.1f}{p95:>10.1f}{n_queries:>9}{peak:>10.1f}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
