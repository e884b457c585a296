import io
import random
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, Sum

from judging import ranking
from judging.models import Assignment, ConflictDeclaration, Criterion, Score, ScoreSheet
from venture.audit.models import AuditEvent
from venture.awards import services
from venture.awards.models import Award, GrantAgreement
from venture.competitions.models import Competition
from venture.demo.management.commands.generate_round import Generator
from venture.notifications.models import Delivery, Notification
from venture.organizations.models import Membership, Organization
from venture.proposals.models import PROPOSAL_TRANSITIONS, Proposal, ProposalStatus, StatusChange
from venture.results import services as results
from venture.supervision import ledger
from venture.supervision.models import ApprovedLine, EvaluationCriterion, Expenditure, FundedProject, Tranche

TINY = {"proposals": 6, "judges": 5, "criteria": 4, "funded": 3, "ledger_rows": 4}


def generate(**options):
    out = io.StringIO()
    call_command("generate_round", **{**TINY, **options}, stdout=out)
    return out.getvalue()


@pytest.fixture
def generated(db):
    output = generate(seed=7)
    return Competition.objects.get(), output


def test_every_stage_has_its_rows(generated):
    competition, output = generated
    assert competition.stage == "supervision"
    assert Organization.objects.filter(status="verified").count() == 6
    assert len(set(Organization.objects.values_list("name", flat=True))) == 6
    assert Membership.objects.filter(is_owner=True, user__username__startswith="gen_applicant").count() == 6
    assert Proposal.objects.filter(competition=competition).count() == 6
    assert Assignment.objects.filter(panel__competition=competition, panel__stage="final").count() == 6 * 5
    assert ConflictDeclaration.objects.filter(status="clear").count() == 6 * 5
    assert ScoreSheet.objects.filter(status="submitted").count() == 6 * 5
    assert Score.objects.filter(sheet__assignment__panel__competition=competition).count() == 6 * 5 * 4
    assert FundedProject.objects.filter(competition=competition).count() == 3
    assert Expenditure.objects.count() == 3 * 4
    per_project = Expenditure.objects.order_by().values("project").annotate(n=Count("pk"))
    assert {row["project"]: row["n"] for row in per_project} == dict.fromkeys(
        FundedProject.objects.values_list("pk", flat=True), 4
    )
    assert EvaluationCriterion.objects.filter(competition=competition, kind="midterm").count() == 4
    assert EvaluationCriterion.objects.filter(competition=competition, kind="final").count() == 4
    # the ledger's running totals were computed after the bulk insert

    assert ledger.differences() == []
    for project in FundedProject.objects.all():
        assert project.spent_total == sum(project.expenditures.values_list("amount", flat=True)) > 0
    assert "generated in" in output


def test_the_snapshot_verifies_and_funds_the_top_three(generated):
    competition, _output = generated
    snapshot = results.current_snapshot(competition)
    assert snapshot.signed_off_by.username == "gen_auditor"
    assert results.verify(snapshot)["ok"] is True
    assert snapshot.outputs["top_k"] == 3
    top = [r["proposal"] for r in snapshot.outputs["ranking"][:3]]
    assert sorted(Award.objects.filter(status="final").values_list("proposal_id", flat=True)) == sorted(top)
    assert sorted(FundedProject.objects.values_list("proposal_id", flat=True)) == sorted(top)
    assert GrantAgreement.objects.count() == 3
    assert services.committed(competition) <= competition.fund_pool
    assert Proposal.objects.filter(status=ProposalStatus.AWARDED).count() == 3
    assert Proposal.objects.filter(status=ProposalStatus.NOT_FUNDED).count() == 3


def test_statuses_follow_the_transition_tables(generated):
    competition, _output = generated
    for proposal in Proposal.objects.filter(competition=competition):
        steps = [ProposalStatus.DRAFT, *StatusChange.objects.filter(proposal=proposal).values_list("status", flat=True)]
        assert all(b in PROPOSAL_TRANSITIONS[a] for a, b in zip(steps, steps[1:], strict=False)), steps
        assert steps[-1] == proposal.status
    for project in FundedProject.objects.all():
        assert ApprovedLine.objects.filter(project=project).aggregate(s=Sum("amount"))["s"] == project.grant
        released = Tranche.objects.filter(project=project).aggregate(s=Sum("released_amount"))["s"]
        assert released == project.released_total <= project.grant
        assert Tranche.objects.filter(project=project).aggregate(s=Sum("amount"))["s"] == project.grant


def test_rubric_weights_add_up_to_100_whatever_the_count(db):
    generate(criteria=7, ledger_rows=0)
    criteria = list(Criterion.objects.all())
    assert len(criteria) == 7
    assert sum(c.weight for c in criteria) == Decimal("100")
    assert all(c.max_points == c.weight for c in criteria)
    assert Score.objects.count() == 6 * 5 * 7
    assert Expenditure.objects.count() == 0


def test_a_second_round_needs_another_prefix_and_keeps_names_unique(db):
    generate()
    with pytest.raises(CommandError, match="prefix"):
        generate()
    generate(prefix="second", title="第二个生成轮次")
    assert Competition.objects.count() == 2
    assert Organization.objects.count() == len(set(Organization.objects.values_list("name", flat=True))) == 12


def ledger_schema():
    """The ledger table's constraints and indexes as the database describes them (on PostgreSQL with their full
    definitions, deferral included)."""
    table = Expenditure._meta.db_table
    with connection.cursor() as cursor:
        described = connection.introspection.get_constraints(cursor, table)
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass", [table]
            )
            described["definitions"] = sorted(cursor.fetchall())
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
            described["indexes"] = sorted(cursor.fetchall())
    return described


def ledger_rows():
    return list(
        Expenditure.objects.order_by("id").values_list(
            "date", "amount", "payee", "description", "line__item", "category__name", "voucher_no"
        )
    )


def test_the_same_seed_gives_the_same_ledger_and_the_ledger_keeps_its_indexes_and_keys(db):
    schema = ledger_schema()
    with transaction.atomic():
        generate(seed=9)  # into an empty ledger: on PostgreSQL its indexes and foreign keys are set aside meanwhile
        assert ledger_schema() == schema
        first = ledger_rows()
        transaction.set_rollback(True)
    generate(seed=9)  # the same round again, in a database as it was
    second = ledger_rows()
    generate(seed=9, prefix="again", title="同一种子")  # into a ledger as large: only the foreign keys set aside
    assert ledger_schema() == schema
    assert len(schema) > 10
    assert len(first) == 3 * 4 and len({row[1] for row in first}) > 1
    # the same rows; only the project's id in the voucher numbers differs (ids are not reused after a rollback)
    assert [row[:6] for row in first] == [row[:6] for row in second]
    assert [row[6][-6:] for row in first] == ["-00001", "-00002", "-00003", "-00004"] * 3
    assert ledger.differences() == []


def test_organization_names_stay_unique_beyond_the_pool(db):
    names = [name for name, _city, _suffix in Generator._org_names(SimpleNamespace(rng=random.Random(1)), 2500)]
    assert len(names) == len(set(names)) == 2500


def test_refuses_production_settings(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        generate()
    assert not Competition.objects.exists()


NATIONAL = {
    "proposals": 40,
    "judges": 8,
    "prescoring_k": 3,
    "finalists": 6,
    "final_judges": 5,
    "funded": 10,
    "ledger_rows": 3,
}


def test_a_national_round_has_a_prescoring_stage_and_a_first_batch(db):
    output = generate(**NATIONAL, seed=3)
    national = Competition.objects.get(title__endswith="（生成）")
    first = Competition.objects.get(title__endswith="（第一批）")
    assert national.finalist_quota == 6
    # pre-scoring: every proposal scored by exactly 3 of the 8 judges, loads within one
    pre = Assignment.objects.filter(panel__competition=national, panel__stage="prescoring")
    assert pre.count() == 40 * 3
    per_proposal = {r["n"] for r in pre.values("proposal").annotate(n=Count("pk")).order_by()}
    assert per_proposal == {3}
    loads = [r["n"] for r in pre.values("judge").annotate(n=Count("pk")).order_by()]
    assert len(loads) == 8 and max(loads) - min(loads) <= 1
    assert ScoreSheet.objects.filter(assignment__in=pre, status="submitted").count() == 120
    assert Score.objects.filter(sheet__assignment__in=pre).count() == 120 * 4
    # the finalists are the top 6 of the additive pre-ranking, scored by the first 5 judges
    table = ranking.compute(national, "prescoring").table.sort_values("rank", kind="stable")
    top = sorted(int(pid) for pid in table.index[:6])
    decision = national.finalist_decisions.get()
    assert sorted(decision.finalists.values_list("pk", flat=True)) == top
    assert [r["proposal"] for r in decision.ranking[:6]] == [int(pid) for pid in table.index[:6]]
    final = Assignment.objects.filter(panel__competition=national, panel__stage="final")
    assert sorted({a.proposal_id for a in final}) == top
    assert final.count() == 6 * 5
    assert Proposal.objects.filter(competition=national, status=ProposalStatus.NOT_SELECTED).count() == 34
    # every finalist funded here; the other 4 funded projects are the first batch's (all its proposals)
    assert sorted(FundedProject.objects.filter(competition=national).values_list("proposal_id", flat=True)) == top
    assert FundedProject.objects.filter(competition=first).count() == 4
    assert Proposal.objects.filter(competition=first).count() == 4
    assert FundedProject.objects.count() == 10
    assert Expenditure.objects.count() == 10 * 3
    for competition in (national, first):
        assert results.verify(results.current_snapshot(competition))["ok"] is True
    for proposal in Proposal.objects.all():
        steps = [ProposalStatus.DRAFT, *StatusChange.objects.filter(proposal=proposal).values_list("status", flat=True)]
        assert all(b in PROPOSAL_TRANSITIONS[a] for a, b in zip(steps, steps[1:], strict=False)), steps
        assert steps[-1] == proposal.status
    assert ledger.differences() == []
    assert "First batch: 4 proposals" in output


def test_national_options_are_checked(db):
    with pytest.raises(CommandError, match="prescoring-k"):
        generate(prescoring_k=9)
    with pytest.raises(CommandError, match="needs --prescoring-k"):
        generate(finalists=3)
    assert not Competition.objects.exists()


def test_the_invented_accounts_get_no_mail_and_no_notification(db, mailoutbox):
    generate(seed=5)
    assert AuditEvent.objects.filter(action="notice.close", note="generate_round").count() == 1
    assert mailoutbox == []
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0
