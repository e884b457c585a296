"""Issue #18, "bugs found on the way": each test reproduces one bug as a user met it, with the exact text shown."""

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.builders import PDF, build_funded, build_round, evaluate
from venture.awards import services as awards
from venture.markup import render_markdown
from venture.organizations import services as organizations
from venture.proposals.models import Attachment
from venture.supervision.models import Feedback

pytestmark = pytest.mark.django_db


def test_grades_saved_after_the_awards_were_proposed_reach_the_awards_and_the_notice(client):
    c, staff, auditor, props = build_round(pool="400000", rule="skip")
    awards.propose_awards(competition=c, by=staff)  # no grades yet: every award shows "—"
    client.force_login(staff)
    client.post(f"/results/round/{c.pk}/awards/grades/", {"grades": "一等资助\n二等资助\n"})
    graded = list(c.awards.order_by("rank").values_list("grade__name", flat=True))
    assert graded == ["一等资助", "一等资助", "二等资助", "二等资助"]
    page = client.get(f"/results/round/{c.pk}/awards/").content.decode()
    assert "<td>一等资助</td>" in page and "<td>—</td>" not in page


def _empty_formsets():
    data = {}
    for prefix in ("lines", "milestones", "indicators"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def test_a_failed_save_does_not_show_the_saved_drafts_checklist_next_to_the_new_errors(
    client, applicant_a, competition, org_a
):
    draft = factories.proposal(competition, org_a, requested=None)
    client.force_login(applicant_a)
    assert "提交前还需完成：" in client.get(f"/proposals/{draft.pk}/edit/").content.decode()
    bad = {"version": draft.version, "title": "新标题", "period_start": "not a date", **_empty_formsets()}
    body = client.post(f"/proposals/{draft.pk}/edit/", bad).content.decode()
    assert "提交前还需完成：" not in body
    assert "草稿保存后，将重新检查提交前还需完成的事项。" in body


def test_the_edit_link_of_a_submitted_proposal_leads_to_its_read_only_page(client, applicant_a, competition, org_a):
    submitted = factories.proposal(competition, org_a, status="submitted")
    client.force_login(applicant_a)
    response = client.get(f"/proposals/{submitted.pk}/edit/", follow=True)
    assert response.redirect_chain == [(f"/proposals/{submitted.pk}/", 302)]
    assert "该项目当前状态为“已提交”，不能再修改；以下是只读页面。" in response.content.decode()
    client.force_login(factories.user("stranger"))  # someone else's proposal is still not found
    assert client.get(f"/proposals/{submitted.pk}/edit/").status_code == 404


def test_attachment_descriptions_are_shown_on_the_proposal(client, applicant_a, competition, org_a):
    p = factories.proposal(competition, org_a, status="submitted")
    Attachment.objects.create(
        proposal=p,
        file=SimpleUploadedFile("a.pdf", PDF),
        original_name="章程.pdf",
        size=len(PDF),
        description="机构章程",
    )
    client.force_login(applicant_a)
    body = client.get(f"/proposals/{p.pk}/").content.decode()
    assert ' · <span class="attachment-description">机构章程</span>' in body


def test_the_certificate_downloads_under_the_name_it_was_uploaded_with(client, applicant_a, org_a):
    organizations.update_organization(
        organization=org_a, by=applicant_a, data={"certificate": SimpleUploadedFile("登记证书2024.pdf", PDF)}
    )
    client.force_login(applicant_a)
    response = client.get(f"/organizations/{org_a.pk}/certificate/")
    assert (
        response["Content-Disposition"] == "attachment; filename*=utf-8''%E7%99%BB%E8%AE%B0%E8%AF%81%E4%B9%A62024.pdf"
    )


def test_a_verified_organization_offers_no_reject_form(client, staff, org_a):
    client.force_login(staff)
    body = client.get(f"/organizations/{org_a.pk}/").content.decode()
    assert f"/organizations/{org_a.pk}/reject/" not in body
    assert 'id="verification-why"' in body


def test_a_round_with_no_proposals_has_requested_zero(client, staff, competition):
    client.force_login(staff)
    assert '<td class="money">¥0.00</td>' in client.get("/").content.decode()
    body = client.get(f"/rounds/{competition.pk}/").content.decode()
    assert '<div class="h4">¥0.00</div>' in body


def test_call_text_tables_have_borders_and_phone_links_survive():
    html = render_markdown("| 阶段 | 时间 |\n|---|---|\n| 申报 | 9月 |\n\n咨询电话：[0371-12345678](tel:0371-12345678)")
    assert html.startswith('<table class="table table-bordered table-sm">')
    assert '<a href="tel:0371-12345678" rel="noopener noreferrer">0371-12345678</a>' in html
    assert 'href="javascript' not in render_markdown("[x](javascript:alert(1))")


def test_budget_category_selects_are_wide_enough_for_their_labels(client, applicant_a, competition, org_a):
    draft = factories.proposal(competition, org_a)
    client.force_login(applicant_a)
    body = client.get(f"/proposals/{draft.pk}/edit/").content.decode()
    assert 'class="form-select form-select-sm budget-category"' in body
    css = open("static/css/venture.css", encoding="utf-8").read()
    assert ".budget-category { min-width: 11rem; }" in css


def test_the_midterm_milestone_is_done_once_the_midterm_evaluation_is_held(client):
    f = build_funded()
    f.project.milestones.create(date=f.project.milestones.get().date, title="中期评估")
    evaluate(f, "midterm", [30, 20, 20])
    client.force_login(f.staff)
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert '中期评估 <span class="badge text-bg-success">完成于' in body
    assert f.project.milestones.get(title="启动仪式").done_on is None  # other milestones keep their state


def test_the_ratings_count_says_how_many_have_a_comment(client):
    f = build_funded()
    for rating, comment in [(5, "很好"), (4, "不错"), (5, "有帮助"), (3, "")]:
        Feedback.objects.create(project=f.project, rating=rating, comment=comment, client_key="k")
    client.force_login(f.staff)
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "4 条评价，其中 3 条附有留言</p>" in body


def test_an_ordinary_403_is_logged_without_a_traceback(client, staff, competition, caplog):
    client.force_login(staff)  # staff may not start a proposal
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(f"/proposals/start/{competition.pk}/").status_code == 403
    [entry] = [r for r in caplog.records if r.name == "django.request"]
    assert entry.getMessage() == f"Forbidden (Permission denied): /proposals/start/{competition.pk}/"
    assert entry.exc_info is None
