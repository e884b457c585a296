import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings

from judging.models import Assignment, ConflictDeclaration, Judge, Roadshow, ScoreSheet
from venture.accounts.models import User
from venture.awards import services
from venture.awards.models import Award, Objection
from venture.competitions.models import Competition
from venture.demo import builder
from venture.organizations.models import Organization
from venture.proposals.models import Proposal
from venture.results import services as results
from venture.screening.models import CheckResult, FinalistDecision
from venture.supervision.models import EvaluationCriterion, FundedProject
from venture.supervision.queries import portfolio


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, built once for the module (it takes seconds) inside a transaction that stays open while the module
    runs: every test runs in a savepoint on top of it, and the whole demo is rolled back at the end, leaving the
    database exactly as the migrations made it (a flush would also remove what they seed, such as the audit chain's
    head)."""
    folder = tmp_path_factory.mktemp("demo")
    quick = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py's settings
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
        try:
            with override_settings(MEDIA_ROOT=folder / "media", DATA_DIR=folder, PASSWORD_HASHERS=quick):
                assert builder.build() is True
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield folder
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def demo(demo_world, db, settings):
    settings.MEDIA_ROOT, settings.DATA_DIR = demo_world / "media", demo_world
    return Competition.objects.get(title=builder.DEMO_ROUND_TITLE)


def test_demo_round_matches_the_domain(demo):
    assert demo.categories.count() == 5
    assert Organization.objects.count() >= 50
    assert Proposal.objects.filter(competition=demo, status="finalist").count() == 12
    assert Judge.objects.count() == 9
    expertise = sorted(Judge.objects.values_list("expertise", flat=True))
    assert expertise == ["professor"] * 3 + ["social_work"] * 3 + ["union"] * 3
    assert Assignment.objects.filter(panel__competition=demo, panel__stage="final").count() == 12 * 9


def test_demo_shows_screening_prescoring_and_the_roadshow(demo):
    assert Proposal.objects.filter(competition=demo, status="ineligible").exclude(status_reason="").count() == 6
    assert CheckResult.objects.filter(proposal__competition=demo).count() == 48 * 5
    pre = ScoreSheet.objects.filter(assignment__panel__competition=demo, assignment__panel__stage="prescoring")
    assert pre.filter(status="submitted").count() == 42 * 3
    assert FinalistDecision.objects.get(competition=demo).finalists.count() == 12
    final = ScoreSheet.objects.filter(assignment__panel__competition=demo, assignment__panel__stage="final")
    assert final.filter(status="submitted").count() == 12 * 9 - 1
    assert ConflictDeclaration.objects.filter(assignment__panel__competition=demo, status="recused").count() == 1
    roadshow = Roadshow.objects.get(competition=demo)
    assert roadshow.slots.count() == 12 and roadshow.seed == "20260520"
    demo.refresh_from_db()
    assert demo.stage == "notice"


def test_demo_results_awards_and_notice(demo):
    demo.refresh_from_db()
    snapshot = results.current_snapshot(demo)
    assert snapshot.signed_off_by.username == "auditor"
    assert results.verify(snapshot)["ok"] is True
    awards = Award.objects.filter(competition=demo, status="offered")
    assert awards.count() >= 8
    assert services.committed(demo) <= demo.fund_pool
    assert [o.status for o in Objection.objects.filter(notice__competition=demo)] == ["dismissed"]
    assert [c.weight for c in demo.criteria.all()] == [25, 25, 30, 20]


def test_demo_accounts_and_shared_password(demo):
    names = set(User.objects.values_list("username", flat=True))
    assert {"staff", "auditor", "supervisor"} <= names
    assert {f"judge{i}" for i in range(1, 10)} <= names
    n_orgs = Organization.objects.count()
    assert {f"applicant{i}" for i in range(1, n_orgs + 1)} <= names
    assert User.objects.get(username="applicant1").check_password(builder.DEMO_PASSWORD)


def test_demo_budgets_add_up(demo):
    for p in Proposal.objects.filter(competition=demo):
        total = p.budget_lines.aggregate(s=Sum("amount"))["s"]
        assert total == p.requested_amount, p.title


def test_demo_is_idempotent(demo):
    before = (User.objects.count(), Proposal.objects.count())
    call_command("demo_data")
    assert (User.objects.count(), Proposal.objects.count()) == before


def test_demo_refuses_production(db, settings):
    settings.PRODUCTION = True
    before = Competition.objects.count()  # the module's demo may already be there
    with pytest.raises(CommandError, match="production"):
        call_command("demo_data")
    assert Competition.objects.count() == before


def test_demo_logins_reach_their_homes(client, demo):
    for username, marker in [
        ("staff", "创投活动总览"),
        ("judge1", "我的评审任务"),
        ("applicant1", "我的机构与项目"),
        ("auditor", "审计与签批"),
        ("supervisor", "项目督导"),
    ]:
        client.logout()
        r = client.post("/accounts/login/", {"username": username, "password": builder.DEMO_PASSWORD})
        assert r.status_code == 302, username
        assert marker in client.get("/").content.decode(), username


def test_demo_supervision_shows_six_projects_in_different_health(demo):
    rows = {r["project"].title: r for r in portfolio()}
    assert len(rows) == 6 == FundedProject.objects.count()
    codes = sorted(tuple(sorted(a.code for a in r["alerts"])) for r in rows.values())
    # the overspending and the suspended projects have also spent more than was released (issue #15 alert)
    assert codes == sorted(
        [(), (), ("overspend", "spent_over_released"), ("report_overdue",), ("spent_over_released", "suspended"), ()]
    )
    statuses = sorted(r["project"].status for r in rows.values())
    assert statuses == ["active", "active", "active", "active", "closed", "suspended"]
    assert sum(r["open_rectifications"] for r in rows.values()) == 1
    for r in rows.values():
        assert r["released"] <= r["grant"]


def test_every_demo_round_has_both_evaluation_rubrics(demo):
    for competition in Competition.objects.order_by("year"):
        for kind in ("midterm", "final"):
            assert list(
                EvaluationCriterion.objects.filter(competition=competition, kind=kind).values_list("name", "max_points")
            ) == [("服务成效", 40), ("项目管理", 30), ("资金使用规范", 30)]
