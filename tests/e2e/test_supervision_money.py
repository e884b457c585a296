"""Issue #15 in the browser, in Chinese: a reversal with its corrected entry, a receipt attached later, a partial
tranche then its remainder, the rectification history, and the close-out refund."""

from decimal import Decimal

import pytest

from tests.builders import TODAY, build_funded, day, evaluate, line, spend
from tests.e2e.conftest import PDF, sign_in, t
from venture.supervision import ledger, services
from venture.supervision.models import Expenditure, FundedProject, RectificationEvent

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def test_reversal_receipt_later_and_partial_tranche(new_page, db, tmp_path):
    f = build_funded()
    wrong = spend(f.project, "3000.00", date=day(20))
    ledger.lock_projects([f.project.pk])
    pending = Expenditure.objects.create(
        project=f.project,
        date=day(12),
        line=line(f.project, "活动经费"),
        category=line(f.project, "活动经费").category,
        amount=Decimal("1200.00"),
        payee="示范市印刷厂",
        description="宣传册",
        voucher_no="PZ-7",
    )
    ledger.refresh_totals([f.project.pk])
    owner = new_page()
    sign_in(owner, f.owner)
    owner.goto(f"/supervision/projects/{f.project.pk}/ledger/")
    # 红冲 with the corrected entry
    owner.locator(f"#entry-{wrong.pk}").get_by_role("link", name=t("Reverse")).click()
    owner.get_by_label(t("Reason for the correction")).fill("金额录错，应为300元")
    owner.get_by_label(t("Record the corrected entry as well")).check()
    owner.locator("#id_new-amount").fill("300.00")
    owner.get_by_role("button", name=t("Reverse the entry")).click()
    expect(owner.get_by_text(t("Entry reversed and the corrected entry recorded."))).to_be_visible()
    expect(owner.locator("main")).to_contain_text("-¥3,000.00")
    expect(owner.locator("main")).to_contain_text("金额录错，应为300元")
    f.project.refresh_from_db()
    assert f.project.spent_total == Decimal("1500.00")  # 3000 − 3000 + 300 + 1200
    # the receipt of the pending entry, attached later
    owner.goto(f"/supervision/projects/{f.project.pk}/ledger/?show=pending")
    receipt = tmp_path / "发票.pdf"
    receipt.write_bytes(PDF)
    owner.locator(f"#receipt-{pending.pk}").set_input_files(str(receipt))
    owner.locator(f"#entry-{pending.pk}").get_by_role("button", name=t("Attach")).click()
    expect(owner.get_by_text(t("Receipt attached."))).to_be_visible()
    pending.refresh_from_db()
    assert pending.receipt
    # a partial tranche, then its remainder
    staff = new_page()
    sign_in(staff, f.staff)
    staff.goto(f"/supervision/projects/{f.project.pk}/")
    t1 = f.project.tranches.get(order=1)
    staff.locator(f"#id_t{t1.pk}-released_on").fill(day(6).isoformat())
    staff.locator(f"#id_t{t1.pk}-voucher_no").fill("FK-1")
    staff.locator(f"#id_t{t1.pk}-amount").fill("20000")
    staff.get_by_role("button", name=t("Release the tranche")).click()
    expect(
        staff.get_by_text(
            t("partly released: %(paid)s, %(rest)s remains payable", paid="¥20,000.00", rest="¥10,000.00")
        )
    ).to_be_visible()
    staff.locator(f"#id_t{t1.pk}-released_on").fill(day(8).isoformat())
    staff.locator(f"#id_t{t1.pk}-voucher_no").fill("FK-2")
    staff.get_by_role("button", name=t("Release the tranche")).click()
    expect(staff.get_by_text(t("Tranche %(n)s released.", n=1))).to_be_visible()
    f.project.refresh_from_db()
    assert f.project.released_total == Decimal("30000.00")


def test_rectification_history_and_close_out_refund(new_page, db):
    f = build_funded()
    services.release_tranche(tranche=f.project.tranches.get(order=1), released_on=day(6), voucher_no="FK-1", by=f.staff)
    spend(f.project, "2000.00")
    item = services.add_rectification(
        project=f.project, by=f.supervisor, what="补齐凭证签字", deadline=TODAY, owner="张"
    )
    owner, supervisor = new_page(), new_page()
    sign_in(owner, f.owner)
    sign_in(supervisor, f.supervisor)
    url = f"/supervision/rectifications/{item.pk}/"
    owner.goto(url)
    owner.get_by_label(t("What was done")).fill("第一次：已补签")
    owner.get_by_role("button", name=t("Send the answer")).click()
    supervisor.goto(url)
    supervisor.get_by_label(t("Reopen: not rectified yet")).check()
    supervisor.get_by_label(t("Note (required when reopening)")).fill("仍缺两张")
    supervisor.get_by_role("button", name=t("Save")).click()
    owner.goto(url)
    owner.get_by_label(t("What was done")).fill("第二次：全部补齐")
    owner.get_by_role("button", name=t("Send the answer")).click()
    supervisor.goto(url)
    supervisor.get_by_label(t("Close: rectified")).check()
    supervisor.get_by_role("button", name=t("Save")).click()
    history = supervisor.locator(".rectification-history li")
    expect(history).to_have_count(4)
    for i, text in enumerate(["第一次：已补签", "仍缺两张", "第二次：全部补齐", t("Closed")]):
        expect(history.nth(i)).to_contain_text(text)
    assert RectificationEvent.objects.filter(rectification=item).count() == 4
    # close-out: 结余 and 应退回, then the refund
    evaluate(f, "midterm", ["30", "20", "20"])
    evaluate(f, "final", ["35", "25", "25"])
    services.close_project(project=f.project, by=f.staff, closeout_report="项目完成。")
    staff = new_page()
    sign_in(staff, f.staff)
    staff.goto(f"/supervision/projects/{f.project.pk}/")
    figures = staff.locator(".closeout-figures")
    expect(figures).to_contain_text(t("Balance (released − spent)"))
    expect(figures).to_contain_text("¥28,000.00")
    staff.get_by_label(t("Refund received (yuan)")).fill("28000.00")
    staff.get_by_label(t("Received on")).fill(TODAY.isoformat())
    staff.get_by_label(t("Voucher number")).last.fill("TH-1")
    staff.get_by_role("button", name=t("Record the refund")).click()
    expect(staff.get_by_text(t("Refund recorded."))).to_be_visible()
    project = FundedProject.objects.get(pk=f.project.pk)
    assert (project.refund_amount, project.refund_voucher) == (Decimal("28000.00"), "TH-1")
