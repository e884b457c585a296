"""Screening a round without switching pages (issue #18), clicked through: staff search the bulk list, tick every
shown proposal with one box, open the first proposal, see it beside the checklist, decide it and go on to the next
with one button, and walk back and forth with previous/next, the list's filter kept all the way."""

import re

import pytest

from tests import factories
from tests.e2e.conftest import assert_clean, sign_in, t
from venture.proposals.models import Proposal
from venture.screening.models import ChecklistItem

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect


@pytest.fixture
def screening_round(db):
    c = factories.competition(stage="screening")
    items = [
        ChecklistItem.objects.create(competition=c, text=x, order=i) for i, x in enumerate(["材料齐全", "预算合规"])
    ]
    sunshine = factories.organization(name="阳光社工服务中心")
    spring = factories.organization(name="春晖志愿者协会")
    titles = ["甲 快递小哥关爱", "乙 外卖骑手驿站", "丙 网约车司机心理"]
    props = [factories.proposal(c, sunshine, status="submitted", title=title) for title in titles]
    other = factories.proposal(c, spring, status="submitted", title="丁 环卫工人午餐")
    staff = factories.user("staff_screen", role="staff")
    return c, items, props, other, staff


def test_screen_a_round_side_by_side_with_previous_and_next(page, screening_round):
    c, items, props, other, staff = screening_round
    sign_in(page, staff)
    page.goto(f"/screening/round/{c.pk}/")
    page.locator("#screening-q").fill("阳光")
    page.get_by_role("button", name=t("Filter")).click()
    expect(page).to_have_url(re.compile(r"\?status=&q=%E9%98%B3%E5%85%89$"))
    rows = page.locator("#screening-bulk tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#screening-bulk")).not_to_contain_text(other.title)
    # One box ticks every shown proposal, and unticks them.
    page.locator("#screening-select-all").check()
    expect(page.locator('#screening-bulk input[name="proposals"]:checked')).to_have_count(3)
    page.locator('#screening-bulk input[name="proposals"]').first.uncheck()
    assert page.locator("#screening-select-all").evaluate("box => box.indeterminate") is True
    page.locator("#screening-select-all").click()  # from "some" to all
    expect(page.locator('#screening-bulk input[name="proposals"]:checked')).to_have_count(3)
    page.locator("#screening-select-all").click()  # and to none
    expect(page.locator('#screening-bulk input[name="proposals"]:checked')).to_have_count(0)

    order = [Proposal.objects.get(title=title) for title in rows.locator("td:nth-child(2) a").all_inner_texts()]
    rows.first.locator("td:nth-child(2) a").click()
    expect(page.locator("h1")).to_contain_text(order[0].title)
    # The proposal on the left, the checklist on the right, side by side.
    left = page.locator("#screening-proposal").bounding_box()
    right = page.locator("#screening-checklist").bounding_box()
    assert left["x"] + left["width"] <= right["x"] + 1 and abs(left["y"] - right["y"]) < 5
    expect(page.locator("#screening-proposal")).to_contain_text(order[0].needs.splitlines()[0])
    expect(page.locator("#screening-position")).to_have_text(t("%(n)s of %(total)s", n=1, total=3))
    expect(page.locator("#screening-previous")).to_have_count(0)

    # Decide the first and go on to the next with one button.
    for item in items:
        page.locator(f'input[name="pass_{item.pk}"][value="1"]').check()
    page.get_by_label(t("Eligible"), exact=True).check()
    page.locator("#screening-save-next").click()
    expect(page).to_have_url(re.compile(rf"/screening/proposal/{order[1].pk}/\?q=%E9%98%B3%E5%85%89$"))
    expect(page.locator("h1")).to_contain_text(order[1].title)
    assert Proposal.objects.get(pk=order[0].pk).status == "eligible"

    page.locator("#screening-next").click()
    expect(page.locator("h1")).to_contain_text(order[2].title)
    expect(page.locator("#screening-next")).to_have_count(0)
    page.locator("#screening-previous").click()
    expect(page.locator("h1")).to_contain_text(order[1].title)
    page.locator("#screening-back").click()
    expect(page).to_have_url(re.compile(rf"/screening/round/{c.pk}/\?q=%E9%98%B3%E5%85%89$"))
    expect(page.locator(".status-eligible")).to_have_count(1)
    assert_clean(page)
