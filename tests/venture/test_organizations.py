import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from venture.audit.models import AuditEvent
from venture.organizations.models import Organization, OrgStatus


def payload(**overrides):
    data = {
        "name": "示范市新桥公益服务中心",
        "uscc": factories.valid_uscc(42),
        "org_type": "social_service",
        "registration_authority": "示范市民政局",
        "registration_date": "2019-03-01",
        "legal_representative": "周法人",
        "contact_person": "吴联系",
        "mobile": "139 1234 5678",
        "email": "xinqiao@example.org",
        "address": "示范市文化路8号",
        "service_area": "示范市二七区",
        "staff_count": "12",
        "past_projects": "2025年骑手驿站运营",
    }
    data.update(overrides)
    return data


@pytest.fixture
def applicant(db):
    return factories.user("newcomer")


def test_register_organization_makes_the_user_owner(client, applicant):
    client.force_login(applicant)
    response = client.post("/organizations/new/", payload())
    org = Organization.objects.get(name="示范市新桥公益服务中心")
    assert response.status_code == 302
    assert response["Location"] == f"/organizations/{org.pk}/"
    assert org.status == OrgStatus.PENDING
    assert org.mobile == "13912345678"
    assert org.memberships.get().user == applicant
    assert org.memberships.get().is_owner is True
    assert AuditEvent.objects.filter(action="organization.create", object_id=str(org.pk)).exists()


def test_wrong_check_digit_names_the_field(client, applicant):
    code = factories.valid_uscc(42)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    client.force_login(applicant)
    response = client.post("/organizations/new/", payload(uscc=wrong))
    assert response.status_code == 200
    assert response.context["form"].errors["uscc"] == ["该统一社会信用代码的校验位有误，请核对。"]
    assert "示范市新桥公益服务中心" in response.content.decode()  # input kept


def test_short_code_and_bad_characters(client, applicant):
    client.force_login(applicant)
    r = client.post("/organizations/new/", payload(uscc="12345"))
    assert r.context["form"].errors["uscc"] == ["统一社会信用代码应为 18 位。"]


def test_duplicate_code_refused(client, applicant, org_a):
    client.force_login(applicant)
    response = client.post("/organizations/new/", payload(uscc=org_a.uscc))
    assert response.context["form"].errors["uscc"] == ["该统一社会信用代码的机构已登记。"]
    assert Organization.objects.filter(uscc=org_a.uscc).count() == 1


@pytest.mark.parametrize("mobile", ["12345678901", "1391234567", "abc", "23912345678"])
def test_invalid_mobile(client, applicant, mobile):
    client.force_login(applicant)
    response = client.post("/organizations/new/", payload(mobile=mobile))
    assert response.context["form"].errors["mobile"] == ["请输入有效的中国大陆手机号码（以 1 开头的 11 位数字）。"]


def test_certificate_must_be_a_real_image_or_pdf(client, applicant):
    client.force_login(applicant)
    bad = SimpleUploadedFile("cert.pdf", b"<html>not a pdf</html>", "application/pdf")
    response = client.post("/organizations/new/", {**payload(), "certificate": bad})
    assert response.status_code == 200
    assert "certificate" in response.context["form"].errors


def test_staff_verify_and_reject_with_reason(client, staff, applicant_a, org_a):
    org_a.status = OrgStatus.PENDING
    org_a.save()
    client.force_login(staff)
    client.post(f"/organizations/{org_a.pk}/reject/", {"reason": ""})
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.PENDING
    client.post(f"/organizations/{org_a.pk}/reject/", {"reason": "登记证书已过期"})
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.REJECTED
    assert org_a.rejection_reason == "登记证书已过期"
    client.force_login(applicant_a)
    assert "登记证书已过期" in client.get("/").content.decode()
    # Rejected -> (edited, back to pending) -> verified: the table allows pending -> verified only.
    client.force_login(staff)
    client.post(f"/organizations/{org_a.pk}/verify/")
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.REJECTED


def test_pending_organization_verified(client, staff, org_a):
    org_a.status = OrgStatus.PENDING
    org_a.save()
    client.force_login(staff)
    client.post(f"/organizations/{org_a.pk}/verify/")
    org_a.refresh_from_db()
    assert org_a.status == OrgStatus.VERIFIED
    assert org_a.verified_at is not None


def test_applicant_cannot_verify(client, applicant_a, org_a):
    org_a.status = OrgStatus.PENDING
    org_a.save()
    client.force_login(applicant_a)
    assert client.post(f"/organizations/{org_a.pk}/verify/").status_code == 404


def test_owner_invites_a_colleague_who_joins(client, applicant_a, org_a, mailoutbox):
    client.force_login(applicant_a)
    client.post(f"/organizations/{org_a.pk}/invite/", {"email": "colleague@example.org"})
    assert len(mailoutbox) == 1
    invitation = org_a.invitations.get()
    assert invitation.token in mailoutbox[0].body
    colleague = factories.user("colleague")
    client.force_login(colleague)
    response = client.post(f"/organizations/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert org_a.memberships.filter(user=colleague, is_owner=False).exists()
    # The link works once.
    assert client.post(f"/organizations/invitations/{invitation.token}/").status_code == 404


def test_non_owner_member_cannot_invite(client, org_a):
    member = factories.user("plain_member")
    org_a.memberships.create(user=member)
    client.force_login(member)
    assert client.post(f"/organizations/{org_a.pk}/invite/", {"email": "x@example.org"}).status_code == 404


def test_staff_list_of_organizations(client, staff, org_a, org_b, django_assert_max_num_queries):
    client.force_login(staff)
    with django_assert_max_num_queries(6):
        response = client.get("/organizations/", {"q": "甲"})
    assert [o.name for o in response.context["page"]] == ["甲公益服务中心"]
