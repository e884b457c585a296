"""Accessibility: an axe-core scan of the main pages of each role on the demo data, and the score sheet done with the
keyboard alone.

Violations of impact "serious" or "critical" fail the test; the others are printed (run with ``-s`` or ``-rP`` to see
them) and written to ``test-artifacts/accessibility.txt``.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from judging.models import Criterion, Judge, ScoreSheet, SheetStatus
from tests import factories
from tests.e2e.conftest import ARTIFACTS, BLOCKING, assert_clean, axe_violations, describe, login, sign_in
from venture.accounts.models import User
from venture.competitions.models import Competition
from venture.demo import builder
from venture.proposals import services as proposals
from venture.supervision.models import FundedProject

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


def build_world():
    """The demo (a round in its public notice, last year's round under supervision, next year's open call), plus an
    applicant's draft in the open call and a second round in its final review where judge1 has one proposal to
    declare and one to score."""

    assert builder.build() is True
    demo = Competition.objects.get(title=builder.DEMO_ROUND_TITLE)
    open_call = Competition.objects.get(title=builder.NEXT_ROUND_TITLE)
    projects = list(FundedProject.objects.filter(competition__title=builder.PAST_ROUND_TITLE).order_by("pk"))
    on_track, overspent = projects[0], projects[1]
    applicant = on_track.organization.memberships.get().user
    draft = proposals.create_proposal(
        competition=open_call, organization=on_track.organization, title="骑手子女暑期托管服务", by=applicant
    )
    lines = open_call.budget_categories.all()
    proposals.save_draft(
        proposal=draft,
        by=applicant,
        expected_version=draft.version,
        data={"target_group": "外卖骑手子女", "people_to_serve": 120, "requested_amount": Decimal("60000")},
        budget_lines=[
            {
                "category": lines[1],
                "item": "托管场地与物资",
                "unit": "期",
                "unit_price": Decimal("25000"),
                "quantity": Decimal("2"),
                "amount": Decimal("50000"),
            }
        ],
        milestones=[],
        indicators=[],
    )
    judge = Judge.objects.get(user__username="judge1")
    second = factories.competition(stage="final", title="示范市总工会2026年第二批创投（终评）")
    for code, _name, _points, description, bands in builder.RUBRIC:
        Criterion.objects.filter(competition=second, code=code).update(
            description=description, bands=[{"min": lo, "max": hi, "label": label} for lo, hi, label in bands]
        )
    to_declare, to_score = factories.finalists(second, 2)
    factories.budget(to_score, [("人员经费", 3000, 10), ("活动经费", 70000, 1)])
    assignments = factories.final_panel(second, [judge], [to_declare, to_score], pending=[(judge, to_declare)])
    c = {"competition_pk": demo.pk}
    return {
        None: [
            ("login", reverse("login")),
            ("calls", reverse("competitions:calls")),
            ("call", reverse("competitions:call", args=[open_call.pk])),
            ("notice", reverse("awards:notice", kwargs=c)),
        ],
        applicant.username: [
            ("home", reverse("home")),
            ("proposal edit", reverse("proposals:edit", args=[draft.pk])),
            ("project", on_track.get_absolute_url()),
        ],
        judge.user.username: [
            ("home", reverse("home")),
            ("declaration", reverse("judging:declare", args=[assignments[(judge.pk, to_declare.pk)].pk])),
            ("score sheet", reverse("judging:sheet", args=[assignments[(judge.pk, to_score.pk)].pk])),
        ],
        "staff": [
            ("round", demo.get_absolute_url()),
            ("proposals", reverse("proposals:list", kwargs=c)),
            ("screening", reverse("screening:list", kwargs=c)),
            ("results", reverse("results:results", kwargs=c)),
            ("awards", reverse("awards:awards", kwargs=c)),
            ("portfolio", reverse("supervision:portfolio")),
        ],
        "supervisor": [("project", overspent.get_absolute_url())],
        "auditor": [("audit trail", reverse("audit")), ("results", reverse("results:results", kwargs=c))],
    }


def test_main_pages_of_each_role_have_no_serious_accessibility_violation(new_page, db):
    pages = build_world()
    blocking, others = [], []
    for username, urls in pages.items():
        page = new_page(bypass_csp=True)  # axe is injected as an inline script
        if username:
            sign_in(page, User.objects.get(username=username))
        for name, url in urls:
            response = page.goto(url)
            assert (response.status, response.request.redirected_from) == (200, None), (username, url, response.url)
            for v in axe_violations(page):
                line = f"{username or 'anonymous'} · {name} ({url}): {describe(v)}"
                (blocking if v["impact"] in BLOCKING else others).append(line)
        assert_clean(page)
    report = "\n".join(["Blocking (serious, critical):", *blocking, "", "Others (moderate, minor):", *others])
    print("\n" + report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "accessibility.txt").write_text(report + "\n", encoding="utf-8")
    assert blocking == [], "\n".join(blocking)


def test_a_judge_scores_with_the_keyboard_alone(page, db):
    """Skip link, Tab to each points field, type, Tab to the submit button, Enter: no mouse needed."""

    c = factories.competition(stage="final")
    judge = factories.judge("judge_kb", full_name="郑教授")
    proposal = factories.finalists(c, 1)[0]
    assignment = factories.final_panel(c, [judge], [proposal])[(judge.pk, proposal.pk)]
    criteria = list(c.criteria.all())
    login(page, judge.user.username)
    page.get_by_role("link", name="评分", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal.title)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳至正文")).to_be_focused()
    page.keyboard.press("Enter")
    tab_until(page, f"#id_c_{criteria[0].pk}", presses=3)  # past the "project summary" toggle only
    points = ["22", "21", "27", "17"]
    for i, (criterion, value) in enumerate(zip(criteria, points, strict=True)):
        if i:
            page.keyboard.press("Tab")
        expect(page.locator(f"#id_c_{criterion.pk}")).to_be_focused()
        page.keyboard.type(value)
    tab_until(page, 'button[name="submit"]', presses=3)  # the comment, "save draft", then "submit scores"
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("评分表已提交，谢谢！")
    assert page.watch.dialogs == ["确定提交评分吗？提交后评分表将被锁定。"]
    sheet = ScoreSheet.objects.get(assignment=assignment)
    assert sheet.status == SheetStatus.SUBMITTED
    assert [str(s.points.normalize()) for s in sheet.scores.order_by("criterion__order")] == points
    assert sheet.total == Decimal("87.00")
    assert_clean(page)


def tab_until(page, selector, presses):
    """Press Tab until ``selector`` has the focus, at most ``presses`` times."""
    target = page.locator(selector)
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(
        f"{selector} not reached with {presses} Tab presses; focus is on "
        + page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    )


def test_the_top_bar_fits_1200_px_in_english_and_the_user_menu_logs_out(new_page, db):
    """The widest navigation (staff with the admin link) in the longer English labels stays inside a 1200 px window;
    the user's name opens a menu with the role, the password page and logging out."""
    factories.user("bar_staff", role="staff", is_staff=True, full_name="赵工会（示例）")
    page = new_page(viewport={"width": 1200, "height": 800})
    login(page, "bar_staff")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Audit trail")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") == 1200
    page.get_by_role("button", name="赵工会（示例）").click()
    expect(page.get_by_role("link", name="Password")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert_clean(page)
