"""Figures for venture.documents, through the views (django.test.Client), in a fresh SQLite database in a temporary
data folder (migrated from scratch, removed afterwards). Prints; asserts nothing but status codes.

- the judge score sheet PDF, blank and filled (target < 0.5 s),
- the application book of 12 finalists with full text, budgets, plans and a table of contents (target < 5 s),
- the score matrix xlsx of 500 finalists x 15 judges x 4 criteria = 30,000 score rows (target < 2 s), rows written
  with bulk_create (bench_results.build).

Each: one cold request, then the median of 5 warm requests, and the SQL queries of one request.

Run from the project root:  .venv/bin/python bench/bench_exports.py [--proposals 500] [--judges 15]
"""

from __future__ import annotations

import argparse
import io
import os
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_results import build, configure  # noqa: E402

WARM = 5
NEWLINE = b"\n"
TEXT = (
    "本项目面向外卖骑手、快递员、网约车司机等新就业形态劳动者，围绕权益保障、技能提升与心理关爱开展服务。"
    "项目团队在前期走访中发现，劳动者普遍存在劳动合同签订率低、职业伤害保障不足、工作时间长、社会支持薄弱等问题，"
    "亟需专业社会组织提供系统化、常态化的服务。"
)


def build_finalists(n=12, n_judges=5):
    """A second round: n finalists with full text, itemized budgets, milestones, indicators and attachments; a rubric
    with descriptions and band descriptors; every judge's sheet submitted."""
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
    from venture.competitions.models import BudgetCategory, Category, Competition, Stage
    from venture.organizations.models import Organization, OrgStatus
    from venture.proposals.models import Attachment, BudgetLine, Indicator, Milestone, Proposal, ProposalStatus

    now = timezone.now()
    competition = Competition.objects.create(
        title="示范市总工会2026年服务新就业形态劳动者公益创投大赛（终评）",
        year=now.year,
        organizer="示范市总工会",
        fund_pool=Decimal("1000000.00"),
        min_grant=Decimal("50000.00"),
        max_grant=Decimal("150000.00"),
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=30),
        finalist_quota=n,
        project_start_earliest=(now + timedelta(days=30)).date(),
        project_end_latest=(now + timedelta(days=400)).date(),
        stage=Stage.FINAL,
    )
    categories = Category.objects.bulk_create(
        [
            Category(competition=competition, name=name, order=i)
            for i, name in enumerate(["权益保障", "技能培训", "文化艺术", "子女成长赋能"])
        ]
    )
    budget_categories = BudgetCategory.objects.bulk_create(
        [
            BudgetCategory(competition=competition, name=name, order=i)
            for i, name in enumerate(["人员经费", "活动经费", "宣传经费", "管理费"])
        ]
    )
    bands = [
        [
            {"min": "0", "max": str(m * 0.6 - 1), "label": "较差"},
            {"min": str(m * 0.6), "max": str(m * 0.8 - 1), "label": "一般"},
            {"min": str(m * 0.8), "max": str(m), "label": "优秀"},
        ]
        for m in (25, 25, 30, 20)
    ]
    criteria = Criterion.objects.bulk_create(
        [
            Criterion(
                competition=competition,
                code=code,
                name=name,
                max_points=pts,
                weight=pts,
                order=i,
                bands=bands[i],
                description=f"{name}：考察项目在该维度上的设计是否清晰、依据是否充分、措施是否可行。",
            )
            for i, (code, name, pts) in enumerate(
                [
                    ("targeting", "项目定位精准性", 25),
                    ("feasibility", "内容可行性", 25),
                    ("social_benefit", "社会效益", 30),
                    ("budget", "资金预算", 20),
                ]
            )
        ]
    )
    orgs = Organization.objects.bulk_create(
        [
            Organization(
                name=f"示范市晨曦第{i:02d}社会工作服务中心",
                uscc=f"52419900FINAL{i:05d}",
                org_type="social_service",
                registration_authority="示范市民政局",
                registration_date=date(2018, 5, 1),
                legal_representative="王法人",
                contact_person="李联系",
                mobile="13800138000",
                email=f"final{i}@example.org",
                address="示范市建设路1号",
                service_area="示范市",
                staff_count=12,
                past_projects="\n".join(f"{y}年 骑手驿站服务项目" for y in range(2019, 2025)),
                status=OrgStatus.VERIFIED,
            )
            for i in range(1, n + 1)
        ]
    )
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(
                competition=competition,
                organization=org,
                category=categories[i % len(categories)],
                title=f"“骑”心协力——新就业形态劳动者关爱服务项目{i + 1:02d}",
                target_group="外卖骑手、快递员",
                people_to_serve=800,
                service_area="示范市金水区、二七区",
                needs=TEXT * 4,
                objectives=TEXT * 2,
                activities="\n".join(f"第{k}阶段：{TEXT}" for k in range(1, 5)),
                team=TEXT * 2,
                period_start=competition.project_start_earliest,
                period_end=competition.project_start_earliest + timedelta(days=300),
                requested_amount=Decimal("120000.00"),
                cofunding_amount=Decimal("20000.00"),
                status=ProposalStatus.FINALIST,
                submitted_at=now - timedelta(days=31),
            )
            for i, org in enumerate(orgs)
        ]
    )
    BudgetLine.objects.bulk_create(
        [
            BudgetLine(
                proposal=p,
                category=budget_categories[k % 4],
                item=f"预算明细项目{k + 1}",
                unit="项",
                unit_price=Decimal("1000.00"),
                quantity=Decimal("10"),
                amount=Decimal("10000.00"),
                note="按实结算",
            )
            for p in proposals
            for k in range(12)
        ]
    )
    Milestone.objects.bulk_create(
        [
            Milestone(
                proposal=p,
                date=competition.project_start_earliest + timedelta(days=45 * k),
                title=f"第{k + 1}阶段完成",
                description="完成阶段性服务并提交进度报告",
            )
            for p in proposals
            for k in range(6)
        ]
    )
    Indicator.objects.bulk_create(
        [
            Indicator(proposal=p, name=f"服务指标{k + 1}", target=Decimal(100 * (k + 1)), unit="人次")
            for p in proposals
            for k in range(5)
        ]
    )
    Attachment.objects.bulk_create(
        [
            Attachment(proposal=p, file=f"bench/{p.pk}-{k}.pdf", original_name=f"附件{k + 1}.pdf", size=123456)
            for p in proposals
            for k in range(4)
        ]
    )
    users = User.objects.bulk_create(
        [User(username=f"final_judge{j}", role=Role.JUDGE, full_name=f"终评评委{j}") for j in range(1, n_judges + 1)]
    )
    judges = Judge.objects.bulk_create(
        [Judge(user=u, affiliation="示范大学社会工作学院", expertise="professor") for u in users]
    )
    panel = Panel.objects.create(competition=competition, stage=PanelStage.FINAL)
    panel.judges.set(judges)
    assignments = Assignment.objects.bulk_create(
        [Assignment(panel=panel, judge=j, proposal=p) for p in proposals for j in judges]
    )
    ConflictDeclaration.objects.bulk_create(
        [ConflictDeclaration(assignment=a, status=ConflictStatus.CLEAR) for a in assignments]
    )
    points = [Decimal("22"), Decimal("21.5"), Decimal("26"), Decimal("17")]
    sheets = ScoreSheet.objects.bulk_create(
        [
            ScoreSheet(
                assignment=a,
                status=SheetStatus.SUBMITTED,
                total=sum(points),
                submitted_at=now,
                comment="项目定位清晰，预算合理，建议加强与工会驿站的衔接。",
            )
            for a in assignments
        ]
    )
    Score.objects.bulk_create(
        [Score(sheet=s, criterion=c, points=x) for s in sheets for c, x in zip(criteria, points, strict=True)]
    )
    return competition, assignments[0], users[0]


def body(response):
    """The bytes of a response, of a streamed file (FileResponse) too."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def forget_exports():
    """The score matrix is written by a task and kept (venture.documents.score_matrix; the immediate backend runs it
    inside the request): forgotten before each request, so each is timed end to end."""
    from venture.documents.models import StoredDocument

    StoredDocument.objects.filter(kind="score_matrix").delete()


def measure(client, url, *, describe, before=lambda: None):
    """One cold request, then WARM timed ones: wall-clock time and this process's CPU time (the server runs in this
    process, so CPU time is the work of one request, less inflated than wall time on a loaded machine). ``before``
    runs before each request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before()
    start = time.perf_counter()
    response = client.get(url)
    cold = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    for _ in range(WARM):
        before()
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, url
    before()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    print(
        f"{describe(response)}\n    median of {WARM} warm: {statistics.median(wall):.3f} s wall "
        f"({', '.join(f'{t:.2f}' for t in wall)}; best {min(wall):.3f}), {statistics.median(cpu):.3f} s CPU; "
        f"cold {cold:.2f} s; "
        f"{len(queries)} queries; {len(body(response)) / 1024:.0f} KiB"
    )
    return statistics.median(wall)


def pdf_pages(response):
    import pypdf

    return len(pypdf.PdfReader(io.BytesIO(response.content)).pages)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--judges", type=int, default=15)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="venture-bench-"))
    try:
        configure(data_dir)
        import pandas as pd
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0, interactive=False)
        start = time.perf_counter()
        staff, big = build(args.proposals, args.judges)
        finals, assignment, judge_user = build_finalists()
        print(
            f"built in {time.perf_counter() - start:.1f} s (SQLite in {data_dir}); {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f} (figures are inflated when it is above the CPU count)"
        )

        client = Client()
        client.force_login(staff)
        measure(
            client,
            reverse("documents:blank_sheet", args=[finals.pk]),
            describe=lambda r: f"blank score sheet PDF: {pdf_pages(r)} page(s)  [target < 0.5 s]",
        )
        judge = Client()
        judge.force_login(judge_user)
        measure(
            judge,
            reverse("documents:filled_sheet", args=[assignment.pk]),
            describe=lambda r: f"filled score sheet PDF (the judge's own): {pdf_pages(r)} page(s)  [target < 0.5 s]",
        )
        measure(
            client,
            reverse("documents:finalists_book", args=[finals.pk]),
            describe=lambda r: f"application book of 12 finalists with contents: {pdf_pages(r)} pages  [target < 5 s]",
        )

        def matrix(response):
            sheets = pd.read_excel(io.BytesIO(body(response)), sheet_name=None)
            shapes = ", ".join(f"{name} {frame.shape[0]:,} x {frame.shape[1]}" for name, frame in sheets.items())
            return f"score matrix xlsx, {args.proposals} x {args.judges} x 4 through the view: {shapes}  [target < 2 s]"

        measure(client, reverse("documents:scores", args=[big.pk]), describe=matrix, before=forget_exports)
        measure(
            client,
            reverse("documents:scores", args=[big.pk]) + "?format=csv",
            describe=lambda r: f"score matrix csv: {body(r).count(NEWLINE) - 1:,} rows",
            before=forget_exports,
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
