import pytest
from django.http import Http404

from tests import factories
from venture import permissions
from venture.organizations.models import Organization


def test_other_organizations_page_is_404(client, applicant_a, org_b):
    client.force_login(applicant_a)
    assert client.get(f"/organizations/{org_b.pk}/").status_code == 404
    # ... exactly like an id that does not exist
    assert client.get("/organizations/999999/").status_code == 404


def test_own_organization_page_is_200(client, applicant_a, org_a):
    client.force_login(applicant_a)
    response = client.get(f"/organizations/{org_a.pk}/")
    assert response.status_code == 200
    assert org_a.name in response.content.decode()


def test_404_page_is_chinese(client, applicant_a, org_b):
    client.force_login(applicant_a)
    body = client.get(f"/organizations/{org_b.pk}/").content.decode()
    assert "页面不存在" in body


def test_page_without_object_answers_403_in_chinese(client, applicant_a):
    client.force_login(applicant_a)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "无权" in response.content.decode()


def test_unknown_action_is_a_programming_error(staff):
    with pytest.raises(KeyError, match="Unknown permission action"):
        permissions.can(staff, "no.such.action")


def test_get_for_hides_existence(applicant_a, org_b):
    with pytest.raises(Http404):
        permissions.get_for(applicant_a, "organization.view", Organization.objects.all(), pk=org_b.pk)


@pytest.mark.parametrize("role, allowed", [("staff", True), ("auditor", True), ("supervisor", False),
                                           ("judge", False), ("applicant", False)])
def test_audit_browse_by_role(db, role, allowed):
    assert permissions.can(factories.user(f"r_{role}", role=role), "audit.browse") is allowed


def test_inactive_user_can_nothing(db):
    user = factories.user("gone", role="staff", is_active=False)
    assert permissions.can(user, "audit.browse") is False
