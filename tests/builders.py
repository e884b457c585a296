"""Whole-round scenarios shared by test modules, built through the services the way the round builds them.

``tests/factories.py`` makes single rows (a user, an organization, a proposal …) with defaults; the builders here
chain factories and service calls into a state several stages on: a frozen and signed-off round (``build_round``), a
funded project with its workspace (``funded_project``), two funded projects with a supervisor and an evaluation
rubric (``build_funded``), and the ledger and evaluation helpers the supervision tests use on them. Test modules
import builders from here (or from factories), never from another test module (``tests/test_layout.py``).
"""

import datetime
import itertools
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from judging import services as judging
from tests import factories
from venture.awards import services as awards
from venture.proposals.models import Indicator, Milestone
from venture.results import services as results
from venture.supervision import services as supervision
from venture.supervision.models import EvaluationCriterion

# --- A frozen, signed-off round ---------------------------------------------------------------------------------------


def build_round(pool="250000.00", rule="stop", requested=("100000", "90000", "80000", "60000")):
    """Four finalists (项目甲 … 项目丁, one organization each, owners applicant_x0 …) scored by three judges so that 甲
    ranks first, then 乙, 丙, 丁; the results frozen by staff_aw and signed off by auditor_aw.
    Returns (competition, staff, auditor, proposals)."""

    c = factories.competition(stage="final", fund_pool=Decimal(pool), funding_rule=rule,
                              max_grant=Decimal("100000.00"))
    staff = factories.user("staff_aw", role="staff")
    auditor = factories.user("auditor_aw", role="auditor")
    judges = [factories.judge(f"aw{i}") for i in range(3)]
    props = []
    for i, amount in enumerate(requested):
        owner = factories.user(f"applicant_x{i}", email=f"owner{i}@example.org")
        props.append(factories.proposal(c, factories.organization(owner=owner), status="finalist",
                                        title=f"项目{'甲乙丙丁戊'[i]}", requested=Decimal(amount)))
    assignments = factories.final_panel(c, judges, props)
    criteria = list(c.criteria.all())
    for rank, p in enumerate(props):  # 项目甲 best, then 乙, 丙, 丁
        for j in judges:
            pts = [Decimal(x) for x in (24 - rank, 23 - rank, 28 - rank, 18 - rank)]
            judging.save_sheet(assignment=assignments[(j.pk, p.pk)], by=j.user, points=dict(zip(
                [cr.pk for cr in criteria], pts, strict=True)), comment="说明", expected_version=0, submit=True)
    snapshot = results.freeze_results(competition=c, by=staff)
    results.sign_off(snapshot=snapshot, by=auditor)
    c.refresh_from_db()
    return c, staff, auditor, props


def funded_project():
    """A signed agreement with its workspace: build_round → awards → notice → close → sign (tranches 50/30/20).
    Returns (project of 项目甲 with a grant of 100,000, staff)."""

    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    agreements = awards.close_notice(competition=c, by=staff, today=notice.ends_on + datetime.timedelta(days=1))
    agreement = next(a for a in agreements if a.award.proposal_id == props[0].pk)  # 项目甲, 100,000
    project = supervision.sign_agreement(agreement=agreement, signed_on=datetime.date(2025, 10, 20), by=staff)
    return project, staff


# --- Two funded projects under supervision ----------------------------------------------------------------------------

TODAY = timezone.localdate()
START = TODAY - datetime.timedelta(days=120)  # projects run START .. START + 180 days
SIGNED = START + datetime.timedelta(days=5)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BUDGET = [("人员经费", 3000, 5), ("活动经费", 500, 80), ("管理费", 5000, 1)]  # 15,000 + 40,000 + 5,000 = 60,000


def day(n):
    """The n-th day of the projects built by build_funded (day 0 is START)."""
    return START + datetime.timedelta(days=n)


def _proposal(c, title, owner=None):
    p = factories.proposal(c, factories.organization(owner=owner), status="finalist", title=title,
                           requested=Decimal("60000.00"))
    factories.budget(p, BUDGET)
    Indicator.objects.create(proposal=p, name="服务骑手人次", target=Decimal("200"), unit="人次")
    Milestone.objects.create(proposal=p, date=day(30), title="启动仪式")
    return p


def _rubric(c):
    for kind in ("midterm", "final"):
        for i, (name, pts) in enumerate([("执行进度", 40), ("资金使用", 30), ("服务成效", 30)]):
            EvaluationCriterion.objects.create(competition=c, kind=kind, name=name, max_points=Decimal(pts), order=i)


def build_funded():
    """Two funded projects of one round, made the way the round makes them: scores frozen and signed off, awards
    proposed, the notice published in the past and closed, then each agreement signed (SIGNED, after START)."""
    c = factories.competition(stage="final", fund_pool=Decimal("250000.00"), max_grant=Decimal("100000.00"),
                              project_start_earliest=START, project_end_latest=START + datetime.timedelta(days=400))
    staff = factories.user("staff_sv", role="staff")
    auditor = factories.user("auditor_sv", role="auditor")
    supervisor = factories.user("supervisor_sv", role="supervisor")
    judges = [factories.judge(f"sv{i}") for i in range(3)]
    owners = [factories.user(f"applicant_sv{i}", email=f"sv{i}@example.org") for i in range(2)]
    props = [_proposal(c, f"督导项目{'甲乙'[i]}", owner) for i, owner in enumerate(owners)]
    assignments = factories.final_panel(c, judges, props)
    criteria = list(c.criteria.all())
    for rank, p in enumerate(props):
        for j in judges:
            pts = [Decimal(x) for x in (24 - rank, 23 - rank, 28 - rank, 18 - rank)]
            judging.save_sheet(assignment=assignments[(j.pk, p.pk)], by=j.user, points=dict(zip(
                [cr.pk for cr in criteria], pts, strict=True)), comment="说明", expected_version=0, submit=True)
    results.sign_off(snapshot=results.freeze_results(competition=c, by=staff), by=auditor)
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    agreements = awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    projects = [supervision.sign_agreement(agreement=a, signed_on=SIGNED, by=staff) for a in agreements]
    projects[0].supervisors.add(supervisor)
    _rubric(c)
    c.refresh_from_db()
    return SimpleNamespace(competition=c, staff=staff, auditor=auditor, supervisor=supervisor, judge=judges[0].user,
                           owner=owners[0], other=owners[1], project=projects[0], other_project=projects[1],
                           agreements=agreements)


def line(project, category):
    return project.lines.get(category__name=category)


_VOUCHERS = itertools.count(1)


def spend(project, amount, category="活动经费", date=None, by=None, receipt=None, payee="示范市文具店", **extra):
    extra.setdefault("line", line(project, category) if category else None)
    extra.setdefault("voucher_no", f"PZ-{next(_VOUCHERS)}")  # a voucher number is recorded once per project
    return supervision.record_expenditure(
        project=project, by=by, date=date or day(10),
        amount=Decimal(amount), payee=payee, description="活动物资",
        receipt=receipt if receipt is not None else (SimpleUploadedFile("r.pdf", PDF) if Decimal(amount) > 500
                                                     else None), **extra)


def evaluate(f, kind, points, project=None):
    project = project or f.project
    criteria = list(f.competition.evaluation_criteria.filter(kind=kind))
    return supervision.evaluate(project=project, kind=kind, by=f.supervisor,
                                points=dict(zip(criteria, [Decimal(p) for p in points], strict=True)), comment="评语")


def set_evaluation_rubrics(competition, rows=(("执行进度", 40), ("资金使用", 30), ("服务成效", 30))):
    for kind in ("midterm", "final"):
        for order, (name, points) in enumerate(rows):
            EvaluationCriterion.objects.create(competition=competition, kind=kind, name=name,
                                               max_points=Decimal(points), order=order)
