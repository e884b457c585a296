"""Awards within the pool, the public notice with working days, objections, finality and agreements."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests import factories
from tests.builders import build_round
from venture.audit.models import AuditEvent
from venture.awards import services
from venture.awards.models import Award, AwardGrade, GrantAgreement, Objection, PublicNotice
from venture.awards.workdays import add_working_days
from venture.proposals.models import Proposal

# --- Working days ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, n, end",
    [
        (datetime.date(2025, 9, 29), 5, datetime.date(2025, 10, 11)),  # National Day 2025; Sat 10-11 is a workday
        (
            datetime.date(2026, 2, 12),
            5,
            datetime.date(2026, 2, 25),
        ),  # Spring Festival 2026: 2-14 Sat workday, 15-23 off
        (
            datetime.date(2025, 1, 24),
            5,
            datetime.date(2025, 2, 6),
        ),  # Spring Festival 2025: 1-26 Sun workday, 1-28..2-4 off
        (datetime.date(2026, 6, 1), 5, datetime.date(2026, 6, 5)),  # an ordinary week
    ],
)
def test_working_days_by_the_statutory_calendar(start, n, end):
    assert add_working_days(start, n) == (end, True)


@pytest.mark.django_db  # an unknown year is looked up in the schedules staff entered (issue #18)
def test_year_outside_the_calendar_counts_monday_to_friday_and_says_so():
    end, covered = add_working_days(datetime.date(2031, 10, 1), 5)  # Wednesday
    assert (end, covered) == (datetime.date(2031, 10, 7), False)


# --- A frozen, signed-off round -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_propose_awards_stop_rule_within_pool():
    c, staff, auditor, props = build_round()
    awards = services.propose_awards(competition=c, by=staff)
    assert [(a.proposal.title, a.amount) for a in awards] == [
        ("项目甲", Decimal("100000")),
        ("项目乙", Decimal("90000")),
    ]
    assert services.committed(c) == Decimal("190000.00")


@pytest.mark.django_db
def test_propose_awards_skip_rule():
    c, staff, auditor, props = build_round(rule="skip")
    awards = services.propose_awards(competition=c, by=staff)
    assert [a.proposal.title for a in awards] == ["项目甲", "项目乙", "项目丁"]
    assert services.committed(c) == Decimal("250000.00")


@pytest.mark.django_db
def test_awards_need_sign_off():
    c = factories.competition(stage="results")
    staff = factories.user("s2", role="staff")
    with pytest.raises(ValidationError, match="签批"):
        services.propose_awards(competition=c, by=staff)


@pytest.mark.django_db
def test_award_never_above_request_max_or_pool():
    c, staff, auditor, props = build_round()
    a, b = services.propose_awards(competition=c, by=staff)
    with pytest.raises(ValidationError):
        services.set_award(award=b, amount=Decimal("95000"), grade=None, by=staff)  # request is 90,000
    with pytest.raises(ValidationError):
        services.add_award(competition=c, proposal=props[2], amount=Decimal("80000"), by=staff)  # pool 250k - 190k
    services.add_award(competition=c, proposal=props[2], amount=Decimal("60000"), by=staff)
    assert services.committed(c) == Decimal("250000.00")


@pytest.mark.django_db(transaction=True)
def test_two_staff_awarding_at_once_cannot_exceed_the_pool():
    c, staff, auditor, props = build_round()
    services.propose_awards(competition=c, by=staff)  # 190,000 of 250,000 committed; 60,000 left
    other = factories.user("staff_other", role="staff")
    errors, barrier = [], threading.Barrier(2)

    def award(proposal, by):
        barrier.wait()
        try:
            services.add_award(competition=c, proposal=proposal, amount=Decimal("50000"), by=by)
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=award, args=(props[2], staff)),
        threading.Thread(target=award, args=(props[3], other)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1
    assert services.committed(c) == Decimal("240000.00")
    assert Award.objects.filter(competition=c).count() == 3


@pytest.mark.django_db
def test_grades_spread_over_the_funded_list():
    c, staff, auditor, props = build_round(pool="400000", rule="skip")
    for i, name in enumerate(["一等奖", "二等奖"]):
        AwardGrade.objects.create(competition=c, name=name, order=i)
    awards = services.propose_awards(competition=c, by=staff)
    assert [a.grade.name for a in awards] == ["一等奖", "一等奖", "二等奖", "二等奖"]


# --- Notice, objections, finality --------------------------------------------------------------------------------------


@pytest.fixture
def noticed(db):
    c, staff, auditor, props = build_round()
    services.propose_awards(competition=c, by=staff)
    notice = services.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    return c, staff, props, notice


def test_publish_counts_working_days(noticed):
    c, staff, props, notice = noticed
    assert (notice.starts_on, notice.ends_on, notice.calendar_covered) == (
        datetime.date(2025, 9, 29),
        datetime.date(2025, 10, 11),
        True,
    )
    c.refresh_from_db()
    assert c.stage == "notice"


def test_publishing_twice_is_refused_not_a_crash(noticed):
    """Found by the lifecycle state machine: a second publish hit the one-notice-per-round constraint (a 500)."""
    c, staff, props, notice = noticed
    with pytest.raises(ValidationError) as exc:
        services.publish_notice(competition=c, by=staff)
    assert exc.value.messages == [
        "公示已发布，公示不能再修改。如需修改，请填写原因后重新开启公示：修改后将作为新版本重新发布，公示期重新计算。"
    ]
    assert list(PublicNotice.objects.filter(competition=c).values_list("pk", flat=True)) == [notice.pk]
    assert AuditEvent.objects.filter(action="notice.publish").count() == 1


def test_public_notice_page_without_login(client, noticed):
    c, staff, props, notice = noticed
    body = client.get(f"/results/notice/{c.pk}/").content.decode()
    for text in ["项目甲", "项目乙", "¥100,000.00", "¥90,000.00", "¥190,000.00", "aw0"]:
        assert text in body, text
    assert "项目丁" not in body


def objection_post(award, **extra):
    return {
        "award": award.pk if award else "",
        "name": "王师傅",
        "contact": "13800000000",
        "text": "该机构在本地没有实际服务经历。",
        "website": "",
        **extra,
    }


def test_objection_form_honeypot_and_rate_limit(client, noticed, monkeypatch):
    c, staff, props, notice = noticed
    monkeypatch.setattr(services, "notice_open", lambda n, today=None: True)
    award = Award.objects.get(proposal=props[1])
    r = client.post(f"/results/notice/{c.pk}/objection/", objection_post(award, website="http://spam"))
    assert r.status_code == 302
    assert Objection.objects.count() == 0  # the honeypot stores nothing
    for _ in range(3):
        client.post(f"/results/notice/{c.pk}/objection/", objection_post(award))
    assert Objection.objects.count() == 3
    r = client.post(f"/results/notice/{c.pk}/objection/", objection_post(award))
    assert r.status_code == 200
    assert "过于频繁" in r.content.decode()
    assert Objection.objects.count() == 3


def test_objection_refused_after_the_period(client, noticed):
    c, staff, props, notice = noticed  # 2025-09-29 .. 2025-10-11, long past
    r = client.post(f"/results/notice/{c.pk}/objection/", objection_post(None), follow=True)
    assert "公示期已结束" in r.content.decode()
    assert Objection.objects.count() == 0


def test_objection_upheld_offers_the_next_in_rank(noticed):
    c, staff, props, notice = noticed
    award = Award.objects.get(proposal=props[0])
    objection = services.submit_objection(
        notice=notice,
        name="李",
        contact="li@example.org",
        text="材料造假",
        award=award,
        ip="10.0.0.1",
        today=datetime.date(2025, 10, 1),
    )
    handled, offered = services.handle_objection(
        objection=objection, upheld=True, outcome="经核实，该机构申报材料不实，取消资助。", by=staff
    )
    award.refresh_from_db()
    assert award.status == "cancelled"
    assert offered.proposal == props[2]  # 项目丙, 80,000 fits the 160,000 left
    assert offered.amount == Decimal("80000.00")
    assert services.committed(c) == Decimal("170000.00")
    assert AuditEvent.objects.filter(action="award.offer_next").count() == 1


def test_dismissed_objection_published_and_close_makes_awards_final(client, noticed):
    c, staff, props, notice = noticed
    award = Award.objects.get(proposal=props[1])
    objection = services.submit_objection(
        notice=notice,
        name="张",
        contact="zh@example.org",
        text="评分不公",
        award=award,
        ip="10.0.0.2",
        today=datetime.date(2025, 10, 9),
    )
    with pytest.raises(ValidationError):
        services.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 13))  # objection pending
    services.handle_objection(objection=objection, upheld=False, outcome="经复核，评分程序合规，不予支持。", by=staff)
    with pytest.raises(ValidationError):
        services.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 11))  # still running
    agreements = services.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    assert [a.amount for a in agreements] == [Decimal("100000.00"), Decimal("90000.00")]
    first = agreements[0]
    assert first.amount_in_words == "壹拾万元整"
    assert [t["amount"] for t in first.tranches] == ["50000.00", "30000.00", "20000.00"]
    assert GrantAgreement.objects.get(award__proposal=props[1]).amount_in_words == "玖万元整"
    statuses = dict(Proposal.objects.filter(competition=c).values_list("title", "status"))
    assert statuses == {"项目甲": "awarded", "项目乙": "awarded", "项目丙": "not_funded", "项目丁": "not_funded"}
    body = client.get(f"/results/notice/{c.pk}/").content.decode()
    assert "经复核，评分程序合规，不予支持。" in body
    assert "zh@example.org" not in body  # objector's contact is not public


def test_applicant_sees_own_result_and_comments_without_judge_names(client, noticed):
    c, staff, props, notice = noticed
    owner = props[0].organization.memberships.get().user
    client.force_login(owner)
    body = client.get(f"/results/result/{props[0].pk}/").content.decode()
    assert "¥100,000.00" in body
    assert "说明" in body  # the panel's comment
    assert "aw0" not in body and "aw1" not in body  # no judge names
    other = props[1].organization.memberships.get().user
    client.force_login(other)
    assert client.get(f"/results/result/{props[0].pk}/").status_code == 404


def test_awards_page_is_staff_only(client, noticed, applicant_a):
    c, staff, props, notice = noticed
    client.force_login(applicant_a)
    assert client.get(f"/results/round/{c.pk}/awards/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/results/round/{c.pk}/awards/").status_code == 200


def test_no_notice_means_no_public_page(client, db):
    c = factories.competition()
    assert client.get(f"/results/notice/{c.pk}/").status_code == 404
    assert PublicNotice.objects.count() == 0


def test_grades_are_set_on_the_awards_page(client, db):
    c, staff, auditor, props = build_round()
    client.force_login(staff)
    client.post(f"/results/round/{c.pk}/awards/grades/", {"grades": "一等资助\n二等资助\n"})
    assert list(c.grades.values_list("name", flat=True)) == ["一等资助", "二等资助"]
    client.post(f"/results/round/{c.pk}/awards/grades/", {"grades": "甲等\n甲等"})
    assert list(c.grades.values_list("name", flat=True)) == ["一等资助", "二等资助"]
    assert AuditEvent.objects.filter(action="awards.grades").count() == 1
