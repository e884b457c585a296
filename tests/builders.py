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

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from judging import services as judging
from judging.models import Assignment, ConflictDeclaration, Panel, ScoreSheet
from tests import factories
from venture.awards import services as awards
from venture.awards.models import Award, GrantAgreement, Objection
from venture.notifications.models import Notification
from venture.organizations.models import Invitation, Organization
from venture.proposals.models import Attachment, Indicator, Milestone, Proposal
from venture.results import services as results
from venture.supervision import services as supervision
from venture.supervision.ledger import refresh_totals
from venture.supervision.models import (
    ApprovedLine,
    EvaluationCriterion,
    Expenditure,
    FundedProject,
    ProgressReport,
    Rectification,
    RectificationEvent,
    ReportPhoto,
    VisitPhoto,
)

# --- A frozen, signed-off round ---------------------------------------------------------------------------------------


def build_round(pool="250000.00", rule="stop", requested=("100000", "90000", "80000", "60000")):
    """Four finalists (项目甲 … 项目丁, one organization each, owners applicant_x0 …) scored by three judges so that 甲
    ranks first, then 乙, 丙, 丁; the results frozen by staff_aw and signed off by auditor_aw.
    Returns (competition, staff, auditor, proposals)."""

    c = factories.competition(stage="final", fund_pool=Decimal(pool), funding_rule=rule, max_grant=Decimal("100000.00"))
    staff = factories.user("staff_aw", role="staff")
    auditor = factories.user("auditor_aw", role="auditor")
    judges = [factories.judge(f"aw{i}") for i in range(3)]
    props = []
    for i, amount in enumerate(requested):
        owner = factories.user(f"applicant_x{i}", email=f"owner{i}@example.org")
        props.append(
            factories.proposal(
                c,
                factories.organization(owner=owner),
                status="finalist",
                title=f"项目{'甲乙丙丁戊'[i]}",
                requested=Decimal(amount),
            )
        )
    assignments = factories.final_panel(c, judges, props)
    criteria = list(c.criteria.all())
    for rank, p in enumerate(props):  # 项目甲 best, then 乙, 丙, 丁
        for j in judges:
            pts = [Decimal(x) for x in (24 - rank, 23 - rank, 28 - rank, 18 - rank)]
            judging.save_sheet(
                assignment=assignments[(j.pk, p.pk)],
                by=j.user,
                points=dict(zip([cr.pk for cr in criteria], pts, strict=True)),
                comment="说明",
                expected_version=0,
                submit=True,
            )
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
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
BUDGET = [("人员经费", 3000, 5), ("活动经费", 500, 80), ("管理费", 5000, 1)]  # 15,000 + 40,000 + 5,000 = 60,000


def day(n):
    """The n-th day of the projects built by build_funded (day 0 is START)."""
    return START + datetime.timedelta(days=n)


def _proposal(c, title, owner=None):
    p = factories.proposal(
        c, factories.organization(owner=owner), status="finalist", title=title, requested=Decimal("60000.00")
    )
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
    c = factories.competition(
        stage="final",
        fund_pool=Decimal("250000.00"),
        max_grant=Decimal("100000.00"),
        project_start_earliest=START,
        project_end_latest=START + datetime.timedelta(days=400),
    )
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
            judging.save_sheet(
                assignment=assignments[(j.pk, p.pk)],
                by=j.user,
                points=dict(zip([cr.pk for cr in criteria], pts, strict=True)),
                comment="说明",
                expected_version=0,
                submit=True,
            )
    results.sign_off(snapshot=results.freeze_results(competition=c, by=staff), by=auditor)
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    agreements = awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    projects = [supervision.sign_agreement(agreement=a, signed_on=SIGNED, by=staff) for a in agreements]
    projects[0].supervisors.add(supervisor)
    _rubric(c)
    c.refresh_from_db()
    return SimpleNamespace(
        competition=c,
        staff=staff,
        auditor=auditor,
        supervisor=supervisor,
        judge=judges[0].user,
        owner=owners[0],
        other=owners[1],
        project=projects[0],
        other_project=projects[1],
        agreements=agreements,
    )


def line(project, category):
    return project.lines.get(category__name=category)


_VOUCHERS = itertools.count(1)


def spend(project, amount, category="活动经费", date=None, by=None, receipt=None, payee="示范市文具店", **extra):
    extra.setdefault("line", line(project, category) if category else None)
    # A voucher number is recorded once per project. The counter runs over the whole test process, so its numbers
    # depend on the tests run before: "SP-", never the "PZ-" of the files tests write by hand (a clash depended on
    # test order).
    extra.setdefault("voucher_no", f"SP-{next(_VOUCHERS)}")
    return supervision.record_expenditure(
        project=project,
        by=by,
        date=date or day(10),
        amount=Decimal(amount),
        payee=payee,
        description="活动物资",
        receipt=receipt
        if receipt is not None
        else (SimpleUploadedFile("r.pdf", PDF) if Decimal(amount) > 500 else None),
        **extra,
    )


def many_funded(competition, n, title="批量项目", start=START):
    """n funded projects of ``competition`` inserted in bulk (no judging, no services: fast enough for a portfolio of
    more than one page), titled f"{title}{i:03d}" so that the portfolio lists them in i's order. Project i: grant
    50,000 + i, released 20,000, one approved line (活动经费, the whole grant) and one ledger entry of 100 + i dated
    start + 10 days (the running totals refreshed as a ledger write does); every tenth (i = 0, 10, …) suspended, with
    one open rectification and one progress report overdue since start + 30 days. Returns the projects, in i's order."""
    category = competition.budget_categories.get(name="活动经费")
    organizations = Organization.objects.bulk_create(
        [
            Organization(
                name=f"{title}机构{i:03d}",
                uscc=factories.valid_uscc(f"{competition.pk}-{title}-{i}"),
                org_type="social_service",
                registration_authority="示范市民政局",
                registration_date=datetime.date(2018, 5, 1),
                legal_representative="王法人",
                contact_person="李联系",
                mobile="13800138000",
                email=f"bulk{i}@example.org",
                address="示范市建设路1号",
                service_area="示范市",
                status="verified",
            )
            for i in range(n)
        ]
    )
    end = start + datetime.timedelta(days=180)
    grants = [Decimal(50000 + i) for i in range(n)]
    proposals = Proposal.objects.bulk_create(
        [
            Proposal(
                competition=competition,
                organization=org,
                category=competition.categories.first(),
                title=f"{title}{i:03d}",
                target_group="外卖骑手",
                people_to_serve=200,
                service_area="示范市",
                needs="需求分析",
                objectives="项目目标",
                activities="活动安排",
                team="项目团队",
                period_start=start,
                period_end=end,
                requested_amount=grants[i],
                status="awarded",
            )
            for i, org in enumerate(organizations)
        ]
    )
    awards_made = Award.objects.bulk_create(
        [
            Award(competition=competition, proposal=p, rank=i + 1, amount=grants[i], status="final")
            for i, p in enumerate(proposals)
        ]
    )
    agreements = GrantAgreement.objects.bulk_create(
        [
            GrantAgreement(
                award=a,
                number=f"BULK-{competition.pk}-{title}-{i:03d}",
                amount=grants[i],
                amount_in_words="伍万元整",
                period_start=start,
                period_end=end,
            )
            for i, a in enumerate(awards_made)
        ]
    )
    projects = FundedProject.objects.bulk_create(
        [
            FundedProject(
                agreement=agreement,
                competition=competition,
                proposal=proposals[i],
                organization=organizations[i],
                title=f"{title}{i:03d}",
                grant=grants[i],
                released_total=Decimal("20000"),
                signed_on=start,
                period_start=start,
                period_end=end,
                people_target=200,
                status="suspended" if i % 10 == 0 else "active",
            )
            for i, agreement in enumerate(agreements)
        ]
    )
    lines = ApprovedLine.objects.bulk_create(
        [ApprovedLine(project=p, category=category, item="活动物资", amount=p.grant) for p in projects]
    )
    Expenditure.objects.bulk_create(
        [
            Expenditure(
                project=p,
                date=start + datetime.timedelta(days=10),
                category=category,
                line=lines[i],
                amount=Decimal(100 + i),
                payee="示范市文具店",
                description="活动物资",
                voucher_no=f"BULK-{i}",
            )
            for i, p in enumerate(projects)
        ]
    )
    refresh_totals([p.pk for p in projects])
    Rectification.objects.bulk_create(
        [
            Rectification(project=p, what="台账不全", deadline=start + datetime.timedelta(days=60), owner="李联系")
            for p in projects[::10]
        ]
    )
    due = start + datetime.timedelta(days=30)
    ProgressReport.objects.bulk_create(
        [ProgressReport(project=p, period_start=start, period_end=due, due_on=due) for p in projects[::10]]
    )
    return projects


def evaluate(f, kind, points, project=None):
    """The supervisor evaluates after the due reports were accepted (arranged here). The final evaluation comes
    before the period ends in these fixtures, so union staff hold it with the override reason (audited)."""
    project = project or f.project
    criteria = list(f.competition.evaluation_criteria.filter(kind=kind))
    ProgressReport.objects.filter(project=project, due_on__lte=TODAY).update(status="accepted")
    by, reason = f.supervisor, ""
    if supervision.evaluation_missing(project, kind):
        by, reason = f.staff, "测试：期末评估提前进行"
    return supervision.evaluate(
        project=project,
        kind=kind,
        by=by,
        override_reason=reason,
        points=dict(zip(criteria, [Decimal(p) for p in points], strict=True)),
        comment="评语",
    )


def set_evaluation_rubrics(competition, rows=(("执行进度", 40), ("资金使用", 30), ("服务成效", 30))):
    for kind in ("midterm", "final"):
        for order, (name, points) in enumerate(rows):
            EvaluationCriterion.objects.create(
                competition=competition, kind=kind, name=name, max_points=Decimal(points), order=order
            )


def build_world():
    """A round that went all the way: finalists of organizations A and B judged, frozen, signed off, awarded,
    noticed, closed, A's agreement signed and its project supervised."""
    c, staff, auditor, props = build_round()
    p_a, p_b = props[0], props[1]
    factories.budget(p_a, [("人员经费", 30000, 1), ("活动经费", 70000, 1)])
    applicant_a = p_a.organization.memberships.get().user
    applicant_b = p_b.organization.memberships.get().user
    judge = Assignment.objects.filter(proposal=p_a).order_by("judge_id").first().judge
    recused = factories.judge("matrix_recused")
    panel = Panel.objects.get(competition=c, stage="final")
    recused_assignment = Assignment.objects.create(panel=panel, judge=recused, proposal=p_a)
    declaration = ConflictDeclaration.objects.create(assignment=recused_assignment)
    judging.declare(assignment=recused_assignment, has_conflict=True, reason="理事", by=recused.user)
    unassigned = factories.judge("matrix_unassigned")
    supervisor = factories.user("matrix_supervisor", role="supervisor")
    supervisor_unassigned = factories.user("matrix_supervisor_idle", role="supervisor")
    attachment = Attachment.objects.create(
        proposal=p_a, file=ContentFile(PDF, name="a.pdf"), original_name="a.pdf", size=len(PDF), uploaded_by=applicant_a
    )
    p_a.organization.certificate.save("cert.pdf", ContentFile(PDF), save=True)
    invitation = Invitation.objects.create(
        organization=p_a.organization, email="x@example.org", token="matrixtoken", invited_by=applicant_a
    )
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    award_a = Award.objects.get(proposal=p_a)
    objection = awards.submit_objection(
        notice=notice,
        name="王",
        contact="13800000000",
        text="异议",
        award=award_a,
        ip="10.9.9.9",
        today=datetime.date(2025, 10, 1),
    )
    awards.handle_objection(objection=objection, upheld=False, outcome="不成立", by=staff)
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 20))
    agreement = award_a.agreement
    project = supervision.sign_agreement(agreement=agreement, signed_on=p_a.period_start, by=staff)
    project.supervisors.add(supervisor)
    tranche = project.tranches.order_by("order").first()
    report = project.reports.order_by("period_start").first()
    photo = ReportPhoto.objects.create(report=report, file=ContentFile(PDF, name="r.png"), caption="r")
    line = project.lines.first()
    entry = Expenditure.objects.create(
        project=project,
        date=project.period_start,
        line=line,
        category=line.category,
        amount=Decimal("100.00"),
        payee="供应商",
        description="物资",
        voucher_no="V1",
        receipt=ContentFile(PDF, name="receipt.pdf"),
        created_by=applicant_a,
    )
    visit = supervision.record_visit(
        project=project,
        by=supervisor,
        date=min(project.period_start, timezone.localdate()),
        people_met="负责人",
        observations="良好",
        rating=4,
        findings="",
    )
    visit_photo = VisitPhoto.objects.create(visit=visit, file=ContentFile(PDF, name="v.png"), caption="v")
    rectification = supervision.add_rectification(
        project=project, by=supervisor, what="补签", owner="李", deadline=project.period_end
    )
    rectification.evidence.save("e.pdf", ContentFile(PDF), save=True)
    notification = Notification.objects.create(user=applicant_a, event="test", title="通知", link="/")
    event = RectificationEvent.objects.create(
        rectification=rectification, kind="answer", text="已补", evidence=rectification.evidence.name, at=timezone.now()
    )
    sheet = ScoreSheet.objects.get(assignment__judge=judge, assignment__proposal=p_a)
    assignment = sheet.assignment
    users = {
        "applicant_a": applicant_a,
        "applicant_b": applicant_b,
        "judge": judge.user,
        "judge_unassigned": unassigned.user,
        "judge_recused": recused.user,
        "staff": staff,
        "supervisor": supervisor,
        "supervisor_unassigned": supervisor_unassigned,
        "auditor": auditor,
    }
    c_pk = {"competition_pk": c.pk}
    kwargs = {
        "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
        "two_factor_reset": {"pk": applicant_a.pk},
        "organizations:detail": {"pk": p_a.organization_id},
        "organizations:edit": {"pk": p_a.organization_id},
        "organizations:verify": {"pk": p_a.organization_id},
        "organizations:reject": {"pk": p_a.organization_id},
        "organizations:invite": {"pk": p_a.organization_id},
        "organizations:resubmit": {"pk": p_a.organization_id},
        "organizations:certificate": {"pk": p_a.organization_id},
        "organizations:accept_invitation": {"token": invitation.token},
        "competitions:call": {"pk": c.pk},
        "competitions:round": {"pk": c.pk},
        "competitions:advance": {"pk": c.pk},
        "competitions:edit": {"pk": c.pk},
        "competitions:copy": {"pk": c.pk},
        "competitions:categories": {"pk": c.pk},
        "competitions:budget_rules": {"pk": c.pk},
        "competitions:tranches": {"pk": c.pk},
        "competitions:rubric": {"pk": c.pk},
        "competitions:evaluation_midterm": {"pk": c.pk},
        "competitions:evaluation_final": {"pk": c.pk},
        "proposals:create": c_pk,
        "proposals:reuse": {"competition_pk": c.pk, "pk": p_a.pk},
        "proposals:list": c_pk,
        **{
            f"proposals:{n}": {"pk": p_a.pk}
            for n in ("detail", "edit", "submit", "withdraw", "return", "attachment_add", "autosave", "place_lines")
        },
        "proposals:attachment": {"pk": attachment.pk},
        "proposals:attachment_delete": {"pk": attachment.pk},
        "screening:list": c_pk,
        "screening:bulk": c_pk,
        "screening:checklist": c_pk,
        "screening:detail": {"pk": p_a.pk},
        "judging:declare": {"pk": assignment.pk},
        "judging:sheet": {"pk": assignment.pk},
        "judging:unlock": {"pk": sheet.pk},
        "judging:panel": {**c_pk, "stage": "final"},
        "judging:conflicts": c_pk,
        "judging:override": {"pk": declaration.pk},
        **{
            f"judging:{n}": {**c_pk, "stage": "final"}
            for n in ("ranking", "board", "board_cells", "progress", "remind")
        },
        "judging:roadshow": c_pk,
        "judging:projector": c_pk,
        "judging:projector_state": c_pk,
        "judging:hall_board": c_pk,
        "judging:hall_board_cells": c_pk,
        "judging:day_state": c_pk,
        "results:reveal": c_pk,
        "documents:sheet_bundle": c_pk,
        **{f"results:{n}": c_pk for n in ("results", "freeze", "verify", "sign_off", "report_pdf", "finalists")},
        **{
            f"awards:{n}": c_pk
            for n in (
                "awards",
                "propose",
                "grades",
                "award_add",
                "notice_publish",
                "notice_close",
                "notice_reopen",
                "notice",
                "objection",
            )
        },
        "results:unlock": {**c_pk, "sheet_pk": sheet.pk},
        "awards:award_edit": {"pk": award_a.pk},
        "awards:objection_handle": {"pk": objection.pk},
        "awards:my_result": {"proposal_pk": p_a.pk},
        "documents:application_book": {"pk": p_a.pk},
        "documents:finalists_book": c_pk,
        "documents:blank_sheet": c_pk,
        "documents:filled_sheet": {"pk": assignment.pk},
        "documents:notice": c_pk,
        "documents:agreement": {"award_pk": award_a.pk},
        "documents:guide": c_pk,
        "documents:budget_template": c_pk,
        "documents:manual": {"language": "zh-hans", "role": "judge"},  # the applicant chapter is public
        "help:chapter": {"role": "staff"},
        "documents:proposals": c_pk,
        "documents:scores": c_pk,
        "documents:ranking": c_pk,
        "supervision:sign": {"agreement_pk": agreement.pk},
        **{
            f"supervision:{n}": {"pk": project.pk}
            for n in (
                "project",
                "report_pdf",
                "supervisors",
                "revise",
                "reinstate",
                "close",
                "ledger",
                "ledger_add",
                "ledger_import",
                "ledger_template",
                "ledger_export",
                "visit_new",
                "rectification_add",
            )
        },
        "supervision:release": {"pk": tranche.pk},
        "supervision:receipt": {"pk": entry.pk},
        "supervision:refund": {"pk": project.pk},
        "supervision:duplicate_invoices": {"pk": project.pk},
        "supervision:ledger_correct": {"pk": entry.pk},
        "supervision:ledger_receipt": {"pk": entry.pk},
        "supervision:rectification_event_evidence": {"pk": event.pk},
        "supervision:report": {"pk": report.pk},
        "supervision:report_review": {"pk": report.pk},
        "supervision:report_photo": {"pk": photo.pk},
        "supervision:visit_photo": {"pk": visit_photo.pk},
        **{
            f"supervision:{n}": {"pk": rectification.pk}
            for n in ("rectification", "rectification_answer", "rectification_review", "rectification_evidence")
        },
        "supervision:evaluation_new": {"pk": project.pk, "kind": "midterm"},
        "supervision:feedback": {"token": project.feedback_token},
        "supervision:ledger_import_status": {"pk": project.pk, "task_id": "00000000-0000-4000-8000-000000000001"},
        "background:retry": {"pk": "00000000-0000-4000-8000-000000000002"},
        "notifications:read": {"pk": notification.pk},
        "notifications:round": c_pk,
        "notifications:round_test": c_pk,
    }
    assert Objection.objects.count() == 1
    return users, kwargs
