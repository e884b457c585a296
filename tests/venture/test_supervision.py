"""全程督导: tranches, reports, ledger, alerts, visits and rectifications, evaluations, feedback, portfolio, reminders —
through the services and through the pages (Django test client)."""

import datetime
import io
import re
from decimal import Decimal

import pandas as pd
import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from tests import factories
from tests.builders import (
    BUDGET,
    PDF,
    SIGNED,
    START,
    TODAY,
    build_funded,
    build_round,
    day,
    evaluate,
    line,
    many_funded,
    spend,
)
from venture.audit.models import AuditEvent
from venture.awards import services as awards
from venture.awards.models import Award
from venture.awards.services import create_agreement
from venture.competitions.models import BudgetCategory
from venture.exports import to_xlsx_bytes
from venture.supervision import queries, services
from venture.supervision.models import (
    EvaluationCriterion,
    Expenditure,
    Feedback,
    FundedProject,
    ProgressReport,
    Rectification,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture(autouse=True)
def _english(_test_settings, settings):
    # Assert on the English source strings, whatever the catalogue holds.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def f(db):
    return build_funded()


# --- The workspace opened from the agreement ---------------------------------------------------------------------


def test_signing_opens_the_workspace_with_budget_tranches_and_schedule(f):
    p = f.project
    assert (p.grant, p.released_total, p.signed_on, p.period_start, p.period_end, p.people_target) == (
        Decimal("60000.00"),
        Decimal("0.00"),
        SIGNED,
        START,
        day(180),
        200,
    )
    assert [(ln.category.name, ln.amount) for ln in p.lines.select_related("category")] == [
        ("人员经费", Decimal("15000.00")),
        ("活动经费", Decimal("40000.00")),
        ("管理费", Decimal("5000.00")),
    ]
    assert [(t.order, t.amount, t.condition) for t in p.tranches.all()] == [
        (1, Decimal("30000.00"), "signing"),
        (2, Decimal("18000.00"), "midterm"),
        (3, Decimal("12000.00"), "final"),
    ]
    assert [(i.name, i.target, i.achieved) for i in p.indicators.all()] == [
        ("服务骑手人次", Decimal("200.00"), Decimal("0.00"))
    ]
    reports = list(p.reports.all())
    assert reports[0].period_start == START and reports[-1].period_end == day(180)
    assert all(r.due_on == r.period_end + datetime.timedelta(days=10) for r in reports)
    assert p.revisions.get().number == 1
    with pytest.raises(ValidationError, match="already been signed"):
        services.sign_agreement(agreement=f.agreements[0], signed_on=SIGNED, by=f.staff)


def test_awards_page_signs_the_agreement_and_links_the_project(client, db):
    c, staff, _auditor, props = _round_with_open_agreements()
    client.force_login(staff)
    body = client.get(f"/results/round/{c.pk}/awards/").content.decode()
    agreement = props[0].awards.get().agreement
    assert f"/supervision/agreements/{agreement.pk}/sign/" in body
    r = client.post(f"/supervision/agreements/{agreement.pk}/sign/", {"signed_on": "2025-11-03"})
    project = FundedProject.objects.get(agreement=agreement)
    assert r.status_code == 302 and r["Location"] == f"/supervision/projects/{project.pk}/"
    assert project.signed_on == datetime.date(2025, 11, 3)
    body = client.get(f"/results/round/{c.pk}/awards/").content.decode()
    assert f'href="/supervision/projects/{project.pk}/"' in body
    assert f"/supervision/agreements/{agreement.pk}/sign/" not in body
    # the awards page fetches agreements and projects in two queries, whatever the number of awards
    with CaptureQueriesContext(connection) as q:
        client.get(f"/results/round/{c.pk}/awards/")
    assert sum("supervision_fundedproject" in x["sql"] for x in q.captured_queries) == 1
    r = client.post(f"/supervision/agreements/{agreement.pk}/sign/", {"signed_on": "2025-11-03"})
    assert r.status_code == 302 and FundedProject.objects.filter(agreement=agreement).count() == 1


def _round_with_open_agreements():
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    return c, staff, auditor, props


def test_only_staff_sign_agreements(client, f, applicant_a):
    agreement = f.agreements[0]
    for user in (f.auditor, f.supervisor, f.owner, applicant_a):
        client.force_login(user)
        assert (
            client.post(f"/supervision/agreements/{agreement.pk}/sign/", {"signed_on": "2025-11-03"}).status_code == 404
        )


# --- Tranches ---------------------------------------------------------------------------------------------------------


def test_tranche_conditions_and_the_grant_ceiling(f):
    t1, t2, t3 = f.project.tranches.all()
    services.release_tranche(tranche=t1, released_on=SIGNED, voucher_no="FK-001", by=f.staff)
    f.project.refresh_from_db()
    assert f.project.released_total == Decimal("30000.00")
    with pytest.raises(ValidationError, match="The release condition does not hold yet"):
        services.release_tranche(tranche=t2, released_on=day(90), voucher_no="FK-002", by=f.staff)
    evaluate(f, "midterm", ["32", "24", "24"])  # 80 of 100
    with pytest.raises(ValidationError, match=r"Release between ¥0.01 and ¥18,000.00\."):
        services.release_tranche(
            tranche=t2, released_on=day(90), voucher_no="FK-002", by=f.staff, amount=Decimal("18000.01")
        )
    services.release_tranche(tranche=t2, released_on=day(90), voucher_no="FK-002", by=f.staff)
    with pytest.raises(ValidationError, match="already been released"):
        services.release_tranche(tranche=t2, released_on=day(91), voucher_no="FK-003", by=f.staff)
    with pytest.raises(ValidationError, match="The release condition does not hold yet"):
        services.release_tranche(tranche=t3, released_on=day(91), voucher_no="FK-003", by=f.staff)
    f.project.refresh_from_db()
    assert f.project.released_total == Decimal("48000.00")
    assert [(t.released_amount, t.voucher_no) for t in f.project.tranches.all()] == [
        (Decimal("30000.00"), "FK-001"),
        (Decimal("18000.00"), "FK-002"),
        (None, ""),
    ]
    assert AuditEvent.objects.filter(action="tranche.release").count() == 2


def test_the_database_refuses_a_released_total_above_the_grant(f):
    with pytest.raises(IntegrityError), transaction.atomic():
        FundedProject.objects.filter(pk=f.project.pk).update(released_total=F("grant") + Decimal("0.01"))
    f.project.refresh_from_db()
    assert f.project.released_total == Decimal("0.00")


def test_release_form_on_the_workspace(client, f):
    t1 = f.project.tranches.get(order=1)
    client.force_login(f.staff)
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert f"/supervision/tranches/{t1.pk}/release/" in body
    assert "/release/" in body and body.count("/release/") == 1  # tranche 2 and 3 wait for their conditions
    r = client.post(
        f"/supervision/tranches/{t1.pk}/release/",
        {f"t{t1.pk}-released_on": SIGNED.isoformat(), f"t{t1.pk}-voucher_no": ""},
    )
    assert r.status_code == 400
    assert r.context["release_forms"][t1.pk].errors["voucher_no"] == ["This field is required."]
    r = client.post(
        f"/supervision/tranches/{t1.pk}/release/",
        {f"t{t1.pk}-released_on": SIGNED.isoformat(), f"t{t1.pk}-voucher_no": "FK-001", f"t{t1.pk}-amount": "20000"},
    )
    assert r.status_code == 302
    f.project.refresh_from_db()
    assert f.project.released_total == Decimal("20000.00")
    client.force_login(f.supervisor)  # supervisors do not pay
    t2 = f.project.tranches.get(order=2)
    assert client.post(f"/supervision/tranches/{t2.pk}/release/", {}).status_code == 404


def test_failed_midterm_suspends_and_blocks_tranches_until_reinstated(client, f):
    t1, t2, _t3 = f.project.tranches.all()
    evaluation = evaluate(f, "midterm", ["20", "10", "10"])  # 40 of 100
    assert (evaluation.total, evaluation.passed) == (Decimal("40.00"), False)
    f.project.refresh_from_db()
    assert f.project.status == "suspended"
    assert f.project.flag_reason == "Mid-term evaluation failed with 40.00 points."
    with pytest.raises(ValidationError, match="The project is Suspended"):
        services.release_tranche(tranche=t1, released_on=day(90), voucher_no="FK-001", by=f.staff)
    alerts = queries.alerts(f.project, today=day(9))
    assert ("suspended", "Mid-term evaluation failed with 40.00 points.") in [(a.code, a.message) for a in alerts]
    client.force_login(f.staff)
    r = client.post(f"/supervision/projects/{f.project.pk}/reinstate/", {"reason": ""})
    assert r.status_code == 400
    r = client.post(f"/supervision/projects/{f.project.pk}/reinstate/", {"reason": "整改到位，经研究恢复执行"})
    assert r.status_code == 302
    f.project.refresh_from_db()
    assert f.project.status == "active"
    services.release_tranche(tranche=t1, released_on=day(91), voucher_no="FK-001", by=f.staff)
    with pytest.raises(ValidationError, match="The release condition does not hold yet"):  # mid-term still failed
        services.release_tranche(tranche=t2, released_on=day(91), voucher_no="FK-002", by=f.staff)


def test_evaluation_form_shows_pass_or_fail_with_the_pass_mark(client, f):
    client.force_login(f.supervisor)
    url = f"/supervision/projects/{f.project.pk}/evaluations/midterm/"
    ProgressReport.objects.filter(project=f.project, due_on__lte=TODAY).update(status="accepted")
    body = client.get(url).content.decode()
    assert "执行进度" in body and "资金使用" in body and "服务成效" in body
    criteria = list(f.competition.evaluation_criteria.filter(kind="midterm"))
    r = client.post(url, {f"c_{criteria[0].pk}": "41", f"c_{criteria[1].pk}": "20", f"c_{criteria[2].pk}": "20"})
    assert r.status_code == 400
    assert r.context["form"].errors[f"c_{criteria[0].pk}"] == ["Ensure this value is less than or equal to 40."]
    r = client.post(
        url,
        {
            f"c_{criteria[0].pk}": "30",
            f"c_{criteria[1].pk}": "20",
            f"c_{criteria[2].pk}": "15.5",
            "comment": "进度正常",
        },
        follow=True,
    )
    assert "Mid-term evaluation: 65.50 points, passed (pass mark 60.00)." in r.content.decode()
    assert client.get(f"/supervision/projects/{f.project.pk}/evaluations/bogus/").status_code == 404


def test_close_out_after_a_passed_final_evaluation(client, f):
    client.force_login(f.staff)
    assert "/close/" not in client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    evaluate(f, "midterm", ["30", "20", "20"])
    evaluate(f, "final", ["35", "25", "25"])
    assert (
        f"/supervision/projects/{f.project.pk}/close/"
        in client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    )
    assert (
        client.post(f"/supervision/projects/{f.project.pk}/close/", {"closeout_report": "项目顺利完成。"}).status_code
        == 302
    )
    f.project.refresh_from_db()
    assert (f.project.status, f.project.closeout_report) == ("closed", "项目顺利完成。")


# --- Budget revisions --------------------------------------------------------------------------------------------


def test_budget_revision_and_no_cost_extension(client, f):
    people, activities, fee = (line(f.project, n) for n in ("人员经费", "活动经费", "管理费"))
    client.force_login(f.staff)
    url = f"/supervision/projects/{f.project.pk}/revise/"
    data = {
        "kind": "budget",
        "reason": "增加培训场次",
        f"line_{people.pk}": "16000",
        f"line_{activities.pk}": "40000",
        f"line_{fee.pk}": "5000",
    }
    r = client.post(url, data)
    assert r.status_code == 400
    assert r.context["revise_form"].non_field_errors() == [
        "The revised lines add up to ¥61,000.00; they must add up to the grant, ¥60,000.00."
    ]
    r = client.post(url, {**data, f"line_{activities.pk}": "39000"})
    assert r.status_code == 302
    assert [ln.amount for ln in f.project.lines.all()] == [Decimal("16000.00"), Decimal("39000.00"), Decimal("5000.00")]
    r = client.post(
        url,
        {
            **data,
            f"line_{activities.pk}": "39000",
            "kind": "extension",
            "reason": "疫情延期",
            "period_end": day(240).isoformat(),
        },
    )
    assert r.status_code == 302
    f.project.refresh_from_db()
    assert f.project.period_end == day(240)
    revisions = list(f.project.revisions.all())
    assert [(r.number, r.kind, r.period_end) for r in revisions] == [
        (1, "initial", day(180)),
        (2, "budget", day(180)),
        (3, "extension", day(240)),
    ]
    assert revisions[0].lines[0]["amount"] == "15000.00" and revisions[1].lines[0]["amount"] == "16000.00"


# --- Progress reports -------------------------------------------------------------------------------------------------


def _report_post(f, report, **extra):
    indicator = f.project.indicators.get()
    return {
        "narrative": "本季度开展骑手权益讲座3场。",
        "people_served": "85",
        f"ind_{indicator.pk}": "85",
        "activities-TOTAL_FORMS": "2",
        "activities-INITIAL_FORMS": "0",
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "100",
        "activities-0-date": day(20).isoformat(),
        "activities-0-place": "示范市骑手驿站",
        "activities-0-participants": "40",
        "activities-0-description": "权益讲座",
        "activities-1-date": "",
        "activities-1-place": "",
        "activities-1-participants": "",
        "activities-1-description": "",
        **extra,
    }


def test_report_submit_then_accept_counts_the_indicator(client, f):
    report = f.project.reports.first()
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/reports/{report.pk}/",
        _report_post(
            f, report, photos=[SimpleUploadedFile("a.png", PNG, "image/png"), SimpleUploadedFile("b.jpg", PNG)]
        ),
    )
    assert r.status_code == 400  # b.jpg is a PNG in disguise
    assert r.context["form"].errors["photos"] == ["The content of “b.jpg” is not a real JPG file."]
    r = client.post(
        f"/supervision/reports/{report.pk}/",
        _report_post(f, report, photos=[SimpleUploadedFile("a.png", PNG, "image/png")]),
    )
    assert r.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.people_served) == ("submitted", 85)
    assert [(a.place, a.participants) for a in report.activities.all()] == [("示范市骑手驿站", 40)]
    photo = report.photos.get()
    assert client.get(f"/supervision/report-photos/{photo.pk}/").status_code == 200
    assert f.project.indicators.get().achieved == Decimal("0.00")  # counts once accepted
    client.force_login(f.supervisor)
    r = client.post(f"/supervision/reports/{report.pk}/review/", {"decision": "accept", "note": ""})
    assert r.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("accepted", f.supervisor)
    assert f.project.indicators.get().achieved == Decimal("85.00")
    assert queries.people_served(f.project) == 85
    client.force_login(f.owner)
    assert 'name="narrative"' not in client.get(f"/supervision/reports/{report.pk}/").content.decode()
    r = client.post(f"/supervision/reports/{report.pk}/", _report_post(f, report))
    assert r.status_code == 400 and "cannot go from “Accepted” to “Submitted”" in r.content.decode()
    assert ProgressReport.objects.get(pk=report.pk).status == "accepted"


def test_request_changes_needs_a_note_then_the_applicant_resubmits(client, f):
    report = f.project.reports.first()
    client.force_login(f.owner)
    client.post(f"/supervision/reports/{report.pk}/", _report_post(f, report))
    client.force_login(f.supervisor)
    r = client.post(f"/supervision/reports/{report.pk}/review/", {"decision": "changes", "note": " "})
    assert r.status_code == 400
    assert r.context["review_form"].errors["note"] == ["Say what should change."]
    assert ProgressReport.objects.get(pk=report.pk).status == "submitted"
    client.post(f"/supervision/reports/{report.pk}/review/", {"decision": "changes", "note": "请补充活动照片"})
    report.refresh_from_db()
    assert (report.status, report.review_note) == ("changes", "请补充活动照片")
    client.force_login(f.owner)
    body = client.get(f"/supervision/reports/{report.pk}/").content.decode()
    assert "请补充活动照片" in body and 'name="narrative"' in body
    assert client.post(f"/supervision/reports/{report.pk}/", _report_post(f, report)).status_code == 302
    assert ProgressReport.objects.get(pk=report.pk).status == "submitted"


def test_overdue_report_flagged_and_reminders(client, f, mailoutbox):
    first, second, *rest = f.project.reports.all()
    ProgressReport.objects.filter(project__in=[f.project, f.other_project]).update(
        due_on=TODAY + datetime.timedelta(days=60)
    )
    ProgressReport.objects.filter(pk=first.pk).update(due_on=TODAY - datetime.timedelta(days=3))
    ProgressReport.objects.filter(pk=second.pk).update(due_on=TODAY + datetime.timedelta(days=7))
    client.force_login(f.staff)
    r = client.get(f"/supervision/projects/{f.project.pk}/")
    assert [rep.overdue for rep in r.context["reports"]][:2] == [True, False]
    assert "1 progress report(s) overdue." in [a.message for a in r.context["alerts"]]
    out = io.StringIO()
    call_command("send_report_reminders", "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Would send 1 reminder e-mail(s) covering 2 report(s)."
    assert mailoutbox == []
    assert not ProgressReport.objects.filter(reminded_at__isnull=False).exists()
    out = io.StringIO()
    call_command("send_report_reminders", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Sent 1 reminder e-mail(s) covering 2 report(s)."
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["sv0@example.org"]
    assert f.project.title in mail.body and "OVERDUE" in mail.body
    assert set(ProgressReport.objects.filter(reminded_at__isnull=False).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    out = io.StringIO()
    call_command("send_report_reminders", "--every", "7", stdout=out)  # cron-friendly: not again this week
    assert out.getvalue().splitlines()[-1] == "Sent 0 reminder e-mail(s) covering 0 report(s)."
    assert len(mailoutbox) == 1


# --- Ledger --------------------------------------------------------------------------------------------------------


def _entry(f, **extra):
    return {
        "date": day(10).isoformat(),
        "line": line(f.project, "活动经费").pk,
        "amount": "120.50",
        "payee": "示范市文具店",
        "description": "活动物资",
        "voucher_no": "PZ-001",
        **extra,
    }


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"amount": "-5"}, "amount", "An amount is more than zero."),
        ({"amount": "0"}, "amount", "An amount is more than zero."),
        ({"amount": "12.345"}, "amount", "Use at most two decimal places (fen)."),
        ({"date": (START - datetime.timedelta(days=1)).isoformat()}, "date", None),
        ({"line": "OTHER"}, "line", "Select a valid choice. That choice is not one of the available choices."),
        ({"amount": "500.01"}, "receipt", "A receipt is required for amounts above ¥500.00."),
        ({"receipt": ("r.pdf", b"not a pdf")}, "receipt", "The content of “r.pdf” is not a real PDF file."),
        (
            {"receipt": ("r.exe", b"MZ")},
            "receipt",
            "Files of type .exe are not accepted. Allowed: JPEG, JPG, PDF, PNG.",
        ),
    ],
)
def test_ledger_entry_errors_next_to_fields_and_nothing_saved(client, f, change, field, message):
    client.force_login(f.owner)
    data = _entry(f, **change)
    if data["line"] == "OTHER":
        data["line"] = line(f.other_project, "活动经费").pk
    if isinstance(data.get("receipt"), tuple):
        data["receipt"] = SimpleUploadedFile(*data["receipt"])
    r = client.post(f"/supervision/projects/{f.project.pk}/ledger/add/", data)
    assert r.status_code == 400
    expected = message or (f"The date is outside the project period ({START.isoformat()} to {day(180).isoformat()}).")
    assert r.context["form"].errors[field] == [expected]
    assert Expenditure.objects.count() == 0
    assert "Nothing was saved" in r.content.decode()


def test_ledger_service_refuses_another_projects_line(f):
    with pytest.raises(ValidationError) as exc:
        spend(f.project, "100", category=None, line=line(f.other_project, "活动经费"))
    assert exc.value.message_dict == {"line": ["That budget line belongs to another project."]}
    assert Expenditure.objects.count() == 0


def test_ledger_entry_with_receipt_and_who_may_download_it(client, f, applicant_a):
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/add/",
        _entry(f, amount="800.00", receipt=SimpleUploadedFile("发票.pdf", PDF)),
    )
    assert r.status_code == 302
    entry = Expenditure.objects.get()
    assert (entry.amount, entry.category.name, entry.line.item, entry.created_by) == (
        Decimal("800.00"),
        "活动经费",
        "活动经费项目",
        f.owner,
    )
    url = f"/supervision/receipts/{entry.pk}/"
    assert client.get(url).status_code == 200
    for user in (f.staff, f.auditor, f.supervisor):
        client.force_login(user)
        assert client.get(url).status_code == 200
    for user in (f.other, applicant_a, f.judge, factories.user("sup2", role="supervisor")):
        client.force_login(user)
        assert client.get(url).status_code == 404


def _csv(rows):
    header = "日期,预算科目,明细项目,金额,收款方,摘要,凭证号\n"
    return SimpleUploadedFile("台账.csv", (header + "\n".join(rows) + "\n").encode("utf-8"), "text/csv")


def test_import_with_a_bad_row_imports_nothing_and_reports_it(client, f):
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/import/",
        {
            "file": _csv(
                [
                    f"{day(10).isoformat()},活动经费,活动经费项目,300.00,示范市文具店,活动物资,PZ-1",
                    f"{day(11).isoformat()},差旅费,,abc,示范市出租车,交通,PZ-2",
                    f"{day(12).isoformat()},人员经费,人员经费项目,2000,张社工,劳务费,",
                ]
            )
        },
    )
    assert r.status_code == 400
    report = r.context["import_report"]
    assert (report.rows, report.problems, report.failed) == (
        3,
        3,
        [
            (
                3,
                [
                    "金额: “abc” is not an amount in yuan (for example 12800.50).",
                    "预算科目: “差旅费” is not a budget category of this round",
                ],
            ),
            (4, ["凭证号: this cell is empty"]),
        ],
    )
    body = r.content.decode()
    assert "Nothing was imported" in body and "金额: “abc” is not an amount in yuan (for example 12800.50)." in body
    assert Expenditure.objects.count() == 0


def test_good_import_imports_every_row_csv_and_xlsx(client, f):
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/import/",
        {
            "file": _csv(
                [
                    f"{day(10).isoformat()},活动经费,活动经费项目,300.00,示范市文具店,活动物资,PZ-1",
                    f'{day(11).isoformat()},人员经费,人员经费项目,"2,000.50",张社工,劳务费,PZ-2',
                ]
            )
        },
    )
    assert r.status_code == 302
    frame = pd.DataFrame(
        [[day(12).isoformat(), "管理费", "管理费项目", "99.99", "示范市打印店", "打印", "PZ-3"]],
        columns=["日期", "预算科目", "明细项目", "金额", "收款方", "摘要", "凭证号"],
    )
    upload = SimpleUploadedFile("台账.xlsx", to_xlsx_bytes({"台账": frame}))
    assert client.post(f"/supervision/projects/{f.project.pk}/ledger/import/", {"file": upload}).status_code == 302
    assert [(e.date, e.line.item, e.amount, e.voucher_no) for e in Expenditure.objects.order_by("date")] == [
        (day(10), "活动经费项目", Decimal("300.00"), "PZ-1"),
        (day(11), "人员经费项目", Decimal("2000.50"), "PZ-2"),
        (day(12), "管理费项目", Decimal("99.99"), "PZ-3"),
    ]


def test_ledger_template_export_and_audit(client, f):
    spend(f.project, "300.00", voucher_no="PZ-1")
    entry = spend(
        f.project,
        "45.60",
        payee='=HYPERLINK("x")',
        voucher_no="PZ-2",
        invoice_kind="digital",
        invoice_number="26442000000123456789",
    )
    client.force_login(f.owner)
    r = client.get(f"/supervision/projects/{f.project.pk}/ledger/template.xlsx")
    template = pd.read_excel(io.BytesIO(r.content), sheet_name=None, dtype=str)
    assert list(template["Ledger"].columns) == [  # headed in the UI language (issue #18); the import reads either
        "Date",
        "Budget category",
        "Item",
        "Amount",
        "Payee",
        "Description",
        "Voucher number",
        "Invoice code",
        "Invoice number",
        "Payee USCC",
    ]
    assert template["Budget lines"]["Item"].tolist() == ["人员经费项目", "活动经费项目", "管理费项目"]
    r = client.get(f"/supervision/projects/{f.project.pk}/ledger/export/?format=csv")
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Date,Budget category,Item,Amount,Payee,Description,Voucher number,Invoice code,Invoice number,Payee USCC,"
        "Receipt,Entry no.,Correction,Reason"
    )
    assert lines[2] == (
        f'{day(10).isoformat()},活动经费,活动经费项目,45.60,"\'=HYPERLINK(""x"")",活动物资,PZ-2,,'
        f"26442000000123456789,,no,{entry.pk},,"
    )
    r = client.get(f"/supervision/projects/{f.project.pk}/ledger/export/")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    events = AuditEvent.objects.filter(action="export.ledger").order_by("id")
    assert [e.after for e in events] == [{"format": "csv", "rows": 2}, {"format": "xlsx", "rows": 2}]


def test_ledger_list_constant_queries(client, f):
    client.force_login(f.owner)
    url = f"/supervision/projects/{f.project.pk}/ledger/"
    spend(f.project, "10.00")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    Expenditure.objects.bulk_create(
        [
            Expenditure(
                project=f.project,
                date=day(20),
                category=line(f.project, "人员经费").category,
                line=line(f.project, "人员经费"),
                amount=Decimal("1.00"),
                payee="p",
                description="d",
                voucher_no=f"V{i}",
            )
            for i in range(120)
        ]
    )
    with CaptureQueriesContext(connection) as many:
        r = client.get(url + "?page=2")
    assert len(many) == len(few)
    assert len(r.context["page"].object_list) == 50


# --- Budget against actual, alerts ---------------------------------------------------------------------------------


def test_budget_vs_actual_per_line_and_category(f):
    travel = BudgetCategory.objects.create(competition=f.competition, name="差旅费", order=5)
    spend(f.project, "3000.00", "人员经费")
    spend(f.project, "1234.56", "人员经费")
    spend(f.project, "999.99", "活动经费")
    services.record_expenditure(
        project=f.project,
        by=None,
        date=day(10),
        category=travel,
        amount=Decimal("100.00"),
        payee="出租车",
        description="交通",
        voucher_no="PZ-9",
    )
    spend(f.other_project, "777.00", "人员经费")  # another project's spending never counts here
    lines, categories = queries.budget_vs_actual(f.project)
    assert [(ln.item, ln.amount, ln.spent) for ln in lines] == [
        ("人员经费项目", Decimal("15000.00"), Decimal("4234.56")),
        ("活动经费项目", Decimal("40000.00"), Decimal("999.99")),
        ("管理费项目", Decimal("5000.00"), Decimal("0")),
    ]
    assert [(c["name"], c["approved"], c["spent"], c["remaining"], c["share"]) for c in categories] == [
        ("人员经费", Decimal("15000.00"), Decimal("4234.56"), Decimal("10765.44"), Decimal("28.2304")),
        ("活动经费", Decimal("40000.00"), Decimal("999.99"), Decimal("39000.01"), Decimal("2.499975")),
        ("管理费", Decimal("5000.00"), Decimal("0"), Decimal("5000.00"), Decimal("0")),
        ("差旅费", Decimal("0"), Decimal("100.00"), Decimal("-100.00"), None),
    ]


@pytest.fixture
def fr(f):
    """``f`` with the whole grant paid out, so that spending alone raises no "spent more than released" alert."""
    FundedProject.objects.filter(pk__in=[f.project.pk, f.other_project.pk]).update(released_total=F("grant"))
    f.project.refresh_from_db()
    f.other_project.refresh_from_db()
    return f


def _codes(project, today):
    return [a.code for a in queries.alerts(project, today=today)]


def test_a_clean_project_has_no_alert(fr):
    spend(fr.project, "2000.00", date=day(6))
    assert _codes(fr.project, day(9)) == []


def test_alert_overspend_beyond_ten_percent(fr):
    spend(fr.project, "5500.00", "管理费")
    assert _codes(fr.project, day(9)) == []  # exactly 10 % over is within the tolerance
    spend(fr.project, "0.01", "管理费")
    alerts = queries.alerts(fr.project, today=day(9))
    assert [(a.code, a.message) for a in alerts] == [
        ("overspend", "“管理费项目” has spent ¥5,500.01 of ¥5,000.00, more than 10% over its budget.")
    ]


def test_alert_management_fee_cap(fr):
    services.revise_budget(
        project=fr.project,
        by=fr.staff,
        kind="budget",
        reason="管理费调整",
        amounts={line(fr.project, "管理费").pk: Decimal("7000"), line(fr.project, "活动经费").pk: Decimal("38000")},
    )
    spend(fr.project, "6000.01", "管理费")
    assert [(a.code, a.message) for a in queries.alerts(fr.project, today=day(9))] == [
        ("fee_cap", "Management fee ¥6,000.01 is above the 10% cap (¥6,000.00).")
    ]


def test_alert_unbudgeted_category(fr):
    travel = BudgetCategory.objects.create(competition=fr.competition, name="差旅费", order=5)
    services.record_expenditure(
        project=fr.project,
        by=None,
        date=day(8),
        category=travel,
        amount=Decimal("300.00"),
        payee="出租车",
        description="交通",
        voucher_no="PZ-9",
    )
    assert [(a.code, a.message) for a in queries.alerts(fr.project, today=day(9))] == [
        ("unbudgeted", "¥300.00 spent in “差旅费”, a category the budget lacks.")
    ]


def test_alert_fee_cap_also_when_the_budget_has_no_fee_line(fr):
    fee = BudgetCategory.objects.create(
        competition=fr.competition, name="机构管理费", cap_percent=Decimal("5"), is_management_fee=True, order=6
    )
    services.record_expenditure(
        project=fr.project,
        by=None,
        date=day(8),
        category=fee,
        amount=Decimal("3000.01"),
        payee="本机构",
        description="管理费",
        voucher_no="PZ-9",
        receipt=SimpleUploadedFile("r.pdf", PDF),
    )
    codes = _codes(fr.project, day(9))
    assert codes == ["unbudgeted", "fee_cap"]  # the workspace and the portfolio agree
    row = next(r for r in queries.portfolio(today=day(9)) if r["project"] == fr.project)
    assert [a.code for a in row["alerts"]] == codes


def test_alert_spending_before_the_agreement(fr):
    spend(fr.project, "200.00", date=day(2))  # within the period, before SIGNED (day 5)
    assert [(a.code, a.message) for a in queries.alerts(fr.project, today=day(9))] == [
        (
            "before_agreement",
            f"Spending dated {day(2).isoformat()}, before the agreement was signed ({SIGNED.isoformat()}).",
        )
    ]


def test_alert_spend_rate_far_from_time_elapsed(fr):
    spend(fr.project, "20000.00", date=day(6))
    assert [(a.code, a.message) for a in queries.alerts(fr.project, today=day(9))] == [
        ("spend_rate", "33% of the grant spent after 6% of the project period.")
    ]
    ProgressReport.objects.filter(project=fr.other_project).update(due_on=day(400))
    assert _codes(fr.other_project, day(150)) == ["spend_rate"]  # nothing spent with 83 % of the time gone


def test_alert_overdue_report_and_rectification(f):
    first = f.project.reports.first()
    ProgressReport.objects.filter(pk=first.pk).update(due_on=day(5))
    assert [(a.code, a.message) for a in queries.alerts(f.project, today=day(9))] == [
        ("report_overdue", "1 progress report(s) overdue.")
    ]
    ProgressReport.objects.filter(pk=first.pk).update(due_on=day(50))
    services.add_rectification(project=f.project, by=f.supervisor, what="台账缺少凭证", deadline=day(8), owner="李会计")
    assert [(a.code, a.message) for a in queries.alerts(f.project, today=day(9))] == [
        ("rectification_overdue", "1 rectification(s) past their deadline.")
    ]
    assert _codes(f.project, day(8)) == []


# --- Site visits and rectifications -------------------------------------------------------------------------------


def test_site_visit_with_rectifications_then_answer_close_and_reopen(client, f):
    client.force_login(f.supervisor)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/visits/new/",
        {
            "date": day(40).isoformat(),
            "people_met": "项目主管王某、骑手代表2名",
            "observations": "活动开展正常。",
            "rating": "4",
            "findings": "部分签到表缺失。",
            "photos": [SimpleUploadedFile("v.png", PNG, "image/png")],
            "items-TOTAL_FORMS": "3",
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "3",
            "items-0-what": "补齐签到表",
            "items-0-deadline": day(60).isoformat(),
            "items-0-owner": "王主管",
            "items-1-what": "公示资金使用情况",
            "items-1-deadline": day(70).isoformat(),
            "items-1-owner": "李会计",
            "items-2-what": "",
            "items-2-deadline": "",
            "items-2-owner": "",
        },
    )
    assert r.status_code == 302
    visit = f.project.visits.get()
    assert (visit.rating, visit.supervisor, visit.photos.count()) == (4, f.supervisor, 1)
    first, second = Rectification.objects.order_by("deadline")
    assert (first.what, first.visit, first.status) == ("补齐签到表", visit, "open")
    client.force_login(f.owner)
    url = f"/supervision/rectifications/{first.pk}/"
    assert 'name="answer"' in client.get(url).content.decode()
    r = client.post(
        url + "answer/", {"answer": "已补齐全部签到表。", "evidence": SimpleUploadedFile("签到表.pdf", PDF)}
    )
    assert r.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.answer) == ("answered", "已补齐全部签到表。")
    assert client.get(url + "evidence/").status_code == 200
    client.force_login(f.supervisor)
    r = client.post(url + "review/", {"decision": "reopen", "note": ""})
    assert r.status_code == 400 and r.context["review_form"].errors["note"] == [
        "Say why the rectification is reopened."
    ]
    client.post(url + "review/", {"decision": "reopen", "note": "签到表缺少日期"})
    first.refresh_from_db()
    assert (first.status, first.review_note, first.closed_at) == ("open", "签到表缺少日期", None)
    client.force_login(f.owner)
    client.post(url + "answer/", {"answer": "已补充日期。"})
    client.force_login(f.supervisor)
    client.post(url + "review/", {"decision": "close", "note": ""})
    first.refresh_from_db()
    assert first.status == "closed" and first.closed_at is not None
    # the applicant cannot review, the supervisor cannot answer
    client.force_login(f.owner)
    assert client.post(f"/supervision/rectifications/{second.pk}/review/", {"decision": "close"}).status_code == 404
    client.force_login(f.supervisor)
    assert client.post(f"/supervision/rectifications/{second.pk}/answer/", {"answer": "x"}).status_code == 404


def test_visit_refuses_a_fourth_rectification_item(client, f):
    client.force_login(f.supervisor)
    data = {
        "date": day(40).isoformat(),
        "people_met": "王某",
        "observations": "正常",
        "rating": "3",
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "3",
    }
    for i in range(4):
        data.update(
            {f"items-{i}-what": f"事项{i}", f"items-{i}-deadline": day(60).isoformat(), f"items-{i}-owner": "王"}
        )
    r = client.post(f"/supervision/projects/{f.project.pk}/visits/new/", data)
    assert r.status_code == 400
    assert f.project.visits.count() == 0 and Rectification.objects.count() == 0


# --- Who sees what ---------------------------------------------------------------------------------------------------


def _project_urls(f):
    p = f.project
    report = p.reports.first()
    entry = spend(p, "800.00")
    item = services.add_rectification(project=p, by=f.staff, what="x", deadline=day(60), owner="y")
    return [
        f"/supervision/projects/{p.pk}/",
        f"/supervision/projects/{p.pk}/ledger/",
        f"/supervision/projects/{p.pk}/ledger/export/",
        f"/supervision/projects/{p.pk}/ledger/template.xlsx",
        f"/supervision/receipts/{entry.pk}/",
        f"/supervision/reports/{report.pk}/",
        f"/supervision/rectifications/{item.pk}/",
        f"/supervision/projects/{p.pk}/visits/new/",
        f"/supervision/projects/{p.pk}/evaluations/midterm/",
    ], [
        f"/supervision/projects/{p.pk}/ledger/add/",
        f"/supervision/projects/{p.pk}/ledger/import/",
        f"/supervision/reports/{report.pk}/",
        f"/supervision/reports/{report.pk}/review/",
        f"/supervision/rectifications/{item.pk}/answer/",
        f"/supervision/rectifications/{item.pk}/review/",
        f"/supervision/projects/{p.pk}/revise/",
        f"/supervision/projects/{p.pk}/close/",
        f"/supervision/projects/{p.pk}/reinstate/",
        f"/supervision/projects/{p.pk}/supervisors/",
        f"/supervision/projects/{p.pk}/rectifications/add/",
        f"/supervision/tranches/{p.tranches.first().pk}/release/",
    ]


def test_another_organization_unassigned_supervisor_and_judge_get_404_everywhere(client, f, applicant_a):
    gets, posts = _project_urls(f)
    outsiders = [f.other, applicant_a, factories.user("sup_other", role="supervisor"), f.judge]
    for user in outsiders:
        client.force_login(user)
        for url in gets:
            assert client.get(url).status_code == 404, (user.username, url)
        for url in posts:
            assert client.post(url, {}).status_code == 404, (user.username, url)
    client.force_login(f.other)
    assert client.get("/supervision/projects/999999/").status_code == 404  # exactly like a missing id


def test_roles_on_the_project(client, f):
    gets, _posts = _project_urls(f)
    project_page, ledger, *_rest = gets
    client.force_login(f.owner)
    assert client.get(project_page).status_code == 200
    assert client.get(f"/supervision/projects/{f.project.pk}/visits/new/").status_code == 404  # not a supervisor
    assert client.get(f"/supervision/projects/{f.other_project.pk}/").status_code == 404
    client.force_login(f.auditor)  # reads everything, writes nothing
    for url in gets[:7]:
        assert client.get(url).status_code == 200, url
    body = client.get(ledger).content.decode()
    assert "/ledger/add/" not in body
    assert client.post(f"/supervision/projects/{f.project.pk}/ledger/add/", _entry(f)).status_code == 404
    client.force_login(f.supervisor)
    assert client.get(f"/supervision/projects/{f.project.pk}/visits/new/").status_code == 200
    assert client.get(f"/supervision/projects/{f.other_project.pk}/").status_code == 404


def test_staff_assigns_supervisors(client, f):
    other_sup = factories.user("sup_new", role="supervisor")
    client.force_login(f.staff)
    r = client.post(f"/supervision/projects/{f.other_project.pk}/supervisors/", {"supervisors": [other_sup.pk]})
    assert r.status_code == 302
    assert list(f.other_project.supervisors.all()) == [other_sup]
    r = client.post(f"/supervision/projects/{f.other_project.pk}/supervisors/", {"supervisors": [f.owner.pk]})
    assert r.status_code == 400  # not a supervisor account
    client.force_login(other_sup)
    assert client.get(f"/supervision/projects/{f.other_project.pk}/").status_code == 200


# --- The workspace page --------------------------------------------------------------------------------------------


def test_workspace_shows_figures_charts_alerts_and_the_feedback_qr(client, f):
    services.release_tranche(tranche=f.project.tranches.first(), released_on=SIGNED, voucher_no="FK-1", by=f.staff)
    spend(f.project, "1500.00", date=day(6))
    spend(f.project, "600.00", "管理费", date=day(20))
    services.submit_feedback(project=f.project, rating=5, comment="讲座很实用", ip="10.0.0.1", device="a")
    services.submit_feedback(project=f.project, rating=4, comment="", ip="10.0.0.2", device="b")
    client.force_login(f.staff)
    r = client.get(f"/supervision/projects/{f.project.pk}/")
    body = r.content.decode()
    assert r.context["spent"] == Decimal("2100.00")
    assert r.context["spent_share"] == Decimal("3.5")
    assert r.context["feedback"]["average"] == Decimal("4.50") and r.context["feedback"]["count"] == 2
    for text in [
        "¥60,000.00",
        "¥30,000.00",
        "¥2,100.00",
        "讲座很实用",
        f"/supervision/feedback/{f.project.feedback_token}/",
        'class="qr-code"',
        'aria-label="Budget and spending by category"',
        "Cumulative spending",
        "0 / 200",
    ]:
        assert text in body, text
    scripts = re.findall(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", body, re.S)
    assert all("src=" in attrs and not inner.strip() for attrs, inner in scripts)


def test_workspace_renders_in_chinese_and_a_constant_number_of_queries(client, f, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(f.supervisor)
    url = f"/supervision/projects/{f.project.pk}/"

    def activity(i):
        spend(f.project, "10.00", date=day(10 + i))
        services.record_visit(
            project=f.project,
            by=f.supervisor,
            date=day(40 + i),
            people_met="王",
            observations="正常",
            rating=4,
            findings="",
            rectifications=[{"what": "x", "deadline": day(60), "owner": "y"}],
            photos=[SimpleUploadedFile("v.png", PNG)],
        )
        services.submit_feedback(project=f.project, rating=4, comment="好", ip=f"10.0.0.{i}", device=str(i))

    activity(0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(1, 4):
        activity(i)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


# --- Public feedback ---------------------------------------------------------------------------------------------


def test_feedback_page_is_public_anonymous_and_rate_limited(client, f):
    url = f"/supervision/feedback/{f.project.feedback_token}/"
    body = client.get(url).content.decode()
    assert f.project.title in body and f.project.organization.name in body
    assert 'name="name"' not in body and 'name="contact"' not in body and "¥" not in body
    assert body.count('type="radio"') == 5
    r = client.post(url, {"rating": "5", "comment": "老师讲得很好", "website": "http://spam"})
    assert r.status_code == 302 and Feedback.objects.count() == 0  # the honeypot stores nothing
    r = client.post(url, {"rating": "5", "comment": "老师讲得很好", "website": ""})
    assert r.status_code == 302 and r["Location"] == url + "?thanks=1"
    assert "Thank you" in client.get(r["Location"]).content.decode()
    fb = Feedback.objects.get()
    device = client.cookies["venture_feedback_device"]
    assert device["httponly"] and device["samesite"] == "Lax"
    device_id = signing._unsign_cookie(
        device.value, cookie_name="venture_feedback_device", salt="venture_feedback_device"
    )
    assert (fb.rating, fb.comment, fb.client_key, fb.network_key) == (
        5,
        "老师讲得很好",
        services.client_key(device_id),
        services.client_key("127.0.0.1", "network"),
    )
    stored = {field.attname: str(getattr(fb, field.attname)) for field in Feedback._meta.fields}
    assert not any("127.0.0.1" in value or device_id in value for value in stored.values())
    assert set(stored) == {"id", "project_id", "rating", "comment", "created_at", "client_key", "network_key"}
    for _ in range(4):
        assert client.post(url, {"rating": "4"}).status_code == 302
    r = client.post(url, {"rating": "3"})
    assert r.status_code == 400
    assert "already received several ratings from this device today" in r.content.decode()
    assert Feedback.objects.count() == 5
    client.cookies.pop("venture_feedback_device")  # another phone, on another network
    r = client.post(url, {"rating": "3"}, REMOTE_ADDR="10.9.9.9")
    assert r.status_code == 302 and Feedback.objects.count() == 6
    assert client.post(url, {"rating": "9"}).status_code == 400
    assert client.get("/supervision/feedback/no-such-token/").status_code == 404


def test_found_11_workers_sharing_a_venue_network_each_rate(f, settings):
    """Issue #15 Found 11: the limit was 5 a day per network, so the sixth worker on a venue's Wi-Fi was refused.
    Now each device (its signed cookie) has 5 a day, the network a generous cap."""
    settings.FEEDBACK_PER_NETWORK_PER_DAY = 12
    url = f"/supervision/feedback/{f.project.feedback_token}/"
    for worker in range(12):  # twelve phones, one venue address (127.0.0.1 in the test client)
        phone = Client()
        phone.get(url)
        assert phone.post(url, {"rating": "5"}).status_code == 302, worker
    assert Feedback.objects.filter(project=f.project).count() == 12
    assert len(set(Feedback.objects.values_list("client_key", flat=True))) == 12
    r = Client().post(url, {"rating": "5"})  # the thirteenth on the same network: the network's cap
    assert r.status_code == 400 and "many ratings from this network today" in r.content.decode()
    assert Feedback.objects.count() == 12
    assert services.FEEDBACK_PER_NETWORK_PER_DAY == 300


# --- Portfolio -----------------------------------------------------------------------------------------------------


def quick_projects(competition, n, by, start=START):
    """n funded projects signed straight from final awards (no judging), each with a little activity."""

    made = []
    for i in range(n):
        p = factories.proposal(
            competition,
            factories.organization(),
            status="awarded",
            title=f"快速项目{i:03d}",
            requested=Decimal("60000.00"),
        )
        factories.budget(p, BUDGET)
        award = Award.objects.create(
            competition=competition, proposal=p, rank=i + 1, amount=Decimal("60000.00"), status="final"
        )
        project = services.sign_agreement(agreement=create_agreement(award=award), signed_on=start, by=by)
        spend(project, f"{100 + i}.00", date=start + datetime.timedelta(days=3))
        spend(project, "50.00", "人员经费", date=start + datetime.timedelta(days=40))
        services.add_rectification(project=project, by=by, what="x", deadline=start, owner="y")
        made.append(project)
    return made


@pytest.mark.parametrize("n", [3, 55])
def test_portfolio_constant_queries(client, db, django_assert_max_num_queries, n):
    c = factories.competition(
        stage="supervision", project_start_earliest=START, project_end_latest=START + datetime.timedelta(days=400)
    )
    staff = factories.user("staff_pf", role="staff")
    many_funded(c, n, title="快速项目")
    client.force_login(staff)
    # session, user, the round filter's choices; the totals by round and status, approved and spent by category,
    # spent by month (all matching projects, summed in the database); the page's projects, their rounds, the
    # rounds' budget categories, lines, spending by category (the ledger's running totals)
    with django_assert_max_num_queries(12):
        r = client.get("/supervision/portfolio/")
    assert r.status_code == 200 and len(r.context["rows"]) == min(n, 50)
    with django_assert_max_num_queries(13):  # + the round filter validated
        r = client.get(f"/supervision/portfolio/?round={c.pk}&q=快速&page=2")  # 55: page 2; 3: page 1
    assert r.status_code == 200 and len(r.context["rows"]) == {3: 3, 55: 5}[n]


def test_portfolio_rows_filters_charts_and_export(client, f):
    spend(f.project, "1000.00", date=day(6))
    services.add_rectification(project=f.project, by=f.staff, what="x", deadline=day(500), owner="y")
    evaluate(f, "midterm", ["10", "10", "10"], project=f.other_project)  # fails: suspended
    client.force_login(f.staff)
    r = client.get("/supervision/portfolio/")
    rows = {row["project"].title: row for row in r.context["rows"]}
    mine = rows[f.project.title]
    assert (mine["grant"], mine["spent"], mine["spent_share"], mine["open_rectifications"]) == (
        Decimal("60000.00"),
        Decimal("1000.00"),
        Decimal("1000.00") * 100 / Decimal("60000.00"),
        1,
    )
    body = r.content.decode()
    assert 'aria-label="Budget and spending by category, every matching project"' in body
    assert 'aria-label="Monthly spending"' in body
    r = client.get("/supervision/portfolio/?status=suspended")
    assert [row["project"] for row in r.context["rows"]] == [f.other_project]
    r = client.get(f"/supervision/portfolio/?q={f.project.organization.name}")
    assert [row["project"] for row in r.context["rows"]] == [f.project]
    r = client.get("/supervision/portfolio/?export=xlsx&status=active")
    frame = pd.read_excel(io.BytesIO(r.content))
    assert frame["Project"].tolist() == [f.project.title]
    assert frame["Spent (yuan)"].tolist() == [1000]
    assert AuditEvent.objects.filter(action="export.portfolio").count() == 1


def test_portfolio_by_role(client, f):
    client.force_login(f.supervisor)
    r = client.get("/supervision/portfolio/")
    assert [row["project"] for row in r.context["rows"]] == [f.project]
    home = client.get("/").content.decode()
    assert f.project.title in home and f.other_project.title not in home
    assert 'href="/supervision/portfolio/"' in home
    client.force_login(f.auditor)
    assert len(client.get("/supervision/portfolio/").context["rows"]) == 2
    for user in (f.owner, f.judge):
        client.force_login(user)
        assert client.get("/supervision/portfolio/").status_code == 403
        assert 'href="/supervision/portfolio/"' not in client.get("/").content.decode()


# --- The organization's record -------------------------------------------------------------------------------------


def test_organization_record_shows_past_projects_in_constant_queries(client, f):
    org = f.project.organization
    evaluate(f, "midterm", ["30", "20", "20"])
    client.force_login(f.staff)
    with CaptureQueriesContext(connection) as one:
        body = client.get(f"/organizations/{org.pk}/").content.decode()
    assert f.project.title in body and "¥60,000.00" in body and "70.00" in body
    c2 = factories.competition(
        title="第二届", project_start_earliest=START, project_end_latest=START + datetime.timedelta(days=400)
    )
    for i, project in enumerate(quick_projects(c2, 2, f.staff)):
        FundedProject.objects.filter(pk=project.pk).update(organization=org)
        EvaluationCriterion.objects.get_or_create(competition=c2, kind="midterm", name="总体", max_points=100)
        ProgressReport.objects.filter(project=project, due_on__lte=TODAY).update(status="accepted")
        services.evaluate(
            project=project, kind="midterm", by=f.staff, points={c2.evaluation_criteria.get(): Decimal(50 + i * 30)}
        )
    with CaptureQueriesContext(connection) as three:
        body = client.get(f"/organizations/{org.pk}/").content.decode()
    assert body.count("/supervision/projects/") == 3
    assert len(three) == len(one)


def test_staff_set_up_the_evaluation_rubric_in_the_admin(client, db):
    c = factories.competition()
    admin_user = factories.user("admin_staff", role="staff", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/supervision/evaluationcriterion/add/",
        {"competition": c.pk, "kind": "midterm", "name": "服务成效", "max_points": "40", "order": "0"},
    )
    assert response.status_code == 302
    assert list(EvaluationCriterion.objects.values_list("name", "max_points")) == [("服务成效", 40)]


def test_supervision_report_pdf(client, f):
    spend(f.project, "1200.00", receipt=SimpleUploadedFile("r.pdf", PDF, "application/pdf"))
    client.force_login(f.staff)
    response = client.get(f"/supervision/projects/{f.project.pk}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in (
        f.project.title,
        f.project.organization.name,
        "¥60,000.00",
        "¥1,200.00",
        f.project.agreement.amount_in_words,
    ):
        assert expected in text, expected
    client.force_login(f.other)
    assert client.get(f"/supervision/projects/{f.project.pk}/report.pdf").status_code == 404


def test_assigning_the_same_supervisors_again_records_nothing(f):
    """Found by the lifecycle state machine: saving an unchanged set of supervisors wrote an audit event that
    records no change."""
    services.assign_supervisors(project=f.project, supervisors=[f.supervisor], by=f.staff)
    count = AuditEvent.objects.filter(action="project.supervisors").count()
    services.assign_supervisors(project=f.project, supervisors=[f.supervisor], by=f.staff)
    assert AuditEvent.objects.filter(action="project.supervisors").count() == count
    assert list(f.project.supervisors.all()) == [f.supervisor]
