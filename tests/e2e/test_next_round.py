"""Next year from last year (issue #18), clicked through: staff set up next year's round from last year's in under two
minutes of clicks, and an applicant starts a proposal from last year's, places the budget line whose category is gone,
has the form save itself, uploads a file without losing unsaved text, and submits."""

import datetime
import re
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from judging.models import Criterion
from tests import factories
from tests.builders import set_evaluation_rubrics
from tests.e2e.conftest import PDF, assert_clean, login, sign_in, t
from venture.competitions.models import BudgetCategory, Competition
from venture.proposals.models import BudgetLine, Indicator, Milestone, Proposal
from venture.screening.models import ChecklistItem

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

YEAR = timezone.localdate().year
LAST = f"{YEAR - 1}年示范市公益创投大赛"
NEXT = f"{YEAR}年示范市公益创投大赛"
BANDS = [{"min": 21, "max": 25, "label": "优秀"}, {"min": 0, "max": 20, "label": "一般"}]


def year_back(moment):
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - 1, day=28)


def last_years_round():
    """Last year's round, in supervision: set up like this year's should be, with a "交通费" budget category that
    staff drop this year; one organization's proposal in it, with a 交通费 line."""
    now = timezone.now()
    start = year_back(timezone.localdate() + datetime.timedelta(days=30))
    c = factories.competition(
        stage="supervision",
        title=LAST,
        year=YEAR - 1,
        opens_at=year_back(now - datetime.timedelta(days=10)),
        closes_at=year_back(now + datetime.timedelta(days=20)),
        project_start_earliest=start,
        project_end_latest=start + datetime.timedelta(days=400),
        tiebreak_criterion="social_benefit",
    )
    BudgetCategory.objects.create(competition=c, name="交通费", order=3)
    Criterion.objects.filter(competition=c).update(bands=BANDS)
    Criterion.objects.filter(competition=c, code="social_benefit").update(
        bands=[{"min": 25, "max": 30, "label": "优秀"}, {"min": 0, "max": 24, "label": "一般"}]
    )
    Criterion.objects.filter(competition=c, code="budget").update(
        bands=[{"min": 17, "max": 20, "label": "优秀"}, {"min": 0, "max": 16, "label": "一般"}]
    )
    for order, text in enumerate(["申报单位为依法登记的社会组织", "申报材料齐全、预算符合规定"]):
        ChecklistItem.objects.create(competition=c, text=text, order=order)
    set_evaluation_rubrics(c)
    owner = factories.user("ngo_again", full_name="陈社工")
    org = factories.organization(name="甲骑手关爱服务中心", owner=owner)
    p = factories.proposal(c, org, status="awarded", title="骑手法律驿站", requested=Decimal("96800.00"))
    Milestone.objects.create(proposal=p, date=start + datetime.timedelta(days=40), title="首场法律讲座")
    Indicator.objects.create(proposal=p, name="服务骑手", target=Decimal("300"), unit="人次")
    cats = {b.name: b for b in c.budget_categories.all()}
    for name, item, price, qty in [
        ("人员经费", "社工补贴", "2400.00", "12"),
        ("活动经费", "法律讲座", "5000.00", "12"),
        ("交通费", "外出交通", "500.00", "16"),
    ]:
        BudgetLine.objects.create(
            proposal=p,
            category=cats[name],
            item=item,
            unit="项",
            unit_price=Decimal(price),
            quantity=Decimal(qty),
            amount=Decimal(price) * Decimal(qty),
        )
    staff = factories.user("staff_next", role="staff", full_name="周干事")
    return c, staff, owner, p


def save_and_continue(page, heading):
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_role("heading", level=2).first).to_have_text(heading)


def test_next_years_round_from_last_years_and_a_proposal_from_last_years(new_page, db):
    last, staff_user, owner, old_proposal = last_years_round()

    # Staff: last year's round → "new round from this one" → the wizard on the copy → open for applications.
    staff = new_page()
    login(staff, staff_user.username)
    began = time.monotonic()
    staff.goto(f"/rounds/{last.pk}/")
    staff.get_by_role("link", name="以本届为基础新建一届").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"以“{LAST}”为基础新建一届")
    expect(staff.locator("#id_title")).to_have_value(NEXT)
    expect(staff.locator("#id_year")).to_have_value(str(YEAR))
    staff.locator("#id_fund_pool").fill("1200000")
    staff.get_by_role("button", name="新建并进入设置").click()
    expect(staff.get_by_role("alert")).to_contain_text(f"已以“{LAST}”为基础新建一届")
    new = Competition.objects.get(title=NEXT)
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/edit/$"))
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/categories/$"))
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/budget-rules/$"))
    expect(staff.locator("#id_budget_rules-3-name")).to_have_value("交通费")
    staff.locator("#id_budget_rules-3-DELETE").check()  # this year travel is an activity cost
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/tranches/$"))
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/rubric/$"))
    expect(staff.locator("#id_rubric-0-code")).to_have_value("targeting")
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/evaluation/midterm/$"))
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/evaluation/final/$"))
    staff.get_by_role("button", name="保存并继续").click()
    expect(staff).to_have_url(re.compile(rf"/rounds/{new.pk}/$"))
    staff.get_by_role("button", name=t("Open for applications"), exact=True).click()
    expect(staff.get_by_role("alert")).to_have_text(t("Stage changed."))
    took = time.monotonic() - began
    assert took < 120, f"setting up next year's round took {took:.1f} s"
    print(f"next year's round set up in {took:.1f} s")
    new.refresh_from_db()
    assert (new.stage, new.fund_pool, new.year) == ("open", Decimal("1200000.00"), YEAR)
    assert list(new.budget_categories.values_list("name", flat=True)) == ["人员经费", "活动经费", "管理费"]
    assert list(new.criteria.values_list("code", "bands")) == list(last.criteria.values_list("code", "bands"))
    assert list(ChecklistItem.objects.filter(competition=new).values_list("text", flat=True)) == [
        "申报单位为依法登记的社会组织",
        "申报材料齐全、预算符合规定",
    ]
    assert new.tiebreak_criterion == "social_benefit"
    assert_clean(staff)

    # The applicant: the call → "start from my proposal of last year" → place the 交通费 line → autosave → upload →
    # submit.
    applicant = new_page()
    sign_in(applicant, owner)
    applicant.goto(f"/calls/{new.pk}/")
    applicant.get_by_role("link", name="开始申报").click()
    expect(applicant.locator("#id_organization")).to_have_value(str(old_proposal.organization_id))  # the only one
    applicant.get_by_role("link", name=f"以我在{LAST}的申报书为基础").click()
    expect(applicant.locator("#id_title")).to_have_value("骑手法律驿站")
    applicant.locator("#id_title").fill("骑手法律驿站（二期）")
    applicant.get_by_role("button", name="创建草稿").click()
    expect(applicant).to_have_url(re.compile(r"/proposals/\d+/edit/$"))
    expect(applicant.get_by_role("alert").first).to_contain_text("已以“骑手法律驿站”")
    proposal = Proposal.objects.get(title="骑手法律驿站（二期）")
    assert (proposal.competition_id, proposal.organization_id) == (new.pk, old_proposal.organization_id)
    box = applicant.locator("#unplaced-lines")
    expect(box).to_contain_text("外出交通")
    box.get_by_role("combobox").select_option(label="活动经费")
    box.get_by_role("button", name="归入所选科目").click()
    expect(applicant.get_by_role("alert")).to_have_text("预算明细已归入科目。")
    expect(applicant.locator("#unplaced-lines")).to_have_count(0)
    expect(applicant.locator('[data-formset="lines"] [data-total]')).to_have_text("¥96,800.00")
    expect(applicant.locator("#id_requested_amount")).to_have_value("96800.00")

    # The form saves itself a moment after typing.
    applicant.locator("#id_needs").fill("去年服务了 300 名骑手；今年新增两个驿站。")
    expect(applicant.locator("#autosave-status")).to_have_text(re.compile(r"^已于 \d\d:\d\d 保存$"))
    proposal.refresh_from_db()
    assert proposal.needs == "去年服务了 300 名骑手；今年新增两个驿站。"

    # Text typed just before an upload is saved first, not lost with the page reload.
    applicant.locator("#id_objectives").fill("骑手知晓工伤保险申请流程的比例达到 80%。")
    applicant.locator("#id_file").set_input_files(
        {"name": "驿站照片说明.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    applicant.get_by_role("button", name="上传").click()
    expect(applicant.get_by_role("alert")).to_have_text("文件已上传。")
    expect(applicant.locator("#id_objectives")).to_have_value("骑手知晓工伤保险申请流程的比例达到 80%。")

    applicant.get_by_role("button", name="保存并提交").click()
    expect(applicant.get_by_role("alert")).to_have_text("申报已提交。每次状态变化都会通过电子邮件通知您。")
    proposal.refresh_from_db()
    assert proposal.status == "submitted"
    assert proposal.objectives == "骑手知晓工伤保险申请流程的比例达到 80%。"
    assert sorted(proposal.budget_lines.values_list("category__name", "item", "amount")) == [
        ("人员经费", "社工补贴", Decimal("28800.00")),
        ("活动经费", "外出交通", Decimal("8000.00")),
        ("活动经费", "法律讲座", Decimal("60000.00")),
    ]
    assert list(proposal.attachments.values_list("original_name", flat=True)) == ["驿站照片说明.pdf"]
    assert old_proposal.budget_lines.count() == 3  # last year's proposal is untouched
    assert_clean(applicant)
