"""The staff screening page: the proposal beside the checklist, previous/next through the screening list as filtered
there, select-all and search on the bulk page, and status badges that differ by colour and by text."""

import re

import pytest
from django.utils import translation

from tests import factories
from venture.organizations.models import Organization
from venture.proposals.models import Proposal
from venture.screening import queries, services
from venture.screening.models import ChecklistItem


@pytest.fixture
def screening_round(db):
    c = factories.competition(stage="screening")
    items = [
        ChecklistItem.objects.create(competition=c, text=t, order=i) for i, t in enumerate(["材料齐全", "预算合规"])
    ]
    orgs = {
        name: factories.organization(name=name) for name in ["阳光社工服务中心", "春晖志愿者协会", "明德公益发展中心"]
    }
    props = {
        "甲": factories.proposal(c, orgs["阳光社工服务中心"], status="submitted", title="甲 快递小哥关爱"),
        "乙": factories.proposal(c, orgs["春晖志愿者协会"], status="submitted", title="乙 外卖骑手驿站"),
        "丙": factories.proposal(c, orgs["明德公益发展中心"], status="submitted", title="丙 网约车司机心理"),
        "丁": factories.proposal(c, orgs["阳光社工服务中心"], status="eligible", title="丁 环卫工人午餐"),
    }
    factories.proposal(c, orgs["春晖志愿者协会"], status="draft", title="戊 草稿不在初审中")
    return c, items, props


def _ids(competition, **filters):
    return list(queries.screening_proposals(competition, **filters).values_list("pk", flat=True))


def test_the_list_is_ordered_by_status_then_title_and_searched_by_title_or_organization(screening_round):
    c, items, props = screening_round
    # status codes in order: eligible < submitted; titles within a status by the database's order.
    assert _ids(c) == [
        props["丁"].pk,
        *sorted([props[k].pk for k in "甲乙丙"], key=lambda pk: Proposal.objects.get(pk=pk).title),
    ]
    assert _ids(c, q="骑手") == [props["乙"].pk]
    assert _ids(c, q="阳光社工") == [props["丁"].pk, props["甲"].pk]
    assert _ids(c, status="submitted", q="阳光") == [props["甲"].pk]
    assert _ids(c, q="草稿") == []
    assert queries.clean_filter({"status": "draft", "q": "  阳光 "}) == {"q": "阳光"}
    assert queries.clean_filter({"status": "eligible", "q": ""}) == {"status": "eligible"}


def test_the_side_by_side_page_shows_the_proposal_and_the_checklist_with_previous_and_next(
    client, staff, screening_round
):
    c, items, props = screening_round
    client.force_login(staff)
    order = _ids(c, status="submitted")
    middle = Proposal.objects.get(pk=order[1])
    factories.budget(middle, [("活动经费", "1200.00", 3)])
    client.cookies["django_language"] = "en"
    html = client.get(f"/screening/proposal/{middle.pk}/?status=submitted").content.decode()
    # Both halves on one page: the proposal's text and budget on the left, the checks and the decision on the right.
    left = html[html.index('id="screening-proposal"') : html.index('id="screening-checklist"')]
    right = html[html.index('id="screening-checklist"') :]
    assert middle.needs.splitlines()[0] in left
    assert f'name="pass_{items[0].pk}"' in right and 'name="decision"' in right
    assert '<td class="money">¥3,600.00</td>' in left and "活动经费项目" in left
    # Previous and next keep the filter, in the list's order.
    assert re.search(
        rf'id="screening-previous" rel="prev" href="/screening/proposal/{order[0]}/\?status=submitted"', html
    )
    assert re.search(rf'id="screening-next" rel="next" href="/screening/proposal/{order[2]}/\?status=submitted"', html)
    assert '<span class="small text-muted" id="screening-position">2 of 3</span>' in html
    assert f'href="/screening/round/{c.pk}/?status=submitted" id="screening-back"' in html
    assert f'action="/screening/proposal/{middle.pk}/?status=submitted"' in html


def test_first_and_last_have_no_previous_or_next_and_the_search_filter_is_kept(client, staff, screening_round):
    c, items, props = screening_round
    client.force_login(staff)
    html = client.get(f"/screening/proposal/{props['丁'].pk}/?q=%E9%98%B3%E5%85%89").content.decode()  # q=阳光
    assert 'id="screening-previous"' not in html
    assert f'id="screening-next" rel="next" href="/screening/proposal/{props["甲"].pk}/?q=%E9%98%B3%E5%85%89"' in html
    html = client.get(f"/screening/proposal/{props['甲'].pk}/?q=%E9%98%B3%E5%85%89").content.decode()
    assert (
        f'id="screening-previous" rel="prev" href="/screening/proposal/{props["丁"].pk}/?q=%E9%98%B3%E5%85%89"' in html
    )
    assert 'id="screening-next"' not in html
    assert 'id="screening-save-next"' not in html


def test_save_and_next_goes_to_the_next_of_the_list_as_it_was_before_the_decision(client, staff, screening_round):
    c, items, props = screening_round
    client.force_login(staff)
    order = _ids(c, status="submitted")
    data = {f"pass_{i.pk}": "1" for i in items} | {"decision": "eligible", "save_next": ""}
    r = client.post(f"/screening/proposal/{order[0]}/?status=submitted", data)
    assert r.status_code == 302
    assert r["Location"] == f"/screening/proposal/{order[1]}/?status=submitted"
    assert Proposal.objects.get(pk=order[0]).status == "eligible"
    # The decided proposal left the "submitted" list; its page still knows where it stood.
    html = client.get(f"/screening/proposal/{order[0]}/?status=submitted").content.decode()
    assert f'id="screening-next" rel="next" href="/screening/proposal/{order[1]}/?status=submitted"' in html
    assert 'id="screening-previous"' not in html
    assert '<span class="small text-muted" id="screening-position">' in html
    # Plain "Save" goes back to the list with its filter.
    data = {f"pass_{i.pk}": "1" for i in items} | {"decision": "eligible", "save": ""}
    r = client.post(f"/screening/proposal/{order[1]}/?status=submitted", data)
    assert r["Location"] == f"/screening/round/{c.pk}/?status=submitted"


def test_the_side_by_side_page_is_staff_only_and_answers_404_to_others(client, applicant_a, screening_round):
    c, items, props = screening_round
    client.force_login(applicant_a)
    assert client.get(f"/screening/proposal/{props['甲'].pk}/?status=submitted").status_code == 404


def test_the_bulk_page_has_select_all_search_and_distinct_badges(client, staff, screening_round):
    c, items, props = screening_round
    services.decide(proposal=props["丙"], eligible=False, reason="材料缺失", by=staff)
    client.force_login(staff)
    with translation.override("zh-hans"):
        html = client.get(f"/screening/round/{c.pk}/").content.decode()
    assert (
        '<input class="form-check-input" type="checkbox" id="screening-select-all" data-select-all="proposals" '
        'aria-label="全选所列申报"></th>' in html
    )
    assert '<input id="screening-q" type="search" name="q" value="" maxlength="100"' in html
    # Eligible green with a tick, ineligible red with a cross: colour, icon and the status's name.
    assert re.search(
        r'<span class="badge text-bg-success status-badge status-eligible"><i class="bi bi-check-circle" aria-hidden="true"></i> 初审通过</span>',
        html,
    )
    assert re.search(
        r'<span class="badge text-bg-danger status-badge status-ineligible"><i class="bi bi-x-circle" aria-hidden="true"></i> 初审未通过</span>',
        html,
    )
    html = client.get(f"/screening/round/{c.pk}/?q=%E6%98%A5%E6%99%96").content.decode()  # q=春晖
    assert props["乙"].title in html and props["甲"].title not in html and props["丁"].title not in html
    assert f'href="/screening/proposal/{props["乙"].pk}/?q=%E6%98%A5%E6%99%96"' in html
    assert '<input type="hidden" name="q" value="春晖">' in html
    with translation.override("zh-hans"):
        html = client.get(f"/screening/round/{c.pk}/?q=nothing-matches").content.decode()
    assert "没有符合筛选条件的申报。" in html


def test_the_bulk_decision_returns_to_the_filtered_list(client, staff, screening_round):
    c, items, props = screening_round
    for item in items:
        services.record_checks(proposal=props["甲"], results={item: (True, "")}, by=staff)
    client.force_login(staff)
    r = client.post(
        f"/screening/round/{c.pk}/bulk/",
        {"decision": "eligible", "proposals": [props["甲"].pk], "status": "submitted", "q": "阳光"},
    )
    assert r["Location"] == f"/screening/round/{c.pk}/?status=submitted&q=%E9%98%B3%E5%85%89"
    assert Proposal.objects.get(pk=props["甲"].pk).status == "eligible"


def test_the_filtered_list_and_the_side_by_side_page_keep_constant_queries(
    client, staff, screening_round, django_assert_max_num_queries
):
    c, items, props = screening_round
    for n in range(30):
        factories.proposal(c, Organization.objects.first(), status="submitted", title=f"阳光项目{n:02d}")
    client.force_login(staff)
    with django_assert_max_num_queries(8):
        assert client.get(f"/screening/round/{c.pk}/?q=%E9%98%B3%E5%85%89&status=submitted").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(f"/screening/proposal/{props['甲'].pk}/?q=%E9%98%B3%E5%85%89").status_code == 200
