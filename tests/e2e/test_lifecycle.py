"""One round from sign-up to the supervision dashboard, clicked through as the people who use it do.

The round is set up with factories (the settings pages have their own tests); everything the issue lists as a person's
step is done in the browser: sign-up, organization, verification, the proposal with its budget, screening, finalists,
the stage buttons, the final panel, a judge scoring on a phone, the roadshow, freezing, the auditor's sign-off,
awards, the public notice, the agreement, a progress report, a ledger entry with its receipt, and the dashboard alert.
Only the four other judges' sheets are made with services, and the end of the notice period is reached by closing the
notice with a later ``today``.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from judging import services as judging
from judging.models import Assignment
from tests import factories
from tests.e2e.conftest import PDF, PHONE, assert_clean, login, nav, t
from venture.awards import services as awards
from venture.awards.models import PublicNotice
from venture.organizations.models import Organization
from venture.proposals.models import Proposal
from venture.supervision.models import Expenditure, FundedProject

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

TITLE = "外卖骑手职业安全与权益护航行动"
ORG = "甲骑手关爱服务中心"
APPLICANT = "rider_ngo"
PASSWORD = "Qishou-2026!"


def months_later(day, months):
    month = day.month - 1 + months
    return datetime.date(day.year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)


def test_a_round_from_sign_up_to_the_supervision_dashboard(new_page, open_round):
    c = open_round.competition
    start = c.project_start_earliest
    end = months_later(start, 6)

    # (1) An applicant signs up and registers the organization.
    applicant = new_page()
    applicant.goto("/accounts/signup/")
    expect(applicant.get_by_role("heading", level=1)).to_have_text("注册申报单位账号")
    applicant.locator("#id_username").fill(APPLICANT)
    applicant.locator("#id_full_name").fill("陈社工")
    applicant.locator("#id_email").fill("chen@example.org")
    applicant.locator("#id_mobile").fill("13912345678")
    applicant.locator("#id_password1").fill(PASSWORD)
    applicant.locator("#id_password2").fill(PASSWORD)
    applicant.locator("main").get_by_role("button", name="注册").click()
    expect(applicant.get_by_role("alert")).to_have_text("欢迎！下一步请登记您的机构。")
    expect(applicant).to_have_url(re.compile(r"/organizations/new/$"))
    uscc = factories.valid_uscc(2026)
    form = {
        "#id_name": ORG,
        "#id_uscc": uscc,
        "#id_registration_authority": "示范市民政局",
        "#id_registration_date": "2019-03-15",
        "#id_legal_representative": "陈法人",
        "#id_contact_person": "陈社工",
        "#id_mobile": "139 1234 5678",
        "#id_email": "org@example.org",
        "#id_address": "示范市解放路88号",
        "#id_service_area": "示范市金水区",
        "#id_staff_count": "12",
        "#id_past_projects": "2024年骑手驿站服务",
    }
    for selector, value in form.items():
        applicant.locator(selector).fill(value)
    applicant.locator("#id_org_type").select_option("social_service")
    applicant.locator("main").get_by_role("button", name="保存").click()
    expect(applicant.get_by_role("alert")).to_have_text("机构已登记。经工会工作人员审核通过后，方可提交申报。")
    expect(applicant.get_by_role("heading", level=1)).to_contain_text(ORG)
    expect(applicant.get_by_role("heading", level=1)).to_contain_text("待审核")
    expect(applicant.locator("main code")).to_have_text(uscc)
    organization = Organization.objects.get(uscc=uscc)
    assert organization.mobile == "13912345678"

    # (2) Staff verify the organization.
    staff = new_page()
    login(staff, open_round.staff.username)
    expect(staff.get_by_role("heading", level=1)).to_have_text("创投活动总览")
    nav(staff, "社会组织")
    staff.get_by_role("link", name=ORG).click()
    staff.get_by_role("button", name="审核通过").click()
    expect(staff.get_by_role("alert")).to_have_text("机构已审核通过。")
    expect(staff.get_by_role("heading", level=1)).to_contain_text("已审核")

    # (3) The applicant starts a proposal from the public call page, fills it in and submits it.
    nav(applicant, "招募公告")
    applicant.get_by_role("link", name=c.title).click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text(c.title)
    applicant.get_by_role("link", name="开始申报").click()
    applicant.locator("#id_title").fill(TITLE)
    applicant.get_by_role("button", name="创建草稿").click()
    expect(applicant.get_by_role("alert")).to_have_text("草稿已创建。截止前可随时保存。")
    expect(applicant).to_have_url(re.compile(r"/proposals/\d+/edit/$"))
    applicant.locator("#id_category").select_option(label="权益保障")
    for selector, value in {
        "#id_target_group": "外卖骑手、快递员",
        "#id_people_to_serve": "300",
        "#id_service_area": "示范市金水区",
        "#id_period_start": start.isoformat(),
        "#id_period_end": end.isoformat(),
        "#id_needs": "骑手交通事故多发，维权渠道不熟悉。",
        "#id_objectives": "提升安全意识与维权能力。",
        "#id_activities": "安全培训、法律咨询、驿站服务。",
        "#id_team": "社工3名、律师1名。",
    }.items():
        applicant.locator(selector).fill(value)
    rows = applicant.locator('[data-formset="lines"] tbody tr[data-row]')
    expect(rows).to_have_count(2)
    fill_line(applicant, 0, "活动经费", "骑手安全培训", "场", "3500", "20")
    applicant.get_by_role("button", name="添加一行").click()  # the new row gets the focus, ready to type
    expect(rows).to_have_count(3)
    expect(applicant.locator("#id_lines-2-category")).to_be_focused()
    fill_line(applicant, 2, "人员经费", "项目社工补贴", "月", "5000", "6")  # the untouched middle row is ignored
    expect(applicant.locator('[data-formset="lines"] [data-total]')).to_have_text("¥100,000.00")
    applicant.locator("#id_requested_amount").fill("100000")
    applicant.locator("#id_cofunding_amount").fill("20000")
    applicant.locator("#id_milestones-0-date").fill((start + datetime.timedelta(days=60)).isoformat())
    applicant.locator("#id_milestones-0-title").fill("完成首期安全培训")
    applicant.locator("#id_indicators-0-name").fill("培训骑手人次")
    applicant.locator("#id_indicators-0-target").fill("300")
    applicant.locator("#id_indicators-0-unit").fill("人次")
    applicant.get_by_role("button", name="保存并提交").click()
    expect(applicant.get_by_role("alert")).to_have_text("申报已提交。每次状态变化都会通过电子邮件通知您。")
    assert applicant.watch.dialogs == ["确定提交申报吗？提交后将不能再修改。"]
    expect(applicant.get_by_role("heading", level=1)).to_have_text(f"{TITLE} 已提交")
    proposal = Proposal.objects.get(title=TITLE)
    assert proposal.status == "submitted"
    assert sorted((line.item, line.amount) for line in proposal.budget_lines.all()) == [
        ("项目社工补贴", Decimal("30000.00")),
        ("骑手安全培训", Decimal("70000.00")),
    ]

    # (4) Staff close applications, screen it, confirm the finalists, open the final and set its panel.
    staff.goto(f"/rounds/{c.pk}/")
    expect(staff.get_by_role("status").filter(has_text="份草稿无法再提交")).to_be_visible()
    advance(staff, "初审", reason="所有申报单位均已提交")
    staff.get_by_role("link", name="初审项目").click()
    staff.get_by_role("link", name=TITLE).click()
    for item in open_round.checklist:
        staff.get_by_role("group", name=item.text).get_by_label("符合", exact=True).check()
    staff.get_by_label("初审通过", exact=True).check()
    staff.get_by_role("button", name="保存").click()
    expect(staff.get_by_role("alert")).to_have_text("初审结果已保存。")
    expect(staff.locator("tr", has_text=TITLE)).to_contain_text("✓2 ✗0")
    expect(staff.locator("tr", has_text=TITLE)).to_contain_text("初审通过")
    staff.locator("main").get_by_role("link", name="入围项目").click()
    for title in [TITLE] + [p.title for p in open_round.others]:
        staff.get_by_role("checkbox", name=title).check()
    staff.get_by_role("button", name="确定入围项目").click()
    expect(staff.get_by_role("alert")).to_have_text("已确定 3 个入围项目。")
    expect(staff.locator("tr", has_text=TITLE)).to_contain_text("入围")
    staff.goto(f"/rounds/{c.pk}/")
    advance(staff, "终评（路演）")
    staff.get_by_role("link", name="终评评审小组").click()
    for judge in open_round.judges:
        staff.get_by_label(judge.user.full_name, exact=True).check()
    staff.get_by_role("button", name="确定评审小组并分配入围项目").click()
    expect(staff.get_by_role("alert")).to_have_text("终评评审小组已确定，每位评委均已分配全部入围项目。")
    expect(staff.get_by_role("heading", name=re.compile("评审任务"))).to_contain_text("(15)")

    # (5) A judge scores on a phone: declares no conflict, fills the rubric, submits.
    judge_user = open_round.judges[0].user
    judge = new_page(viewport=PHONE)
    login(judge, judge_user.username)
    expect(judge.get_by_role("heading", level=1)).to_have_text("我的评审任务")
    judge.locator(".list-group-item", has_text=TITLE).get_by_role("link", name="声明利益冲突").click()
    expect(judge.get_by_role("heading", level=1)).to_have_text("利益冲突声明")
    judge.get_by_label("本人与该项目及其申报单位不存在利益冲突。").check()
    judge.locator("main").get_by_role("button", name="确认").click()
    expect(judge.get_by_role("heading", level=1)).to_have_text(TITLE)
    points = {"项目定位精准性": "23", "内容可行性": "22", "社会效益": "27", "资金预算": "18"}
    for name, value in points.items():
        judge.get_by_label(name).fill(value)
    judge.locator("#id_comment").fill("需求分析扎实，预算合理。")
    assert judge.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the sheet scrolls sideways"
    judge.get_by_role("button", name="提交评分").click()
    expect(judge.get_by_role("alert")).to_have_text("评分表已提交，谢谢！")
    expect(judge.locator(".list-group-item", has_text=TITLE)).to_contain_text("已提交")
    score_the_rest(c, open_round.judges, proposal, skip=(judge_user, proposal))

    # (6) Staff run the roadshow (draw, start the presentation) and freeze the results.
    staff.goto(f"/rounds/{c.pk}/")
    staff.get_by_role("link", name="路演控制台").click()
    staff.get_by_role("button", name="抽签确定路演顺序").click()
    expect(staff.get_by_role("alert")).to_have_text("路演顺序已抽签确定。")
    expect(staff.locator("tbody tr")).to_have_count(3)
    row = staff.locator("tbody tr", has_text=TITLE)
    row.get_by_role("button", name="开始陈述").click()
    row = staff.locator("tbody tr", has_text=TITLE)
    expect(row).to_have_attribute("aria-current", "true")  # the presenting row is marked (a bar at its left edge)
    expect(row).to_contain_text("项目陈述")
    expect(staff.locator('[data-roadshow] [data-field="title"]')).to_have_text(TITLE)
    expect(staff.locator("[data-timer]")).to_have_text(re.compile(r"^0?[78]:\d\d$"))  # 8 minutes, counting down
    staff.goto(f"/rounds/{c.pk}/")
    staff.get_by_role("link", name="评审结果、诊断、冻结与签批").click()
    expect(staff.locator("main")).to_contain_text("15 / 15")
    staff.get_by_role("button", name="冻结评审结果").click()
    expect(staff.get_by_role("alert")).to_contain_text("评审结果已冻结。摘要值：")
    expect(staff.get_by_role("heading", name="封存的评审结果")).to_be_visible()
    expect(staff.locator(f'tr[data-proposal="{proposal.pk}"] td').first).to_have_text("1")
    expect(staff.locator("main")).to_contain_text("尚未签批")

    # (7) The auditor signs off.
    auditor = new_page()
    login(auditor, open_round.auditor.username)
    auditor.get_by_role("link", name=c.title).click()
    auditor.get_by_role("link", name="评审结果、诊断、冻结与签批").click()
    auditor.get_by_role("button", name="签批评审结果").click()
    expect(auditor.get_by_role("alert")).to_have_text("评审结果已签批。")
    expect(auditor.locator("main")).to_contain_text("由 吴审计 于")

    # (8) Staff propose the awards and publish the public notice.
    staff.goto(f"/rounds/{c.pk}/")
    staff.get_by_role("link", name="资助与公示").click()
    staff.get_by_role("button", name="生成拟资助名单").click()
    expect(staff.get_by_role("alert")).to_have_text("已在资助总额内生成 3 项拟资助。")
    expect(staff.locator("tbody tr", has_text=TITLE)).to_contain_text("¥100,000.00")
    expect(staff.get_by_label("公示开始日期")).to_have_value(timezone.localdate().isoformat())  # today by default
    staff.get_by_role("button", name="发布公示").click()
    expect(staff.get_by_role("alert").first).to_have_text(re.compile(r"^公示已发布，公示期至 \d{4}-\d\d-\d\d。$"))
    notice = PublicNotice.objects.get(competition=c)
    expect(staff.get_by_role("alert").first).to_have_text(f"公示已发布，公示期至 {notice.ends_on.isoformat()}。")

    # (9) Anyone can read the public notice.
    visitor = new_page()
    visitor.goto(f"/results/notice/{c.pk}/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(f"关于{c.title}评审结果的公示")
    row = visitor.locator("tbody tr", has_text=TITLE)
    expect(row).to_contain_text(ORG)
    expect(row).to_contain_text("¥100,000.00")
    expect(visitor.locator("tfoot")).to_contain_text("¥270,000.00")
    expect(visitor.locator("main")).to_contain_text("李教授（示范大学社会学院）")

    # (10) After the notice period the awards are final; staff record the signed agreement and open the workspace.
    awards.close_notice(competition=c, by=open_round.staff, today=notice.ends_on + datetime.timedelta(days=1))
    staff.reload()
    row = staff.locator("tbody tr", has_text=TITLE)
    row.get_by_label(t("Agreement signed on")).fill(timezone.localdate().isoformat())
    row.get_by_role("button", name=re.compile(re.escape(t("open the workspace")))).click()
    project = FundedProject.objects.get(proposal=proposal)
    expect(staff.get_by_role("alert")).to_have_text(
        t("Agreement %(number)s signed; the project workspace is open.", number=project.agreement.number)
    )
    expect(staff.get_by_role("heading", level=1)).to_contain_text(TITLE)

    # (11) The applicant files a progress report and records an expenditure with its receipt (overspending a line).
    nav(applicant, "我的首页")
    applicant.get_by_role("link", name=ORG).click()
    applicant.locator("table").get_by_role("link", name=TITLE).click()  # the funded projects, not the proposals
    expect(applicant.get_by_role("heading", level=1)).to_contain_text(TITLE)
    applicant.get_by_role("link", name=t("Write")).first.click()
    applicant.locator("#id_narrative").fill("开展骑手安全培训4场，法律咨询20人次。")
    applicant.locator("#id_people_served").fill("85")
    applicant.locator("#id_activities-0-date").fill((start + datetime.timedelta(days=10)).isoformat())
    applicant.locator("#id_activities-0-place").fill("金水区骑手驿站")
    applicant.locator("#id_activities-0-participants").fill("40")
    applicant.locator("#id_activities-0-description").fill("交通安全培训")
    applicant.get_by_label("培训骑手人次").fill("85")
    applicant.get_by_role("button", name=t("Submit the report")).click()
    expect(applicant.get_by_role("alert")).to_have_text(t("Report submitted; the supervisor will review it."))
    expect(applicant.locator("tbody tr").filter(has_text=start.isoformat()).first).to_contain_text(t("Submitted"))
    # Expenses are recorded once paid (never dated in the future): the round's projects start in a month, so this
    # one is moved to have started 60 days ago.
    paid_on = timezone.localdate() - datetime.timedelta(days=1)
    FundedProject.objects.filter(proposal=proposal).update(period_start=paid_on - datetime.timedelta(days=59))
    applicant.get_by_role("link", name=t("Expenditure ledger")).click()
    applicant.locator("#id_date").fill(paid_on.isoformat())
    applicant.locator("#id_line").select_option(label="人员经费 · 项目社工补贴")
    applicant.locator("#id_amount").fill("34000")
    applicant.locator("#id_payee").fill("项目社工三人")
    applicant.locator("#id_description").fill("社工补贴（含加班）")
    applicant.locator("#id_voucher_no").fill("PZ-2026-001")
    applicant.locator("#id_invoice_kind").select_option(label=t("Fully digital e-invoice (20-digit number)"))
    applicant.locator("#id_invoice_number").fill("26442000000123456789")
    applicant.locator("#id_receipt").set_input_files({"name": "发票.pdf", "mimeType": "application/pdf", "buffer": PDF})
    applicant.get_by_role("button", name=t("Record the entry")).click()
    expect(applicant.get_by_role("alert")).to_have_text(t("Entry recorded."))
    entry = applicant.locator("tbody tr", has_text="PZ-2026-001")
    expect(entry).to_contain_text("¥34,000.00")
    expect(entry).to_contain_text("26442000000123456789")
    expect(entry.get_by_role("link", name="下载")).to_be_visible()
    # The same e-invoice claimed again is refused, pointing at the first claim (the organization's own entry).
    applicant.locator("#id_date").fill(paid_on.isoformat())
    applicant.locator("#id_line").select_option(label="人员经费 · 项目社工补贴")
    applicant.locator("#id_amount").fill("￥120.00")
    applicant.locator("#id_payee").fill("项目社工三人")
    applicant.locator("#id_description").fill("重复报销")
    applicant.locator("#id_voucher_no").fill("PZ-2026-002")
    applicant.locator("#id_invoice_kind").select_option(label=t("Fully digital e-invoice (20-digit number)"))
    applicant.locator("#id_invoice_number").fill("26442000000123456789")
    applicant.get_by_role("button", name=t("Record the entry")).click()
    expect(applicant.get_by_role("alert").first).to_have_text(t("Nothing was saved; correct the fields marked below."))
    refusal = applicant.locator("#div_id_invoice_number .invalid-feedback")
    expect(refusal).to_contain_text(
        t("This invoice was already claimed: {link} ({date}, voucher {voucher}, {amount}).").split("{link}")[0]
    )
    expect(refusal.get_by_role("link", name=TITLE)).to_have_attribute("href", re.compile(r"#entry-\d+$"))
    assert Expenditure.objects.filter(invoice_number="26442000000123456789").count() == 1
    # The refused form answers 400 on purpose; the browser logs that one response, nothing else.
    assert applicant.watch.errors == [
        "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    applicant.watch.errors.clear()

    # (12) Staff see the overspend on the portfolio dashboard.
    nav(staff, "项目督导")
    row = staff.locator("tbody tr", has_text=TITLE)
    expect(row).to_contain_text(
        t(
            "“%(item)s” has spent %(spent)s of %(approved)s, more than %(tol)s%% over its budget.",
            item="项目社工补贴",
            spent="¥34,000.00",
            approved="¥30,000.00",
            tol="10",
        )
    )
    for p in (applicant, staff, judge, auditor, visitor):
        assert_clean(p)


def fill_line(page, index, category, item, unit, price, quantity):
    prefix = f"#id_lines-{index}-"
    page.locator(prefix + "category").select_option(label=category)
    page.locator(prefix + "item").fill(item)
    page.locator(prefix + "unit").fill(unit)
    page.locator(prefix + "unit_price").fill(price)
    page.locator(prefix + "quantity").fill(quantity)


def advance(page, stage_label, reason=None):
    """Press the stage button on the round page and accept the confirmation. A change ahead of the round's published
    times (issue #14) asks for an explicit confirmation and a ``reason`` on the button's own form."""
    if reason:
        form = page.locator("form", has=page.get_by_role("button", name=stage_label, exact=True))
        form.get_by_label("原因（记入审计日志）").fill(reason)
        form.get_by_label("我已了解上述后果，现在变更阶段。").check()
    page.get_by_role("button", name=stage_label, exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("阶段已变更。")
    expect(page.get_by_role("heading", level=1)).to_contain_text(stage_label)


def score_the_rest(competition, judges, proposal, skip):
    """Every other sheet of the final, through the services: the panel likes ``proposal`` best."""
    criteria = list(competition.criteria.all())
    assignments = Assignment.objects.filter(panel__competition=competition).select_related(
        "judge__user", "proposal", "panel__competition"
    )
    for n, a in enumerate(assignments):
        if (a.judge.user, a.proposal) == skip:
            continue
        judging.declare(assignment=a, has_conflict=False, reason="", by=a.judge.user)
        a = Assignment.objects.select_related("conflict", "panel__competition", "proposal").get(pk=a.pk)
        lower = 0 if a.proposal == proposal else 3 + n % 3
        points = [Decimal(x - lower) for x in (21 + n % 3, 20 + n % 4, 26 + n % 3, 16 + n % 3)]
        judging.save_sheet(
            assignment=a,
            by=a.judge.user,
            points=dict(zip([c.pk for c in criteria], points, strict=True)),
            comment="路演表现良好。",
            expected_version=0,
            submit=True,
        )
