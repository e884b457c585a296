"""NGOs reuse their work and never lose text (issue #18): the organization's profile fills a new proposal, "start from
my proposal of …" copies an earlier proposal, the edit form saves itself in the background with the version check."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from tests import factories
from venture.audit.models import AuditEvent
from venture.competitions.models import BudgetCategory, Category
from venture.organizations.models import Organization
from venture.proposals import services
from venture.proposals.forms import StartProposalForm
from venture.proposals.models import BudgetLine, Indicator, Milestone, Proposal

pytestmark = pytest.mark.django_db


def last_years_proposal(org):
    """A 2025 round with a proposal of ``org``: text, two milestones, an indicator and three budget lines, one in
    "交通费", a category the 2026 round no longer has."""
    old = factories.competition(stage="supervision", year=2025, title="2025年大赛")
    BudgetCategory.objects.create(competition=old, name="交通费", order=3)
    p = factories.proposal(
        old,
        org,
        status="awarded",
        title="骑手法律驿站",
        category=old.categories.get(name="技能培训"),
        requested=Decimal("98000.00"),
        cofunding_amount=Decimal("5000.00"),
    )
    Proposal.objects.filter(pk=p.pk).update(
        period_start=datetime.date(2025, 7, 1), period_end=datetime.date(2026, 6, 30)
    )
    p.refresh_from_db()
    Milestone.objects.create(proposal=p, date=datetime.date(2025, 9, 30), title="首场讲座", description="在驿站")
    Milestone.objects.create(proposal=p, date=datetime.date(2026, 2, 28), title="中期总结")
    Indicator.objects.create(proposal=p, name="服务骑手", target=Decimal("300"), unit="人次")
    cats = {b.name: b for b in old.budget_categories.all()}
    for name, item, price, qty in [
        ("人员经费", "社工补贴", "3000.00", "10"),
        ("活动经费", "讲座", "2000.00", "30"),
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
            note="备注" if name == "交通费" else "",
        )
    return p


def this_year():
    c = factories.competition(year=2026, title="2026年大赛")
    # The category of last year's proposal was renamed with extra spaces; it still matches by name.
    Category.objects.filter(competition=c, name="技能培训").update(name="技能 培训")
    return c


def test_a_new_proposal_takes_the_organization_parts_from_the_profile(competition, org_a, applicant_a):
    Organization.objects.filter(pk=org_a.pk).update(
        staff_count=12, past_projects="2024年骑手关爱行动", service_area="示范市金水区"
    )
    org_a.refresh_from_db()
    with translation.override("zh-hans"):
        p = services.create_proposal(competition=competition, organization=org_a, title="新项目", by=applicant_a)
    assert p.service_area == "示范市金水区"
    assert p.team == "甲公益服务中心：专职人员 12 人；联系人 李联系（13800138000）。\n以往项目：2024年骑手关爱行动"


def test_the_start_form_preselects_the_only_organization(org_a, org_b, applicant_a):
    form = StartProposalForm(organizations=Organization.objects.filter(pk=org_a.pk))
    assert form.fields["organization"].initial == org_a
    both = StartProposalForm(organizations=Organization.objects.filter(pk__in=[org_a.pk, org_b.pk]))
    assert both.fields["organization"].initial is None


def test_start_from_an_earlier_proposal_copies_text_rows_and_maps_the_budget(org_a, applicant_a):
    source = last_years_proposal(org_a)
    c = this_year()
    p = services.reuse_proposal(source=source, competition=c, by=applicant_a, title="骑手法律驿站（二期）")

    assert (p.competition, p.organization, p.status, p.title) == (c, org_a, "draft", "骑手法律驿站（二期）")
    assert p.category == c.categories.get(name="技能 培训")
    assert (p.target_group, p.people_to_serve, p.needs, p.objectives, p.activities, p.team) == (
        "外卖骑手",
        200,
        "需求分析",
        "项目目标",
        "活动安排",
        "项目团队",
    )
    assert (p.requested_amount, p.cofunding_amount) == (Decimal("98000.00"), Decimal("5000.00"))
    assert (p.period_start, p.period_end) == (datetime.date(2026, 7, 1), datetime.date(2027, 6, 30))
    assert list(p.milestones.values_list("date", "title", "description")) == [
        (datetime.date(2026, 9, 30), "首场讲座", "在驿站"),
        (datetime.date(2027, 2, 28), "中期总结", ""),
    ]
    assert list(p.indicators.values_list("name", "target", "unit")) == [("服务骑手", Decimal("300.00"), "人次")]
    assert list(p.budget_lines.values_list("category__name", "item", "amount")) == [
        ("人员经费", "社工补贴", Decimal("30000.00")),
        ("活动经费", "讲座", Decimal("60000.00")),
    ]
    assert all(line.category.competition_id == c.pk for line in p.budget_lines.all())
    assert list(p.unplaced_lines.values_list("old_category", "item", "unit_price", "quantity", "amount", "note")) == [
        ("交通费", "外出交通", Decimal("500.00"), Decimal("16.00"), Decimal("8000.00"), "备注")
    ]
    # Not copied: attachments, the status history, and the source is untouched.
    assert list(p.status_changes.values_list("status", flat=True)) == ["draft"]
    assert (p.attachments.count(), source.budget_lines.count(), source.status) == (0, 3, "awarded")
    event = AuditEvent.objects.get(action="proposal.create", object_id=str(p.pk))
    assert event.after["copied_from"] == source.pk
    assert event.after["unplaced_lines"] == ["交通费 · 外出交通"]
    # The unplaced line stops a submission until it is placed.
    with translation.override("en"):
        problems = [x.message for x in services.submission_problems(p)]
    assert "1 budget line(s) copied from your earlier proposal still need a budget category of this round." in problems


def test_placing_the_unplaced_lines(org_a, applicant_a):
    p = services.reuse_proposal(source=last_years_proposal(org_a), competition=this_year(), by=applicant_a, title="x")
    line = p.unplaced_lines.get()
    activity = p.competition.budget_categories.get(name="活动经费")
    with pytest.raises(services.ConcurrentEdit):
        services.place_budget_lines(proposal=p, by=applicant_a, placements={line: activity}, expected_version=99)
    assert p.unplaced_lines.count() == 1
    services.place_budget_lines(proposal=p, by=applicant_a, placements={line: activity}, expected_version=p.version)
    assert p.unplaced_lines.count() == 0
    assert list(p.budget_lines.filter(item="外出交通").values_list("category__name", "amount", "note")) == [
        ("活动经费", Decimal("8000.00"), "备注")
    ]
    assert p.version == 2


def test_the_place_lines_page(client, org_a, applicant_a):
    p = services.reuse_proposal(source=last_years_proposal(org_a), competition=this_year(), by=applicant_a, title="x")
    client.force_login(applicant_a)
    page = client.get(f"/proposals/{p.pk}/edit/").content.decode()
    assert 'id="unplaced-lines"' in page and "外出交通" in page
    line = p.unplaced_lines.get()
    response = client.post(f"/proposals/{p.pk}/place-lines/", {"version": p.version, f"line_{line.pk}": "omit"})
    assert response.status_code == 302
    assert (p.unplaced_lines.count(), p.budget_lines.count()) == (0, 2)


def test_reuse_page_copies_only_ones_own_proposals(client, org_a, org_b, applicant_a, applicant_b):
    source = last_years_proposal(org_a)
    c = this_year()
    client.force_login(applicant_b)
    assert client.get(f"/proposals/start/{c.pk}/from/{source.pk}/").status_code == 404
    assert client.post(f"/proposals/start/{c.pk}/from/{source.pk}/", {"title": "偷来的"}).status_code == 404
    assert not Proposal.objects.filter(title="偷来的").exists()
    client.force_login(applicant_a)
    start = client.get(f"/proposals/start/{c.pk}/").content.decode()
    assert f'href="/proposals/start/{c.pk}/from/{source.pk}/"' in start
    response = client.post(f"/proposals/start/{c.pk}/from/{source.pk}/", {"title": "二期"})
    new = Proposal.objects.get(title="二期")
    assert response.status_code == 302 and response["Location"] == f"/proposals/{new.pk}/edit/"
    assert (new.organization, new.competition, new.milestones.count()) == (org_a, c, 2)


# --- Autosave ---------------------------------------------------------------------------------------------------------


def autosave_payload(proposal, **overrides):
    c = proposal.competition
    data = {
        "version": proposal.version,
        "title": proposal.title,
        "category": c.categories.first().pk,
        "target_group": "外卖骑手",
        "people_to_serve": "300",
        "service_area": "示范市金水区",
        "needs": "骑手缺少法律服务",
        "objectives": "",
        "activities": "",
        "team": "",
        "period_start": "",
        "period_end": "",
        "requested_amount": "",
        "cofunding_amount": "",
    }
    for prefix in ("lines", "milestones", "indicators"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data["lines-TOTAL_FORMS"] = "1"
    cat = c.budget_categories.get(name="活动经费").pk
    data.update({"lines-0-category": cat, "lines-0-item": "讲座", "lines-0-unit": "场"})
    data.update({"lines-0-unit_price": "2000", "lines-0-quantity": "3"})
    data.update(overrides)
    return data


def test_autosave_saves_the_draft_and_says_when(client, competition, org_a, applicant_a):
    p = factories.proposal(competition, org_a, requested=None)
    client.force_login(applicant_a)
    response = client.post(f"/proposals/{p.pk}/autosave/", autosave_payload(p))  # the default language, Chinese
    p.refresh_from_db()
    at = timezone.localtime(p.updated_at).strftime("%H:%M")
    assert response.status_code == 200
    assert response.json() == {"saved": True, "version": 2, "at": at, "message": f"已于 {at} 保存"}
    assert (p.needs, p.people_to_serve, p.version) == ("骑手缺少法律服务", 300, 2)
    assert list(p.budget_lines.values_list("item", "amount")) == [("讲座", Decimal("6000.00"))]
    assert AuditEvent.objects.filter(action="proposal.save_draft", object_id=str(p.pk)).count() == 1


def test_autosave_with_a_stale_version_answers_409_and_changes_nothing(client, competition, org_a, applicant_a):
    p = factories.proposal(competition, org_a, requested=None)
    colleague = factories.user("colleague", full_name="张同事")
    org_a.memberships.create(user=colleague)
    client.force_login(colleague)
    assert client.post(f"/proposals/{p.pk}/autosave/", autosave_payload(p, needs="同事的版本")).status_code == 200
    client.force_login(applicant_a)
    response = client.post(f"/proposals/{p.pk}/autosave/", autosave_payload(p, needs="我的版本"))
    assert response.status_code == 409
    body = response.json()
    assert (body["saved"], body["conflict"]) == (False, True)
    assert body["message"].startswith("张同事 在您打开本页后于 ")
    assert body["message"].endswith(
        "修改了该申报书。您的修改尚未保存，仍保留在下方表单中。请刷新查看对方的版本，再重新录入您的修改。"
    )
    p.refresh_from_db()
    assert (p.needs, p.version) == ("同事的版本", 2)


def test_autosave_of_an_unfinished_row_saves_nothing_and_says_so(client, competition, org_a, applicant_a):
    p = factories.proposal(competition, org_a, requested=None)
    client.force_login(applicant_a)
    response = client.post(f"/proposals/{p.pk}/autosave/", autosave_payload(p, **{"lines-0-unit": ""}))
    assert response.status_code == 200  # the ordinary state of a draft being typed, not an error
    assert response.json() == {
        "saved": False,
        "message": "尚未保存：有些内容需要补全或修改（点击“保存草稿”可看到具体位置）。",
    }
    p.refresh_from_db()
    assert p.version == 1


def test_autosave_of_another_organizations_proposal_is_not_found(client, competition, org_a, applicant_b):
    p = factories.proposal(competition, org_a, requested=None)
    client.force_login(applicant_b)
    assert client.post(f"/proposals/{p.pk}/autosave/", autosave_payload(p)).status_code == 404
    assert client.get(f"/proposals/{p.pk}/autosave/").status_code == 405  # POST only, for everyone
