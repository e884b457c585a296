"""Generate a round of any size with every stage populated, straight into the tables, for benchmarks and load tests.

    manage.py generate_round --proposals 500 --judges 15 --criteria 4 --funded 200 --ledger-rows 2000 [--seed N]

A national round (issue #20) adds the expert pre-scoring stage (初评/网评):

    manage.py generate_round --proposals 5000 --judges 60 --prescoring-k 5 --finalists 100 --final-judges 15 \
        --funded 2000 --ledger-rows 1000

every proposal is pre-scored by ``--prescoring-k`` of the ``--judges`` judges (the balanced, connected plan of
``judging.assignment``), the additive judge-effect pre-ranking (``judging.ranking``, the finalists page's) picks the
top ``--finalists``, who are scored by a final panel of ``--final-judges`` (the first of the same judges), and the
others are "not selected". A round funds only its finalists: when ``--funded`` is more than ``--finalists``, every
finalist is funded and the rest of the funded projects come from a first batch (第一批) of the same year, generated
first in the same way without pre-scoring (5 judges), so that the portfolio holds ``--funded`` projects.

What the services would have left behind, written with ``bulk_create`` in large batches (no per-row service call, no
per-row query): verified organizations with owner accounts, a round in stage "supervision" (categories, budget
categories, tranche plan, rubric, evaluation rubrics, checklist), proposals with budget lines, milestones, indicators
and their timeline, the screening record, a final panel in which every judge scored every proposal (all proposals
are finalists: proposals x judges x criteria score rows), the roadshow order, a frozen and signed-off ResultSnapshot
computed by ``venture.results.services`` (so ``verify`` holds), awards, the closed public notice, grant agreements and
the funded projects of the top ``--funded`` by rank with their approved budget, tranches, report schedule and
``--ledger-rows`` expenditure rows each, site visits, rectifications, evaluations and beneficiary feedback.

Dates are relative to today: the funded projects started about five months ago, so reports are due, the mid-term
evaluation is done and the ledger runs up to today. The demo (``manage.py demo_data``) goes through the services
instead and stays small. Refuses production settings like the demo.
"""

import hashlib
import itertools
import math
import random
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from judging import ranking as judging_ranking
from judging import scoring
from judging.assignment import plan_assignment
from judging.models import (
    Assignment,
    ConflictDeclaration,
    ConflictEntry,
    ConflictEntryKind,
    ConflictStatus,
    Criterion,
    Judge,
    Panel,
    PanelStage,
    Roadshow,
    RoadshowPhase,
    RoadshowSlot,
    Score,
    ScoreSheet,
    SheetStatus,
)
from venture.accounts.models import Role, User
from venture.audit.services import record, unfollowed
from venture.awards import services as awards
from venture.awards.models import (
    Award,
    AwardGrade,
    AwardStatus,
    GrantAgreement,
    Objection,
    ObjectionStatus,
    PublicNotice,
)
from venture.awards.workdays import add_working_days
from venture.competitions.models import (
    BudgetCategory,
    Category,
    Competition,
    FundingRule,
    Stage,
    TrancheCondition,
    TranchePlanItem,
)
from venture.demo.builder import (
    BUDGET_CATEGORIES,
    CATEGORIES,
    CHECKLIST,
    COMMENTS,
    DEMO_PASSWORD,
    DISTRICTS,
    JUDGES,
    ORG_SUFFIX,
    ORG_WORDS,
    PROJECTS,
    RUBRIC,
    _budget_lines,
    check_allowed,
    make_uscc,
    mobile,
    person_name,
)
from venture.organizations.models import Membership, Organization, OrgStatus
from venture.proposals.models import BudgetLine, Indicator, Milestone, Proposal, ProposalStatus, StatusChange
from venture.results import services as results
from venture.results.models import ResultSnapshot
from venture.screening.models import ChecklistItem, CheckResult, FinalistDecision
from venture.supervision.ledger import refresh_totals
from venture.supervision.models import (
    ApprovedLine,
    BudgetRevision,
    CategorySpend,
    Evaluation,
    EvaluationCriterion,
    EvaluationKind,
    Expenditure,
    Feedback,
    FundedProject,
    IndicatorProgress,
    MonthlySpend,
    ProgressReport,
    ProjectIndicator,
    ProjectMilestone,
    ProjectStatus,
    Rectification,
    RectificationStatus,
    ReportActivity,
    ReportStatus,
    RevisionKind,
    SiteVisit,
    Tranche,
)
from venture.supervision.services import REPORT_GRACE_DAYS, report_periods

BATCH = 5000  # Django lowers it further where the database limits the parameters of one statement (SQLite: 999)
CENT = Decimal("0.01")
S = ProposalStatus

DEFAULT_TITLE = "示范省总工会{year}年新就业形态劳动者服务项目公益创投大赛（生成）"
# A provincial round: organizations from several (invented) cities of an invented province.
PROVINCE = "示范省"
CITIES = ["示范市", "东岭市", "西川市", "南湖市", "北原市", "临江市", "云台市", "青山市"]
MORE_CRITERIA = [
    ("sustainability", "可持续性", "项目结束后服务能否延续，是否形成可复制的模式。"),
    ("innovation", "创新性", "服务方式是否有新意，是否回应新就业形态劳动者的新需求。"),
    ("team", "团队能力", "项目团队的专业资质、同类项目经验与人员稳定性。"),
    ("partnership", "资源整合", "与工会、社区、平台企业等合作资源的落实程度。"),
    ("risk", "风险管理", "安全、舆情与执行风险的识别和应对措施。"),
    ("union_link", "工会协同", "与各级工会阵地（驿站、职工之家）的衔接。"),
]
EVALUATION_RUBRIC = {
    EvaluationKind.MIDTERM: [("项目执行进度", 30), ("资金使用规范", 30), ("服务成效", 25), ("档案管理", 15)],
    EvaluationKind.FINAL: [("目标达成情况", 40), ("资金管理", 25), ("社会影响", 20), ("可持续性", 15)],
}
GRADES = ["一等资助", "二等资助", "三等资助"]
PAYEES = [
    "示范物资供应有限公司",
    "城市印务中心",
    "便民文具店",
    "安途出行服务公司",
    "社区活动中心",
    "律师事务所",
    "讲师个人",
    "社工个人",
    "餐饮服务店",
    "快印广告部",
]
SPENDING = {  # budget category -> ledger descriptions
    "人员经费": ["项目社工补贴", "项目助理劳务费", "督导补贴"],
    "活动经费": ["活动场地租用", "活动物资采购", "服务对象茶歇", "保险费"],
    "专家劳务费": ["律师咨询费", "讲师授课费", "心理咨询师劳务费"],
    "宣传及物料费": ["宣传折页印刷", "服务手册印制", "横幅海报制作"],
    "交通差旅费": ["外展服务交通费", "下站点交通补贴"],
    "管理费": ["财务审计费", "办公耗材", "通讯费"],
}
VISIT_FINDINGS = [
    ("服务台账与签到表不完整，部分活动缺少照片记录。", "补齐服务台账、签到表与活动照片"),
    ("部分支出凭证缺少经办人签字。", "补签支出凭证并建立报销审核流程"),
    ("活动频次低于计划进度。", "调整活动排期，下月内补足服务场次"),
    ("受益人满意度回访未开展。", "开展受益人电话回访并提交回访记录"),
]
FEEDBACK = [
    "活动很实用，希望多办几期。",
    "律师讲得很清楚，解决了我的问题。",
    "时间安排在晚上很方便。",
    "",
    "孩子很喜欢托管班。",
    "希望站点能离得更近一些。",
]


def _money(x):
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def _aware(day, hour=9):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour), timezone.get_fixed_timezone(8 * 60))


def _add_months(day, months):
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


class Phases:
    """Prints the time of each phase as it ends: wall time, and this process's CPU time (on a busy machine the wall
    time also holds the waits for a core; what is neither is the database server's work)."""

    def __init__(self, out):
        self.out, self.start, self.last = out, time.perf_counter(), time.perf_counter()
        self.last_cpu = time.process_time()

    def done(self, label, rows=None):
        now, cpu = time.perf_counter(), time.process_time()
        counts = f" ({rows:,} rows)" if rows is not None else ""
        self.out(f"  {label:<58}{now - self.last:6.2f} s  cpu {cpu - self.last_cpu:6.2f} s{counts}")
        self.last, self.last_cpu = now, cpu

    def total(self):
        return time.perf_counter() - self.start


def bulk(model, objects, batch_size=BATCH):
    return model.objects.bulk_create(objects, batch_size=batch_size)


# The ledger's columns in the order of the rows that Generator.ledger builds.
LEDGER_FIELDS = [
    "project",
    "category",
    "line",
    "created_by",
    "created_at",
    "receipt",
    "date",
    "amount",
    "payee",
    "description",
    "voucher_no",
]


def insert_rows(model, fields, rows):
    """Rows of one tall table, each a line of text: its values in the order of ``fields``, separated by tabs (none
    holds a tab, a newline or a backslash), inserted in batches. For the expenditure ledger only: bulk_create builds a
    model instance and compiles one parameter per value, which for 2 million rows x 11 columns takes minutes of
    Python. PostgreSQL reads the lines as they are with COPY, the table's own indexes and foreign keys set aside
    meanwhile (its indexes only when it holds fewer rows than come; see ``_loading``). SQLite reuses one prepared statement (executemany) with the values as text: it
    stores the text of a decimal or a date as Django's adapters would give it."""
    meta, qn = model._meta, connection.ops.quote_name
    table = qn(meta.db_table)
    columns = ", ".join(qn(meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Setting the indexes aside pays when the table grows several times over (the first batch's ledger, or
            # a round in a fresh database); a smaller addition (the national round's after its first batch) goes
            # through them, rather than rebuilding them over every row already there.
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS t", [len(rows)])
            growing = cursor.fetchone()[0] < len(rows)
            with (
                _loading(cursor, meta.db_table, indexes=growing),
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for i in range(0, len(rows), BATCH * 10):
                    copy.write("".join(rows[i : i + BATCH * 10]))
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        for i in range(0, len(rows), BATCH):
            cursor.executemany(sql, [row[:-1].split("\t") for row in rows[i : i + BATCH]])


@contextmanager
def _loading(cursor, table, indexes=True):
    """PostgreSQL's advice for populating a table (its manual, "Populating a Database"): drop the table's foreign
    keys and its indexes that back no constraint, load, then create the indexes and add the foreign keys again,
    exactly as they were (same names and definitions, read from the catalog). Each index is then built in one sort
    and each foreign key checked by one join, instead of an index insertion per row and index and a deferred
    trigger per row and key queued until the commit (for 2 million rows that queue alone took minutes). With
    ``indexes=False`` only the foreign keys are set aside.
    Inside the generator's transaction: the table is locked until the commit and a failure rolls it all back."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    keys = cursor.fetchall()
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        " ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall() if indexes else []
    qn = connection.ops.quote_name
    # Dropping a foreign key alters the table it references too, which PostgreSQL refuses while checks of rows
    # inserted earlier in the transaction wait for the commit: run those checks now, then defer again.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each index sorted in memory (the default is 64MB)
    for name, _definition in keys:
        cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {qn(name)}")
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in keys:
        cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")


def refresh_round_totals(competition_id):
    """What ``venture.supervision.ledger.refresh_totals`` leaves behind for every funded project of the round, on
    PostgreSQL computed set-wise: one grouped pass over the round's ledger per kind of total (per project, per line,
    per budget category, per month), written by UPDATE … FROM and INSERT … SELECT, instead of Python dictionaries
    and a CASE expression per row (the refresh of 2,000 projects' 2 million rows took half a minute).
    ``ledger.differences()`` finds nothing afterwards (tests/venture/test_generate_round.py, on both databases)."""
    qn = connection.ops.quote_name
    project, line, entry = (qn(m._meta.db_table) for m in (FundedProject, ApprovedLine, Expenditure))
    by_category, by_month = qn(CategorySpend._meta.db_table), qn(MonthlySpend._meta.db_table)
    ledger = f"{entry} e JOIN {project} p ON p.id = e.project_id AND p.competition_id = %s"
    of_round = f"project_id IN (SELECT id FROM {project} WHERE competition_id = %s)"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # each grouping hashed in memory
        cursor.execute(
            f"UPDATE {project} SET spent_total = 0, first_spent_on = NULL, last_spent_on = NULL "
            "WHERE competition_id = %s",
            [competition_id],
        )
        cursor.execute(
            f"UPDATE {project} SET spent_total = t.spent, first_spent_on = t.first, last_spent_on = t.last "
            f"FROM (SELECT e.project_id, SUM(e.amount) AS spent, MIN(e.date) AS first, MAX(e.date) AS last "
            f"FROM {ledger} GROUP BY e.project_id) t WHERE {project}.id = t.project_id",
            [competition_id],
        )
        cursor.execute(f"UPDATE {line} SET spent = 0 WHERE {of_round}", [competition_id])
        cursor.execute(
            f"UPDATE {line} SET spent = t.spent FROM (SELECT e.line_id, SUM(e.amount) AS spent FROM {ledger} "
            f"WHERE e.line_id IS NOT NULL GROUP BY e.line_id) t WHERE {line}.id = t.line_id",
            [competition_id],
        )
        cursor.execute(f"DELETE FROM {by_category} WHERE {of_round}", [competition_id])
        cursor.execute(
            f"INSERT INTO {by_category} (project_id, category_id, amount) SELECT e.project_id, e.category_id, "
            f"SUM(e.amount) FROM {ledger} GROUP BY e.project_id, e.category_id",
            [competition_id],
        )
        cursor.execute(f"DELETE FROM {by_month} WHERE {of_round}", [competition_id])
        cursor.execute(
            f"INSERT INTO {by_month} (project_id, month, amount) SELECT e.project_id, "
            f"date_trunc('month', e.date)::date, SUM(e.amount) FROM {ledger} "
            "GROUP BY e.project_id, date_trunc('month', e.date)",
            [competition_id],
        )


class Command(BaseCommand):
    help = (
        "Generate a round of any size with every stage populated (bulk inserts), for benchmarks. "
        "Refuses production settings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--proposals", type=int, default=500, help="proposals, all finalists (default 500)")
        parser.add_argument("--judges", type=int, default=15, help="judges of the final panel (default 15)")
        parser.add_argument("--criteria", type=int, default=4, help="criteria of the rubric, 1-20 (default 4)")
        parser.add_argument("--funded", type=int, default=200, help="funded projects, top by rank (default 200)")
        parser.add_argument(
            "--ledger-rows", type=int, default=2000, help="expenditure rows per funded project (default 2000)"
        )
        parser.add_argument(
            "--prescoring-k",
            type=int,
            default=0,
            help="pre-scoring: judges per proposal, of --judges (default 0: no pre-scoring, all are finalists)",
        )
        parser.add_argument(
            "--finalists",
            type=int,
            default=0,
            help="finalists, the top of the pre-scoring ranking (default 0: every proposal; needs --prescoring-k)",
        )
        parser.add_argument(
            "--final-judges",
            type=int,
            default=0,
            help="judges of the final panel when there is pre-scoring, the first of --judges (default: --judges)",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--title", default="", help="round title (default: a provincial round of this year)")
        parser.add_argument(
            "--prefix",
            default="gen",
            help="username prefix: <prefix>_staff, <prefix>_auditor, <prefix>_supervisor1, "
            "<prefix>_judge01, <prefix>_applicant0001 (default gen)",
        )
        parser.add_argument("--password", default=DEMO_PASSWORD, help=f"password of every account ({DEMO_PASSWORD})")

    def handle(self, *args, **o):
        try:
            check_allowed()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if o["proposals"] < 1 or not 1 <= o["criteria"] <= 20:
            raise CommandError("--proposals must be at least 1 and --criteria between 1 and 20.")
        if o["judges"] < 3:
            raise CommandError("--judges must be at least 3 (the trimmed mean drops one total at each end).")
        if not 0 <= o["funded"] <= o["proposals"] or o["ledger_rows"] < 0:
            raise CommandError("--funded must be between 0 and --proposals, and --ledger-rows not negative.")
        k = o["prescoring_k"]
        if not 0 <= k <= o["judges"]:
            raise CommandError("--prescoring-k must be between 0 and --judges.")
        if o["finalists"] and not k and o["finalists"] != o["proposals"]:
            raise CommandError("--finalists needs --prescoring-k: the finalists are the top of the pre-scoring.")
        o["finalists"] = o["finalists"] or o["proposals"]
        if not 1 <= o["finalists"] <= o["proposals"]:
            raise CommandError("--finalists must be between 1 and --proposals.")
        o["final_judges"] = o["final_judges"] or o["judges"]
        if o["final_judges"] < 3:
            raise CommandError("--final-judges must be at least 3 (the trimmed mean drops one total at each end).")
        # A round funds only its finalists; the others funded come from a first batch of the same year.
        first_batch = max(0, o["funded"] - o["finalists"])
        prefix = o["prefix"]
        if User.objects.filter(username__startswith=f"{prefix}_").exists():
            raise CommandError(f"Accounts named {prefix}_… exist already; choose another --prefix.")
        out = self.stdout.write
        phases = Phases(out)
        if first_batch:
            batch = {
                **o,
                "proposals": first_batch,
                "judges": 5,
                "final_judges": 5,
                "prescoring_k": 0,
                "finalists": first_batch,
                "funded": first_batch,
                "seed": o["seed"] + 1,
                "title": (o["title"] or DEFAULT_TITLE.format(year=Generator.start_of(timezone.localdate()).year))
                + "（第一批）",
                "prefix": f"{prefix}_b1",
            }
            out(
                f"First batch: {first_batch} proposals x 5 judges x {o['criteria']} criteria, all funded with "
                f"{o['ledger_rows']} ledger rows each (seed {batch['seed']}):"
            )
            with transaction.atomic():
                Generator(batch, phases).run()
            phases.done("commit (deferred foreign-key checks)")
            o = {**o, "funded": o["funded"] - first_batch}
        if o["prescoring_k"]:
            out(
                f"Generating {o['proposals']} proposals pre-scored by {o['prescoring_k']} of {o['judges']} judges, "
                f"{o['finalists']} finalists x {o['final_judges']} judges x {o['criteria']} criteria, "
                f"{o['funded']} funded with {o['ledger_rows']} ledger rows each (seed {o['seed']}):"
            )
        else:
            out(
                f"Generating {o['proposals']} proposals x {o['judges']} judges x {o['criteria']} criteria, "
                f"{o['funded']} funded with {o['ledger_rows']} ledger rows each (seed {o['seed']}):"
            )
        with transaction.atomic():
            generator = Generator(o, phases)
            competition = generator.run()
        phases.done("commit (deferred foreign-key checks)")
        if connection.vendor == "postgresql":
            # Fresh statistics for the tables just loaded: until autovacuum gets to them the planner guesses row
            # counts (49 where there are 25,000 sheets) and picks nested loops; the score-matrix query took 0.9 s
            # instead of 0.5 s on the national round.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            phases.done("statistics (ANALYZE)")
        out(
            self.style.SUCCESS(
                f"Round “{competition.title}” (id {competition.pk}) generated in {phases.total():.1f} s."
            )
        )
        out(
            f"Logins (password {o['password']}): {prefix}_staff, {prefix}_auditor, {prefix}_supervisor1, "
            f"{prefix}_judge01…{prefix}_judge{max(o['judges'], o['final_judges']):02d}, {prefix}_applicant0001…"
            f"{prefix}_applicant{o['proposals']:04d}"
        )


class Generator:
    def __init__(self, options, phases):
        self.o = options
        self.phases = phases
        self.rng = random.Random(options["seed"])
        self.np = np.random.default_rng(options["seed"])
        self.today = timezone.localdate()
        self.now = timezone.now()
        # The calendar of the round, backwards from projects that started about five months ago.
        self.start = self.start_of(self.today)
        self.closes = self.start - timedelta(days=105)
        self.opens = self.closes - timedelta(days=45)
        self.screened = self.closes + timedelta(days=10)
        self.roadshow = self.closes + timedelta(days=30)
        self.frozen = self.roadshow + timedelta(days=1)
        self.notice_start = self.roadshow + timedelta(days=3)
        self.signed = self.start - timedelta(days=7)
        self.password = make_password(options["password"])  # hashed once for every account

    @staticmethod
    def start_of(today):
        return _add_months(today, -5)

    def run(self):
        self.people()
        self.round()
        self.organizations()
        self.proposals()
        self.screening()
        self.prescoring()
        self.finalist_decision()
        self.final_review()
        self.results()
        self.awards()
        self.projects()
        self.ledger()
        self.oversight()
        return self.competition

    # --- People and the round -------------------------------------------------------------------------------------

    def _user(self, username, role, full_name, **extra):
        return User(
            username=username,
            role=role,
            full_name=full_name,
            email=f"{username}@generated.invalid",
            password=self.password,
            **extra,
        )

    def people(self):
        p, n = self.o["prefix"], max(self.o["judges"], self.o.get("final_judges") or 0)
        supervisors = max(1, math.ceil(self.o["funded"] / 25))
        users = [
            self._user(f"{p}_staff", Role.STAFF, "赵工会（生成）", is_staff=True),
            self._user(f"{p}_auditor", Role.AUDITOR, "钱监督（生成）"),
        ]
        users += [
            self._user(f"{p}_supervisor{i}", Role.SUPERVISOR, person_name(self.rng)) for i in range(1, supervisors + 1)
        ]
        users += [self._user(f"{p}_judge{i:02d}", Role.JUDGE, person_name(self.rng)) for i in range(1, n + 1)]
        users = bulk(User, users)
        self.staff, self.auditor = users[0], users[1]
        self.supervisors = users[2 : 2 + supervisors]
        judge_users = users[2 + supervisors :]
        self.judges = bulk(
            Judge,
            [
                Judge(
                    user=u,
                    title=JUDGES[i % len(JUDGES)][0],
                    affiliation=JUDGES[i % len(JUDGES)][1],
                    expertise=JUDGES[i % len(JUDGES)][2],
                    phone=mobile(self.rng),
                )
                for i, u in enumerate(judge_users)
            ],
        )
        self.final_judges = self.judges[: self.o.get("final_judges") or self.o["judges"]]
        self.phases.done("staff, auditor, supervisors, judges", len(users) + len(self.judges))

    def _rubric(self):
        """``--criteria`` lines whose weights add up to 100 (max points = weight), the demo's four first."""
        k = self.o["criteria"]
        pool = [(code, name, points, description) for code, name, points, description, _b in RUBRIC]
        pool += [(code, name, 20, description) for code, name, description in MORE_CRITERIA]
        pool += [(f"c{i + 1}", f"评分项{i + 1}", 20, "") for i in range(len(pool), k)]
        chosen = pool[:k]
        raw = [points for _c, _n, points, _d in chosen]
        weights = [max(1, math.floor(100 * w / sum(raw))) for w in raw]
        weights[raw.index(max(raw))] += 100 - sum(weights)
        return [
            (code, name, weight, description)
            for (code, name, _p, description), weight in zip(chosen, weights, strict=True)
        ]

    def round(self):
        title = self.o["title"] or DEFAULT_TITLE.format(year=self.start.year)
        c = self.competition = Competition.objects.create(
            title=title,
            year=self.start.year,
            organizer=f"{PROVINCE}总工会",
            description=(
                "## 项目背景\n\n全省范围征集服务外卖骑手、快递员、网约车司机、货车司机、家政服务员等新就业形态"
                "劳动者的公益服务项目。\n\n## 评审方式\n\n初审 → 项目路演 + 现场答辩 → 评审小组综合评分"
                "（去掉一个最高分和一个最低分后取平均）→ 公示 5 个工作日。\n"
            ),
            fund_pool=Decimal("0"),  # set to the funded projects' total once the ranking is known
            min_grant=Decimal("50000.00"),
            max_grant=Decimal("150000.00"),
            opens_at=_aware(self.opens),
            closes_at=_aware(self.closes, 17),
            finalist_quota=self.o.get("finalists") or self.o["proposals"],
            project_start_earliest=self.start,
            project_end_latest=_add_months(self.start, 12) - timedelta(days=1),
            min_project_months=6,
            max_project_months=12,
            notice_working_days=5,
            funding_rule=FundingRule.STOP,
            stage=Stage.SUPERVISION,
        )
        self.categories = bulk(
            Category, [Category(competition=c, name=name, order=i) for i, name in enumerate(CATEGORIES)]
        )
        self.budget_categories = bulk(
            BudgetCategory,
            [
                BudgetCategory(competition=c, name=name, cap_percent=cap, is_management_fee=mgmt, order=i)
                for i, (name, cap, mgmt) in enumerate(BUDGET_CATEGORIES)
            ],
        )
        self.tranche_plan = bulk(
            TranchePlanItem,
            [
                TranchePlanItem(competition=c, order=i, percent=Decimal(pct), condition=cond)
                for i, (pct, cond) in enumerate(
                    [(50, TrancheCondition.SIGNING), (30, TrancheCondition.MIDTERM), (20, TrancheCondition.FINAL)],
                    start=1,
                )
            ],
        )
        rubric = self._rubric()
        self.criteria = bulk(
            Criterion,
            [
                Criterion(
                    competition=c,
                    code=code,
                    name=name,
                    description=description,
                    max_points=Decimal(weight),
                    weight=Decimal(weight),
                    order=i,
                    bands=[
                        {"min": math.ceil(weight * lo), "max": math.floor(weight * hi), "label": label}
                        for lo, hi, label in [
                            (0.84, 1, "优秀"),
                            (0.64, 0.8, "良好"),
                            (0.4, 0.6, "一般"),
                            (0, 0.36, "较差"),
                        ]
                    ],
                )
                for i, (code, name, weight, description) in enumerate(rubric)
            ],
        )
        codes = [code for code, *_rest in rubric]
        c.tiebreak_criterion = "social_benefit" if "social_benefit" in codes else codes[0]
        c.save(update_fields=["tiebreak_criterion"])
        self.evaluation_criteria = {
            kind: bulk(
                EvaluationCriterion,
                [
                    EvaluationCriterion(competition=c, kind=kind, name=name, max_points=Decimal(points), order=i)
                    for i, (name, points) in enumerate(items)
                ],
            )
            for kind, items in EVALUATION_RUBRIC.items()
        }
        self.checklist = bulk(
            ChecklistItem, [ChecklistItem(competition=c, text=t, order=i) for i, t in enumerate(CHECKLIST)]
        )
        self.grades = bulk(AwardGrade, [AwardGrade(competition=c, name=n, order=i) for i, n in enumerate(GRADES)])
        self.phases.done("round, rubric, budget categories, tranche plan")

    # --- Organizations and proposals ------------------------------------------------------------------------------

    def _org_names(self, count):
        """Unique names: city x word x suffix, then with a district, then numbered; never one already in use."""
        taken = set(Organization.objects.values_list("name", flat=True))
        for level in itertools.count():
            combos = list(itertools.product(CITIES, ORG_WORDS, ORG_SUFFIX))
            self.rng.shuffle(combos)
            for city, word, suffix in combos:
                if level == 0:
                    name = f"{city}{word}{suffix[0]}"
                elif level <= len(DISTRICTS):
                    name = f"{city}{DISTRICTS[level - 1]}{word}{suffix[0]}"
                else:
                    name = f"{city}{word}{suffix[0]}（{level - len(DISTRICTS) + 1}）"
                if name not in taken:
                    taken.add(name)
                    yield name, city, suffix
                    count -= 1
                    if count == 0:
                        return

    def organizations(self):
        n, rng = self.o["proposals"], self.rng
        usccs = set(Organization.objects.values_list("uscc", flat=True))
        orgs, contacts = [], []
        for i, (name, city, (_s, org_type, dept, cat)) in enumerate(self._org_names(n), start=1):
            uscc = make_uscc(rng, dept, cat)
            while uscc in usccs:
                uscc = make_uscc(rng, dept, cat)
            usccs.add(uscc)
            contact = person_name(rng)
            contacts.append(contact)
            district = rng.choice(DISTRICTS)
            orgs.append(
                Organization(
                    name=name,
                    uscc=uscc,
                    org_type=org_type,
                    registration_authority=f"{city}民政局",
                    registration_date=date(2010 + i % 14, 1 + i % 12, 1 + i % 27),
                    legal_representative=person_name(rng),
                    contact_person=contact,
                    mobile=mobile(rng),
                    email=f"contact{i}@generated-ngo.invalid",
                    address=f"{city}{district}{rng.choice(['建设路', '文化路', '花园路', '人民路', '友爱街'])}"
                    f"{rng.randint(1, 300)}号",
                    service_area=f"{city}{district}",
                    staff_count=rng.randint(3, 45),
                    past_projects="2024年承接区总工会“暖蜂驿站”运营项目；2025年开展新就业形态劳动者关爱服务。",
                    status=OrgStatus.VERIFIED,
                    verified_at=self.now - timedelta(days=400),
                )
            )
        self.orgs = bulk(Organization, orgs, batch_size=1000)
        p = self.o["prefix"]
        owners = bulk(
            User,
            [
                self._user(f"{p}_applicant{i:04d}", Role.APPLICANT, contact, mobile=org.mobile)
                for i, (org, contact) in enumerate(zip(self.orgs, contacts, strict=True), start=1)
            ],
            batch_size=1000,
        )
        bulk(
            Membership,
            [Membership(organization=org, user=u, is_owner=True) for org, u in zip(self.orgs, owners, strict=True)],
        )
        self.owners = {org.pk: u for org, u in zip(self.orgs, owners, strict=True)}
        self.phases.done("organizations (verified) and owner accounts", 3 * n)

    def proposals(self):
        rng, c = self.rng, self.competition
        proposals, lines, milestones, indicators = [], [], [], []
        for i, org in enumerate(self.orgs):
            category = self.categories[i % len(self.categories)]
            title_base, target_group, activities = PROJECTS[category.name][(i // len(self.categories)) % 5]
            end = _add_months(self.start, 12 if rng.random() < 0.7 else 9) - timedelta(days=1)
            submitted = _aware(self.closes, 17) - timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 600))
            p = Proposal(
                competition=c,
                organization=org,
                category=category,
                title=f"{title_base}（{org.service_area}）",
                target_group=target_group,
                people_to_serve=rng.randrange(80, 1200, 10),
                service_area=org.service_area,
                needs=(
                    f"据本组织对{org.service_area}{rng.randint(200, 800)}名{target_group}的问卷调查，"
                    f"{rng.randint(40, 80)}%的受访者表示在相关领域缺乏可及的服务，"
                    "工作时间长、流动性强，难以参加常规时段的服务活动。"
                ),
                objectives=f"在项目周期内为{target_group}提供{activities.split('、')[0]}等服务，提升获得感与归属感。",
                activities=activities.replace("、", "；\n"),
                team=f"项目负责人{org.contact_person}（中级社工师），专职社工2名，志愿者{rng.randint(5, 30)}名。",
                period_start=self.start,
                period_end=end,
                cofunding_amount=_money(rng.choice([0, 0, 5000, 10000, 20000])),
                status=S.FINALIST,
                submitted_at=submitted,
                updated_by=None,
            )
            own = _budget_lines(rng, p, self.budget_categories, rng.randrange(60000, 138000, 500))
            p.requested_amount = sum((line.amount for line in own), Decimal("0"))
            lines += own
            milestones += [
                Milestone(proposal=p, date=self.start + timedelta(days=30), title="完成需求调研与服务对象招募"),
                Milestone(proposal=p, date=self.start + timedelta(days=120), title="完成中期服务与中期评估"),
                Milestone(proposal=p, date=end - timedelta(days=15), title="完成结项总结与成果展示"),
            ]
            indicators += [
                Indicator(proposal=p, name="服务人次", target=Decimal(p.people_to_serve * 3), unit="人次"),
                Indicator(proposal=p, name="开展活动", target=Decimal(rng.randint(12, 40)), unit="场"),
                Indicator(proposal=p, name="服务满意度", target=Decimal("90"), unit="%"),
            ]
            proposals.append(p)
        self.proposals = bulk(Proposal, proposals, batch_size=1000)
        bulk(BudgetLine, lines)
        bulk(Milestone, milestones)
        bulk(Indicator, indicators)
        self.lines = {}
        for line in lines:
            self.lines.setdefault(line.proposal_id, []).append(line)
        self.phases.done(
            "proposals, budget lines, milestones, indicators",
            len(proposals) + len(lines) + len(milestones) + len(indicators),
        )

    # --- Screening and the final review ---------------------------------------------------------------------------

    def screening(self):
        """Everyone eligible (checklist passed)."""
        bulk(
            CheckResult,
            [
                CheckResult(proposal=p, item=item, passed=True, by=self.staff)
                for p in self.proposals
                for item in self.checklist
            ],
        )
        self.phases.done("screening checklist", len(self.proposals) * len(self.checklist))

    def _sheets(self, panel, pairs, quality, lenience, now):
        """Assignments (proposal index, judge index) of one panel, declared clear, with submitted sheets whose points
        come from a latent quality per proposal and a leniency per judge, whole points on each criterion's scale.
        Returns the number of rows written."""
        bulk(
            Panel.judges.through,
            [
                Panel.judges.through(panel_id=panel.pk, judge_id=self.judges[ji].pk)
                for ji in sorted({j for _p, j in pairs})
            ],
        )
        assignments = bulk(
            Assignment,
            [Assignment(panel=panel, judge=self.judges[ji], proposal=self.proposals[pi]) for pi, ji in pairs],
        )
        declarations = bulk(
            ConflictDeclaration, [ConflictDeclaration(assignment=a, status=ConflictStatus.CLEAR) for a in assignments]
        )
        bulk(
            ConflictEntry,
            [
                ConflictEntry(
                    declaration=d,
                    panel=panel,
                    judge_id=a.judge_id,
                    proposal_id=a.proposal_id,
                    kind=ConflictEntryKind.DECLARED_CLEAR,
                    status=ConflictStatus.CLEAR,
                    by_id=a.judge.user_id,
                    at=now,
                )
                for a, d in zip(assignments, declarations, strict=True)
            ],
        )
        maxima = np.array([float(k.max_points) for k in self.criteria])
        p_index = np.array([pi for pi, _j in pairs])
        j_index = np.array([ji for _p, ji in pairs])
        level = quality[p_index, None] + lenience[j_index, None] + self.np.normal(0, 0.05, (len(pairs), len(maxima)))
        points = np.rint(maxima * np.clip(level, 0.3, 0.98)).astype(int)  # assignments x criteria
        totals = points.sum(axis=1)  # max points = weight: the weighted total is the sum of points
        sheets = bulk(
            ScoreSheet,
            [
                ScoreSheet(
                    assignment=a,
                    status=SheetStatus.SUBMITTED,
                    total=Decimal(int(total)),
                    submitted_at=now,
                    comment=COMMENTS["high" if total >= 85 else "mid" if total >= 65 else "low"],
                )
                for a, total in zip(assignments, totals.tolist(), strict=True)
            ],
        )
        criteria = self.criteria
        bulk(
            Score,
            [
                Score(sheet=sheet, criterion=k, points=Decimal(value))
                for sheet, row in zip(sheets, points.tolist(), strict=True)
                for k, value in zip(criteria, row, strict=True)
            ],
        )
        return 4 * len(assignments) + len(sheets) * len(criteria)

    def prescoring(self):
        """Expert pre-scoring (初评): each proposal scored by k of the judges, on the balanced connected plan of
        judging.assignment; then the additive judge-effect pre-ranking ranks them (judging.ranking)."""
        n_p = len(self.proposals)
        self.quality = self.np.uniform(0.5, 0.92, size=n_p)  # latent quality, shared by both stages
        k = self.o.get("prescoring_k") or 0
        if not k:
            self.finalists, self.prescored = list(self.proposals), None
            return
        c = self.competition
        panel = Panel.objects.create(competition=c, stage=PanelStage.PRESCORING)
        judges = self.judges[: self.o["judges"]]
        plan = plan_assignment(range(n_p), range(len(judges)), k=k, seed=self.o["seed"])
        self.phases.done(f"pre-scoring plan ({k} of {len(judges)} judges per proposal)", n_p * k)
        lenience = self.np.uniform(-0.07, 0.07, size=len(judges))
        pairs = [(pi, ji) for pi in range(n_p) for ji in plan[pi]]
        rows = self._sheets(panel, pairs, self.quality, lenience, _aware(self.screened + timedelta(days=8), 18))
        self.phases.done("pre-scoring: assignments, declarations, sheets, scores", rows)
        table = judging_ranking.compute(c, PanelStage.PRESCORING).table.sort_values("rank", kind="stable")
        self.prescored = table
        chosen = {int(pid) for pid in table.index[: self.o["finalists"]]}
        self.finalists = [p for p in self.proposals if p.pk in chosen]
        self.phases.done("pre-ranking (additive judge-effect model)", len(table))

    def finalist_decision(self):
        """The recorded finalist decision (with the pre-ranking it was taken from) and the timeline up to it."""
        c = self.competition
        finalists = {p.pk for p in self.finalists}
        ranking = []
        if self.prescored is not None:
            ranking = [
                {"proposal": int(pid), "rank": int(row["rank"]), "score": round(float(row["score"]), 2)}
                for pid, row in zip(self.prescored.index, self.prescored.to_dict("records"), strict=True)
            ]
        decision = FinalistDecision.objects.create(
            competition=c,
            decided_by=self.staff,
            source="初评（评委效应加性模型）排名前列项目进入路演终评"
            if self.prescored is not None
            else "初审合格项目全部进入路演终评",
            ranking=ranking,
            note="",
        )
        bulk(
            FinalistDecision.finalists.through,
            [
                FinalistDecision.finalists.through(finalistdecision_id=decision.pk, proposal_id=p.pk)
                for p in self.finalists
            ],
        )
        if len(finalists) < len(self.proposals):
            Proposal.objects.filter(competition=c).exclude(pk__in=finalists).update(status=S.NOT_SELECTED)
        bulk(
            StatusChange,
            [
                StatusChange(
                    proposal=p,
                    status=status,
                    by=self.owners[p.organization_id] if status == S.SUBMITTED else self.staff,
                )
                for p in self.proposals
                for status in (S.SUBMITTED, S.ELIGIBLE, S.FINALIST if p.pk in finalists else S.NOT_SELECTED)
            ],
        )
        self.phases.done("finalist decision and timeline", len(self.proposals) * 3 + len(self.finalists))

    def final_review(self):
        c, now = self.competition, _aware(self.roadshow, 16)
        panel = Panel.objects.create(competition=c, stage=PanelStage.FINAL)
        index = {p.pk: i for i, p in enumerate(self.proposals)}
        n_j = len(self.final_judges)
        pairs = [(index[p.pk], ji) for p in self.finalists for ji in range(n_j)]
        lenience = self.np.uniform(-0.07, 0.07, size=n_j)
        rows = self._sheets(panel, pairs, self.quality, lenience, now)
        rng = self.rng
        order = list(self.finalists)
        rng.shuffle(order)
        roadshow = Roadshow.objects.create(
            competition=c,
            seed=str(self.o["seed"]),
            drawn_at=_aware(self.roadshow, 8),
            draws=1,
            phase=RoadshowPhase.DONE,
            phase_started_at=now,
        )
        slots = bulk(
            RoadshowSlot,
            [RoadshowSlot(roadshow=roadshow, proposal=p, position=i) for i, p in enumerate(order, start=1)],
        )
        roadshow.current = slots[-1]
        roadshow.save(update_fields=["current"])
        self.phases.done("final panel: assignments, declarations, sheets, scores", rows + len(slots))

    # --- Results, awards, the notice --------------------------------------------------------------------------

    def results(self):
        """The snapshot exactly as freeze_results computes it; the pool is set first to fund the top --funded."""
        c = self.competition
        inputs = results.sealed_inputs(c)
        method = results.method_of(c)
        scores, criteria = results._frames(inputs)
        ranked = scoring.rank_round(
            scores, criteria, method=method["method"], trim=method["trim"], tiebreak=method["tiebreak"]
        ).table
        requested = {p.pk: p.requested_amount for p in self.proposals}
        ranked = ranked.sort_values("rank", kind="stable")
        self.funded_ids = [int(pid) for pid in ranked.index[: self.o["funded"]]]
        cost = sum((min(requested[pid], c.max_grant) for pid in self.funded_ids), Decimal("0"))
        # Rounded up to ten thousand: the next project (at least ¥50,000) does not fit in what is left.
        c.fund_pool = Decimal(math.ceil(cost / 10000) * 10000) if cost else Decimal("10000")
        c.save(update_fields=["fund_pool"])
        self.phases.done("preliminary ranking (to size the fund pool)")
        inputs = results.sealed_inputs(c)  # sealed again: the inputs hold the pool (issue #14)
        outputs = results.compute_outputs(c, inputs, method)
        self.snapshot = ResultSnapshot.objects.create(
            competition=c,
            created_by=self.staff,
            method=method["method"],
            params=method,
            code_version=results.code_version(),
            inputs=inputs,
            outputs=outputs,
            digest=results.digest_of(inputs, method),
            signed_off_by=self.auditor,
            signed_off_at=_aware(self.frozen, 15),
            sign_off_note="已核对评分表与计算结果，同意公示。",
        )
        ResultSnapshot.objects.filter(pk=self.snapshot.pk).update(created_at=_aware(self.frozen, 10))
        self.ranks = {r["proposal"]: r["rank"] for r in outputs["ranking"]}
        self.phases.done(f"frozen results (bootstrap {results.N_BOOT}), signed off")

    def awards(self):
        c = self.competition
        by_pk = {p.pk: p for p in self.proposals}
        made = []
        for i, pid in enumerate(self.funded_ids):
            p = by_pk[pid]
            made.append(
                Award(
                    competition=c,
                    proposal=p,
                    rank=self.ranks[pid],
                    status=AwardStatus.FINAL,
                    amount=min(p.requested_amount, c.max_grant),
                    grade=awards._grade_for(self.grades, i, len(self.funded_ids)),
                )
            )
        self.award_objects = bulk(Award, made)
        c.awarded_total = sum((a.amount for a in made), Decimal("0"))  # what the award services keep (issue #14)
        c.save(update_fields=["awarded_total"])
        ends_on, covered = add_working_days(self.notice_start, c.notice_working_days)
        notice = PublicNotice.objects.create(
            competition=c,
            published_at=_aware(self.notice_start, 9),
            published_by=self.staff,
            starts_on=self.notice_start,
            ends_on=ends_on,
            calendar_covered=covered,
            closed_at=_aware(ends_on + timedelta(days=1), 10),
            text="经初审、项目路演与现场答辩，评审小组综合评分，现将拟资助项目予以公示。",
        )
        if self.award_objects:
            Objection.objects.create(
                notice=notice,
                award=self.award_objects[-1],
                name="刘女士",
                contact="13700001111",
                text="听说该机构负责人与评委认识，评分可能不公。",
                status=ObjectionStatus.DISMISSED,
                client_key=hashlib.sha256(b"generated").hexdigest(),
                handled_by=self.staff,
                handled_at=_aware(ends_on, 11),
                outcome="经核查，该项目评审中无评委与申报单位存在利益关系，回避登记完整，异议不成立。",
            )
        # The timeline's last step and the final statuses.
        funded = set(self.funded_ids)
        bulk(
            StatusChange,
            [
                StatusChange(proposal=p, status=S.AWARDED if p.pk in funded else S.NOT_FUNDED, by=self.staff)
                for p in self.finalists
            ],
        )
        Proposal.objects.filter(pk__in=self.funded_ids).update(status=S.AWARDED)
        Proposal.objects.filter(competition=c, status=S.FINALIST).update(status=S.NOT_FUNDED)
        decided = self.screened + timedelta(days=12 if self.prescored is not None else 2)
        for status, day in (
            (S.ELIGIBLE, self.screened),
            (S.FINALIST, decided),
            (S.NOT_SELECTED, decided),
            (S.AWARDED, ends_on + timedelta(days=1)),
            (S.NOT_FUNDED, ends_on + timedelta(days=1)),
        ):
            StatusChange.objects.filter(proposal__competition=c, status=status).update(at=_aware(day, 10))
        StatusChange.objects.filter(proposal__competition=c, status=S.SUBMITTED).update(
            at=Subquery(Proposal.objects.filter(pk=OuterRef("proposal_id")).values("submitted_at")[:1])
        )
        agreements = []
        for a in self.award_objects:
            plan, remaining = [], a.amount
            for i, t in enumerate(self.tranche_plan):
                part = remaining if i == len(self.tranche_plan) - 1 else (a.amount * t.percent / 100).quantize(CENT)
                remaining -= part
                plan.append(
                    {
                        "order": t.order,
                        "percent": f"{t.percent.normalize():f}",
                        "amount": f"{part:.2f}",
                        "condition": t.condition,
                    }
                )
            agreements.append(
                GrantAgreement(
                    award=a,
                    number=f"GY{c.year}-{a.rank:03d}-{a.proposal_id:05d}",
                    amount=a.amount,
                    amount_in_words=awards.amount_in_words(a.amount),
                    period_start=a.proposal.period_start,
                    period_end=a.proposal.period_end,
                    tranches=plan,
                )
            )
        self.agreements = bulk(GrantAgreement, agreements)
        events = [
            ("results.freeze", self.staff, {"digest": self.snapshot.digest}),
            ("results.sign_off", self.auditor, {"digest": self.snapshot.digest}),
            ("awards.propose", self.staff, {"awards": len(made), "total": str(c.fund_pool)}),
            ("notice.publish", self.staff, {"starts_on": str(self.notice_start), "ends_on": str(ends_on)}),
            ("notice.close", self.staff, {"agreements": len(agreements)}),
        ]
        # Through record(): each takes its place in the audit hash chain; unfollowed: the invented accounts are sent
        # no notification (thousands of mails to .invalid addresses) and no document is rendered on the way.
        with unfollowed():
            for action, who, after in events:
                record(actor=who, action=action, obj=c, after=after, note="generate_round")
        self.phases.done("awards, public notice, grant agreements", len(made) + len(agreements) + len(self.proposals))

    # --- Supervision ------------------------------------------------------------------------------------------------

    def projects(self):
        """What sign_agreement opens, then what happened since: tranches released, reports, the mid-term."""
        rng, c, today = self.rng, self.competition, self.today
        projects, self.midterm = [], []
        for agreement in self.agreements:
            p = agreement.award.proposal
            # The mid-term evaluation (about 4.5 months in): most pass, which releases the second tranche; a
            # failed one suspends the project. Decided here so that status and released total go in with the row.
            midterm = agreement.period_start + timedelta(days=135)
            quality = None
            if midterm < today and rng.random() < 0.9:
                quality = rng.uniform(0.35, 0.55) if rng.random() < 0.06 else rng.uniform(0.65, 0.97)
            self.midterm.append((midterm, quality))
            passed = quality is not None and quality >= 0.6  # the pass mark is 60 of 100
            failed = quality is not None and not passed
            released = sum(
                (
                    Decimal(t["amount"])
                    for t in agreement.tranches
                    if t["condition"] == TrancheCondition.SIGNING
                    or (t["condition"] == TrancheCondition.MIDTERM and passed)
                ),
                Decimal("0"),
            )
            projects.append(
                FundedProject(
                    agreement=agreement,
                    competition=c,
                    proposal=p,
                    organization=p.organization,
                    title=p.title,
                    grant=agreement.amount,
                    released_total=released,
                    signed_on=self.signed,
                    period_start=agreement.period_start,
                    period_end=agreement.period_end,
                    people_target=p.people_to_serve or 0,
                    status=ProjectStatus.SUSPENDED if failed else ProjectStatus.ACTIVE,
                    flag_reason="中期评估未通过，暂停拨付。" if failed else "",
                    feedback_token=hashlib.sha256(f"{c.pk}-{p.pk}-{self.o['seed']}".encode()).hexdigest()[:16],
                )
            )
        self.projects = bulk(FundedProject, projects, batch_size=1000)
        bulk(
            FundedProject.supervisors.through,
            [
                FundedProject.supervisors.through(
                    fundedproject_id=pr.pk, user_id=self.supervisors[i % len(self.supervisors)].pk
                )
                for i, pr in enumerate(self.projects)
            ],
        )
        # Approved budget: the proposal's lines (the award is the request: no scaling), and revision 1.
        approved = []
        for pr in self.projects:
            approved += [
                ApprovedLine(project=pr, category_id=line.category_id, item=line.item, amount=line.amount)
                for line in self.lines[pr.proposal_id]
            ]
        approved = bulk(ApprovedLine, approved)
        names = {bc.pk: bc.name for bc in self.budget_categories}
        self.approved = {}
        for line in approved:
            self.approved.setdefault(line.project_id, []).append(line)
        bulk(
            BudgetRevision,
            [
                BudgetRevision(
                    project=pr,
                    number=1,
                    kind=RevisionKind.INITIAL,
                    created_by=self.staff,
                    period_end=pr.period_end,
                    lines=[
                        {
                            "line": line.pk,
                            "category": names[line.category_id],
                            "item": line.item,
                            "amount": f"{line.amount:.2f}",
                        }
                        for line in self.approved[pr.pk]
                    ],
                )
                for pr in self.projects
            ],
        )
        milestones = []
        for pr in self.projects:
            for day, title in (
                (pr.period_start + timedelta(days=30), "完成需求调研与服务对象招募"),
                (pr.period_start + timedelta(days=120), "完成中期服务与中期评估"),
                (pr.period_end - timedelta(days=15), "完成结项总结与成果展示"),
            ):
                milestones.append(
                    ProjectMilestone(
                        project=pr,
                        date=day,
                        title=title,
                        done_on=day + timedelta(days=rng.randint(-5, 10)) if day + timedelta(days=10) < today else None,
                    )
                )
        bulk(ProjectMilestone, milestones)
        # Indicators and the reports that advance them (accepted reports count).
        indicators, reports, progress, activities = [], [], [], []
        people = {p.pk: p.people_to_serve or 0 for p in self.proposals}
        for pr in self.projects:
            own = [
                ProjectIndicator(project=pr, name="服务人次", target=Decimal(people[pr.proposal_id] * 3), unit="人次"),
                ProjectIndicator(project=pr, name="开展活动", target=Decimal(rng.randint(12, 40)), unit="场"),
                ProjectIndicator(project=pr, name="服务满意度", target=Decimal("90"), unit="%"),
            ]
            total_days = (pr.period_end - pr.period_start).days + 1
            for a, b in report_periods(pr.period_start, pr.period_end, c.report_frequency):
                due = b + timedelta(days=REPORT_GRACE_DAYS)
                status = ReportStatus.DUE
                if due < today:
                    status = rng.choices(
                        [ReportStatus.ACCEPTED, ReportStatus.SUBMITTED, ReportStatus.CHANGES, ReportStatus.DUE],
                        weights=[85, 5, 5, 5],
                    )[0]
                share = ((b - a).days + 1) / total_days
                served = int(pr.people_target * share * rng.uniform(0.7, 1.2)) if status != ReportStatus.DUE else 0
                report = ProgressReport(
                    project=pr,
                    period_start=a,
                    period_end=b,
                    due_on=due,
                    status=status,
                    people_served=served,
                    narrative=""
                    if status == ReportStatus.DUE
                    else f"本期开展服务活动{rng.randint(3, 12)}场，服务{served}人，完成阶段目标。",
                    submitted_at=_aware(due - timedelta(days=rng.randint(0, 8)), 15)
                    if status != ReportStatus.DUE
                    else None,
                    reviewed_by=self.supervisors[0]
                    if status in (ReportStatus.ACCEPTED, ReportStatus.CHANGES)
                    else None,
                    review_note="请补充活动签到表和照片。" if status == ReportStatus.CHANGES else "",
                )
                reports.append(report)
                if status == ReportStatus.DUE:
                    continue
                for k in range(2):
                    activities.append(
                        ReportActivity(
                            report=report,
                            date=a + timedelta(days=min(10 + 30 * k, (b - a).days)),
                            place=f"{pr.title[-6:-1]}服务站点",
                            participants=rng.randint(15, 80),
                            description=rng.choice(
                                ["法律咨询进站点", "技能培训课", "健康关爱活动", "亲子活动", "互助小组"]
                            ),
                        )
                    )
                for ind in own:
                    value = (
                        _money(float(ind.target) * share * rng.uniform(0.6, 1.2))
                        if ind.unit != "%"
                        else Decimal(rng.randint(85, 99))
                    )
                    progress.append(IndicatorProgress(report=report, indicator=ind, value=value))
                    if status == ReportStatus.ACCEPTED:
                        ind.achieved = value if ind.unit == "%" else ind.achieved + value
            indicators += own
        bulk(ProjectIndicator, indicators)
        bulk(ProgressReport, reports)
        bulk(ReportActivity, activities)
        bulk(IndicatorProgress, progress)
        self.phases.done(
            "funded projects, approved lines, indicators, reports",
            len(self.projects) + len(approved) + len(indicators) + len(reports) + len(progress),
        )

    def ledger(self):
        """--ledger-rows expenditure rows per project, dated over the period so far and spread over the lines in
        proportion to their budget and to the time elapsed; about one project in ten overspends a line.

        The draws are numpy's, a few per project; the rows are built as text (amounts formatted to the cent, dates
        as ISO text: what both databases store) in one pass without a model instance, a Decimal or an adapted value
        per row, and inserted by ``insert_rows`` (COPY on PostgreSQL)."""
        n_rows, today, gen = self.o["ledger_rows"], self.today, self.np
        self.overspent = set()
        if not n_rows:
            self.phases.done("expenditure ledger", 0)
            return
        spending = {bc.pk: SPENDING[bc.name] for bc in self.budget_categories}
        created_at = self.now.isoformat()
        staff = str(self.staff.pk)
        n_payees, numbers = len(PAYEES), [f"{j:05d}" for j in range(1, n_rows + 1)]
        rows = []
        for pr in self.projects:
            lines = self.approved[pr.pk]
            end = min(today, pr.period_end)
            days = max(1, (end - pr.period_start).days + 1)
            elapsed = days / ((pr.period_end - pr.period_start).days + 1)
            targets = np.array([float(line.amount) for line in lines]) * elapsed * gen.uniform(0.55, 1.25)
            if gen.random() < 0.1:  # overspend one line beyond the round's tolerance
                k = int(gen.integers(0, len(lines) - 1))
                targets[k] = float(lines[k].amount) * gen.uniform(1.2, 1.5)
                self.overspent.add(pr.pk)
            which = gen.choice(len(lines), size=n_rows, p=targets / targets.sum())
            weights = gen.lognormal(0, 0.6, size=n_rows)
            share = np.bincount(which, weights=weights, minlength=len(lines))
            amounts = np.maximum(np.round(targets[which] * weights / share[which], 2), 0.01)
            offsets = np.sort(gen.integers(0, days, size=n_rows))
            # The text of each row is put together from parts computed once: per line (project, category, line,
            # created by, created at, receipt), per day of the period the date, per line and row number modulo the
            # payees (payee, description).
            heads = [
                "\t".join((str(pr.pk), str(line.category_id), str(line.pk), staff, created_at, "")) for line in lines
            ]
            tails = [
                [f"{PAYEES[j]}\t{spending[line.category_id][j % 2]}\tJZ{pr.pk:05d}-" for j in range(n_payees)]
                for line in lines
            ]
            dates = [(pr.period_start + timedelta(days=offset)).isoformat() for offset in range(days)]
            rows += [
                f"{heads[k]}\t{dates[offset]}\t{amount:.2f}\t{tails[k][j % n_payees]}{numbers[j]}\n"
                for j, (k, amount, offset) in enumerate(
                    zip(which.tolist(), amounts.tolist(), offsets.tolist(), strict=True)
                )
            ]
        self.phases.done("ledger rows built in memory", len(rows))
        insert_rows(Expenditure, LEDGER_FIELDS, rows)
        self.phases.done("expenditure ledger inserted", len(rows))
        if connection.vendor == "postgresql":
            refresh_round_totals(self.competition.pk)
        else:
            refresh_totals([pr.pk for pr in self.projects])
        self.phases.done("ledger running totals computed", len(self.projects))

    def oversight(self):
        """Releases, the mid-term evaluation, site visits with rectifications, beneficiary feedback."""
        rng, today = self.rng, self.today
        criteria = self.evaluation_criteria[EvaluationKind.MIDTERM]
        scale = sum((k.max_points for k in criteria), Decimal("0"))
        evaluations, released, visits, rectifications, feedback = [], {}, [], [], []
        for pr, (midterm, quality) in zip(self.projects, self.midterm, strict=True):
            if quality is not None:
                points = {k: Decimal(round(float(k.max_points) * quality)) for k in criteria}
                total = _money(sum(points.values(), Decimal("0")) * 100 / scale)
                passed = pr.status == ProjectStatus.ACTIVE
                assert passed == (total >= self.competition.evaluation_pass_mark), (total, pr.status)
                evaluations.append(
                    Evaluation(
                        project=pr,
                        kind=EvaluationKind.MIDTERM,
                        evaluator=self.supervisors[0],
                        total=total,
                        passed=passed,
                        points={str(k.pk): str(v) for k, v in points.items()},
                        comment="项目按计划推进，资金使用基本规范。" if passed else "服务进度严重滞后，台账缺失。",
                    )
                )
                if passed:
                    released[pr.pk] = midterm + timedelta(days=10)
            if rng.random() < 0.3:
                day = pr.period_start + timedelta(days=rng.randint(30, max(31, (today - pr.period_start).days - 5)))
                rating = rng.choices([2, 3, 4, 5], weights=[1, 3, 4, 2])[0]
                visit = SiteVisit(
                    project=pr,
                    supervisor=self.supervisors[0],
                    date=day,
                    people_met="项目负责人、社工、服务对象",
                    observations="现场查看服务站点、活动台账与支出凭证，访谈服务对象3名。",
                    rating=rating,
                    findings="" if rating > 3 else VISIT_FINDINGS[rng.randrange(4)][0],
                )
                visits.append(visit)
                if rating <= 3:
                    finding, what = VISIT_FINDINGS[rng.randrange(4)]
                    deadline = day + timedelta(days=30)
                    status = rng.choice(
                        [RectificationStatus.OPEN, RectificationStatus.ANSWERED, RectificationStatus.CLOSED]
                    )
                    rectifications.append(
                        Rectification(
                            project=pr,
                            visit=visit,
                            what=what,
                            deadline=deadline,
                            owner=pr.organization.contact_person,
                            status=status,
                            answer="" if status == RectificationStatus.OPEN else "已按要求完成整改。",
                            answered_at=None
                            if status == RectificationStatus.OPEN
                            else _aware(deadline - timedelta(days=3)),
                            closed_at=_aware(deadline) if status == RectificationStatus.CLOSED else None,
                        )
                    )
            feedback += [
                Feedback(
                    project=pr,
                    rating=rng.choices([3, 4, 5], weights=[1, 3, 6])[0],
                    comment=rng.choice(FEEDBACK),
                    client_key=f"{pr.pk:08x}{k:056x}",
                )
                for k in range(rng.randint(0, 4))
            ]
        bulk(Evaluation, evaluations)
        bulk(SiteVisit, visits)
        bulk(Rectification, rectifications)
        bulk(Feedback, feedback)
        # Tranche 1 released on signing; tranche 2 after a passed mid-term; tranche 3 waits for the final evaluation.
        tranches = []
        for ag, pr in zip(self.agreements, self.projects, strict=True):
            for t in ag.tranches:
                amount = Decimal(t["amount"])
                on = (
                    self.signed + timedelta(days=5)
                    if t["condition"] == TrancheCondition.SIGNING
                    else released.get(pr.pk)
                    if t["condition"] == TrancheCondition.MIDTERM
                    else None
                )
                tranches.append(
                    Tranche(
                        project=pr,
                        order=t["order"],
                        percent=Decimal(t["percent"]),
                        amount=amount,
                        condition=t["condition"],
                        released_on=on,
                        released_amount=amount if on else None,
                        voucher_no=f"BK{pr.pk:05d}-{t['order']}" if on else "",
                        released_by=self.staff if on else None,
                    )
                )
        bulk(Tranche, tranches)
        self.phases.done(
            "tranches, evaluations, site visits, rectifications, feedback",
            len(tranches) + len(evaluations) + len(visits) + len(rectifications) + len(feedback),
        )
