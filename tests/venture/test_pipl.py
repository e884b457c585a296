"""Personal information (PIPL, minimum necessity): an organization's contact person, mobile, e-mail and address are
shown to union staff, auditors, the organization's own members and the supervisors of its funded projects — not to
judges, and not to supervisors of other organizations' projects."""

import io

import pypdf
import pytest

from tests import factories
from tests.builders import funded_project
from venture import permissions

CONTACTS = ["13800138000", "示范市建设路1号"]  # the factory organization's mobile and address


def _pdf_text(response):
    assert response.status_code == 200, response.status_code
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.django_db
def test_a_judge_sees_neither_contacts_nor_address_in_the_application_book(client):
    c = factories.competition(stage="final")
    (proposal,) = factories.finalists(c, 1)
    judge = factories.judge("pipl_judge")
    factories.final_panel(c, [judge], [proposal])
    client.force_login(judge.user)
    body = _pdf_text(client.get(f"/documents/proposals/{proposal.pk}/application.pdf"))
    assert proposal.organization.name in body and "王法人" in body  # who runs it still shows, for recusal
    for value in CONTACTS + [proposal.organization.email]:
        assert value not in body, value


@pytest.mark.django_db
def test_organization_contacts_only_for_those_who_need_them(client, staff, auditor, supervisor):
    project, _staff = funded_project()
    org = project.organization
    other_org = factories.organization(name="未获资助的社会组织")
    member = org.memberships.get().user
    judge = factories.judge("pipl_judge2").user
    assigned = factories.user("pipl_supervisor", role="supervisor")
    project.supervisors.add(assigned)

    expected = {staff: True, auditor: True, member: True, assigned: True, supervisor: False, judge: False}
    assert {u: permissions.can(u, "organization.contacts", org) for u in expected} == expected
    assert not permissions.can(assigned, "organization.contacts", other_org)

    for user, sees in [(staff, True), (assigned, True)]:
        client.force_login(user)
        page = client.get(f"/organizations/{org.pk}/").content.decode()
        assert org.name in page
        assert all((value in page) == sees for value in CONTACTS + [org.email]), user.username
    # A supervisor sees only the organizations behind their own projects (issue #16): the others answer 404.
    client.force_login(supervisor)
    assert client.get(f"/organizations/{org.pk}/").status_code == 404
    client.force_login(assigned)
    assert client.get(f"/organizations/{other_org.pk}/").status_code == 404
