from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests import factories
from venture.audit.models import AuditEvent
from venture.proposals import services
from venture.proposals.models import Proposal, ProposalStatus


@pytest.fixture
def draft(competition, org_a):
    return factories.proposal(competition, org_a, requested=None)


def edit_payload(proposal, lines=(), milestones=(), indicators=(), **overrides):
    """A full POST body for the edit page, as the browser would send it."""
    c = proposal.competition
    cats = {b.name: b.pk for b in c.budget_categories.all()}
    data = {
        "version": proposal.version,
        "title": proposal.title,
        "category": c.categories.first().pk,
        "target_group": "外卖骑手",
        "people_to_serve": "300",
        "service_area": "示范市金水区",
        "needs": "骑手缺少法律服务",
        "objectives": "提供法律咨询",
        "activities": "讲座；个案",
        "team": "社工2名",
        "period_start": c.project_start_earliest.isoformat(),
        "period_end": (c.project_start_earliest + timedelta(days=180)).isoformat(),
        "requested_amount": "100000.00",
        "cofunding_amount": "0",
    }
    for prefix, rows in (("lines", lines), ("milestones", milestones), ("indicators", indicators)):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = cats[value] if key == "category" else value
    data.update(overrides)
    return data


GOOD_LINES = [
    {"category": "人员经费", "item": "社工补贴", "unit": "人·月", "unit_price": "3000", "quantity": "10"},  # 30,000
    {"category": "活动经费", "item": "讲座", "unit": "场", "unit_price": "2500.50", "quantity": "24"},  # 60,012
    {"category": "管理费", "item": "管理费", "unit": "项", "unit_price": "9988", "quantity": "1"},  # 9,988
]


def milestone_rows(proposal):
    start = proposal.competition.project_start_earliest
    return [{"date": (start + timedelta(days=30)).isoformat(), "title": "完成调研"}]


INDICATORS = [{"name": "服务人次", "target": "900", "unit": "人次"}]


def fill(client, proposal, lines=GOOD_LINES, **overrides):
    proposal.refresh_from_db()
    response = client.post(
        f"/proposals/{proposal.pk}/edit/",
        edit_payload(proposal, lines, milestone_rows(proposal), INDICATORS, **overrides),
    )
    proposal.refresh_from_db()
    return response


# --- Starting and saving drafts ---------------------------------------------------------------------------------


def test_applicant_starts_a_draft_from_the_call(client, applicant_a, competition, org_a):
    client.force_login(applicant_a)
    response = client.post(f"/proposals/start/{competition.pk}/", {"organization": org_a.pk, "title": "骑手法律护航"})
    proposal = Proposal.objects.get(title="骑手法律护航")
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.pk}/edit/"
    assert proposal.status == ProposalStatus.DRAFT
    assert proposal.organization == org_a


def test_cannot_start_a_draft_for_another_organization(client, applicant_a, competition, org_b):
    client.force_login(applicant_a)
    response = client.post(f"/proposals/start/{competition.pk}/", {"organization": org_b.pk, "title": "冒名项目"})
    assert response.status_code == 200
    assert not Proposal.objects.filter(title="冒名项目").exists()


def test_save_draft_computes_amounts_and_bumps_version(client, applicant_a, draft):
    client.force_login(applicant_a)
    response = fill(client, draft)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.version == 2
    amounts = list(draft.budget_lines.order_by("category__order").values_list("amount", flat=True))
    assert amounts == [Decimal("30000.00"), Decimal("60012.00"), Decimal("9988.00")]
    assert draft.requested_amount == Decimal("100000.00")
    assert AuditEvent.objects.filter(action="proposal.save_draft", object_id=str(draft.pk)).count() == 1


def test_blank_extra_rows_are_ignored(client, applicant_a, draft):
    client.force_login(applicant_a)
    blank = {"category": "人员经费", "item": "", "unit": "", "unit_price": "", "quantity": ""}
    payload = edit_payload(draft, GOOD_LINES, milestone_rows(draft), INDICATORS)
    payload.update({"lines-TOTAL_FORMS": "4", "lines-3-item": "", "lines-3-unit_price": ""})
    del blank
    response = client.post(f"/proposals/{draft.pk}/edit/", payload)
    assert response.status_code == 302
    assert draft.budget_lines.count() == 3


@pytest.mark.parametrize(
    "value, message",
    [
        ("-5", "不能为负"),
        ("abc", "请输入以元为单位的金额"),
        ("99999999999999", "金额过大"),
        ("12.345", "小数"),
    ],
)
def test_bad_amounts_are_refused_with_a_field_error_and_input_kept(client, applicant_a, draft, value, message):
    client.force_login(applicant_a)
    response = fill(client, draft, requested_amount=value, needs="我们认真写的需求分析")
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert "我们认真写的需求分析" in body  # nothing typed is lost
    draft.refresh_from_db()
    assert draft.version == 1 and draft.needs == "需求分析"


def test_bad_budget_line_price_is_a_row_error(client, applicant_a, draft):
    client.force_login(applicant_a)
    lines = [dict(GOOD_LINES[0], unit_price="-1")]
    response = fill(client, draft, lines=lines)
    assert response.status_code == 200
    assert draft.budget_lines.count() == 0


def test_html_in_text_fields_is_shown_escaped(client, applicant_a, draft):
    client.force_login(applicant_a)
    fill(client, draft, title="<script>alert(1)</script>项目")
    body = client.get(f"/proposals/{draft.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;项目" in body
    assert "<script>alert(1)</script>" not in body


def test_two_members_saving_the_same_draft(client, applicant_a, draft, org_a):
    colleague = factories.user("colleague_a", full_name="同事小王")
    org_a.memberships.create(user=colleague)
    first, second = client, client.__class__()
    first.force_login(colleague)
    second.force_login(applicant_a)
    # Both open the draft at version 1.
    payload_first = edit_payload(draft, GOOD_LINES, milestone_rows(draft), INDICATORS, needs="同事的版本")
    payload_second = edit_payload(draft, GOOD_LINES, milestone_rows(draft), INDICATORS, needs="我的版本")
    assert first.post(f"/proposals/{draft.pk}/edit/", payload_first).status_code == 302
    response = second.post(f"/proposals/{draft.pk}/edit/", payload_second)
    body = response.content.decode()
    assert response.status_code == 200
    assert "同事小王" in body  # who changed it
    assert timezone.localtime(Proposal.objects.get(pk=draft.pk).updated_at).strftime("%Y-%m-%d %H:%M") in body
    assert "我的版本" in body  # the refused input is still in the form
    draft.refresh_from_db()
    assert draft.needs == "同事的版本"
    assert draft.version == 2


# --- Submitting ---------------------------------------------------------------------------------------------------


def test_complete_proposal_is_submitted_and_becomes_read_only(
    client, applicant_a, draft, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = fill(client, draft, submit="1")
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.SUBMITTED
    assert draft.submitted_at is not None
    assert [m.to for m in mailoutbox] == [[applicant_a.email]] if applicant_a.email else True
    # the edit link now leads to the read-only page (issue #18); a post there changes nothing
    assert client.get(f"/proposals/{draft.pk}/edit/")["Location"] == f"/proposals/{draft.pk}/"
    assert fill(client, draft, title="改标题")["Location"] == f"/proposals/{draft.pk}/"
    assert draft.title != "改标题"
    assert list(draft.status_changes.values_list("status", flat=True)) == ["submitted"]


def test_status_change_mails_every_member(client, applicant_a, draft, mailoutbox, django_capture_on_commit_callbacks):
    applicant_a.email = "a@example.org"
    applicant_a.save()
    client.force_login(applicant_a)
    with django_capture_on_commit_callbacks(execute=True):
        fill(client, draft, submit="1")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["a@example.org"]
    assert "已提交" in mailoutbox[0].subject


def test_incomplete_proposal_lists_every_problem(client, applicant_a, draft):
    client.force_login(applicant_a)
    response = client.post(f"/proposals/{draft.pk}/submit/", follow=True)
    body = response.content.decode()
    for text in [
        "请至少添加一条预算明细",
        "请至少添加一个里程碑",
        "请至少添加一项可量化指标",
        "“申请资助金额”为必填项",
    ]:
        assert text in body, text
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.DRAFT


def test_budget_must_add_up_to_the_request(draft, applicant_a, client):
    client.force_login(applicant_a)
    fill(client, draft, requested_amount="120000.00")
    messages = [p.message for p in services.submission_problems(draft)]
    assert messages == ["预算明细合计 ¥100,000.00，但申请金额为 ¥120,000.00。"]


def test_request_outside_grant_limits(draft, applicant_a, client):
    client.force_login(applicant_a)
    lines = [{"category": "活动经费", "item": "讲座", "unit": "场", "unit_price": "1000", "quantity": "40"}]
    fill(client, draft, lines=lines, requested_amount="40000.00")
    messages = [p.message for p in services.submission_problems(draft)]
    assert messages == ["申请金额须在 ¥50,000.00 至 ¥150,000.00 之间。"]


def test_cap_violation_is_shown_next_to_each_line_of_the_category(client, applicant_a, draft):
    client.force_login(applicant_a)
    lines = [
        {"category": "人员经费", "item": "社工补贴", "unit": "人·月", "unit_price": "3000", "quantity": "8"},
        {"category": "人员经费", "item": "督导补贴", "unit": "人·月", "unit_price": "1000", "quantity": "10"},
        {"category": "活动经费", "item": "讲座", "unit": "场", "unit_price": "2500", "quantity": "24"},
        {"category": "管理费", "item": "管理费", "unit": "项", "unit_price": "6000", "quantity": "1"},
    ]  # 24,000 + 10,000 = 34,000 staff costs of 100,000 > 30 %
    fill(client, draft, lines=lines)
    problems = services.submission_problems(draft)
    cap = [p for p in problems if p.line is not None]
    assert [p.line for p in cap] == [0, 1]
    assert cap[0].message == "“人员经费”合计 ¥34,000.00，超过上限（预算总额的 30%，即 ¥30,000.00）。"
    page = client.get(f"/proposals/{draft.pk}/edit/").content.decode()
    assert page.count("“人员经费”合计 ¥34,000.00") == 2


def test_period_outside_the_allowed_window(client, applicant_a, draft):
    client.force_login(applicant_a)
    c = draft.competition
    fill(client, draft, period_start=(c.project_start_earliest - timedelta(days=1)).isoformat())
    messages = [p.message for p in services.submission_problems(draft)]
    assert any(m.startswith("项目周期须在") for m in messages)


def test_one_second_late_is_refused_and_the_draft_is_kept(client, applicant_a, draft):
    client.force_login(applicant_a)
    fill(client, draft)
    c = draft.competition
    c.closes_at = timezone.now() - timedelta(seconds=1)
    c.save()
    response = client.post(f"/proposals/{draft.pk}/submit/", follow=True)
    assert "截止时间" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.DRAFT
    assert draft.budget_lines.count() == 3


def test_deadline_is_exclusive_at_the_second(applicant_a, draft, client):
    client.force_login(applicant_a)
    fill(client, draft)
    closes = draft.competition.closes_at
    assert services.submission_problems(draft, at=closes - timedelta(seconds=1)) == []
    late = services.submission_problems(draft, at=closes)
    assert len(late) == 1 and "截止时间" in late[0].message


def test_unverified_organization_cannot_submit(client, competition):
    owner = factories.user("pending_owner")
    org = factories.organization(owner=owner, status="pending")
    proposal = factories.proposal(competition, org)
    client.force_login(owner)
    fill(client, proposal, submit="1")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT
    assert "须经工会工作人员审核" in [p.message for p in services.submission_problems(proposal)][0]


# --- Return, withdraw ---------------------------------------------------------------------------------------------


def submitted(client, applicant, proposal):
    client.force_login(applicant)
    fill(client, proposal, submit="1")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    return proposal


def test_staff_return_makes_it_editable_again(client, applicant_a, draft, staff):
    submitted(client, applicant_a, draft)
    client.force_login(staff)
    response = client.post(f"/proposals/{draft.pk}/return/", {"reason": "请补充预算说明"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.RETURNED
    assert draft.status_reason == "请补充预算说明"
    client.force_login(applicant_a)
    page = client.get(f"/proposals/{draft.pk}/edit/")
    assert page.status_code == 200
    assert "请补充预算说明" in page.content.decode()


def test_return_needs_a_reason_and_a_running_window(client, applicant_a, draft, staff):
    submitted(client, applicant_a, draft)
    client.force_login(staff)
    client.post(f"/proposals/{draft.pk}/return/", {"reason": ""})
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.SUBMITTED
    c = draft.competition
    c.closes_at = timezone.now() - timedelta(minutes=1)
    c.save()
    client.post(f"/proposals/{draft.pk}/return/", {"reason": "太晚了"})
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.SUBMITTED


def test_applicant_cannot_return(client, applicant_a, draft):
    submitted(client, applicant_a, draft)
    assert client.post(f"/proposals/{draft.pk}/return/", {"reason": "x"}).status_code == 404


def test_withdraw_before_screening_only(client, applicant_a, draft):
    submitted(client, applicant_a, draft)
    Proposal.objects.filter(pk=draft.pk).update(status=ProposalStatus.ELIGIBLE)
    client.post(f"/proposals/{draft.pk}/withdraw/")
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.ELIGIBLE
    Proposal.objects.filter(pk=draft.pk).update(status=ProposalStatus.SUBMITTED)
    client.post(f"/proposals/{draft.pk}/withdraw/")
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.WITHDRAWN


# --- Access ---------------------------------------------------------------------------------------------------------


def test_other_organization_sees_404(client, applicant_b, draft):
    client.force_login(applicant_b)
    for url in (f"/proposals/{draft.pk}/", f"/proposals/{draft.pk}/edit/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/proposals/{draft.pk}/submit/").status_code == 404
    assert client.post(f"/proposals/{draft.pk}/withdraw/").status_code == 404


def test_applicant_home_shows_timeline_status(client, applicant_a, draft):
    submitted(client, applicant_a, draft)
    page = client.get(f"/proposals/{draft.pk}/").content.decode()
    assert "已提交" in page


# --- Attachments ----------------------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


def test_attachment_checked_by_content(client, applicant_a, draft):
    client.force_login(applicant_a)
    ok = client.post(
        f"/proposals/{draft.pk}/attachments/",
        {"file": SimpleUploadedFile("计划书.pdf", PDF, "application/pdf"), "description": "计划书"},
    )
    assert ok.status_code == 302
    assert draft.attachments.count() == 1
    fake = client.post(
        f"/proposals/{draft.pk}/attachments/",
        {"file": SimpleUploadedFile("fake.pdf", b"MZ this is an exe", "application/pdf")},
        follow=True,
    )
    assert "的内容不是有效的 PDF 文件" in fake.content.decode()
    exe = client.post(
        f"/proposals/{draft.pk}/attachments/",
        {"file": SimpleUploadedFile("tool.exe", b"MZ\x90\x00", "application/octet-stream")},
        follow=True,
    )
    assert "不接受 .exe 类型的文件" in exe.content.decode()
    png_as_pdf = client.post(
        f"/proposals/{draft.pk}/attachments/",
        {"file": SimpleUploadedFile("photo.pdf", PNG, "application/pdf")},
        follow=True,
    )
    assert "的内容不是有效的 PDF 文件" in png_as_pdf.content.decode()
    assert draft.attachments.count() == 1


def test_attachment_over_20_mb_refused(client, applicant_a, draft):
    client.force_login(applicant_a)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (20 * 1024 * 1024), "application/pdf")
    response = client.post(f"/proposals/{draft.pk}/attachments/", {"file": big}, follow=True)
    assert "不得超过 20 MB" in response.content.decode()
    assert draft.attachments.count() == 0


def test_attachment_served_only_to_those_allowed(client, applicant_a, applicant_b, staff, draft):
    client.force_login(applicant_a)
    client.post(f"/proposals/{draft.pk}/attachments/", {"file": SimpleUploadedFile("a.pdf", PDF, "application/pdf")})
    attachment = draft.attachments.get()
    response = client.get(f"/proposals/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(applicant_b)
    assert client.get(f"/proposals/attachments/{attachment.pk}/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/proposals/attachments/{attachment.pk}/").status_code == 200


# --- Staff list -----------------------------------------------------------------------------------------------------


def test_staff_list_filters_and_sorts(client, staff, competition, org_a, org_b):
    cat1, cat2 = competition.categories.all()
    factories.proposal(
        competition, org_a, status="submitted", title="甲项目", requested=Decimal("60000"), category=cat1
    )
    factories.proposal(
        competition, org_b, status="submitted", title="乙项目", requested=Decimal("140000"), category=cat2
    )
    factories.proposal(competition, org_b, status="draft", title="乙草稿", requested=Decimal("90000"), category=cat1)
    client.force_login(staff)

    def titles(**params):
        response = client.get(f"/proposals/round/{competition.pk}/", params)
        assert response.status_code == 200
        return [p.title for p in response.context["page"]]

    assert titles(sort="-requested_amount") == ["乙项目", "乙草稿", "甲项目"]
    assert titles(category=cat1.pk, sort="title") == sorted(["甲项目", "乙草稿"])
    assert titles(status="submitted", sort="requested_amount") == ["甲项目", "乙项目"]
    assert titles(organization="乙社会", sort="title") == sorted(["乙项目", "乙草稿"])
    assert titles(min_amount="80000", max_amount="100000") == ["乙草稿"]
    assert titles(q="甲") == ["甲项目"]


def test_staff_list_is_staff_only(client, applicant_a, competition):
    client.force_login(applicant_a)
    assert client.get(f"/proposals/round/{competition.pk}/").status_code == 404


@pytest.mark.parametrize("n", [50, 5000])
def test_staff_list_page_of_50_constant_queries(client, staff, competition, org_a, n, django_assert_max_num_queries):
    cat = competition.categories.first()
    Proposal.objects.bulk_create(
        [
            Proposal(
                competition=competition,
                organization=org_a,
                category=cat,
                title=f"项目{i}",
                requested_amount=Decimal("100000"),
                status="submitted",
                submitted_at=timezone.now(),
            )
            for i in range(n)
        ]
    )
    client.force_login(staff)
    with django_assert_max_num_queries(7):
        response = client.get(f"/proposals/round/{competition.pk}/", {"page": 2})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
