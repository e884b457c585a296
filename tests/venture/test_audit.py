from decimal import Decimal

from venture.audit.models import AuditEvent
from venture.audit.services import record


def test_record_stores_who_what_before_after(staff, org_a):
    event = record(
        actor=staff,
        action="organization.verify",
        obj=org_a,
        before={"status": "pending"},
        after={"status": "verified", "amount": Decimal("1.50")},
    )
    event.refresh_from_db()
    assert event.actor == staff
    assert event.actor_label == "staff1"
    assert event.object_type == "organizations.organization"
    assert event.object_id == str(org_a.pk)
    assert event.object_repr == org_a.name
    assert event.before == {"status": "pending"}
    assert event.after == {"status": "verified", "amount": "1.50"}


def test_staff_and_auditor_browse_and_filter(client, staff, auditor, org_a):
    record(actor=staff, action="organization.verify", obj=org_a)
    record(actor=staff, action="competition.stage", obj=None, object_type="competitions.competition")
    for user in (staff, auditor):
        client.force_login(user)
        response = client.get("/audit/", {"action": "verify"})
        assert response.status_code == 200
        page = response.context["page"]
        assert [e.action for e in page] == ["organization.verify"]


def test_audit_list_constant_queries(client, staff, org_a, django_assert_max_num_queries):
    for i in range(60):
        record(actor=staff, action=f"x.{i}", obj=org_a)
    client.force_login(staff)
    with django_assert_max_num_queries(8):
        response = client.get("/audit/")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    assert AuditEvent.objects.count() == 60
