import pytest
from django.core.exceptions import ValidationError

from tests import factories
from venture.audit.models import AuditEvent
from venture.proposals.models import Proposal
from venture.screening import services
from venture.screening.models import ChecklistItem, CheckResult, FinalistDecision


@pytest.fixture
def screening_round(db):
    c = factories.competition(stage="screening")
    items = [ChecklistItem.objects.create(competition=c, text=t, order=i)
             for i, t in enumerate(["登记证书有效", "材料齐全", "预算合规"])]
    props = [factories.proposal(c, factories.organization(), status="submitted", title=f"待审项目{i}")
             for i in range(4)]
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
    client.post(f"/screening/proposal/{props[1].pk}/",
                {f"pass_{items[0].pk}": "0", "decision": "ineligible", "reason": "登记证书已过期"})
    props[1].refresh_from_db()
    assert props[1].status == "ineligible"
    client.force_login(owner)
    assert "登记证书已过期" in client.get(f"/proposals/{props[1].pk}/").content.decode()


def test_bulk_decision(client, staff, screening_round):
    c, items, props = screening_round
    client.force_login(staff)
    client.post(f"/screening/round/{c.pk}/bulk/", {"decision": "eligible", "proposals": [p.pk for p in props[:3]]})
    assert sorted(Proposal.objects.filter(competition=c).values_list("status", flat=True)) == [
        "eligible", "eligible", "eligible", "submitted"]
    # Ineligible in bulk without a reason: each refused, reported.
    r = client.post(f"/screening/round/{c.pk}/bulk/", {"decision": "ineligible", "proposals": [props[3].pk]},
                    follow=True)
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
    assert list(c.checklist.values_list("text", flat=True)) == ["登记证书有效", "材料齐全", "服务对象为新就业形态劳动者"]


def test_confirm_finalists_records_the_decision(client, staff, screening_round):
    c, items, props = screening_round
    for p in props:
        Proposal.objects.filter(pk=p.pk).update(status="eligible")
    client.force_login(staff)
    client.post(f"/screening/round/{c.pk}/finalists/", {"finalists": [props[0].pk, props[2].pk], "note": "按名额"})
    statuses = dict(Proposal.objects.filter(competition=c).values_list("pk", "status"))
    assert statuses == {props[0].pk: "finalist", props[1].pk: "not_selected", props[2].pk: "finalist",
                        props[3].pk: "not_selected"}
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
    services.save_checklist(competition=c, items=[items[0], ChecklistItem(text="无违规记录", order=9)],
                            deleted=[items[1]], by=staff)
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
