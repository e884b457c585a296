import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import translation

from tests import factories
from venture.audit.models import AuditEvent
from venture.proposals.models import Proposal
from venture.screening import services
from venture.screening.models import ChecklistItem, CheckResult, FinalistDecision


@pytest.fixture
def screening_round(db):
    c = factories.competition(stage="screening")
    items = [
        ChecklistItem.objects.create(competition=c, text=t, order=i)
        for i, t in enumerate(["登记证书有效", "材料齐全", "预算合规"])
    ]
    props = [
        factories.proposal(c, factories.organization(), status="submitted", title=f"待审项目{i}") for i in range(4)
    ]
    return c, items, props


def test_record_checks_and_decide_eligible(client, staff, screening_round):
    c, items, props = screening_round
    client.force_login(staff)
    data = {f"pass_{i.pk}": "1" for i in items} | {f"note_{items[2].pk}": "管理费 8%", "decision": "eligible"}
    response = client.post(f"/screening/proposal/{props[0].pk}/", data)
    assert response.status_code == 302
    props[0].refresh_from_db()
    assert props[0].status == "eligible"
    assert CheckResult.objects.get(proposal=props[0], item=items[2]).note == "管理费 8%"
    assert AuditEvent.objects.filter(action="screening.checks").count() == 1


def test_ineligible_needs_a_reason_the_applicant_sees(client, staff, screening_round):
    c, items, props = screening_round
    owner = factories.user("owner_x")
    props[1].organization.memberships.create(user=owner, is_owner=True)
    client.force_login(staff)
    r = client.post(f"/screening/proposal/{props[1].pk}/", {f"pass_{items[0].pk}": "0", "decision": "ineligible"})
    assert r.status_code == 200
    props[1].refresh_from_db()
    assert props[1].status == "submitted"
    client.post(
        f"/screening/proposal/{props[1].pk}/",
        {f"pass_{items[0].pk}": "0", "decision": "ineligible", "reason": "登记证书已过期"},
    )
    props[1].refresh_from_db()
    assert props[1].status == "ineligible"
    client.force_login(owner)
    assert "登记证书已过期" in client.get(f"/proposals/{props[1].pk}/").content.decode()


def test_bulk_decision(client, staff, screening_round):
    c, items, props = screening_round
    for p in props[:3]:
        services.record_checks(proposal=p, results={item: (True, "") for item in items}, by=staff)
    client.force_login(staff)
    client.post(f"/screening/round/{c.pk}/bulk/", {"decision": "eligible", "proposals": [p.pk for p in props[:3]]})
    assert sorted(Proposal.objects.filter(competition=c).values_list("status", flat=True)) == [
        "eligible",
        "eligible",
        "eligible",
        "submitted",
    ]
    # Ineligible in bulk without a reason: each refused, reported.
    r = client.post(
        f"/screening/round/{c.pk}/bulk/", {"decision": "ineligible", "proposals": [props[3].pk]}, follow=True
    )
    assert props[3].title in r.content.decode()
    props[3].refresh_from_db()
    assert props[3].status == "submitted"


def test_screening_is_staff_only(client, applicant_a, screening_round):
    c, items, props = screening_round
    client.force_login(applicant_a)
    assert client.get(f"/screening/round/{c.pk}/").status_code == 404
    assert client.get(f"/screening/proposal/{props[0].pk}/").status_code == 404


def test_screening_list_constant_queries(client, staff, screening_round, django_assert_max_num_queries):
    c, items, props = screening_round
    for _ in range(30):
        factories.proposal(c, factories.organization(), status="submitted")
    client.force_login(staff)
    with django_assert_max_num_queries(8):
        assert client.get(f"/screening/round/{c.pk}/").status_code == 200


def test_checklist_is_configurable(client, staff, screening_round):
    c, items, props = screening_round
    client.force_login(staff)
    data = {"form-TOTAL_FORMS": "4", "form-INITIAL_FORMS": "3", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000"}
    for n, item in enumerate(items):
        data |= {f"form-{n}-id": item.pk, f"form-{n}-text": item.text, f"form-{n}-order": n}
    data |= {"form-2-DELETE": "on", "form-3-text": "服务对象为新就业形态劳动者", "form-3-order": "5"}
    client.post(f"/screening/round/{c.pk}/checklist/", data)
    assert list(c.checklist.values_list("text", flat=True)) == [
        "登记证书有效",
        "材料齐全",
        "服务对象为新就业形态劳动者",
    ]


def test_confirm_finalists_records_the_decision(client, staff, screening_round):
    c, items, props = screening_round
    for p in props:
        Proposal.objects.filter(pk=p.pk).update(status="eligible")
    client.force_login(staff)
    client.post(f"/screening/round/{c.pk}/finalists/", {"finalists": [props[0].pk, props[2].pk], "note": "按名额"})
    statuses = dict(Proposal.objects.filter(competition=c).values_list("pk", "status"))
    assert statuses == {
        props[0].pk: "finalist",
        props[1].pk: "not_selected",
        props[2].pk: "finalist",
        props[3].pk: "not_selected",
    }
    decision = FinalistDecision.objects.get(competition=c)
    assert decision.decided_by == staff
    assert sorted(decision.finalists.values_list("pk", flat=True)) == [props[0].pk, props[2].pk]
    assert decision.note == "按名额"
    # Changing one's mind later is a new recorded decision.
    client.post(f"/screening/round/{c.pk}/finalists/", {"finalists": [props[1].pk]})
    assert Proposal.objects.get(pk=props[1].pk).status == "finalist"
    assert Proposal.objects.get(pk=props[0].pk).status == "not_selected"
    assert FinalistDecision.objects.filter(competition=c).count() == 2


def test_save_checklist_is_one_audited_change(staff, screening_round):
    c, items, props = screening_round
    items[0].text = "登记证书在有效期内"
    services.save_checklist(
        competition=c, items=[items[0], ChecklistItem(text="无违规记录", order=9)], deleted=[items[1]], by=staff
    )
    assert list(c.checklist.values_list("text", flat=True)) == ["登记证书在有效期内", "预算合规", "无违规记录"]
    [event] = AuditEvent.objects.filter(action="screening.checklist")
    assert event.actor == staff and event.object_id == str(c.pk)
    assert event.before == {"items": ["登记证书有效", "材料齐全", "预算合规"]}
    assert event.after == {"items": ["登记证书在有效期内", "预算合规", "无违规记录"]}


def test_save_checklist_refuses_a_check_of_another_round(staff, screening_round):
    c, items, props = screening_round
    foreign = ChecklistItem.objects.create(competition=factories.competition(stage="screening"), text="外部", order=0)
    with pytest.raises(ValidationError):
        services.save_checklist(competition=c, items=[items[0]], deleted=[foreign], by=staff)
    assert ChecklistItem.objects.filter(pk=foreign.pk).exists()
    assert not AuditEvent.objects.filter(action="screening.checklist").exists()


def test_checklist_page_saves_through_the_service_once(client, staff, screening_round):
    c, items, props = screening_round
    client.force_login(staff)
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000"}
    for n, item in enumerate(items):
        data |= {f"form-{n}-id": item.pk, f"form-{n}-text": item.text, f"form-{n}-order": n}
    response = client.post(f"/screening/round/{c.pk}/checklist/", data)
    assert response.status_code == 302 and response["Location"] == f"/screening/round/{c.pk}/checklist/"
    assert AuditEvent.objects.filter(action="screening.checklist").count() == 1


# Issue #14, Found 7: a screening decision keeps its basis.


def _all_pass(proposal, items, staff, failed=()):
    services.record_checks(
        proposal=proposal,
        by=staff,
        results={item: (item not in failed, "过期" if item in failed else "") for item in items},
    )


def test_passing_with_a_failed_check_needs_a_reason(staff, screening_round):
    c, items, props = screening_round
    _all_pass(props[0], items, staff, failed=[items[0]])
    with translation.override("en"), pytest.raises(services.ReasonNeeded) as exc:
        services.decide(proposal=props[0], eligible=True, reason="  ", by=staff)
    assert exc.value.messages == ["A reason is needed because check “登记证书有效” failed."]
    props[0].refresh_from_db()
    assert props[0].status == "submitted"
    services.decide(proposal=props[0], eligible=True, reason="证书已于初审期间续期，复核原件无误", by=staff)
    props[0].refresh_from_db()
    assert props[0].status == "eligible"
    assert list(props[0].status_changes.values_list("status", "reason")) == [
        ("eligible", "证书已于初审期间续期，复核原件无误")
    ]


def test_passing_without_a_checklist_needs_a_reason(staff, screening_round):
    c, items, props = screening_round
    services.record_checks(proposal=props[1], results={items[0]: (True, "")}, by=staff)
    with pytest.raises(services.ReasonNeeded) as exc:
        services.decide(proposal=props[1], eligible=True, reason="", by=staff)
    assert exc.value.messages == ["需要说明理由，因为：检查项“材料齐全”未作答; 检查项“预算合规”未作答。"]
    bare = factories.competition(stage="screening")
    lone = factories.proposal(bare, factories.organization(), status="submitted")
    with translation.override("en"), pytest.raises(services.ReasonNeeded) as exc:
        services.decide(proposal=lone, eligible=True, reason="", by=staff)
    assert exc.value.messages == ["A reason is needed because the round has no checklist."]
    assert Proposal.objects.get(pk=lone.pk).status == "submitted"


def test_a_fully_passed_checklist_needs_no_reason(staff, screening_round):
    c, items, props = screening_round
    _all_pass(props[2], items, staff)
    assert services.reasons_needed(proposal=props[2], eligible=True) == []
    services.decide(proposal=props[2], eligible=True, reason="", by=staff)
    assert Proposal.objects.get(pk=props[2].pk).status == "eligible"


def test_overturning_a_decision_needs_a_reason_and_the_timeline_shows_both(client, staff, screening_round):
    c, items, props = screening_round
    owner = factories.user("owner_overturn", email="owner@example.org")
    props[0].organization.memberships.create(user=owner, is_owner=True)
    _all_pass(props[0], items, staff, failed=[items[0]])
    services.decide(proposal=props[0], eligible=False, reason="登记证书已过期", by=staff)
    _all_pass(props[0], items, staff)
    with translation.override("en"), pytest.raises(services.ReasonNeeded) as exc:
        services.decide(proposal=props[0], eligible=True, reason="", by=staff)
    assert exc.value.messages == [
        "A reason is needed because it overturns the earlier decision “Did not pass preliminary review” "
        "(reason: 登记证书已过期)."
    ]
    assert Proposal.objects.get(pk=props[0].pk).status == "ineligible"
    services.decide(proposal=props[0], eligible=True, reason="申诉后核实：证书已续期", by=staff)
    props[0].refresh_from_db()
    assert props[0].status == "eligible"
    assert list(props[0].status_changes.values_list("status", "reason")) == [
        ("ineligible", "登记证书已过期"),
        ("eligible", "申诉后核实：证书已续期"),
    ]
    client.force_login(owner)
    page = client.get(f"/proposals/{props[0].pk}/").content.decode()
    assert "登记证书已过期" in page and "申诉后核实：证书已续期" in page
    # The other way round too: passed, then ineligible, is an overturn with its reason.
    _all_pass(props[1], items, staff)
    services.decide(proposal=props[1], eligible=True, reason="", by=staff)
    with pytest.raises(services.ReasonNeeded):
        services.decide(proposal=props[1], eligible=False, reason="", by=staff)


def test_bulk_skips_decisions_that_need_their_own_reason_and_lists_them(
    client, staff, screening_round, django_capture_on_commit_callbacks
):
    c, items, props = screening_round
    for n, p in enumerate(props):
        p.organization.memberships.create(
            user=factories.user(f"owner_bulk{n}", email=f"bulk{n}@example.org"), is_owner=True
        )
    _all_pass(props[0], items, staff, failed=[items[0]])
    services.decide(proposal=props[0], eligible=False, reason="登记证书已过期", by=staff)
    _all_pass(props[1], items, staff, failed=[items[2]])  # a failed check
    _all_pass(props[2], items, staff)  # a clean pass
    # props[3] has no checklist answered
    mail.outbox.clear()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/screening/round/{c.pk}/bulk/", {"decision": "eligible", "proposals": [p.pk for p in props]}, follow=True
        )
    statuses = dict(Proposal.objects.filter(competition=c).values_list("title", "status"))
    assert statuses == {
        "待审项目0": "ineligible",
        "待审项目1": "submitted",
        "待审项目2": "eligible",
        "待审项目3": "submitted",
    }
    # Only the clean pass was mailed; the applicant of the rejected proposal got no 通过 mail.
    assert [m.to for m in mail.outbox] == [["bulk2@example.org"]]
    assert [str(m) for m in response.context["messages"]] == [
        "已对 1 个项目作出初审结论。",
        "跳过 3 个项目：每个都需要单独说明理由，请在该项目的初审页面填写。"
        "待审项目0: 推翻此前的决定“初审未通过”（理由：登记证书已过期）; 检查项“登记证书有效”未通过 · "
        "待审项目1: 检查项“预算合规”未通过 · "
        "待审项目3: 检查项“登记证书有效”未作答; 检查项“材料齐全”未作答; 检查项“预算合规”未作答",
    ]
    # The rejection stands: one ineligible row on the timeline, no 通过 after it.
    assert list(props[0].status_changes.values_list("status", flat=True)) == ["ineligible"]


def test_bulk_skips_overturning_a_pass(staff, screening_round):
    c, items, props = screening_round
    _all_pass(props[0], items, staff)
    services.decide(proposal=props[0], eligible=True, reason="", by=staff)
    done, skipped, failed = services.bulk_decide(proposals=[props[0]], eligible=False, reason="预算不合规", by=staff)
    assert (done, failed) == ([], [])
    assert [(p.pk, why) for p, why in skipped] == [(props[0].pk, "推翻此前的决定“初审通过”")]
    assert Proposal.objects.get(pk=props[0].pk).status == "eligible"


def test_recording_the_same_checks_again_is_not_a_change_and_leaves_no_audit(staff, screening_round):
    """Found by the lifecycle state machine (long profile): an empty or repeated check record wrote an audit event
    that recorded no change."""
    c, items, props = screening_round
    services.record_checks(proposal=props[0], results={}, by=staff)
    assert AuditEvent.objects.filter(action="screening.checks").count() == 0
    services.record_checks(proposal=props[0], results={items[0]: (True, ""), items[1]: (False, "缺年报")}, by=staff)
    services.record_checks(proposal=props[0], results={items[0]: (True, ""), items[1]: (False, "缺年报")}, by=staff)
    events = list(AuditEvent.objects.filter(action="screening.checks"))
    assert len(events) == 1
    assert events[0].before is None
    assert events[0].after == {
        "登记证书有效": {"passed": True, "note": ""},
        "材料齐全": {"passed": False, "note": "缺年报"},
    }
    services.record_checks(proposal=props[0], results={items[0]: (True, ""), items[1]: (True, "")}, by=staff)
    last = AuditEvent.objects.filter(action="screening.checks").latest("id")
    assert last.before == {"材料齐全": {"passed": False, "note": "缺年报"}}
    assert last.after == {"材料齐全": {"passed": True, "note": ""}}
    assert AuditEvent.objects.filter(action="screening.checks").count() == 2
    assert CheckResult.objects.get(proposal=props[0], item=items[1]).passed is True
