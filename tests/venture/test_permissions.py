import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.utils import translation

from tests import factories
from venture import permissions
from venture.accounts.models import Role as AccountsRole
from venture.accounts.models import User
from venture.organizations.models import Organization
from venture.roles import Role


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


@pytest.mark.parametrize(
    "role, allowed", [("staff", True), ("auditor", True), ("supervisor", False), ("judge", False), ("applicant", False)]
)
def test_audit_browse_by_role(db, role, allowed):
    assert permissions.can(factories.user(f"r_{role}", role=role), "audit.browse") is allowed


def test_inactive_user_can_nothing(db):
    user = factories.user("gone", role="staff", is_active=False)
    assert permissions.can(user, "audit.browse") is False


# --- The table: one core, filled by the apps' rules.py ---------------------------------------------------------------

ACTIONS = {
    "home.applicant",
    "home.judge",
    "home.staff",
    "home.supervisor",
    "home.auditor",
    "audit.browse",
    "audit.export",
    "login.unlock",
    "account.reset_two_factor",
    "organization.create",
    "organization.view",
    "organization.edit",
    "organization.invite",
    "organization.verify",
    "organization.resubmit",
    "organization.list",
    "organization.contacts",
    "competition.manage",
    "competition.view_internal",
    "proposal.create",
    "proposal.view",
    "proposal.edit",
    "proposal.submit",
    "proposal.withdraw",
    "proposal.return",
    "proposal.list",
    "proposal.screen",
    "screening.manage",
    "judging.manage",
    "judging.monitor",
    "judge.list",
    "assignment.declare",
    "assignment.score",
    "conflict.override",
    "sheet.unlock",
    "results.view",
    "results.freeze",
    "results.sign_off",
    "awards.manage",
    "objection.handle",
    "result.view_own",
    "proposal.export",
    "scores.export",
    "rubric.print",
    "sheet.print",
    "agreement.view",
    "agreement.sign",
    "portfolio.view",
    "project.view",
    "project.manage",
    "project.supervise",
    "project.write",
    "roadshow.follow",
    "results.reveal",  # issue #17: the judges' day view, the result reveal
    "competition.copy",  # issue #18: next year's round from last year's
    "competition.guide",  # issue #18: the 申报指南 and the budget template, public once the call is
    "proposal.reuse",  # issue #18: start from one's own organization's earlier proposal
    "tasks.manage",  # issue #20: the failed background tasks and their retry
    "calendar.manage",  # issue #18: staff enter a year's statutory holidays
    "notification.inbox",  # issue #18: one's own notifications
    "notification.read",
    "notification.settings",  # issue #18: a round's WeCom group robot
    "help.chapter",  # issue #21: a chapter of the user manual
}


def test_the_apps_register_every_action_of_the_table():
    """The 48 actions the single table held before it was split into the apps' rules.py, and the resubmission of a
    rejected organization, the roadshow day's two (issue #17), issue #18's seven, the failed tasks' page (issue #20)
    and the manual's chapters (issue #21) added since: no more, no fewer."""
    assert permissions.registered_actions() == ACTIONS
    # Higher apps widen two lower apps' actions: judges cleared of conflicts read the proposal, a project's
    # supervisors read its organization's contacts.
    assert permissions.extended_actions() == {
        "proposal.view",
        "organization.contacts",
        "organization.view",
        "agreement.view",
    }


def test_an_action_registered_twice_is_a_programming_error(monkeypatch):
    monkeypatch.setattr(permissions, "_RULES", dict(permissions._RULES))
    with pytest.raises(ImproperlyConfigured, match="'audit.browse' is registered twice"):
        permissions.register("audit.browse", permissions.is_staff)


def test_an_extension_is_asked_after_the_owner_and_only_when_the_owner_says_no(monkeypatch, db):
    monkeypatch.setattr(permissions, "_RULES", dict(permissions._RULES))
    monkeypatch.setattr(permissions, "_EXTENSIONS", {})
    asked = []

    def owner(user, obj):
        asked.append("owner")
        return obj == "mine"

    def extension(user, obj):
        asked.append("extension")
        return obj == "lent"

    permissions.register("test.read", owner)
    permissions.extend("test.read", extension)
    user = factories.user("reader", role="applicant")
    assert [permissions.can(user, "test.read", obj) for obj in ("mine", "lent", "other")] == [True, True, False]
    assert asked == ["owner", "owner", "extension", "owner", "extension"]


def test_the_permission_core_knows_roles_without_the_accounts_app():
    with translation.override("en"):
        assert [(role.value, str(role.label)) for role in Role] == [
            ("applicant", "Applicant"),
            ("judge", "Judge"),
            ("staff", "Union staff"),
            ("supervisor", "Supervisor"),
            ("auditor", "Auditor"),
        ]
    assert AccountsRole is Role  # venture.accounts.models re-exports it: old imports keep working
    assert User._meta.get_field("role").choices == Role.choices
