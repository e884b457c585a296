"""Benchmark of the frozen results at the large scale of docs/scoring.md (section 11): 500 finalists x 15 judges x 4 criteria (7,500
sealed sheets, 30,000 score rows).

Builds the round in a fresh SQLite database in a temporary data folder (migrated from scratch, removed afterwards)
with bulk_create (no test factories), freezes it through venture.results.services.freeze_results (timed), then
times N warm requests of the results page through django.test.Client (median and 95th percentile, and the SQL
queries of one request), one verification and one results-report PDF. Figures, not a timed test.

Run from the project root:  .venv/bin/python bench/bench_results.py [--n 10] [--proposals 500] [--judges 15]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUBRIC = [
    ("targeting", "项目定位精准性", 25),
    ("feasibility", "内容可行性", 25),
    ("social_benefit", "社会效益", 30),
    ("budget", "资金预算", 20),
]


def configure(data_dir):
    """Environment for a throwaway instance; must run before Django reads its settings."""
    os.environ["VENTURE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "immediate"  # the report is rendered (and stored) inside the request, as timed here
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venture.settings")

    import django

    django.setup()


def build(n_proposals, n_judges, seed=2026):
    """The round, straight into the tables: what assign_final_panel, declare and save_sheet would leave."""
    from django.utils import timezone

    from judging.models import (
        Assignment,
        ConflictDeclaration,
        ConflictStatus,
        Criterion,
        Judge,
        Panel,
        PanelStage,
        Score,
        ScoreSheet,
        SheetStatus,
    )
    from venture.accounts.models import Role, User
    from venture.competitions.models import Category, Competition, Stage
    from venture.organizations.models import Organization, OrgStatus
    from venture.proposals.models import Proposal, ProposalStatus

    rng = random.Random(seed)
    now = timezone.now()
    staff = User.objects.create_user("bench_staff", role=Role.STAFF, full_name="工会工作人员")
    competition = Competition.objects.create(
        title="示范市总工会2026年服务新就业形态劳动者公益创投大赛",
        year=now.year,
        organizer="示范市总工会",
        fund_pool=Decimal("2000000.00"),
        min_grant=Decimal("50000.00"),
        max_grant=Decimal("150000.00"),
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=30),
        finalist_quota=n_proposals,
        project_start_earliest=(now + timedelta(days=30)).date(),
        project_end_latest=(now + timedelta(days=400)).date(),
        stage=Stage.FINAL,
        tiebreak_criterion="social_benefit",
    )
    categories = Category.objects.bulk_create(
        [
            Category(competition=competition, name=name, order=i)
            for i, name in enumerate(["权益保障", "技能培训", "文化艺术", "子女成长赋能", "女性劳动者关爱"])
        ]
    )
    criteria = Criterion.objects.bulk_create(
        [
            Criterion(competition=competition, code=code, name=name, max_points=pts, weight=pts, order=i)
            for i, (code, name, pts) in enumerate(RUBRIC)
        ]
    )
    orgs = Organization.objects.bulk_create(
        [
            Organization(
                name=f"示范市第{i:03d}社会工作服务中心",
                uscc=f"52419900BENCH{i:05d}",
                org_type="social_service",
                registration_authority="示范市民政局",
                registration_date=date(2018, 5, 1),
                legal_representative="王法人",
                contact_person="李联系",
                mobile="13800138000",
                email=f"org{i}@example.org",
                address="示范市建设路1号",
                service_area="示范市",
                status=OrgStatus.VERIFIED,
            )
            for i in range(n_proposals)
        ]
    )
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(
                competition=competition,
                organization=orgs[i],
                category=categories[i % len(categories)],
                title=f"新就业形态劳动者服务项目{i + 1:03d}",
                target_group="外卖骑手",
                status=ProposalStatus.FINALIST,
                requested_amount=Decimal(rng.randrange(80, 151) * 1000),
            )
            for i in range(n_proposals)
        ]
    )
    users = User.objects.bulk_create(
        [
            User(username=f"bench_judge{j:02d}", role=Role.JUDGE, full_name=f"评委{j:02d}")
            for j in range(1, n_judges + 1)
        ]
    )
    judges = Judge.objects.bulk_create(
        [Judge(user=u, affiliation="示范大学社会工作学院", expertise="professor") for u in users]
    )
    panel = Panel.objects.create(competition=competition, stage=PanelStage.FINAL)
    panel.judges.set(judges)
    assignments = Assignment.objects.bulk_create(
        [Assignment(panel=panel, judge=j, proposal=p) for p in proposals for j in judges], batch_size=2000
    )
    ConflictDeclaration.objects.bulk_create(
        [ConflictDeclaration(assignment=a, status=ConflictStatus.CLEAR) for a in assignments], batch_size=2000
    )
    quality = {p.pk: rng.gauss(75, 7) for p in proposals}
    bias = {j.pk: rng.gauss(0, 3) for j in judges}
    sheets, points = [], []
    for a in assignments:
        level = min(max(quality[a.proposal_id] + bias[a.judge_id] + rng.gauss(0, 4), 20), 99) / 100
        # points on a 0.5 step, near the judge's level on each criterion
        row = [
            Decimal(min(max(round(2 * (level * float(c.max_points) + rng.gauss(0, 1))), 0), 2 * int(c.max_points))) / 2
            for c in criteria
        ]
        sheets.append(ScoreSheet(assignment=a, status=SheetStatus.SUBMITTED, total=sum(row), submitted_at=now))
        points.append(row)
    sheets = ScoreSheet.objects.bulk_create(sheets, batch_size=2000)
    Score.objects.bulk_create(
        [
            Score(sheet=s, criterion=c, points=x)
            for s, row in zip(sheets, points, strict=True)
            for c, x in zip(criteria, row, strict=True)
        ],
        batch_size=5000,
    )
    return staff, competition


def measure(client, url, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm up templates, translations and the connection
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return statistics.median(times), p95, len(queries), len(response.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="timed requests of the results page (default 10)")
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--judges", type=int, default=15)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-bench-"))
    try:
        configure(data_dir)
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        from venture.results import services

        call_command("migrate", verbosity=0, interactive=False)
        start = time.perf_counter()
        staff, competition = build(args.proposals, args.judges)
        build_s = time.perf_counter() - start
        print(
            f"{args.proposals} finalists x {args.judges} judges x {len(RUBRIC)} criteria: "
            f"{args.proposals * args.judges} sheets, {args.proposals * args.judges * len(RUBRIC)} score rows "
            f"(built in {build_s:.1f} s); SQLite in {data_dir}"
        )

        start = time.perf_counter()
        snapshot = services.freeze_results(competition=competition, by=staff)
        print(
            f"freeze_results (sealed inputs, ranking, diagnostics, {services.N_BOOT} bootstrap resamples, digest): "
            f"{time.perf_counter() - start:.2f} s; top K = {snapshot.outputs['top_k']}; digest {snapshot.digest}"
        )

        client = Client()
        client.force_login(staff)
        pk = competition.pk
        median, p95, n_queries, size = measure(client, reverse("results:results", args=[pk]), args.n)
        print(
            f"results page: median {median:.1f} ms, p95 {p95:.1f} ms over {args.n} warm requests; "
            f"{n_queries} queries; {size / 1024:.0f} KiB of HTML"
        )

        start = time.perf_counter()
        response = client.post(reverse("results:verify", args=[pk]))
        assert response.status_code == 200 and b'data-check="fail"' not in response.content
        print(f"verify (recompute digest and ranking): {(time.perf_counter() - start):.2f} s")

        start = time.perf_counter()
        response = client.get(reverse("results:report_pdf", args=[pk]))
        assert response.status_code == 200
        pdf_s = time.perf_counter() - start
        import io

        import pypdf

        pages = len(pypdf.PdfReader(io.BytesIO(response.content)).pages)
        print(
            f"results report PDF: {pdf_s:.2f} s (first render: the renderer's fork server starts), {pages} pages, "
            f"{len(response.content) / 1024:.0f} KiB"
        )
        from venture.documents.models import StoredDocument

        StoredDocument.objects.filter(kind="results_report").delete()  # kept per snapshot state: render it again
        start = time.perf_counter()
        client.get(reverse("results:report_pdf", args=[pk]))
        print(f"results report PDF, rendered again: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        client.get(reverse("results:report_pdf", args=[pk]))
        print(f"results report PDF, as stored: {time.perf_counter() - start:.3f} s")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
