"""The stage policy (issue #14): what may still change at each stage, the reason when not, and the changes that go
through their own audited path (the reopened and re-published notice). Found 1, 2, 6 and 8 of the issue."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from judging import services as judging_services
from judging.models import Score
from tests import factories
from tests.builders import build_round, set_evaluation_rubrics
from venture.audit.models import AuditEvent
from venture.awards import services as awards
from venture.awards.models import Award, PublicNotice, PublicNoticeVersion
from venture.competitions import policy
from venture.competitions import services as rounds
from venture.competitions.models import Competition, Stage
from venture.home.queries import judge_home
from venture.proposals.models import Proposal
from venture.results import services as results
from venture.results.models import ResultSnapshot

FROZEN_EN = (
    "The results of this round are frozen (stage: Results), so its %s can no longer change. Only an audited "
    "unlock that invalidates the frozen results reopens them."
)
FROZEN_ZH = "本届评审结果已冻结（阶段：结果公布），%s不能再修改。只有经审计、使冻结结果失效的解锁才能重新开放修改。"
NOTICE_EN = (
    "The public notice has been published; the %s can no longer change. Reopen the notice with a reason to "
    "change them: it is published again as a new version and its period restarts."
)
NOTICE_ZH = "公示已发布，%s不能再修改。如需修改，请填写原因后重新开启公示：修改后将作为新版本重新发布，公示期重新计算。"


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def client_in(client, user, language):
    client.cookies["django_language"] = language
    client.force_login(user)
    return client


# --- The policy itself --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_policy_answers_by_stage(english):
    expected = {  # stage -> the parts refused
        Stage.DRAFT: {"awards"},
        Stage.OPEN: {"awards"},
        Stage.SCREENING: {"awards"},
        Stage.PRESCORING: {"rubric", "awards"},
        Stage.FINAL: {"rubric", "awards"},
        Stage.RESULTS: {"money", "budget_rules", "tranche_plan", "rubric"},
        Stage.NOTICE: {"money", "budget_rules", "tranche_plan", "rubric", "awards", "grades", "notice_text"},
        Stage.SUPERVISION: {"money", "budget_rules", "tranche_plan", "rubric", "awards", "grades", "notice_text"},
        Stage.CLOSED: {"money", "budget_rules", "tranche_plan", "rubric", "awards", "grades", "notice_text"},
    }
    competition = factories.competition(stage=Stage.DRAFT)
    for stage, refused in expected.items():
        competition.stage = stage
        assert set(policy.refusals(competition)) == refused, stage
    competition.stage = Stage.FINAL
    assert policy.refusal(competition, "sheets", panel_stage=Stage.FINAL) == ""
    assert policy.refusal(competition, "sheets", panel_stage=Stage.PRESCORING) == "Scoring for this stage is closed."


# --- Found 1: the round's money settings, budget rules and tranche plan after the freeze ----------------------------


@pytest.mark.django_db
def test_money_settings_budget_rules_and_tranche_plan_are_read_only_after_the_freeze(english):
    c, staff, auditor, props = build_round()
    assert c.stage == Stage.RESULTS
    for field, value in [
        ("fund_pool", Decimal("100000.00")),
        ("max_grant", Decimal("90000.00")),
        ("funding_rule", "skip"),
        ("finalist_quota", 3),
        ("method", "mean"),
    ]:
        with pytest.raises(ValidationError) as exc:
            rounds.update_competition(competition=c, by=staff, data={field: value})
        assert exc.value.messages == [FROZEN_EN % "money and ranking settings"]
        assert exc.value.code == "locked"
    with pytest.raises(ValidationError) as exc:
        rounds.save_tranche_plan(
            competition=c, by=staff, tranches=[{"percent": Decimal("100"), "condition": "signing"}]
        )
    assert exc.value.messages == [FROZEN_EN % "tranche plan"]
    with pytest.raises(ValidationError) as exc:
        rounds.save_budget_categories(
            competition=c, by=staff, budget_categories=[{"name": "人员经费", "cap_percent": Decimal("90")}]
        )
    assert exc.value.messages == [FROZEN_EN % "budget rules"]
    c.refresh_from_db()
    assert (c.fund_pool, c.max_grant, c.funding_rule) == (Decimal("250000.00"), Decimal("100000.00"), "stop")
    assert [t.percent for t in c.tranche_plan.all()] == [Decimal("50.00"), Decimal("30.00"), Decimal("20.00")]
    # The same value (written as the form gives it) and what is not money still save.
    rounds.update_competition(competition=c, by=staff, data={"fund_pool": Decimal("250000"), "title": "改名"})
    c.refresh_from_db()
    assert c.title == "改名"


@pytest.mark.django_db
def test_the_database_refuses_a_pool_below_the_awards():
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    c.refresh_from_db()
    assert c.awarded_total == Decimal("190000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Competition.objects.filter(pk=c.pk).update(fund_pool=Decimal("100000.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Competition.objects.filter(pk=c.pk).update(awarded_total=Decimal("250000.01"))
    assert Competition.objects.get(pk=c.pk).fund_pool == Decimal("250000.00")


@pytest.mark.django_db
def test_awarded_total_follows_every_award_path():
    c, staff, auditor, props = build_round()
    a, b = awards.propose_awards(competition=c, by=staff)
    awards.set_award(award=b, amount=Decimal("85000.00"), grade=None, by=staff)
    awards.add_award(competition=c, proposal=props[2], amount=Decimal("60000.00"), by=staff)
    assert Competition.objects.get(pk=c.pk).awarded_total == Decimal("245000.00")
    awards.cancel_award(award=a, reason="放弃", by=staff)
    assert Competition.objects.get(pk=c.pk).awarded_total == Decimal("145000.00")


@pytest.mark.django_db
def test_publication_is_refused_while_the_awards_exceed_the_pool(english):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)  # 190,000 of 250,000
    Award.objects.create(competition=c, proposal=props[2], rank=3, amount=Decimal("80000.00"))  # behind the services
    with pytest.raises(ValidationError) as exc:
        awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    assert exc.value.messages == [
        "The awards (¥270,000.00) exceed the fund pool (¥250,000.00); the notice cannot be published."
    ]
    assert not PublicNotice.objects.filter(competition=c).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("language, reason", [("en", FROZEN_EN), ("zh-hans", FROZEN_ZH)])
def test_settings_and_tranche_pages_show_the_reason_instead_of_the_form(client, language, reason):
    c, staff, auditor, props = build_round()
    client = client_in(client, staff, language)
    part = {"en": ("money and ranking settings", "tranche plan"), "zh-hans": ("资金与排名设置", "分期拨付计划")}[
        language
    ]
    body = client.get(f"/rounds/{c.pk}/edit/").content.decode()
    assert reason % part[0] in body
    assert re.search(r"<input type=\"number\" name=\"fund_pool\" [^>]*disabled", body)
    body = client.get(f"/rounds/{c.pk}/tranches/").content.decode()
    assert reason % part[1] in body
    assert 'name="continue"' not in body
    response = client.post(
        f"/rounds/{c.pk}/tranches/",
        {
            "tranches-TOTAL_FORMS": "1",
            "tranches-INITIAL_FORMS": "0",
            "tranches-0-percent": "100",
            "tranches-0-condition": "signing",
        },
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [reason % part[1]]
    assert c.tranche_plan.count() == 3


# --- Found 2: awards and grades during the public notice; one money check for every award path ---------------------


@pytest.fixture
def noticed(db):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    notice = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    c.refresh_from_db()
    return c, staff, props, notice


def test_awards_and_grades_are_read_only_while_the_notice_runs(english, noticed):
    c, staff, props, notice = noticed
    a, b = Award.objects.filter(competition=c).order_by("rank")
    attempts = [
        lambda: awards.set_award(award=b, amount=Decimal("80000.00"), grade=None, by=staff),
        lambda: awards.add_award(competition=c, proposal=props[3], amount=Decimal("60000.00"), by=staff),
        lambda: awards.cancel_award(award=a, reason="x", by=staff),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.messages == [NOTICE_EN % "awards"]
    with pytest.raises(ValidationError) as exc:
        awards.set_grades(competition=c, names=["一等"], by=staff)
    assert exc.value.messages == [NOTICE_EN % "award grades"]
    assert [(x.proposal_id, x.amount, x.status) for x in Award.objects.filter(competition=c).order_by("rank")] == [
        (props[0].pk, Decimal("100000.00"), "offered"),
        (props[1].pk, Decimal("90000.00"), "offered"),
    ]


def test_a_change_goes_through_an_audited_republication_that_restarts_the_period(client, noticed):
    c, staff, props, notice = noticed
    with pytest.raises(ValidationError):
        awards.reopen_notice(competition=c, reason="  ", by=staff)
    version = awards.reopen_notice(competition=c, reason="乙项目预算核减", by=staff)
    c.refresh_from_db()
    assert c.stage == Stage.RESULTS
    assert (version.version, version.starts_on, version.ends_on, version.total, version.reason) == (
        1,
        datetime.date(2025, 9, 29),
        datetime.date(2025, 10, 11),
        Decimal("190000.00"),
        "乙项目预算核减",
    )
    assert [(r["title"], r["amount"]) for r in version.awards] == [("项目甲", "100000.00"), ("项目乙", "90000.00")]
    assert not awards.notice_open(PublicNotice.objects.get(pk=notice.pk), today=datetime.date(2025, 9, 30))
    b = Award.objects.get(proposal=props[1])
    awards.set_award(award=b, amount=Decimal("80000.00"), grade=None, by=staff)
    # While it is reopened, the public page shows no changed figure, only that a correction is coming.
    body = client.get(f"/results/notice/{c.pk}/").content.decode()
    assert "¥80,000.00" not in body and "¥90,000.00" in body
    pdf = client.get(f"/documents/notice/{c.pk}/notice.pdf")
    assert (pdf.status_code, pdf["Location"]) == (302, f"/results/notice/{c.pk}/")
    republished = awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 10, 20))
    c.refresh_from_db()
    assert c.stage == Stage.NOTICE
    assert (republished.version, republished.starts_on, republished.ends_on, republished.reopened_at) == (
        2,
        datetime.date(2025, 10, 20),
        datetime.date(2025, 10, 24),
        None,
    )
    assert list(
        AuditEvent.objects.filter(action__startswith="notice.").order_by("pk").values_list("action", flat=True)
    ) == ["notice.publish", "notice.reopen", "notice.republish"]
    client.cookies["django_language"] = "en"
    body = client.get(f"/results/notice/{c.pk}/").content.decode()
    assert "Notice period: 2025-10-20 to 2025-10-24" in body
    assert "¥80,000.00" in body and "¥180,000.00" in body
    assert "Earlier versions of this notice" in body
    assert "Version 1: 2025-09-29 to 2025-10-11" in body and "乙项目预算核减" in body
    assert PublicNoticeVersion.objects.filter(notice=notice).count() == 1


def test_an_upheld_objection_reopens_the_notice_and_keeps_the_version(english, noticed):
    c, staff, props, notice = noticed
    a = Award.objects.get(proposal=props[0])
    objection = awards.submit_objection(
        notice=notice, name="张三", contact="13800000000", text="材料不实", award=a, today=datetime.date(2025, 9, 30)
    )
    awards.handle_objection(objection=objection, upheld=True, outcome="经核实材料不实", by=staff)
    c.refresh_from_db()
    assert c.stage == Stage.RESULTS
    version = PublicNoticeVersion.objects.get(notice=notice)
    assert [r["title"] for r in version.awards] == ["项目甲", "项目乙"]
    assert version.reason == "Objection upheld: 经核实材料不实"
    assert list(Award.objects.filter(competition=c).order_by("rank").values_list("proposal__title", "status")) == [
        ("项目甲", "cancelled"),
        ("项目乙", "offered"),
        ("项目丙", "offered"),
    ]


@pytest.mark.django_db
def test_the_add_path_uses_the_same_money_check_as_the_edit_form(english):
    c, staff, auditor, props = build_round()
    a, b = awards.propose_awards(competition=c, by=staff)
    for attempt in (
        lambda: awards.add_award(competition=c, proposal=props[2], amount=Decimal("0.004"), by=staff),
        lambda: awards.set_award(award=b, amount=Decimal("0.004"), grade=None, by=staff),
    ):
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.messages == ["Use at most two decimal places (fen)."]
    assert not Award.objects.filter(proposal=props[2]).exists()


@pytest.mark.django_db
def test_the_add_view_refuses_a_fraction_of_a_fen(client):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    client = client_in(client, staff, "en")
    response = client.post(
        f"/results/round/{c.pk}/awards/add/", {"proposal": props[2].pk, "amount": "0.004"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["Use at most two decimal places (fen)."]
    assert not Award.objects.filter(proposal=props[2]).exists()


@pytest.mark.parametrize("language, reason, part", [("en", NOTICE_EN, "awards"), ("zh-hans", NOTICE_ZH, "资助")])
def test_the_award_page_shows_the_reason_instead_of_the_form(client, noticed, language, reason, part):
    c, staff, props, notice = noticed
    b = Award.objects.get(proposal=props[1])
    client = client_in(client, staff, language)
    body = client.get(f"/results/awards/{b.pk}/edit/").content.decode()
    assert reason % part in body
    assert 'name="amount"' not in body
    client.post(f"/results/awards/{b.pk}/edit/", {"amount": "1.00"})
    assert Award.objects.get(pk=b.pk).amount == Decimal("90000.00")
    body = client.get(f"/results/round/{c.pk}/awards/").content.decode()
    assert reason % part in body
    assert f"/results/awards/{b.pk}/edit/" not in body


# --- Found 6: stage changes with guardrails ------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_before_the_opening_time_needs_a_confirmation_that_names_it_and_a_reason(english):
    staff = factories.user("staff_g", role="staff")
    opens = timezone.now() + datetime.timedelta(days=5)
    c = factories.competition(stage=Stage.DRAFT, opens_at=opens, closes_at=opens + datetime.timedelta(days=30))
    set_evaluation_rubrics(c)
    when = timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")
    message = (
        f"The call opens on {when}. Opening it now makes it public before then; applications are accepted only "
        "from that time. Confirm it and give the reason to go ahead."
    )
    for confirm, note in [(False, "提前发布"), (True, "  ")]:
        with pytest.raises(ValidationError) as exc:
            rounds.advance_stage(competition=c, to=Stage.OPEN, by=staff, confirm=confirm, note=note)
        assert exc.value.messages == [message]
    c.refresh_from_db()
    assert c.stage == Stage.DRAFT
    rounds.advance_stage(competition=c, to=Stage.OPEN, by=staff, confirm=True, note="提前发布以便宣传")
    event = AuditEvent.objects.get(action="competition.stage")
    assert (event.before, event.after["stage"], event.note) == ({"stage": "draft"}, "open", "提前发布以便宣传")
    assert event.after["early"].startswith(f"The call opens on {when}.")
    c.refresh_from_db()
    assert not c.is_accepting()


@pytest.fixture
def drafting(db):
    """An open round three weeks before its deadline: 3 drafts (one returned) from 2 organizations, 1 submitted."""
    c = factories.competition(stage=Stage.OPEN, closes_at=timezone.now() + datetime.timedelta(days=21))
    org_a, org_b, org_c = (factories.organization() for _ in range(3))
    for org, status in [(org_a, "draft"), (org_a, "draft"), (org_b, "returned"), (org_c, "submitted")]:
        factories.proposal(c, org, status=status)
    return c


def test_closing_before_the_deadline_names_the_drafts_locked_out(english, drafting):
    c = drafting
    staff = factories.user("staff_g", role="staff")
    deadline = timezone.localtime(c.closes_at).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(ValidationError) as exc:
        rounds.advance_stage(competition=c, to=Stage.SCREENING, by=staff)
    assert exc.value.messages == [
        f"The published deadline is {deadline}. Closing applications now, 3 drafts from 2 organizations will be "
        "locked out. Confirm it and give the reason to go ahead."
    ]
    rounds.advance_stage(competition=c, to=Stage.SCREENING, by=staff, confirm=True, note="上级要求提前截止")
    event = AuditEvent.objects.get(action="competition.stage")
    assert event.note == "上级要求提前截止"
    assert "3 drafts from 2 organizations will be locked out" in event.after["early"]


@pytest.mark.parametrize(
    "language, text, refused",
    [
        (
            "en",
            "Closing applications now, 3 drafts from 2 organizations will be locked out.",
            "Confirm it and give the reason to go ahead.",
        ),
        ("zh-hans", "现在截止申报，将有 2 家机构的 3 份草稿无法再提交。", "请确认并填写原因后再继续。"),
    ],
)
def test_the_round_page_asks_for_the_confirmation_and_the_reason(client, drafting, language, text, refused):
    c = drafting
    client = client_in(client, factories.user("staff_g", role="staff"), language)
    body = client.get(f"/rounds/{c.pk}/").content.decode()
    assert text in body
    assert 'name="confirm"' in body and 'name="reason"' in body
    response = client.post(f"/rounds/{c.pk}/advance/", {"to": "screening"}, follow=True)
    assert refused in " ".join(str(m) for m in response.context["messages"])
    assert Competition.objects.get(pk=c.pk).stage == Stage.OPEN
    client.post(f"/rounds/{c.pk}/advance/", {"to": "screening", "confirm": "1", "reason": "提前截止"})
    assert Competition.objects.get(pk=c.pk).stage == Stage.SCREENING


@pytest.mark.parametrize(
    "language, status, opens_text",
    [("en", "Opens on", "Applications open on"), ("zh-hans", "开放申报时间", "申报将于")],
)
def test_the_public_call_page_counts_down_to_the_opening(client, db, language, status, opens_text):
    opens = timezone.now() + datetime.timedelta(days=5)
    c = factories.competition(stage=Stage.OPEN, opens_at=opens, closes_at=opens + datetime.timedelta(days=30))
    client.cookies["django_language"] = language
    body = client.get(f"/calls/{c.pk}/").content.decode()
    when = timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")
    assert f"{status}" in body and when in body and opens_text in body
    assert f'data-countdown="{timezone.localtime(opens).isoformat()}"' in body
    for wrong in {"en": ("Open for applications", "Applications are closed."), "zh-hans": ("申报中", "申报已截止")}[
        language
    ]:
        assert wrong not in body
    assert status in client.get("/calls/").content.decode()


@pytest.mark.django_db
def test_confirming_finalists_cancels_the_open_prescoring_tasks(english):
    staff = factories.user("staff_g", role="staff")
    c = factories.competition(stage=Stage.PRESCORING, finalist_quota=1)
    judges = [factories.judge(f"pre{i}") for i in range(3)]
    p1, p2, p3 = [
        factories.proposal(c, factories.organization(), status="eligible", title=f"预评{i}") for i in range(1, 4)
    ]
    assignments = factories.final_panel(
        c, judges, [p1, p2, p3], stage="prescoring", recused=[(judges[2], p3)], pending=[(judges[2], p1)]
    )
    criteria = [cr.pk for cr in c.criteria.all()]
    for (judge_pk, _proposal_pk), a in assignments.items():
        if judge_pk != judges[2].pk:
            judging_services.save_sheet(
                assignment=a,
                by=a.judge.user,
                points=dict.fromkeys(criteria, Decimal("15")),
                comment="说明",
                expected_version=0,
                submit=True,
            )
    # judges[2]: p1 undeclared, p2 a draft sheet, p3 recused.
    judging_services.save_sheet(
        assignment=assignments[(judges[2].pk, p2.pk)],
        by=judges[2].user,
        points={criteria[0]: Decimal("10")},
        comment="",
        expected_version=0,
    )
    assert len(judge_home(judges[2].user)["assignments"]) == 3
    decision = results.decide_finalists(competition=c, chosen={p1.pk}, by=staff)
    assert decision.cancelled_tasks == [("pre2", "预评1"), ("pre2", "预评2")]
    assert [a.proposal for a in judge_home(judges[2].user)["assignments"]] == [p3]  # the recusal stays on record
    assert len(judge_home(judges[0].user)["assignments"]) == 3  # submitted sheets stay
    event = AuditEvent.objects.get(action="panel.cancel_open")
    assert event.before["open"] == [[judges[2].pk, p1.pk], [judges[2].pk, p2.pk]]


# --- Found 8: the snapshot seals every input of the outputs; a live check on every view ---------------------------


@pytest.fixture
def frozen(db):
    """A frozen, not yet signed-off round (test_awards.build_round signs off; this undoes only the sign-off)."""
    c, staff, auditor, props = build_round()
    snapshot = results.current_snapshot(c)
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(signed_off_at=None, signed_off_by=None)
    snapshot.refresh_from_db()
    return c, staff, auditor, props, snapshot


def test_the_snapshot_seals_the_money_settings_and_the_requests(frozen):
    c, staff, auditor, props, snapshot = frozen
    assert snapshot.inputs["round"] == {
        "fund_pool": "250000",
        "max_grant": "100000",
        "funding_rule": "stop",
        "finalist_quota": 12,
    }
    assert snapshot.inputs["requested"] == [
        [p.pk, amount] for p, amount in zip(props, ["100000", "90000", "80000", "60000"], strict=True)
    ]
    checks = results.verify(snapshot)
    assert (checks["ok"], checks["legacy"], checks["outputs_reproduced"]) == (True, False, True)


@pytest.mark.parametrize(
    "field, value",
    [
        ("fund_pool", Decimal("400000.00")),
        ("max_grant", Decimal("80000.00")),
        ("funding_rule", "skip"),
        ("finalist_quota", 2),
    ],
)
def test_a_money_setting_changed_behind_the_services_fails_verification(frozen, field, value):
    c, staff, auditor, props, snapshot = frozen
    Competition.objects.filter(pk=c.pk).update(**{field: value})
    checks = results.verify(ResultSnapshot.objects.get(pk=snapshot.pk))
    assert (checks["ok"], checks["sheets_unchanged"], checks["stored_inputs_intact"]) == (False, False, True)
    assert not results.live_check(snapshot)


def test_a_requested_amount_changed_behind_the_services_fails_verification(frozen):
    c, staff, auditor, props, snapshot = frozen
    Proposal.objects.filter(pk=props[1].pk).update(requested_amount=Decimal("150000.00"))
    assert results.verify(ResultSnapshot.objects.get(pk=snapshot.pk))["ok"] is False


@pytest.mark.parametrize("tamper", ["top_k", "p_top_k", "decided_by", "sensitivity"])
def test_verify_recomputes_every_published_output(frozen, tamper):
    c, staff, auditor, props, snapshot = frozen
    outputs = snapshot.outputs
    if tamper == "top_k":
        outputs["top_k"] += 1
    elif tamper == "p_top_k":
        outputs["ranking"][2]["p_top_k"] = 0.999
    elif tamper == "decided_by":
        outputs["ranking"][1]["decided_by"] = "抽签"
    else:
        outputs["ranking"][0]["sensitivity"] = {k: 4 for k in outputs["ranking"][0]["sensitivity"]}
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(outputs=outputs)
    checks = results.verify(ResultSnapshot.objects.get(pk=snapshot.pk))
    assert (checks["ok"], checks["ranking_reproduced"], checks["outputs_reproduced"]) == (False, True, False)


def test_a_legacy_snapshot_is_verified_as_before_and_says_so(client, frozen):
    c, staff, auditor, props, snapshot = frozen
    legacy = {"criteria": snapshot.inputs["criteria"], "scores": snapshot.inputs["scores"]}
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(
        inputs=legacy, digest=results.digest_of(legacy, snapshot.params)
    )
    snapshot = ResultSnapshot.objects.get(pk=snapshot.pk)
    checks = results.verify(snapshot)
    assert (checks["ok"], checks["legacy"], checks["sheets_unchanged"], checks["ranking_reproduced"]) == (
        True,
        True,
        True,
        True,
    )
    assert results.live_check(snapshot)
    client = client_in(client, auditor, "en")
    body = client.get(f"/results/round/{c.pk}/results/verify/").content.decode()
    assert "This snapshot was frozen before the money settings were sealed with the results" in body
    assert body.count('data-check="pass"') == 4 and 'data-check="fail"' not in body
    results.sign_off(snapshot=snapshot, by=auditor)


@pytest.mark.parametrize(
    "language, banner",
    [("en", "The sealed results no longer match the database."), ("zh-hans", "封存的评审结果与数据库不再一致。")],
)
def test_a_tampered_score_shows_a_red_banner_and_refuses_sign_off(client, frozen, language, banner):
    c, staff, auditor, props, snapshot = frozen
    body = client_in(client, auditor, language).get(f"/results/round/{c.pk}/results/").content.decode()
    assert banner not in body and f'action="/results/round/{c.pk}/results/sign-off/"' in body
    Score.objects.filter(sheet__assignment__proposal=props[3], criterion__code="budget").update(points=Decimal("20"))
    for user in (auditor, staff):
        body = client_in(client, user, language).get(f"/results/round/{c.pk}/results/").content.decode()
        assert banner in body
        assert f'action="/results/round/{c.pk}/results/sign-off/"' not in body
    with pytest.raises(ValidationError):
        results.sign_off(snapshot=snapshot, by=auditor)
    assert ResultSnapshot.objects.get(pk=snapshot.pk).signed_off_at is None


@pytest.mark.django_db
def test_a_tampered_score_refuses_publication_and_marks_the_notice(english, client):
    c, staff, auditor, props = build_round()
    awards.propose_awards(competition=c, by=staff)
    Score.objects.filter(sheet__assignment__proposal=props[3], criterion__code="budget").update(points=Decimal("20"))
    with pytest.raises(ValidationError) as exc:
        awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    assert exc.value.messages == [
        "The sealed results no longer match the database; the notice cannot be published. Run the verification."
    ]
    # A notice published before the tampering: staff and the auditor see the banner on it, the public does not.
    Score.objects.filter(sheet__assignment__proposal=props[3], criterion__code="budget").update(
        points=Decimal("15")
    )  # as sealed
    awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    Score.objects.filter(sheet__assignment__proposal=props[3], criterion__code="budget").update(points=Decimal("20"))
    client.cookies["django_language"] = "en"
    assert (
        "The sealed results no longer match the database."
        not in client.get(f"/results/notice/{c.pk}/").content.decode()
    )
    client.force_login(auditor)
    assert "The sealed results no longer match the database." in client.get(f"/results/notice/{c.pk}/").content.decode()
