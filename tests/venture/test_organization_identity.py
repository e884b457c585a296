"""An organization's identity is what staff verified (issue #14, Found 4 and 5): changing it sends a verified
organization back to 待审核 and tells staff; documents issued keep the identity they were issued with; a rejected
organization can correct itself and resubmit; verification and rejection are mailed."""

import datetime
import io

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import factories
from tests.builders import build_round
from venture.audit.models import AuditEvent
from venture.awards import services as awards
from venture.awards.models import Award, GrantAgreement, PublicNotice
from venture.organizations import services
from venture.organizations.models import Organization, OrgStatus
from venture.proposals.services import submission_problems
from venture.supervision import services as supervision

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WAITS = "申报单位须经工会工作人员审核通过后方可提交。"


def form_data(org, **overrides):
    data = {
        "name": org.name,
        "uscc": org.uscc,
        "org_type": org.org_type,
        "registration_authority": org.registration_authority,
        "registration_date": org.registration_date.isoformat(),
        "legal_representative": org.legal_representative,
        "contact_person": org.contact_person,
        "mobile": org.mobile,
        "email": org.email,
        "address": org.address,
        "service_area": org.service_area,
        "staff_count": org.staff_count,
        "past_projects": org.past_projects,
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff_with_mail(db):
    return factories.user("staff_mail", role="staff", email="staff@example.org")


IDENTITY_CHANGES = {
    "name": {"name": "甲公益服务中心（更名）"},
    "uscc": {"uscc": factories.valid_uscc(4242)},
    "org_type": {"org_type": "foundation"},
    "legal_representative": {"legal_representative": "赵新法人"},
    "registration_authority": {"registration_authority": "示范省民政厅"},
    "registration_date": {"registration_date": "2020-01-02"},
    "certificate": {"certificate": lambda: SimpleUploadedFile("cert.pdf", PDF, "application/pdf")},
}


@pytest.mark.parametrize("field", list(IDENTITY_CHANGES))
def test_changing_the_identity_of_a_verified_organization_sends_it_back_to_verification(
    client, org_a, applicant_a, staff_with_mail, competition, field, mailoutbox, django_capture_on_commit_callbacks
):
    """Found 4: a verified organization changed its name, legal representative or code and stayed verified."""
    change = {k: v() if callable(v) else v for k, v in IDENTITY_CHANGES[field].items()}
    draft = factories.proposal(competition, org_a)
    factories.budget(draft, [("活动经费", 1000, 100)])
    client.force_login(applicant_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/organizations/{org_a.pk}/edit/", form_data(org_a, **change), follow=True)
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.PENDING
    assert org_a.verified_at is None
    assert "由于机构身份信息已变更，机构已退回审核" in response.content.decode()
    event = AuditEvent.objects.get(action="organization.pending", object_id=str(org_a.pk))
    assert event.after["identity_changed"] == [field]
    assert event.actor == applicant_a
    assert [m.to for m in mailoutbox] == [["staff@example.org"]]
    assert org_a.name in mailoutbox[0].subject
    assert f"/organizations/{org_a.pk}/" in mailoutbox[0].body
    # Proposals in progress wait for the new verification; the staff dashboard counts it.
    assert WAITS in [p.message for p in submission_problems(draft)]
    client.force_login(staff_with_mail)
    assert client.get("/").context["pending_organizations"] == 1
    assert [o.pk for o in client.get("/organizations/", {"status": "pending"}).context["page"]] == [org_a.pk]


def test_other_fields_keep_the_organization_verified(
    client, org_a, applicant_a, staff_with_mail, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/organizations/{org_a.pk}/edit/",
            form_data(org_a, mobile="13900001111", address="新地址9号", staff_count=20),
        )
    org_a.refresh_from_db()
    assert (org_a.status, org_a.mobile, org_a.address) == (OrgStatus.VERIFIED, "13900001111", "新地址9号")
    assert mailoutbox == []
    event = AuditEvent.objects.get(action="organization.update")
    assert (event.before["address"], event.after["address"]) == ("示范市建设路1号", "新地址9号")
    assert event.after["identity_changed"] == []


def test_the_edit_form_says_what_an_identity_change_does_in_both_languages(client, org_a, applicant_a):
    client.force_login(applicant_a)
    page = client.get(f"/organizations/{org_a.pk}/edit/").content.decode()
    assert (
        "该机构已通过审核。修改其身份信息（名称、统一社会信用代码、机构类型、法定代表人、登记管理机关、登记日期、登记证书）"
        in page
    )
    client.cookies["django_language"] = "en"
    page = client.get(f"/organizations/{org_a.pk}/edit/").content.decode()
    assert "The organization is verified. Changing its identity (name, unified social credit code" in page


def pdf_text(response):
    assert response.status_code == 200
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.django_db
def test_a_signed_agreement_and_the_notice_keep_the_identity_they_were_issued_with(client):
    """Found 4: after a rename the signed agreement, the notice and its PDF showed the new identity."""
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 20))
    award = Award.objects.select_related("agreement", "proposal__organization").get(proposal=props[0])
    org = award.proposal.organization
    old_name, old_uscc, old_rep = org.name, org.uscc, org.legal_representative
    supervision.sign_agreement(agreement=award.agreement, signed_on=props[0].period_start, by=staff)
    owner = org.memberships.get().user
    new_uscc = factories.valid_uscc(777)
    services.update_organization(
        organization=org, by=owner, data={"name": "改名后的机构", "uscc": new_uscc, "legal_representative": "新法人"}
    )
    org.refresh_from_db()
    assert (org.name, org.status) == ("改名后的机构", OrgStatus.PENDING)
    client.force_login(staff)
    text = pdf_text(client.get(f"/documents/awards/{award.pk}/agreement.pdf"))
    for expected in (old_name, old_uscc, old_rep):
        assert expected in text, expected
    for changed in ("改名后的机构", new_uscc, "新法人"):
        assert changed not in text, changed
    notice = client.get(f"/results/notice/{c.pk}/").content.decode()
    assert old_name in notice and "改名后的机构" not in notice
    text = pdf_text(client.get(f"/documents/notice/{c.pk}/notice.pdf"))
    assert old_name in text and "改名后的机构" not in text


@pytest.mark.django_db
def test_an_agreement_is_not_signed_while_the_identity_waits_for_verification():
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 20))
    agreement = Award.objects.get(proposal=props[0]).agreement
    org = props[0].organization
    services.update_organization(organization=org, by=org.memberships.get().user, data={"name": "新名称"})
    with pytest.raises(Exception) as exc:
        supervision.sign_agreement(agreement=agreement, signed_on=props[0].period_start, by=staff)
    assert exc.value.messages == ["该机构的身份信息已变更，正在等待审核；请在工会工作人员重新审核通过后再签署协议。"]
    assert agreement.party["name"] == props[0].organization.name


def test_a_rejected_organization_corrects_itself_and_resubmits(
    client, org_a, applicant_a, staff_with_mail, mailoutbox, django_capture_on_commit_callbacks
):
    """Found 5: after a rejection, re-uploading the certificate left it 未通过 for ever, out of the 待审核 filter,
    and staff's verify button failed."""
    Organization.objects.filter(pk=org_a.pk).update(status=OrgStatus.PENDING)
    applicant_a.email = "owner_a@example.org"
    applicant_a.save()
    client.force_login(staff_with_mail)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/organizations/{org_a.pk}/reject/", {"reason": "登记证书已过期"})
    assert [(m.to, m.subject) for m in mailoutbox] == [(["owner_a@example.org"], "甲公益服务中心未通过审核")]
    assert "登记证书已过期" in mailoutbox[0].body
    page = client.get(f"/organizations/{org_a.pk}/").content.decode()
    assert f'action="/organizations/{org_a.pk}/verify/"' not in page  # no button that can only fail
    assert "该机构可以更正信息后重新提交" in page
    # The applicant uploads a new certificate and resubmits in one go.
    client.force_login(applicant_a)
    page = client.get(f"/organizations/{org_a.pk}/").content.decode()
    assert f'action="/organizations/{org_a.pk}/resubmit/"' in page
    org_a.refresh_from_db()
    certificate = SimpleUploadedFile("new-cert.pdf", PDF, "application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/organizations/{org_a.pk}/edit/", {**form_data(org_a), "certificate": certificate, "resubmit": "1"}
        )
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.PENDING
    assert org_a.certificate.name.endswith(".pdf")
    assert org_a.rejection_reason == ""
    event = AuditEvent.objects.get(action="organization.resubmit")
    assert (event.before, event.after["rejected_for"]) == ({"status": "rejected"}, "登记证书已过期")
    assert [m.to for m in mailoutbox[1:]] == [["staff@example.org"]]
    # Back in the 待审核 filter, and staff's verify works.
    client.force_login(staff_with_mail)
    assert [o.pk for o in client.get("/organizations/", {"status": "pending"}).context["page"]] == [org_a.pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/organizations/{org_a.pk}/verify/", follow=True)
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.VERIFIED
    assert [str(m) for m in response.context["messages"]] == ["机构已审核通过。"]
    assert [(m.to, m.subject) for m in mailoutbox[2:]] == [(["owner_a@example.org"], "甲公益服务中心已通过审核")]


def test_resubmit_from_the_detail_page_and_only_when_rejected(client, org_a, applicant_a, applicant_b):
    url = f"/organizations/{org_a.pk}/resubmit/"
    client.force_login(applicant_a)
    response = client.post(url, follow=True)  # verified: nothing to resubmit
    assert [str(m) for m in response.context["messages"]] == ["只有未通过审核的机构才能重新提交审核。"]
    Organization.objects.filter(pk=org_a.pk).update(status=OrgStatus.PENDING)
    services.reject_organization(organization=org_a, by=factories.user("s", role="staff"), reason="缺少证书")
    client.force_login(applicant_b)
    assert client.post(url).status_code == 404  # not theirs
    client.force_login(applicant_a)
    client.post(url)
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.PENDING
    client.cookies["django_language"] = "en"
    page = client.get(f"/organizations/{org_a.pk}/").content.decode()
    assert "Waiting for verification by union staff." in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_agreements_and_notices_issued_before_it_their_identity():
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 20))
    executor = MigrationExecutor(connection)
    executor.migrate([("awards", "0001_initial")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    org_a, org_b = props[0].organization, props[1].organization
    agreement = GrantAgreement.objects.get(award__proposal=props[0])
    assert agreement.party == services.identity(org_a)
    assert agreement.party["name"] == org_a.name
    assert PublicNotice.objects.get(competition=c).identities == {
        str(org_a.pk): services.identity(org_a),
        str(org_b.pk): services.identity(org_b),
    }


@pytest.mark.django_db
def test_saving_the_profile_without_a_change_is_not_audited_and_keeps_the_verification():
    """A save that changes nothing wrote an 'organization.update' audit event (known gap from #14)."""
    org = factories.organization()
    owner = factories.user("no_change_owner")
    org.memberships.create(user=owner, is_owner=True)
    org.status = OrgStatus.VERIFIED
    org.save()
    updated_at = Organization.objects.get(pk=org.pk).updated_at
    services.update_organization(organization=org, by=owner, data={"name": org.name, "mobile": org.mobile})
    assert AuditEvent.objects.filter(action="organization.update").count() == 0
    stored = Organization.objects.get(pk=org.pk)
    assert (stored.status, stored.updated_at) == (OrgStatus.VERIFIED, updated_at)
    services.update_organization(organization=org, by=owner, data={"service_area": "浦东新区"})
    event = AuditEvent.objects.get(action="organization.update")
    assert (event.before["service_area"], event.after["service_area"]) == (org.service_area, "浦东新区")
    assert event.after["identity_changed"] == []
    assert Organization.objects.get(pk=org.pk).status == OrgStatus.VERIFIED
