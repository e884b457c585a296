"""Every URL × every role against the expected answer, generated from the URL configuration.

A new URL without an entry in EXPECTED fails ``test_every_url_has_an_entry``. Answers: "ok" (200 for GET; for POST
anything but a login redirect or an error, i.e. the view ran), "login" (redirect to the login page), "404", "403",
"405". POSTs are sent with an empty body and rolled back, so the world is the same for every cell.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from judging import services as judging
from judging.models import Assignment, ConflictDeclaration, Panel, ScoreSheet
from tests import factories
from venture.awards import services as awards
from venture.awards.models import Award, Objection
from venture.organizations.models import Invitation
from venture.proposals.models import Attachment
from venture.supervision import services as supervision
from venture.supervision.models import Expenditure, RectificationEvent, ReportPhoto, VisitPhoto

ROLES = ["anon", "applicant_a", "applicant_b", "judge", "judge_unassigned", "judge_recused", "staff", "supervisor",
         "auditor"]
USERS = ROLES[1:]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def expect(default, anon="login", **roles):
    table = {role: default for role in USERS}
    table["anon"] = anon
    table.update(roles)
    return table


PUBLIC = expect("ok", anon="ok")
LOGGED_IN = expect("ok")
STAFF_OBJ = expect("404", staff="ok")  # get_for with a staff-only action on an object
STAFF_PAGE = expect("403", staff="ok")  # require() on a page without an object
STAFF_AUDITOR_OBJ = expect("404", staff="ok", auditor="ok")
STAFF_AUDITOR_PAGE = expect("403", staff="ok", auditor="ok")
UNION_OBJ = expect("404", staff="ok", auditor="ok", supervisor="ok")
UNION_PAGE = expect("403", staff="ok", auditor="ok", supervisor="ok")
OWN_PROPOSAL = expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok", judge="ok")
POST_STAFF_OBJ = STAFF_OBJ
PROJECT_VIEW = expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")
PROJECT_WRITE = expect("404", applicant_a="ok", staff="ok")
PROJECT_SUPERVISE = expect("404", staff="ok", supervisor="ok")

# url name: (method, expectations)
EXPECTED = {
    "home": ("GET", LOGGED_IN),
    "login": ("GET", expect("302", anon="ok")),  # a logged-in user is sent home
    "signup": ("GET", expect("302", anon="ok")),
    "logout": ("POST", expect("login", anon="login")),
    "password_change": ("GET", LOGGED_IN),
    "password_change_done": ("GET", LOGGED_IN),
    "password_reset": ("GET", PUBLIC),
    "password_reset_done": ("GET", PUBLIC),
    "password_reset_confirm": ("GET", PUBLIC),
    "password_reset_complete": ("GET", PUBLIC),
    "set_language": ("POST", expect("ok", anon="ok")),
    "audit": ("GET", STAFF_AUDITOR_PAGE),
    # organizations
    "organizations:list": ("GET", UNION_PAGE),
    "organizations:create": ("GET", expect("403", applicant_a="ok", applicant_b="ok")),
    "organizations:detail": ("GET", expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")),
    "organizations:edit": ("GET", expect("404", applicant_a="ok", staff="ok")),
    "organizations:verify": ("POST", STAFF_OBJ),
    "organizations:reject": ("POST", STAFF_OBJ),
    "organizations:resubmit": ("POST", expect("404", applicant_a="ok")),  # members of the organization
    "organizations:invite": ("POST", expect("404", applicant_a="ok")),
    "organizations:certificate": ("GET", expect("404", applicant_a="ok", staff="ok", auditor="ok",
                                                supervisor="ok")),
    "organizations:accept_invitation": ("GET", LOGGED_IN),
    # calls and rounds
    "competitions:calls": ("GET", PUBLIC),
    "competitions:call": ("GET", PUBLIC),
    "competitions:rounds": ("GET", UNION_PAGE),
    "competitions:round": ("GET", UNION_OBJ),
    "competitions:advance": ("POST", STAFF_OBJ),
    "competitions:create": ("GET", STAFF_PAGE),
    "competitions:edit": ("GET", STAFF_OBJ),
    "competitions:categories": ("GET", STAFF_OBJ),
    "competitions:budget_rules": ("GET", STAFF_OBJ),
    "competitions:tranches": ("GET", STAFF_OBJ),
    "competitions:rubric": ("GET", STAFF_OBJ),
    "competitions:evaluation_midterm": ("GET", STAFF_OBJ),
    "competitions:evaluation_final": ("GET", STAFF_OBJ),
    # proposals
    "proposals:create": ("GET", expect("403", applicant_a="302", applicant_b="302")),  # the call is closed: back to it
    "proposals:list": ("GET", UNION_OBJ),
    "proposals:detail": ("GET", OWN_PROPOSAL),
    "proposals:edit": ("GET", expect("404")),  # a finalist's proposal is read-only for everyone
    "proposals:submit": ("POST", expect("404")),
    "proposals:withdraw": ("POST", expect("404", applicant_a="ok")),
    "proposals:return": ("POST", STAFF_OBJ),
    "proposals:attachment_add": ("POST", expect("404")),
    "proposals:attachment": ("GET", OWN_PROPOSAL),
    "proposals:attachment_delete": ("POST", expect("404")),
    # screening
    "screening:list": ("GET", STAFF_OBJ),
    "screening:bulk": ("POST", STAFF_OBJ),
    "screening:checklist": ("GET", STAFF_OBJ),
    "results:finalists": ("GET", STAFF_OBJ),
    "screening:detail": ("GET", STAFF_OBJ),
    # judging
    "judging:declare": ("GET", expect("404", judge="ok")),
    "judging:sheet": ("GET", expect("404", judge="ok")),
    "judging:unlock": ("POST", STAFF_PAGE),
    "judging:judges": ("GET", STAFF_AUDITOR_PAGE),
    "judging:judge_create": ("GET", STAFF_PAGE),
    "judging:panel": ("GET", STAFF_OBJ),
    "judging:conflicts": ("GET", STAFF_AUDITOR_OBJ),
    "judging:override": ("POST", STAFF_PAGE),
    "judging:ranking": ("GET", STAFF_OBJ),
    "judging:board": ("GET", STAFF_AUDITOR_PAGE),
    "judging:board_cells": ("GET", STAFF_AUDITOR_PAGE),
    "judging:progress": ("GET", STAFF_AUDITOR_PAGE),
    "judging:remind": ("POST", STAFF_PAGE),
    "judging:roadshow": ("GET", STAFF_PAGE),
    "judging:projector": ("GET", STAFF_AUDITOR_PAGE),
    "judging:projector_state": ("GET", STAFF_AUDITOR_PAGE),
    # results, awards, notice
    "results:results": ("GET", STAFF_AUDITOR_OBJ),
    "results:freeze": ("POST", expect("404", staff="ok", auditor="403")),  # the auditor sees the round, may not freeze
    "results:verify": ("GET", STAFF_AUDITOR_OBJ),
    "results:sign_off": ("POST", expect("404", auditor="ok", staff="403")),
    "results:unlock": ("POST", STAFF_OBJ),
    "results:report_pdf": ("GET", STAFF_AUDITOR_OBJ),
    "awards:awards": ("GET", STAFF_OBJ),
    "awards:propose": ("POST", STAFF_OBJ),
    "awards:grades": ("POST", STAFF_OBJ),
    "awards:award_edit": ("GET", STAFF_PAGE),
    "awards:award_add": ("POST", STAFF_OBJ),
    "awards:notice_publish": ("POST", STAFF_OBJ),
    "awards:notice_close": ("POST", STAFF_OBJ),
    "awards:objection_handle": ("POST", STAFF_PAGE),
    "awards:notice": ("GET", PUBLIC),
    "awards:objection": ("GET", expect("302", anon="302")),  # the notice is closed: back to the notice page
    "awards:my_result": ("GET", expect("404", applicant_a="ok")),
    # documents
    "documents:application_book": ("GET", OWN_PROPOSAL),
    "documents:finalists_book": ("GET", UNION_OBJ),
    "documents:blank_sheet": ("GET", expect("ok", applicant_a="404", applicant_b="404")),  # judges print it
    "documents:filled_sheet": ("GET", expect("404", judge="ok", staff="ok", auditor="ok")),
    "documents:notice": ("GET", PUBLIC),
    "documents:agreement": ("GET", expect("404", applicant_a="ok", staff="ok", auditor="ok", supervisor="ok")),
    "documents:proposals": ("GET", STAFF_AUDITOR_OBJ),
    "documents:scores": ("GET", STAFF_AUDITOR_OBJ),
    "documents:ranking": ("GET", STAFF_AUDITOR_OBJ),
    # supervision
    "supervision:portfolio": ("GET", expect("403", staff="ok", auditor="ok", supervisor="ok")),
    "supervision:sign": ("POST", STAFF_OBJ),
    "supervision:project": ("GET", PROJECT_VIEW),
    "supervision:report_pdf": ("GET", PROJECT_VIEW),
    "supervision:supervisors": ("POST", STAFF_OBJ),
    "supervision:revise": ("POST", STAFF_OBJ),
    "supervision:reinstate": ("POST", STAFF_OBJ),
    "supervision:close": ("POST", STAFF_OBJ),
    "supervision:refund": ("POST", STAFF_OBJ),
    "supervision:ledger_correct": ("GET", PROJECT_WRITE),
    "supervision:ledger_receipt": ("POST", PROJECT_WRITE),
    "supervision:duplicate_invoices": ("GET", PROJECT_SUPERVISE),
    "supervision:rectification_event_evidence": ("GET", PROJECT_VIEW),
    "supervision:release": ("POST", STAFF_OBJ),
    "supervision:ledger": ("GET", PROJECT_VIEW),
    "supervision:ledger_add": ("POST", PROJECT_WRITE),
    "supervision:ledger_import": ("POST", PROJECT_WRITE),
    "supervision:ledger_template": ("GET", PROJECT_VIEW),
    "supervision:ledger_export": ("GET", PROJECT_VIEW),
    "supervision:receipt": ("GET", PROJECT_VIEW),
    "supervision:report": ("GET", PROJECT_VIEW),
    "supervision:report_review": ("POST", PROJECT_SUPERVISE),
    "supervision:report_photo": ("GET", PROJECT_VIEW),
    "supervision:visit_new": ("GET", PROJECT_SUPERVISE),
    "supervision:visit_photo": ("GET", PROJECT_VIEW),
    "supervision:rectification_add": ("POST", PROJECT_SUPERVISE),
    "supervision:rectification": ("GET", PROJECT_VIEW),
    "supervision:rectification_answer": ("POST", PROJECT_WRITE),
    "supervision:rectification_review": ("POST", PROJECT_SUPERVISE),
    "supervision:rectification_evidence": ("GET", PROJECT_VIEW),
    "supervision:evaluation_new": ("GET", PROJECT_SUPERVISE),
    "supervision:feedback": ("GET", PUBLIC),
}


def url_names():
    def walk(patterns, ns=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                yield from walk(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{ns}:{p.name}" if ns else p.name

    return sorted(set(walk(get_resolver().url_patterns)))


def test_every_url_has_an_entry():
    missing = [name for name in url_names() if name not in EXPECTED]
    assert missing == [], f"add these URLs to the permission matrix: {missing}"
    stale = [name for name in EXPECTED if name not in url_names()]
    assert stale == [], f"these entries name no URL: {stale}"


def build_world():
    """A round that went all the way: finalists of organizations A and B judged, frozen, signed off, awarded,
    noticed, closed, A's agreement signed and its project supervised."""
    from tests.venture.test_awards import build_round

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
    attachment = Attachment.objects.create(proposal=p_a, file=ContentFile(PDF, name="a.pdf"), original_name="a.pdf",
                                           size=len(PDF), uploaded_by=applicant_a)
    p_a.organization.certificate.save("cert.pdf", ContentFile(PDF), save=True)
    invitation = Invitation.objects.create(organization=p_a.organization, email="x@example.org", token="matrixtoken",
                                           invited_by=applicant_a)
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    award_a = Award.objects.get(proposal=p_a)
    objection = awards.submit_objection(notice=notice, name="王", contact="13800000000", text="异议", award=award_a,
                                        ip="10.9.9.9", today=datetime.date(2025, 10, 1))
    awards.handle_objection(objection=objection, upheld=False, outcome="不成立", by=staff)
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 20))
    agreement = award_a.agreement
    project = supervision.sign_agreement(agreement=agreement, signed_on=p_a.period_start, by=staff)
    project.supervisors.add(supervisor)
    tranche = project.tranches.order_by("order").first()
    report = project.reports.order_by("period_start").first()
    photo = ReportPhoto.objects.create(report=report, file=ContentFile(PDF, name="r.png"), caption="r")
    line = project.lines.first()
    entry = Expenditure.objects.create(project=project, date=project.period_start, line=line, category=line.category,
                                       amount=Decimal("100.00"), payee="供应商", description="物资", voucher_no="V1",
                                       receipt=ContentFile(PDF, name="receipt.pdf"), created_by=applicant_a)
    visit = supervision.record_visit(project=project, by=supervisor, date=min(project.period_start, timezone.localdate()),
                                     people_met="负责人",
                                     observations="良好", rating=4, findings="")
    visit_photo = VisitPhoto.objects.create(visit=visit, file=ContentFile(PDF, name="v.png"), caption="v")
    rectification = supervision.add_rectification(project=project, by=supervisor, what="补签", owner="李",
                                                  deadline=project.period_end)
    rectification.evidence.save("e.pdf", ContentFile(PDF), save=True)
    event = RectificationEvent.objects.create(rectification=rectification, kind="answer", text="已补",
                                              evidence=rectification.evidence.name, at=timezone.now())
    sheet = ScoreSheet.objects.get(assignment__judge=judge, assignment__proposal=p_a)
    assignment = sheet.assignment
    users = {"applicant_a": applicant_a, "applicant_b": applicant_b, "judge": judge.user,
             "judge_unassigned": unassigned.user, "judge_recused": recused.user, "staff": staff,
             "supervisor": supervisor, "auditor": auditor}
    c_pk = {"competition_pk": c.pk}
    kwargs = {
        "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
        "organizations:detail": {"pk": p_a.organization_id}, "organizations:edit": {"pk": p_a.organization_id},
        "organizations:verify": {"pk": p_a.organization_id}, "organizations:reject": {"pk": p_a.organization_id},
        "organizations:invite": {"pk": p_a.organization_id}, "organizations:resubmit": {"pk": p_a.organization_id},
        "organizations:certificate": {"pk": p_a.organization_id},
        "organizations:accept_invitation": {"token": invitation.token},
        "competitions:call": {"pk": c.pk}, "competitions:round": {"pk": c.pk}, "competitions:advance": {"pk": c.pk},
        "competitions:edit": {"pk": c.pk}, "competitions:categories": {"pk": c.pk},
        "competitions:budget_rules": {"pk": c.pk}, "competitions:tranches": {"pk": c.pk},
        "competitions:rubric": {"pk": c.pk}, "competitions:evaluation_midterm": {"pk": c.pk},
        "competitions:evaluation_final": {"pk": c.pk},
        "proposals:create": c_pk, "proposals:list": c_pk,
        **{f"proposals:{n}": {"pk": p_a.pk} for n in ("detail", "edit", "submit", "withdraw", "return",
                                                      "attachment_add")},
        "proposals:attachment": {"pk": attachment.pk}, "proposals:attachment_delete": {"pk": attachment.pk},
        "screening:list": c_pk, "screening:bulk": c_pk, "screening:checklist": c_pk,
        "screening:detail": {"pk": p_a.pk},
        "judging:declare": {"pk": assignment.pk}, "judging:sheet": {"pk": assignment.pk},
        "judging:unlock": {"pk": sheet.pk},
        "judging:panel": {**c_pk, "stage": "final"}, "judging:conflicts": c_pk,
        "judging:override": {"pk": declaration.pk},
        **{f"judging:{n}": {**c_pk, "stage": "final"} for n in ("ranking", "board", "board_cells", "progress",
                                                                "remind")},
        "judging:roadshow": c_pk, "judging:projector": c_pk, "judging:projector_state": c_pk,
        **{f"results:{n}": c_pk for n in ("results", "freeze", "verify", "sign_off", "report_pdf", "finalists")},
        **{f"awards:{n}": c_pk for n in ("awards", "propose", "grades", "award_add", "notice_publish", "notice_close",
                                         "notice", "objection")},
        "results:unlock": {**c_pk, "sheet_pk": sheet.pk}, "awards:award_edit": {"pk": award_a.pk},
        "awards:objection_handle": {"pk": objection.pk}, "awards:my_result": {"proposal_pk": p_a.pk},
        "documents:application_book": {"pk": p_a.pk}, "documents:finalists_book": c_pk,
        "documents:blank_sheet": c_pk, "documents:filled_sheet": {"pk": assignment.pk}, "documents:notice": c_pk,
        "documents:agreement": {"award_pk": award_a.pk}, "documents:proposals": c_pk, "documents:scores": c_pk,
        "documents:ranking": c_pk,
        "supervision:sign": {"agreement_pk": agreement.pk},
        **{f"supervision:{n}": {"pk": project.pk} for n in (
            "project", "report_pdf", "supervisors", "revise", "reinstate", "close", "ledger", "ledger_add", "ledger_import",
            "ledger_template", "ledger_export", "visit_new", "rectification_add")},
        "supervision:release": {"pk": tranche.pk}, "supervision:receipt": {"pk": entry.pk},
        "supervision:refund": {"pk": project.pk}, "supervision:duplicate_invoices": {"pk": project.pk},
        "supervision:ledger_correct": {"pk": entry.pk}, "supervision:ledger_receipt": {"pk": entry.pk},
        "supervision:rectification_event_evidence": {"pk": event.pk},
        "supervision:report": {"pk": report.pk}, "supervision:report_review": {"pk": report.pk},
        "supervision:report_photo": {"pk": photo.pk}, "supervision:visit_photo": {"pk": visit_photo.pk},
        **{f"supervision:{n}": {"pk": rectification.pk} for n in (
            "rectification", "rectification_answer", "rectification_review", "rectification_evidence")},
        "supervision:evaluation_new": {"pk": project.pk, "kind": "midterm"},
        "supervision:feedback": {"token": project.feedback_token},
    }
    assert Objection.objects.count() == 1
    return users, kwargs


def classify(response, method):
    code = response.status_code
    location = response.get("Location", "")
    if code == 302 and location.startswith("/accounts/login/"):
        return "login"
    if code in (403, 404, 405):
        return str(code)
    if code >= 500:
        return "500"
    if method == "GET":
        return "ok" if code == 200 else f"{code}"
    return "ok"


@pytest.mark.django_db
def test_every_url_answers_every_role_as_expected(settings):
    settings.RATELIMIT_ENABLE = False
    users, kwargs = build_world()
    clients = {"anon": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    mismatches = []
    for name in url_names():
        if name not in EXPECTED:
            continue
        method, expected = EXPECTED[name]
        url = reverse(name, kwargs=kwargs.get(name, {}))
        for role in ROLES:
            client = clients[role]
            with transaction.atomic():
                response = client.get(url) if method == "GET" else client.post(url, {})
                transaction.set_rollback(True)
            if role != "anon" and name == "logout":
                client.force_login(users[role])
            got = classify(response, method)
            if got != expected[role]:
                mismatches.append(f"{name} {method} as {role}: expected {expected[role]}, got {got}"
                                  f" ({response.status_code} {response.get('Location', '')})")
    assert mismatches == [], "\n".join(mismatches)
