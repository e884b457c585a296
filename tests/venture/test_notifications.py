"""Notifications: every event an outside party cares about, through each of its channels (inbox row with its exact
message and link, e-mail subject and recipients, the WeCom group robot's JSON posted to a local HTTP server), the
inbox pages, the bell, the round's robot setting and the daily reminder command."""

import datetime
import io
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from judging import services as judging
from tests import builders, factories
from venture.audit.models import AuditEvent
from venture.awards import services as awards
from venture.awards.models import Award
from venture.notifications import services
from venture.notifications.models import Delivery, DeliveryStatus, Notification, RoundNotifications, SentReminder
from venture.organizations import services as organizations
from venture.organizations.models import OrgStatus
from venture.proposals import services as proposals
from venture.screening import services as screening
from venture.supervision import services as supervision
from venture.supervision.models import ProgressReport, ReportStatus

SITE = "https://venture.example"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


class _Robot(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.received.append({"path": self.path, "type": self.headers["Content-Type"], "json": body})
        answer = self.server.answers.pop(0) if self.server.answers else {"errcode": 0, "errmsg": "ok"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    """A stand-in for qyapi.weixin.qq.com: records each POST and answers as WeCom does (errcode 0), or with the
    answers queued in ``robot.answers``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Robot)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test-key"
    yield server
    server.shutdown()
    server.server_close()


def hook(competition, robot):
    """The round posts to the local robot (set directly: the form accepts https only; see the settings tests)."""
    RoundNotifications.objects.update_or_create(competition=competition, defaults={"webhook_url": robot.url})


def inbox(user):
    return [(n.event, n.title, n.body, n.link) for n in Notification.objects.filter(user=user).order_by("id")]


def markdown(robot):
    assert all(r["path"] == "/cgi-bin/webhook/send?key=test-key" for r in robot.received)
    assert all(r["type"] == "application/json; charset=utf-8" for r in robot.received)
    assert all(r["json"]["msgtype"] == "markdown" for r in robot.received)
    return [r["json"]["markdown"]["content"] for r in robot.received]


def mails(outbox):
    return [(m.subject, m.to) for m in outbox]


# --- Organizations: verified, rejected (with the reason), back to verification ----------------------------------------


@pytest.fixture
def pending_org(db):
    owner = factories.user("owner_p", email="owner_p@example.org")
    return factories.organization(name="丙公益服务中心", owner=owner, status=OrgStatus.PENDING), owner


def test_organization_verified_inbox_and_mail(pending_org, staff, mailoutbox, django_capture_on_commit_callbacks):
    org, owner = pending_org
    with django_capture_on_commit_callbacks(execute=True):
        organizations.verify_organization(organization=org, by=staff)
    body = f"工会工作人员已在公益创投平台审核通过丙公益服务中心，现在可以提交申报书。\n{SITE}/organizations/{org.pk}/"
    assert inbox(owner) == [("organization.verified", "丙公益服务中心已通过审核", body, f"/organizations/{org.pk}/")]
    assert mails(mailoutbox) == [("丙公益服务中心已通过审核", ["owner_p@example.org"])]
    assert mailoutbox[0].body == body
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_organization_rejected_with_the_reason(pending_org, staff, mailoutbox, django_capture_on_commit_callbacks):
    org, owner = pending_org
    with django_capture_on_commit_callbacks(execute=True):
        organizations.reject_organization(organization=org, by=staff, reason="登记证书已过期")
    body = (
        "工会工作人员未能在公益创投平台审核通过丙公益服务中心。\n\n原因：登记证书已过期\n\n"
        f"请更正机构信息或重新上传登记证书，然后重新提交审核：\n{SITE}/organizations/{org.pk}/"
    )
    assert inbox(owner) == [("organization.rejected", "丙公益服务中心未通过审核", body, f"/organizations/{org.pk}/")]
    assert mails(mailoutbox) == [("丙公益服务中心未通过审核", ["owner_p@example.org"])]
    assert mailoutbox[0].body == body


def test_resubmitted_organization_tells_staff(pending_org, mailoutbox, django_capture_on_commit_callbacks):
    org, owner = pending_org
    staff = factories.user("staff_mail", role="staff", email="staff@example.org")
    organizations.reject_organization(organization=org, by=staff, reason="证书模糊")  # no commit: no message
    with django_capture_on_commit_callbacks(execute=True):
        organizations.resubmit_organization(organization=org, by=owner)
    body = (
        "丙公益服务中心再次等待审核：未通过审核后已更正并重新提交（当时的原因：证书模糊）\n\n"
        f"请在此审核：{SITE}/organizations/{org.pk}/"
    )
    assert inbox(staff) == [("organization.resubmit", "待审核机构：丙公益服务中心", body, f"/organizations/{org.pk}/")]
    assert mails(mailoutbox) == [("待审核机构：丙公益服务中心", ["staff@example.org"])]
    assert inbox(owner) == []


def test_identity_change_sends_the_organization_back_and_tells_staff(
    member, mailoutbox, django_capture_on_commit_callbacks
):
    org, owner = member
    staff = factories.user("staff_id", role="staff", email="staff_id@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        organizations.update_organization(organization=org, by=owner, data={"legal_representative": "赵新"})
    body = f"丁社工中心再次等待审核：其身份信息已变更（法定代表人）\n\n请在此审核：{SITE}/organizations/{org.pk}/"
    assert inbox(staff) == [("organization.pending", "待审核机构：丁社工中心", body, f"/organizations/{org.pk}/")]
    assert mails(mailoutbox) == [("待审核机构：丁社工中心", ["staff_id@example.org"])]
    assert mailoutbox[0].body == body


def test_nothing_is_sent_when_the_change_rolls_back(pending_org, staff, mailoutbox, django_capture_on_commit_callbacks):
    org, owner = pending_org
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            organizations.verify_organization(organization=org, by=staff)
            transaction.set_rollback(True)
    assert (Notification.objects.count(), mailoutbox) == (0, [])


# --- Proposals: returned, screening result, finalist ------------------------------------------------------------------


@pytest.fixture
def member(db):
    owner = factories.user("member_a", email="member_a@example.org")
    return factories.organization(name="丁社工中心", owner=owner), owner


def test_proposal_returned_with_the_reason(member, staff, mailoutbox, django_capture_on_commit_callbacks):
    org, owner = member
    p = factories.proposal(factories.competition(title="2027创投"), org, status="submitted", title="骑手驿站")
    with django_capture_on_commit_callbacks(execute=True):
        proposals.return_proposal(proposal=p, by=staff, reason="请补充预算说明")
    title = "项目申报“骑手驿站”：退回修改"
    body = "您在“2027创投”中申报的项目“骑手驿站”当前状态为：退回修改。\n原因：请补充预算说明"
    assert inbox(owner) == [("proposal.returned", title, body, f"/proposals/{p.pk}/")]
    assert mails(mailoutbox) == [(title, ["member_a@example.org"])]
    assert mailoutbox[0].body == body


@pytest.mark.parametrize(
    ("eligible", "reason", "status", "note"),
    [
        (True, "本轮人工核对", "初审通过", "\n原因：本轮人工核对"),
        (False, "服务对象不符", "初审未通过", "\n原因：服务对象不符"),
    ],
)
def test_screening_result(
    member, staff, mailoutbox, django_capture_on_commit_callbacks, eligible, reason, status, note
):
    org, owner = member
    c = factories.competition(stage="screening", title="2027创投")
    p = factories.proposal(c, org, status="submitted", title="骑手驿站")
    with django_capture_on_commit_callbacks(execute=True):
        screening.decide(proposal=p, eligible=eligible, reason=reason, by=staff)
    title = f"项目申报“骑手驿站”：{status}"
    body = f"您在“2027创投”中申报的项目“骑手驿站”当前状态为：{status}。{note}"
    event = "proposal.eligible" if eligible else "proposal.ineligible"
    assert inbox(owner) == [(event, title, body, f"/proposals/{p.pk}/")]
    assert mails(mailoutbox) == [(title, ["member_a@example.org"])]


def test_finalists_each_told_and_the_group_posted(staff, robot, mailoutbox, django_capture_on_commit_callbacks):
    c = factories.competition(stage="screening", title="2027创投")
    owners = [factories.user(f"fin{i}", email=f"fin{i}@example.org") for i in range(2)]
    props = [
        factories.proposal(c, factories.organization(owner=o), status="eligible", title=f"项目{i}")
        for i, o in enumerate(owners)
    ]
    hook(c, robot)
    with django_capture_on_commit_callbacks(execute=True):
        screening.confirm_finalists(competition=c, finalists=[props[0]], by=staff, source="manual", ranking=[])
    assert inbox(owners[0]) == [
        (
            "proposal.finalist",
            "项目申报“项目0”：入围",
            "您在“2027创投”中申报的项目“项目0”当前状态为：入围。",
            f"/proposals/{props[0].pk}/",
        )
    ]
    assert inbox(owners[1]) == [
        (
            "proposal.not_selected",
            "项目申报“项目1”：未入围终评",
            "您在“2027创投”中申报的项目“项目1”当前状态为：未入围终评。\n原因：未入围终评。",
            f"/proposals/{props[1].pk}/",
        )
    ]
    assert sorted(mails(mailoutbox)) == [
        ("项目申报“项目0”：入围", ["fin0@example.org"]),
        ("项目申报“项目1”：未入围终评", ["fin1@example.org"]),
    ]
    assert markdown(robot) == [
        "**“2027创投”入围名单已确定**\n共 1 个项目进入终审，各申报单位已收到各自的结果。\n"
        f"[在平台上查看]({SITE}/calls/{c.pk}/)"
    ]


# --- Roadshow slot and time -------------------------------------------------------------------------------------------


def test_roadshow_slot_and_time(staff, robot, mailoutbox, django_capture_on_commit_callbacks):
    c = factories.competition(stage="final", title="2027创投", presentation_minutes=8, qa_minutes=7)
    props = factories.finalists(c, 2)
    owners = [factories.user(f"rs{i}", email=f"rs{i}@example.org") for i in range(2)]
    for p, o in zip(props, owners, strict=True):
        p.organization.memberships.create(user=o, is_owner=True)
    starts = timezone.make_aware(datetime.datetime(2027, 6, 1, 9, 0))
    services.save_round_settings(competition=c, by=staff, roadshow_starts_at=starts)
    hook(c, robot)
    with django_capture_on_commit_callbacks(execute=True):
        roadshow = judging.draw_order(competition=c, by=staff, seed="fixed")
    slots = {s.proposal_id: s.position for s in roadshow.slots.all()}
    first = next(p for p in props if slots[p.pk] == 1)
    second = next(p for p in props if slots[p.pk] == 2)
    owner_second = owners[props.index(second)]
    assert inbox(owner_second) == [
        (
            "roadshow.draw",
            f"路演：“{second.title}”第 2 位出场",
            f"“2027创投”的路演出场顺序已抽签确定。“{second.title}”第 2 位出场，陈述 8 分钟，答辩 7 分钟。\n"
            "预计开始时间：2027-06-01 09:15。",
            f"/proposals/{second.pk}/",
        )
    ]
    assert sorted(mails(mailoutbox)) == sorted(
        [
            (f"路演：“{first.title}”第 1 位出场", [owners[props.index(first)].email]),
            (f"路演：“{second.title}”第 2 位出场", [owner_second.email]),
        ]
    )
    assert markdown(robot) == [
        f"**“2027创投”路演出场顺序已抽定**\n1. {first.title}（约 2027-06-01 09:00）\n"
        f"2. {second.title}（约 2027-06-01 09:15）\n[在平台上查看]({SITE}/calls/{c.pk}/)"
    ]


# --- Awards, notice, objection, result, agreement ---------------------------------------------------------------------


@pytest.fixture
def signed_off(db):
    return builders.build_round()  # 项目甲 … 项目丁, owners owner0@ … owner3@example.org


def test_award_proposed(signed_off, mailoutbox, django_capture_on_commit_callbacks):
    c, staff, _auditor, props = signed_off
    with django_capture_on_commit_callbacks(execute=True):
        awards.propose_awards(competition=c, by=staff)
    owner = props[0].organization.memberships.get().user
    title = "“项目甲”拟获资助 ¥100,000.00"
    assert inbox(owner) == [
        (
            "awards.propose",
            title,
            "工会拟资助“项目甲” ¥100,000.00。资助结果将在公示中发布，公示期满后确定。",
            f"/proposals/{props[0].pk}/",
        )
    ]
    assert (title, ["owner0@example.org"]) in mails(mailoutbox)
    offered = Award.objects.filter(competition=c, status="offered").count()
    assert len(mailoutbox) == offered == Notification.objects.count()


def test_notice_published(signed_off, robot, mailoutbox, django_capture_on_commit_callbacks):
    c, staff, _auditor, props = signed_off
    awards.propose_awards(competition=c, by=staff)
    hook(c, robot)
    with django_capture_on_commit_callbacks(execute=True):
        notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    title = f"“{c.title}”资助结果已公示"
    body = f"公示期为 2025-09-29 至 {notice.ends_on}。{notice.ends_on} 前，任何人均可在公示页面提出异议。"
    owner = props[0].organization.memberships.get().user
    assert inbox(owner) == [("notice.publish", title, body, f"/results/notice/{c.pk}/")]
    offered = Award.objects.filter(competition=c).order_by("rank")
    assert mails(mailoutbox) == [(title, [a.proposal.organization.memberships.get().user.email]) for a in offered]
    assert len(offered) == 2
    assert markdown(robot) == [f"**{title}**\n{body}\n[在平台上查看]({SITE}/results/notice/{c.pk}/)"]


def test_objection_outcome(signed_off, robot, mailoutbox, django_capture_on_commit_callbacks):
    c, staff, _auditor, props = signed_off
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    award = Award.objects.get(proposal=props[0])
    objection = awards.submit_objection(
        notice=notice,
        name="王先生",
        contact="wang@example.org",
        text="资质存疑",
        award=award,
        ip="10.1.1.1",
        today=datetime.date(2025, 9, 30),
    )
    hook(c, robot)
    with django_capture_on_commit_callbacks(execute=True):
        awards.handle_objection(objection=objection, upheld=False, outcome="经核查资质齐全", by=staff)
    title = f"“{c.title}”一项异议经核查不成立"
    link = f"/results/notice/{c.pk}/"
    owner = props[0].organization.memberships.get().user
    assert inbox(owner) == [("objection.dismissed", title, "处理结论：经核查资质齐全", link)]
    assert mails(mailoutbox) == [(title, ["owner0@example.org"]), (title, ["wang@example.org"])]
    assert mailoutbox[1].body == (
        f"王先生：\n\n您对“{c.title}”公示提出的异议已处理完毕。\n处理结论：经核查资质齐全\n\n{SITE}{link}"
    )
    assert markdown(robot) == [f"**{title}**\n处理结论：经核查资质齐全\n[在平台上查看]({SITE}{link})"]


def test_result_and_agreement_ready(signed_off, robot, mailoutbox, django_capture_on_commit_callbacks):
    c, staff, _auditor, props = signed_off
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    hook(c, robot)
    with django_capture_on_commit_callbacks(execute=True):
        agreements = awards.close_notice(competition=c, by=staff, today=notice.ends_on + datetime.timedelta(days=1))
    owner = props[0].organization.memberships.get().user
    agreement = next(a for a in agreements if a.award.proposal_id == props[0].pk)
    assert inbox(owner) == [
        (
            "proposal.awarded",
            "项目申报“项目甲”：获得资助",
            f"您在“{c.title}”中申报的项目“项目甲”当前状态为：获得资助。",
            f"/proposals/{props[0].pk}/",
        ),
        (
            "agreement.ready",
            f"资助协议 {agreement.number} 已生成",
            "“项目甲”的资助协议（¥100,000.00）已生成。请下载核对，签字盖章后交回工会。",
            f"/documents/awards/{agreement.award_id}/agreement.pdf",
        ),
    ]
    subjects = mails(mailoutbox)
    assert ("项目申报“项目甲”：获得资助", ["owner0@example.org"]) in subjects
    assert (f"资助协议 {agreement.number} 已生成", ["owner0@example.org"]) in subjects
    not_funded = [p for p in props if p.pk not in {a.award.proposal_id for a in agreements}]
    assert [p.title for p in not_funded] == ["项目丙", "项目丁"]
    for p in not_funded:  # the result for those left out
        assert (f"项目申报“{p.title}”：未获资助", [p.organization.memberships.get().user.email]) in subjects
    assert markdown(robot) == [
        f"**“{c.title}”资助结果已确定**\n公示期已结束，共 {len(agreements)} 个项目获得资助，资助协议已生成。\n"
        f"[在平台上查看]({SITE}/results/notice/{c.pk}/)"
    ]


# --- Supervision: tranche released, rectification opened ------------------------------------------------------------


@pytest.fixture
def funded(db):
    return builders.build_funded()  # owner sv0@example.org on f.project


def test_tranche_released(funded, mailoutbox, django_capture_on_commit_callbacks):
    f = funded
    tranche = f.project.tranches.order_by("order").first()
    with django_capture_on_commit_callbacks(execute=True):
        supervision.release_tranche(tranche=tranche, released_on=builders.SIGNED, voucher_no="FK-001", by=f.staff)
    title = f"“{f.project.title}”第 1 批资金已拨付"
    body = f"已于 {builders.SIGNED} 拨付资助资金 ¥30,000.00（凭证号 FK-001）。"
    assert inbox(f.owner) == [("tranche.release", title, body, f"/supervision/projects/{f.project.pk}/")]
    assert mails(mailoutbox) == [(title, ["sv0@example.org"])]
    assert mailoutbox[0].body == f"{body}\n\n{SITE}/supervision/projects/{f.project.pk}/"


def test_rectification_opened_and_reopened(funded, mailoutbox, django_capture_on_commit_callbacks):
    f = funded
    deadline = builders.TODAY + datetime.timedelta(days=20)
    with django_capture_on_commit_callbacks(execute=True):
        item = supervision.add_rectification(
            project=f.project, by=f.supervisor, what="补齐活动签到表", deadline=deadline, owner="李主任"
        )
    link = f"/supervision/projects/{f.project.pk}/"
    body = f"补齐活动签到表\n责任人：李主任；整改期限：{deadline}。"
    assert inbox(f.owner) == [("rectification.create", f"“{f.project.title}”需要整改", body, link)]
    assert mails(mailoutbox) == [(f"“{f.project.title}”需要整改", ["sv0@example.org"])]
    supervision.answer_rectification(item=item, by=f.owner, answer="已补齐")
    with django_capture_on_commit_callbacks(execute=True):
        supervision.review_rectification(item=item, by=f.supervisor, close=False, note="缺少签字")
    assert inbox(f.owner)[1:] == [
        ("rectification.reopen", f"“{f.project.title}”一项整改被重新打开", f"{body}\n原因：缺少签字", link)
    ]


def test_rectifications_of_a_site_visit(funded, mailoutbox, django_capture_on_commit_callbacks):
    f = funded
    deadline = builders.TODAY + datetime.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        supervision.record_visit(
            project=f.project,
            by=f.supervisor,
            date=builders.TODAY,
            people_met="负责人",
            observations="良好",
            rating=4,
            findings="台账不全",
            rectifications=[{"what": "补台账", "deadline": deadline, "owner": "王"}],
        )
    assert inbox(f.owner) == [
        (
            "visit.record",
            f"“{f.project.title}”需要整改",
            f"补台账\n责任人：王；整改期限：{deadline}。",
            f"/supervision/projects/{f.project.pk}/",
        )
    ]
    assert mails(mailoutbox) == [(f"“{f.project.title}”需要整改", ["sv0@example.org"])]


# --- The WeCom robot: failures, retries, settings ---------------------------------------------------------------------


def test_a_failing_robot_never_breaks_the_change_and_is_retried(
    signed_off, robot, mailoutbox, django_capture_on_commit_callbacks
):
    c, staff, _auditor, _props = signed_off
    awards.propose_awards(competition=c, by=staff)
    hook(c, robot)
    robot.answers.append({"errcode": 93000, "errmsg": "invalid webhook url"})
    with django_capture_on_commit_callbacks(execute=True):
        awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    failed = Delivery.objects.get(channel="webhook")
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 1, "errcode 93000: invalid webhook url")
    assert c.notice.published_at is not None  # the notice is published all the same
    out = io.StringIO()
    call_command("send_reminders", "--date", "2025-09-29", stdout=out)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("sent", 2)
    assert len(robot.received) == 2 and robot.received[0]["json"] == robot.received[1]["json"]
    assert out.getvalue().strip().endswith("retried 1 delivery(ies): 1 sent, 0 still failing.")


def test_an_unreachable_robot_times_out_and_fails_after_five_tries(signed_off, robot, settings):
    c, _staff, _auditor, _props = signed_off
    url = robot.url
    robot.shutdown()
    robot.server_close()
    RoundNotifications.objects.create(competition=c, webhook_url=url)
    delivery = Delivery.objects.create(channel="webhook", event="x", competition=c, payload={"msgtype": "text"})
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        assert services.deliver(delivery) is False
        assert delivery.attempts == attempt
    assert delivery.status == DeliveryStatus.FAILED
    assert services.retry_pending() == (0, 0)  # a failed one is left alone


def test_staff_set_the_robot_in_the_round_settings(client, staff, competition, robot):
    client.force_login(staff)
    url = f"/notifications/rounds/{competition.pk}/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"webhook_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"})
    assert response.context["form"].errors == {"webhook_url": ["请输入群机器人以 https:// 开头的 Webhook 地址。"]}
    secret = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
    response = client.post(url, {"webhook_url": secret, "roadshow_starts_at": "2027-06-01T09:00"}, follow=True)
    row = RoundNotifications.objects.get(competition=competition)
    assert row.webhook_url == secret
    assert timezone.localtime(row.roadshow_starts_at) == timezone.make_aware(datetime.datetime(2027, 6, 1, 9, 0))
    page = response.content.decode()
    assert "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…9abc" in page and secret not in page
    event = AuditEvent.objects.get(action="notifications.settings")
    assert event.after == {"webhook": "set", "roadshow_starts_at": "2027-06-01T09:00:00+08:00"}
    assert secret not in json.dumps([event.before, event.after])
    # A test message goes to the robot (here the local one).
    RoundNotifications.objects.filter(pk=row.pk).update(webhook_url=robot.url)
    response = client.post(f"/notifications/rounds/{competition.pk}/test/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["测试消息已发送到群里。"]
    assert robot.received[0]["json"] == {
        "msgtype": "text",
        "text": {"content": f"公益创投平台“{competition.title}”测试消息，由 {staff.display_name} 发送。"},
    }
    client.post(url, {"remove_webhook": "on"})
    assert RoundNotifications.objects.get(pk=row.pk).webhook_url == ""


def test_only_staff_reach_the_round_settings(client, applicant_a, auditor, competition):
    for user in (applicant_a, auditor):
        client.force_login(user)
        assert client.get(f"/notifications/rounds/{competition.pk}/").status_code == 404
        assert client.post(f"/notifications/rounds/{competition.pk}/test/").status_code == 404


# --- The inbox and the bell -------------------------------------------------------------------------------------------


def note(user, title, link="/calls/", read=False):
    return Notification.objects.create(
        user=user, event="test", title=title, body="正文", link=link, read_at=timezone.now() if read else None
    )


def test_inbox_lists_only_ones_own_and_marks_read(client, applicant_a, applicant_b):
    mine = note(applicant_a, "我的通知一")
    note(applicant_a, "我的通知二")
    theirs = note(applicant_b, "别人的通知")
    client.force_login(applicant_a)
    page = client.get("/notifications/")
    assert [n.title for n in page.context["page"]] == ["我的通知二", "我的通知一"]
    assert "别人的通知" not in page.content.decode()
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    response = client.post(f"/notifications/{mine.pk}/read/", {"open": "1"})
    assert (response.status_code, response["Location"]) == (302, "/calls/")
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    client.post("/notifications/read-all/")
    assert list(Notification.objects.filter(read_at=None).values_list("title", flat=True)) == ["别人的通知"]


def test_an_outside_link_is_not_followed(client, applicant_a):
    n = note(applicant_a, "外链", link="https://evil.example/")
    client.force_login(applicant_a)
    response = client.post(f"/notifications/{n.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notifications/"


def test_the_bell_shows_the_unread_count_in_a_constant_number_of_queries(client, applicant_a):
    """Pages run no query for the bell (it loads its count after the page); the count is one query however many."""
    client.force_login(applicant_a)
    client.get("/notifications/badge/")  # warm up (session, permissions)
    with CaptureQueriesContext(connection) as empty:
        badge = client.get("/notifications/badge/").content.decode()
    assert badge.strip() == '<span class="visually-hidden">通知</span>'
    with CaptureQueriesContext(connection) as page_before:
        page = client.get("/calls/").content.decode()
    assert '<span id="bell-slot" hx-get="/notifications/badge/" hx-trigger="load" hx-swap="innerHTML">' in page
    for i in range(30):
        note(applicant_a, f"通知{i}", read=i < 5)
    with CaptureQueriesContext(connection) as full:
        badge = client.get("/notifications/badge/").content.decode()
    assert len(full.captured_queries) == len(empty.captured_queries)
    assert badge.strip() == (
        '<span class="visually-hidden">通知：25 条未读</span> '
        '<span class="badge rounded-pill text-bg-danger" id="bell-count" aria-hidden="true">25</span>'
    )
    with CaptureQueriesContext(connection) as page_after:
        client.get("/calls/")
    assert len(page_after.captured_queries) == len(page_before.captured_queries)
    assert not any("notifications_notification" in q["sql"] for q in page_after.captured_queries)
    client.post("/notifications/read-all/")
    assert client.get("/notifications/badge/").content.decode().strip() == '<span class="visually-hidden">通知</span>'


def test_anonymous_visitors_have_no_bell(client, competition):
    assert 'id="bell"' not in client.get("/calls/").content.decode()


# --- The daily reminder command ---------------------------------------------------------------------------------------


def test_reminders_due_and_overdue_once_a_day(funded, robot, mailoutbox):
    f = funded
    today = builders.TODAY
    ProgressReport.objects.filter(project__in=[f.project, f.other_project]).update(
        due_on=today + datetime.timedelta(days=60)
    )
    overdue, due = f.project.reports.order_by("period_start")[:2]
    ProgressReport.objects.filter(pk=overdue.pk).update(due_on=today - datetime.timedelta(days=2))
    ProgressReport.objects.filter(pk=due.pk).update(due_on=today + datetime.timedelta(days=3))
    overdue.refresh_from_db()
    due.refresh_from_db()
    item = supervision.add_rectification(
        project=f.project, by=f.supervisor, what="补签", deadline=today - datetime.timedelta(days=1), owner="李"
    )
    hook(f.competition, robot)
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "Sent 4 reminder(s); retried 0 delivery(ies): 0 sent, 0 still failing."
    link = f"/supervision/projects/{f.project.pk}/"
    title = f.project.title
    assert inbox(f.owner) == [
        (
            "report.overdue",
            f"“{title}”进展报告已逾期（应于 {overdue.due_on} 提交）",
            f"{overdue.period_start} 至 {overdue.period_end} 的进展报告应于 {overdue.due_on} 提交，请在项目页面填报。",
            link,
        ),
        (
            "report.due",
            f"“{title}”进展报告请于 {due.due_on} 前提交",
            f"{due.period_start} 至 {due.period_end} 的进展报告应于 {due.due_on} 提交，请在项目页面填报。",
            link,
        ),
        (
            "rectification.overdue",
            f"“{title}”一项整改已逾期（期限 {item.deadline}）",
            f"补签\n责任人：李；整改期限：{item.deadline}。",
            link,
        ),
    ]
    assert mails(mailoutbox) == [
        (f"“{title}”进展报告已逾期（应于 {overdue.due_on} 提交）", ["sv0@example.org"]),
        (f"“{title}”进展报告请于 {due.due_on} 前提交", ["sv0@example.org"]),
        (f"“{title}”一项整改已逾期（期限 {item.deadline}）", ["sv0@example.org"]),
    ]
    assert markdown(robot) == [
        f"**“{f.competition.title}”督导逾期事项**\n1 份进展报告、1 项整改已逾期。\n"
        f"[在平台上查看]({SITE}/supervision/portfolio/)"
    ]
    # The same day again: nothing new. The next day: reminded again.
    call_command("send_reminders", stdout=io.StringIO())
    assert (len(inbox(f.owner)), len(mailoutbox), len(robot.received)) == (3, 3, 1)
    call_command("send_reminders", "--date", (today + datetime.timedelta(days=1)).isoformat(), stdout=io.StringIO())
    assert (len(inbox(f.owner)), len(mailoutbox), len(robot.received)) == (6, 6, 2)
    assert SentReminder.objects.count() == 8


def test_reports_not_yet_due_and_submitted_are_left_alone(funded, mailoutbox):
    f = funded
    ProgressReport.objects.filter(project__in=[f.project, f.other_project]).update(
        due_on=builders.TODAY + datetime.timedelta(days=4)
    )
    ProgressReport.objects.filter(project=f.project).update(
        due_on=builders.TODAY - datetime.timedelta(days=5), status=ReportStatus.SUBMITTED
    )
    call_command("send_reminders", stdout=io.StringIO())
    assert (Notification.objects.count(), mailoutbox) == (0, [])


def test_judges_reminded_of_unfinished_sheets(staff, mailoutbox):
    c = factories.competition(stage="final", title="2027创投", score_step=Decimal("0.5"))
    props = factories.finalists(c, 2)
    judges = [factories.judge(f"rj{i}", email=f"rj{i}@example.org") for i in range(2)]
    assignments = factories.final_panel(c, judges, props, recused=[(judges[1], props[0])])
    criteria = list(c.criteria.all())
    for p in props:
        judging.save_sheet(
            assignment=assignments[(judges[0].pk, p.pk)],
            by=judges[0].user,
            points={cr.pk: Decimal("20") for cr in criteria},
            comment="好",
            expected_version=0,
            submit=True,
        )
    call_command("send_reminders", stdout=io.StringIO())
    assert inbox(judges[0].user) == []
    assert inbox(judges[1].user) == [
        (
            "sheets.unfinished",
            "“2027创投”还有 1 份评分表未提交",
            "“2027创投”还有 1 份评分表未完成，请申报利益冲突情况并提交评分。",
            "/",
        )
    ]
    assert mails(mailoutbox) == [("“2027创投”还有 1 份评分表未提交", ["rj1@example.org"])]
    call_command("send_reminders", stdout=io.StringIO())
    assert len(mailoutbox) == 1
