"""Issue #15 "Money that adds up": corrections (红冲), receipts attached later, partial tranches and payment dates,
evaluation preconditions, rectification history, alerts that link to their rows, close-out refund, dates elsewhere,
feedback (see test_supervision.py for Found 11). Each Found item covered here is named in its test."""

import datetime
import io
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from tests.builders import PDF, PNG, TODAY, build_funded, day, evaluate, line, spend
from venture.audit.models import AuditEvent
from venture.audit.services import record
from venture.supervision import expenditure_rules, ledger, queries, services
from venture.supervision.models import (
    Expenditure,
    FundedProject,
    ProgressReport,
    Rectification,
    RectificationEvent,
    Tranche,
    TrancheRelease,
)


@pytest.fixture(autouse=True)
def _english(_test_settings, settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def f(db):
    return build_funded()


def _pending(f, amount="1200.00", voucher="PZ-7"):
    """An entry above the receipt threshold (¥500) recorded as "receipt pending", as the import books it."""
    ledger.lock_projects([f.project.pk])
    entry = Expenditure.objects.create(
        project=f.project,
        date=day(12),
        line=line(f.project, "活动经费"),
        category=line(f.project, "活动经费").category,
        amount=Decimal(amount),
        payee="示范市印刷厂",
        description="宣传册",
        voucher_no=voucher,
        created_by=f.owner,
    )
    ledger.refresh_totals([f.project.pk])
    return entry


# --- 1. Corrections, not edits (Found 3) -----------------------------------------------------------------------------


def test_found_3_a_wrong_entry_is_reversed_and_corrected_and_the_totals_stay_exact(f):
    """Found 3: there was no correction or reversal (negative amounts refused, nothing editable). Now a reversal
    (negative, pointing at the original, with the reason) plus a corrected entry, both audited; the running totals
    equal a fresh computation."""
    wrong = spend(f.project, "3000.00", date=day(20), invoice_kind="digital", invoice_number="26442000000000000001")
    spend(f.project, "100.00", "人员经费", date=day(40))
    # The corrected entry keeps the original's voucher and invoice: the reversed original no longer holds them.
    reversal, fixed = services.reverse_expenditure(
        entry=wrong,
        by=f.owner,
        reason="金额录错，应为300元",
        corrected={
            "date": day(20),
            "line": line(f.project, "活动经费"),
            "amount": Decimal("300.00"),
            "payee": "示范市文具店",
            "description": "活动物资",
            "voucher_no": wrong.voucher_no,
            "invoice_kind": "digital",
            "invoice_number": "26442000000000000001",
            "receipt": None,
        },
    )
    assert (reversal.amount, reversal.reverses, reversal.date, reversal.line, reversal.correction_reason) == (
        Decimal("-3000.00"),
        wrong,
        day(20),
        line(f.project, "活动经费"),
        "金额录错，应为300元",
    )
    assert (reversal.voucher_no, reversal.invoice_kind, reversal.invoice_number) == (
        wrong.voucher_no,
        "digital",
        "26442000000000000001",
    )
    assert (fixed.amount, fixed.corrects, fixed.correction_reason) == (Decimal("300.00"), wrong, "金额录错，应为300元")
    assert (fixed.voucher_no, fixed.invoice_number) == (wrong.voucher_no, "26442000000000000001")
    f.project.refresh_from_db()
    assert f.project.spent_total == Decimal("400.00")
    assert line(f.project, "活动经费").spent == Decimal("300.00")
    assert ledger.differences([f.project.pk]) == []
    assert sum(m.amount for m in f.project.monthly_spend.all()) == Decimal("400.00")
    assert sum(c.amount for c in f.project.category_spend.all()) == Decimal("400.00")
    actions = list(
        AuditEvent.objects.filter(action__startswith="expenditure.").order_by("id").values_list("action", "note")
    )
    assert actions[-2:] == [  # one record for each new row
        ("expenditure.reverse", "金额录错，应为300元"),
        ("expenditure.correct", "金额录错，应为300元"),
    ]
    # Never twice, never a reversal of a reversal, never without a reason; the original stays as it was.
    with pytest.raises(ValidationError, match="already been reversed"):
        services.reverse_expenditure(entry=wrong, by=f.owner, reason="再冲")
    with pytest.raises(ValidationError, match="itself a reversal"):
        services.reverse_expenditure(entry=reversal, by=f.owner, reason="再冲")
    other = spend(f.project, "50.00")
    with pytest.raises(ValidationError, match="reason"):
        services.reverse_expenditure(entry=other, by=f.owner, reason="  ")
    wrong.refresh_from_db()
    assert wrong.amount == Decimal("3000.00")


def test_the_database_refuses_a_negative_entry_that_reverses_nothing(f):
    with pytest.raises(IntegrityError), transaction.atomic():
        Expenditure.objects.create(
            project=f.project,
            date=day(10),
            category=line(f.project, "活动经费").category,
            amount=Decimal("-1.00"),
            payee="x",
            description="x",
            voucher_no="x",
        )


def test_the_database_refuses_a_positive_entry_marked_as_a_reversal(f):
    entry = spend(f.project, "100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Expenditure.objects.create(
            project=f.project,
            date=entry.date,
            category=entry.category,
            amount=Decimal("100.00"),
            payee="x",
            description="x",
            voucher_no=entry.voucher_no,
            reverses=entry,
        )


def _reversal_errors(f, original, **changes):
    fields = {
        "date": original.date,
        "line": original.line,
        "category": original.category,
        "amount": -original.amount,
        "voucher_no": original.voucher_no,
        "invoice_kind": original.invoice_kind,
        "invoice_code": original.invoice_code,
        "invoice_number": original.invoice_number,
        **changes,
    }
    f.project.refresh_from_db()
    return expenditure_rules.validate_expenditure(f.project, by=f.owner, reverses=original, **fields)


def test_a_reversal_passes_the_one_rule_only_as_the_exact_mirror_of_an_unreversed_entry(f):
    """The one expenditure rule in its reversal mode: negative is right for a reversal, but only the exact negative
    of the original, with its date, line, voucher and invoice; a second or partial reversal is refused."""
    original = spend(f.project, "800.00", date=day(20))
    assert _reversal_errors(f, original) == {}
    assert _reversal_errors(f, original, amount=Decimal("-500.00")) == {
        "amount": ["A reversal is exactly the negative of the entry it reverses (-¥800.00)."]
    }
    assert _reversal_errors(f, original, amount=Decimal("-1600.00"))["amount"] == [
        "A reversal is exactly the negative of the entry it reverses (-¥800.00)."
    ]
    assert _reversal_errors(f, original, date=day(21), voucher_no="PZ-X") == {
        "__all__": ["A reversal carries the date, budget line, voucher and invoice of the entry it reverses."]
    }
    other = spend(f.other_project, "50.00", date=day(20))
    assert _reversal_errors(f, other) == {"__all__": ["That entry belongs to another project."]}
    reversal, _fixed = services.reverse_expenditure(entry=original, by=f.owner, reason="重复录入")
    assert _reversal_errors(f, original) == {"__all__": ["This entry has already been reversed."]}
    assert _reversal_errors(f, reversal, amount=Decimal("800.00")) == {"__all__": ["This entry is itself a reversal."]}


def test_a_suspended_projects_entry_is_reversed_by_staff_with_the_reason_only(f):
    entry = spend(f.project, "100.00")
    FundedProject.objects.filter(pk=f.project.pk).update(status="suspended", flag_reason="中期评估未通过")
    with pytest.raises(ValidationError, match="only staff can record an entry, with a reason"):
        services.reverse_expenditure(entry=entry, by=f.owner, reason="录错")
    reversal, _fixed = services.reverse_expenditure(entry=entry, by=f.staff, reason="录错")
    assert reversal.amount == Decimal("-100.00")
    f.project.refresh_from_db()
    assert f.project.spent_total == Decimal("0.00")


def test_a_reversed_entry_frees_its_voucher_and_invoice_and_a_standing_one_keeps_them(f):
    invoice = {"invoice_kind": "digital", "invoice_number": "26442000000000000077"}
    first = spend(f.project, "300.00", voucher_no="PZ-77", **invoice)
    with pytest.raises(ValidationError) as exc:
        spend(f.project, "300.00", voucher_no="PZ-77", **invoice)
    assert set(exc.value.message_dict) == {"voucher_no", "invoice_number"}
    services.reverse_expenditure(entry=first, by=f.owner, reason="收款方录错")
    again = spend(f.project, "300.00", voucher_no="PZ-77", payee="正确的收款方", **invoice)
    assert (again.voucher_no, again.invoice_number) == ("PZ-77", "26442000000000000077")
    with pytest.raises(ValidationError):  # the standing entry holds them again
        spend(f.project, "300.00", voucher_no="PZ-77", **invoice)


def test_a_refused_duplicate_invoice_leaves_an_audit_record_and_raises_the_alert(f):
    invoice = {"invoice_kind": "digital", "invoice_number": "26442000000000000088"}
    first = spend(f.other_project, "300.00", **invoice)
    with pytest.raises(ValidationError, match="already claimed"):
        spend(f.project, "300.00", **invoice)
    assert not Expenditure.objects.filter(project=f.project).exists()
    event = AuditEvent.objects.get(action=queries.DUPLICATE_INVOICE_ACTION)
    assert (event.object_id, event.after) == (
        str(f.project.pk),
        {
            "invoice": "26442000000000000088",
            "kind": "digital",
            "first_entry": first.pk,
            "first_project": first.project_id,
        },
    )
    found = {a.code: a for a in queries.alerts(f.project, today=day(9))}
    assert found["duplicate_invoice"].message == "1 attempt(s) to claim an invoice already claimed."


def test_a_closed_projects_ledger_cannot_be_corrected(f):
    entry = spend(f.project, "100.00")
    FundedProject.objects.filter(pk=f.project.pk).update(status="closed", closed_at=timezone.now())
    with pytest.raises(ValidationError, match="The project is closed; its ledger takes no more entries"):
        services.reverse_expenditure(entry=entry, by=f.owner, reason="错")
    assert not Expenditure.objects.filter(reverses=entry).exists()


def test_reversal_and_correction_through_the_pages_ledger_and_export(client, f):
    wrong = spend(f.project, "3000.00", date=day(20))
    client.force_login(f.owner)
    body = client.get(f"/supervision/projects/{f.project.pk}/ledger/").content.decode()
    assert f"/supervision/expenditures/{wrong.pk}/correct/" in body
    url = f"/supervision/expenditures/{wrong.pk}/correct/"
    r = client.post(
        url,
        {
            "reason": "金额录错",
            "with_corrected": "on",
            "new-date": day(20).isoformat(),
            "new-line": line(f.project, "活动经费").pk,
            "new-amount": "300.00",
            "new-payee": "示范市文具店",
            "new-description": "活动物资",
            "new-voucher_no": wrong.voucher_no,
        },
    )
    assert r.status_code == 302 and r["Location"].endswith("?show=corrections")
    body = client.get(r["Location"]).content.decode()
    assert "-¥3,000.00" in body and "金额录错" in body and "reversal" in body and "correction" in body
    csv = client.get(f"/supervision/projects/{f.project.pk}/ledger/export/?format=csv").content.decode("utf-8-sig")
    rows = csv.splitlines()
    reversal = Expenditure.objects.get(reverses=wrong)
    assert (
        f"-3000.00,示范市文具店,活动物资,{wrong.voucher_no},,,,no,{reversal.pk},reversal of entry {wrong.pk},金额录错"
        in rows[2]
    )
    assert client.get(url).context["refusal"] == "This entry has already been reversed."
    client.force_login(build_other_owner(f))
    assert client.get(url).status_code == 404  # another organization's entry


def build_other_owner(f):
    return f.other


# --- Receipts attached later; pending receipts hold the next tranche --------------------------------------------------


def test_found_3_a_pending_receipt_is_attached_later(client, f):
    """Found 3: rows above the threshold were marked missing with no way to attach the receipt afterwards."""
    entry = _pending(f)
    assert list(services.pending_receipts(f.project)) == [entry]
    client.force_login(f.owner)
    body = client.get(f"/supervision/projects/{f.project.pk}/ledger/?show=pending").content.decode()
    assert f"/supervision/expenditures/{entry.pk}/receipt/" in body and "receipt pending" in body
    r = client.post(
        f"/supervision/expenditures/{entry.pk}/receipt/", {"receipt": SimpleUploadedFile("r.exe", b"MZ\x90\x00")}
    )
    assert r.status_code == 400 and not Expenditure.objects.get(pk=entry.pk).receipt  # checked like every upload
    r = client.post(f"/supervision/expenditures/{entry.pk}/receipt/", {"receipt": SimpleUploadedFile("r.pdf", PDF)})
    assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.receipt and entry.receipt_attached_at is not None
    assert list(services.pending_receipts(f.project)) == []
    assert AuditEvent.objects.filter(action="expenditure.receipt").count() == 1
    with pytest.raises(ValidationError, match="already has its receipt"):
        services.attach_receipt(entry=entry, by=f.owner, receipt=SimpleUploadedFile("r.pdf", PDF))


def test_pending_receipts_past_the_set_days_raise_an_alert_that_links_to_them(f, settings):
    settings.RECEIPT_PENDING_DAYS = 14
    FundedProject.objects.filter(pk=f.project.pk).update(released_total=f.project.grant)
    f.project.refresh_from_db()
    entry = _pending(f)
    assert "receipts_pending" not in [a.code for a in queries.alerts(f.project, today=day(20))]
    Expenditure.objects.filter(pk=entry.pk).update(created_at=timezone.now() - datetime.timedelta(days=15))
    found = {a.code: a for a in queries.alerts(f.project, today=day(20))}
    assert found["receipts_pending"].message == "1 entry(ies) still without their receipt after 14 days."
    assert found["receipts_pending"].url == f"/supervision/projects/{f.project.pk}/ledger/?show=pending"
    row = next(r for r in queries.portfolio(today=day(20)) if r["project"] == f.project)
    assert "receipts_pending" in [a.code for a in row["alerts"]]


def test_the_next_tranche_waits_for_pending_receipts_unless_staff_give_a_reason(f):
    t1 = f.project.tranches.get(order=1)
    _pending(f)
    with pytest.raises(ValidationError, match=r"1 ledger entry\(ies\) still wait for their receipts"):
        services.release_tranche(tranche=t1, released_on=SIGNED_PLUS(1), voucher_no="FK-1", by=f.staff)
    with pytest.raises(ValidationError, match="Only union staff"):
        services.release_tranche(
            tranche=t1, released_on=SIGNED_PLUS(1), voucher_no="FK-1", by=f.owner, override_reason="急需"
        )
    services.release_tranche(
        tranche=t1, released_on=SIGNED_PLUS(1), voucher_no="FK-1", by=f.staff, override_reason="发票已在邮寄途中"
    )
    release = TrancheRelease.objects.get()
    assert (release.amount, release.override_reason) == (Decimal("30000.00"), "发票已在邮寄途中")
    event = AuditEvent.objects.get(action="tranche.release")
    assert event.note == "发票已在邮寄途中" and event.after["override"] == "发票已在邮寄途中"


def SIGNED_PLUS(n):  # noqa: N802 — reads as a date constant
    return day(5 + n)


# --- 2. Tranches (Found 4 payment date, Found 6) -------------------------------------------------------------------


def test_found_6_a_partial_release_leaves_the_remainder_payable(client, f):
    """Found 6: releasing part of a tranche marked it paid; the rest could never be released."""
    t1 = f.project.tranches.get(order=1)
    services.release_tranche(tranche=t1, released_on=day(6), voucher_no="FK-1", by=f.staff, amount=Decimal("20000"))
    t1.refresh_from_db()
    assert (t1.released_amount, t1.released_on, t1.remaining) == (Decimal("20000.00"), None, Decimal("10000.00"))
    assert services.release_refusal(t1, f.project) is None
    with pytest.raises(ValidationError, match=r"Release between ¥0.01 and ¥10,000.00\."):
        services.release_tranche(
            tranche=t1, released_on=day(7), voucher_no="FK-2", by=f.staff, amount=Decimal("10000.01")
        )
    client.force_login(f.staff)
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "partly released: ¥20,000.00, ¥10,000.00 remains payable" in body
    r = client.post(
        f"/supervision/tranches/{t1.pk}/release/",
        {f"t{t1.pk}-released_on": day(8).isoformat(), f"t{t1.pk}-voucher_no": "FK-2"},
    )
    assert r.status_code == 302  # blank amount: the remainder
    t1.refresh_from_db()
    f.project.refresh_from_db()
    assert (t1.released_amount, t1.released_on, f.project.released_total) == (
        Decimal("30000.00"),
        day(8),
        Decimal("30000.00"),
    )
    assert list(t1.releases.values_list("amount", "voucher_no")) == [
        (Decimal("20000.00"), "FK-1"),
        (Decimal("10000.00"), "FK-2"),
    ]
    with pytest.raises(ValidationError, match="already been released"):
        services.release_tranche(tranche=t1, released_on=day(9), voucher_no="FK-3", by=f.staff)


def test_found_4_payment_dates_not_in_the_future_nor_after_the_end_plus_grace(f, settings):
    """Found 4: a tranche payment dated after the project's end was accepted and printed in the report."""
    settings.TRANCHE_PAYMENT_GRACE_DAYS = 30
    t1 = f.project.tranches.get(order=1)
    with pytest.raises(ValidationError, match="is in the future"):
        services.release_tranche(
            tranche=t1, released_on=TODAY + datetime.timedelta(days=1), voucher_no="FK-1", by=f.staff
        )
    end = f.project.period_end
    FundedProject.objects.filter(pk=f.project.pk).update(period_end=TODAY - datetime.timedelta(days=40))
    f.project.refresh_from_db()
    late = f.project.period_end + datetime.timedelta(days=31)
    with pytest.raises(ValidationError, match=r"after the project's end plus 30 days of grace"):
        services.release_tranche(tranche=t1, released_on=late, voucher_no="FK-1", by=f.staff)
    services.release_tranche(tranche=t1, released_on=late - datetime.timedelta(days=1), voucher_no="FK-1", by=f.staff)
    assert end > f.project.period_end


# --- 3. Evaluations (Found 7) ----------------------------------------------------------------------------------------


def _points(f, kind, values=("35", "25", "25")):
    criteria = list(f.competition.evaluation_criteria.filter(kind=kind))
    return dict(zip(criteria, [Decimal(v) for v in values], strict=True))


def test_found_7_a_premature_final_evaluation_is_refused_naming_what_is_missing(f):
    """Found 7: a final evaluation was accepted with months left, reports unfiled and a rectification open."""
    evaluate(f, "midterm", ["30", "20", "20"])
    ProgressReport.objects.filter(project=f.project, due_on__lte=TODAY).update(status="due")
    services.add_rectification(project=f.project, by=f.supervisor, what="补签字", deadline=TODAY, owner="张")
    due = ProgressReport.objects.filter(project=f.project, due_on__lte=TODAY).order_by("period_start")
    periods = ", ".join(f"{r.period_start.isoformat()}–{r.period_end.isoformat()}" for r in due)
    expected = (
        f"Not yet: the project period has not ended ({f.project.period_end.isoformat()}); {due.count()} due "
        f"progress report(s) not accepted: {periods}; 1 rectification(s) not closed."
    )
    assert services.evaluation_refusal(f.project, "final") == expected
    with pytest.raises(ValidationError) as exc:
        services.evaluate(project=f.project, kind="final", by=f.supervisor, points=_points(f, "final"))
    assert exc.value.messages == [expected]
    with pytest.raises(ValidationError):  # a supervisor cannot override; staff can, with a reason
        services.evaluate(
            project=f.project, kind="final", by=f.supervisor, points=_points(f, "final"), override_reason="想提前"
        )
    evaluation = services.evaluate(
        project=f.project,
        kind="final",
        by=f.staff,
        points=_points(f, "final"),
        override_reason="项目提前完成，市总批准提前终期评估",
    )
    assert evaluation.override_reason == "项目提前完成，市总批准提前终期评估"
    event = AuditEvent.objects.get(action="evaluation.final")  # one record of the evaluation, with the override
    assert event.after == {
        "total": str(evaluation.total),
        "passed": evaluation.passed,
        "attempt": 1,
        "override": "项目提前完成，市总批准提前终期评估",
        "missing": [
            expected.removeprefix("Not yet: ").split("; ")[0],
            expected.split("; ")[1],
            "1 rectification(s) not closed",
        ],
    }


def test_the_final_evaluation_in_the_last_month_and_the_midterm_needs_its_reports(f, settings):
    settings.FINAL_EVALUATION_IN_LAST_MONTH = True
    FundedProject.objects.filter(pk=f.project.pk).update(period_end=TODAY + datetime.timedelta(days=20))
    f.project.refresh_from_db()
    ProgressReport.objects.filter(project=f.project).update(status="accepted")
    assert services.evaluation_missing(f.project, "final") == []
    settings.FINAL_EVALUATION_IN_LAST_MONTH = False
    assert services.evaluation_missing(f.project, "final") == [
        f"the project period has not ended ({f.project.period_end.isoformat()})"
    ]
    first = ProgressReport.objects.filter(project=f.project).order_by("period_start").first()
    ProgressReport.objects.filter(pk=first.pk).update(status="submitted", due_on=TODAY)
    assert services.evaluation_missing(f.project, "midterm") == [
        f"1 due progress report(s) not accepted: {first.period_start.isoformat()}–{first.period_end.isoformat()}"
    ]


def test_the_evaluation_page_names_what_is_missing_and_offers_staff_the_override(client, f):
    url = f"/supervision/projects/{f.project.pk}/evaluations/final/"
    client.force_login(f.supervisor)
    r = client.get(url)
    assert (
        "the project period has not ended" in r.content.decode() and "override_reason" not in r.context["form"].fields
    )
    client.force_login(f.staff)
    assert "override_reason" in client.get(url).context["form"].fields


# --- 4. Rectification history (Found 8) ------------------------------------------------------------------------------


def test_found_8_every_answer_reopening_and_closing_is_kept_in_order(client, f):
    """Found 8: answer → reopen → answer again → close kept only the last answer; the first answer, its evidence and
    the reopen note were overwritten (page and PDF)."""
    item = services.add_rectification(
        project=f.project, by=f.supervisor, what="补齐凭证签字", deadline=TODAY, owner="张"
    )
    services.answer_rectification(
        item=item, by=f.owner, answer="第一次：已补签", evidence=SimpleUploadedFile("first.png", PNG)
    )
    services.review_rectification(item=item, by=f.supervisor, close=False, note="仍缺两张")
    services.answer_rectification(
        item=item, by=f.owner, answer="第二次：全部补齐", evidence=SimpleUploadedFile("second.png", PNG)
    )
    services.review_rectification(item=item, by=f.supervisor, close=True, note="确认")
    events = list(RectificationEvent.objects.filter(rectification=item))
    assert [(e.kind, e.text, e.by) for e in events] == [
        ("answer", "第一次：已补签", f.owner),
        ("reopen", "仍缺两张", f.supervisor),
        ("answer", "第二次：全部补齐", f.owner),
        ("close", "确认", f.supervisor),
    ]
    assert events[0].evidence.name and events[2].evidence.name and events[0].evidence.name != events[2].evidence.name
    assert not events[1].evidence and not events[3].evidence
    client.force_login(f.supervisor)
    body = client.get(f"/supervision/rectifications/{item.pk}/").content.decode()
    body = body[body.index("rectification-history") :]
    positions = [body.index(t) for t in ("第一次：已补签", "仍缺两张", "第二次：全部补齐", "确认")]
    assert positions == sorted(positions)
    assert client.get(f"/supervision/rectification-events/{events[0].pk}/evidence/").status_code == 200
    client.force_login(f.other)
    assert client.get(f"/supervision/rectification-events/{events[0].pk}/evidence/").status_code == 404


# --- 5. Alerts that lead somewhere ---------------------------------------------------------------------------------


def test_alerts_spent_over_released_duplicate_invoices_and_entries_after_close_link_to_their_rows(f):
    spend(f.project, "300.00")
    found = {a.code: a for a in queries.alerts(f.project, today=day(9))}
    assert found["spent_over_released"].message == "¥300.00 spent, more than the ¥0.00 released."
    assert found["spent_over_released"].url == f"/supervision/projects/{f.project.pk}/ledger/"
    record(
        actor=f.owner, action=queries.DUPLICATE_INVOICE_ACTION, obj=f.project, after={"invoice": "12345678901234567890"}
    )
    found = {a.code: a for a in queries.alerts(f.project, today=day(9))}
    assert found["duplicate_invoice"].message == "1 attempt(s) to claim an invoice already claimed."
    assert found["duplicate_invoice"].url == f"/supervision/projects/{f.project.pk}/duplicate-invoices/"
    FundedProject.objects.filter(pk=f.project.pk).update(closed_at=timezone.now() - datetime.timedelta(days=1))
    f.project.refresh_from_db()
    found = {a.code: a for a in queries.alerts(f.project, today=day(9))}
    assert found["after_close"].message == "1 ledger entry(ies) recorded after the close-out."
    assert found["after_close"].url == f"/supervision/projects/{f.project.pk}/ledger/?show=after_close"
    assert all(a.url for a in found.values())


def test_the_duplicate_invoice_page_lists_the_attempts(client, f):
    record(actor=f.owner, action=queries.DUPLICATE_INVOICE_ACTION, obj=f.project, after={"invoice": "0440012"})
    client.force_login(f.supervisor)
    body = client.get(f"/supervision/projects/{f.project.pk}/duplicate-invoices/").content.decode()
    assert "invoice: 0440012" in body
    client.force_login(f.owner)
    assert client.get(f"/supervision/projects/{f.project.pk}/duplicate-invoices/").status_code == 404


# --- 6. Close-out: balance, refund -----------------------------------------------------------------------------------


def test_close_out_shows_the_balance_and_records_the_refund(client, f):
    t1 = f.project.tranches.get(order=1)
    services.release_tranche(tranche=t1, released_on=day(6), voucher_no="FK-1", by=f.staff)
    spend(f.project, "2000.00")
    evaluate(f, "midterm", ["30", "20", "20"])
    evaluate(f, "final", ["35", "25", "25"])
    services.close_project(project=f.project, by=f.staff, closeout_report="完成")
    f.project.refresh_from_db()
    assert (f.project.balance, f.project.refund_due) == (Decimal("28000.00"), Decimal("28000.00"))
    client.force_login(f.staff)
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "Balance (released − spent)" in body and "¥28,000.00" in body and "/refund/" in body
    r = client.post(
        f"/supervision/projects/{f.project.pk}/refund/",
        {"amount": "28000.01", "received_on": TODAY.isoformat(), "voucher_no": "TH-1"},
    )
    assert r.status_code == 400
    r = client.post(
        f"/supervision/projects/{f.project.pk}/refund/",
        {"amount": "28000.00", "received_on": TODAY.isoformat(), "voucher_no": "TH-1"},
    )
    assert r.status_code == 302
    f.project.refresh_from_db()
    assert (f.project.refund_amount, f.project.refund_on, f.project.refund_voucher) == (
        Decimal("28000.00"),
        TODAY,
        "TH-1",
    )
    assert AuditEvent.objects.get(action="project.refund").after["amount"] == "28000.00"
    with pytest.raises(ValidationError, match="already been recorded"):
        services.record_refund(project=f.project, by=f.staff, amount=Decimal("1"), received_on=TODAY, voucher_no="TH-2")


# --- 7. Dates elsewhere ----------------------------------------------------------------------------------------------


def test_report_activities_inside_the_period_and_whole_counts(f):
    report = f.project.reports.order_by("period_start").first()
    outside = report.period_end + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="is outside the report's period"):
        services.submit_report(
            report=report,
            by=f.owner,
            narrative="开展活动",
            people_served=10,
            progress={},
            activities=[{"date": outside, "place": "驿站", "participants": 5, "description": "讲座"}],
        )
    with pytest.raises(ValidationError, match="Participants of “讲座” is a whole number"):
        services.submit_report(
            report=report,
            by=f.owner,
            narrative="开展活动",
            people_served=10,
            progress={},
            activities=[{"date": report.period_start, "place": "驿站", "participants": 2.5, "description": "讲座"}],
        )
    with pytest.raises(ValidationError, match="People served is a whole number"):
        services.submit_report(
            report=report, by=f.owner, narrative="开展活动", people_served=Decimal("10.5"), progress={}, activities=[]
        )


def test_a_visit_not_in_the_future_and_a_deadline_after_its_visit(f):
    with pytest.raises(ValidationError, match="A visit cannot be dated in the future"):
        services.record_visit(
            project=f.project,
            by=f.supervisor,
            date=TODAY + datetime.timedelta(days=1),
            people_met="王",
            observations="好",
            rating=4,
            findings="",
        )
    with pytest.raises(ValidationError, match="The deadline must come after the visit"):
        services.record_visit(
            project=f.project,
            by=f.supervisor,
            date=TODAY,
            people_met="王",
            observations="好",
            rating=4,
            findings="",
            rectifications=[{"what": "x", "deadline": TODAY, "owner": "y"}],
        )
    visit = services.record_visit(
        project=f.project, by=f.supervisor, date=day(30), people_met="王", observations="好", rating=4, findings=""
    )
    with pytest.raises(ValidationError, match="The deadline must come after the visit"):
        services.add_rectification(
            project=f.project, by=f.supervisor, visit=visit, what="x", deadline=day(29), owner="y"
        )


# --- The supervision PDF states it all -------------------------------------------------------------------------------


def _jpeg_with_exif(taken="2026:10:03 14:25:00"):
    image = Image.new("RGB", (640, 480), (40, 120, 200))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _png():
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def build_reported_project(f):
    """A project with a reversal and correction, a partly released tranche, a rectification history, a visit with
    photos (one with EXIF time), closed out with its refund recorded."""
    t1 = f.project.tranches.get(order=1)
    services.release_tranche(tranche=t1, released_on=day(6), voucher_no="FK-1", by=f.staff, amount=Decimal("20000"))
    wrong = spend(f.project, "3000.00", date=day(20))
    services.reverse_expenditure(
        entry=wrong,
        by=f.owner,
        reason="金额录错，应为300元",
        corrected={
            "date": day(20),
            "line": line(f.project, "活动经费"),
            "amount": Decimal("300.00"),
            "payee": "示范市文具店",
            "description": "活动物资",
            "voucher_no": "PZ-1",
            "receipt": None,
        },
    )
    visit = services.record_visit(
        project=f.project,
        by=f.supervisor,
        date=day(30),
        people_met="项目负责人",
        observations="台账清晰",
        rating=4,
        findings="凭证缺签字",
        photos=[SimpleUploadedFile("驿站.jpg", _jpeg_with_exif()), SimpleUploadedFile("活动.png", _png())],
    )
    item = services.add_rectification(
        project=f.project, by=f.supervisor, visit=visit, what="补齐凭证签字", deadline=day(45), owner="张"
    )
    services.answer_rectification(item=item, by=f.owner, answer="第一次：已补签")
    services.review_rectification(item=item, by=f.supervisor, close=False, note="仍缺两张")
    services.answer_rectification(item=item, by=f.owner, answer="第二次：全部补齐")
    services.review_rectification(item=item, by=f.supervisor, close=True, note="确认")
    evaluate(f, "midterm", ["30", "20", "20"])
    evaluate(f, "final", ["35", "25", "25"])
    services.close_project(project=f.project, by=f.staff, closeout_report="项目完成。")
    services.record_refund(
        project=f.project, by=f.staff, amount=Decimal("19700.00"), received_on=TODAY, voucher_no="TH-1"
    )


def test_the_supervision_pdf_states_corrections_payments_history_refund_photos_and_signatures(client, f):
    build_reported_project(f)
    client.force_login(f.staff)
    r = client.get(f"/supervision/projects/{f.project.pk}/report.pdf")
    assert r.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    text = "".join(text.split())  # lines wrap inside Chinese text; compare without whitespace
    for expected in [
        "-¥3,000.00",
        "金额录错，应为300元",
        "reversal of entry",
        "correction of entry",
        "¥20,000.00 (voucher FK-1)",
        "¥10,000.00",  # paid, and what remains of tranche 1
        "第一次：已补签",
        "仍缺两张",
        "第二次：全部补齐",
        "确认",
        "Balance (released − spent)",
        "¥19,700.00",
        "Refund received",
        "TH-1",
        "taken 2026-10-03 14:25",
        "no capture time in the photo",
        "Supervisor (signature)",
        "Union staff (signature)",
    ]:
        assert "".join(expected.split()) in text, expected
    assert text.index("第一次：已补签") < text.index("仍缺两张") < text.index("第二次：全部补齐")
    images = sum(len(page.images) for page in PdfReader(io.BytesIO(r.content)).pages)
    assert images >= 2


def test_found_11_make_run_derives_site_url_for_the_qr_code_from_host_and_port(client, f, settings):
    """Found 11 (QR part): the project's QR code uses SITE_URL, which ``make run`` derives from HOST and PORT."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "PORT")}

    def site_url(**extra):
        return subprocess.run(
            ["make", "-s", "--no-print-directory", "print-site-url"],
            cwd=root,
            text=True,
            capture_output=True,
            check=True,
            env={**env, **extra},
        ).stdout.strip()

    assert site_url(HOST="10.0.0.5", PORT="9000") == "http://10.0.0.5:9000"
    assert site_url(HOST="10.0.0.5", PORT="9000", SITE_URL="https://gy.example.org") == "https://gy.example.org"
    settings.SITE_URL = "http://10.0.0.5:9000"
    client.force_login(f.staff)
    r = client.get(f"/supervision/projects/{f.project.pk}/")
    assert f"http://10.0.0.5:9000/supervision/feedback/{f.project.feedback_token}/" in r.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_existing_answers_as_history_and_frees_stranded_tranche_remainders():
    f = build_funded()
    answered = services.add_rectification(project=f.project, by=f.supervisor, what="补签", deadline=TODAY, owner="张")
    reopened = services.add_rectification(project=f.project, by=f.supervisor, what="补票", deadline=TODAY, owner="李")
    t1 = f.project.tranches.get(order=1)
    executor = MigrationExecutor(connection)
    executor.migrate([("supervision", "0004_invoices_imports_total_limits")])
    # The data as the old code left it: one answer field, the reopen note overwriting nothing else, a partial
    # release marked paid.
    now = timezone.now()
    Rectification.objects.filter(pk=answered.pk).update(
        status="closed", answer="已补签", answered_at=now, closed_at=now, review_note="确认"
    )
    Rectification.objects.filter(pk=reopened.pk).update(
        status="open", answer="已补一张", answered_at=now, review_note="仍缺一张"
    )
    Tranche.objects.filter(pk=t1.pk).update(released_amount=Decimal("20000.00"), released_on=day(6), voucher_no="FK-1")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(RectificationEvent.objects.filter(rectification=answered).values_list("kind", "text")) == [
        ("answer", "已补签"),
        ("close", "确认"),
    ]
    assert list(RectificationEvent.objects.filter(rectification=reopened).values_list("kind", "text")) == [
        ("answer", "已补一张"),
        ("reopen", "仍缺一张"),
    ]
    t1.refresh_from_db()
    assert (t1.released_on, t1.remaining) == (None, Decimal("10000.00"))
    assert list(TrancheRelease.objects.values_list("tranche_id", "amount", "released_on", "voucher_no")) == [
        (t1.pk, Decimal("20000.00"), day(6), "FK-1")
    ]
