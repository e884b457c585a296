"""The ledger's running totals (venture.supervision.ledger): kept exact by every ledger write, read by the workspace
and the portfolio, checked and repaired by ``manage.py ledger_totals``, backfilled by the migration that added them.
And the re-evaluation (复评) after a failed evaluation and a reinstatement."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tests.builders import build_funded, day, evaluate, line, spend
from venture.accounts.models import User
from venture.audit.models import AuditEvent
from venture.competitions.models import BudgetCategory
from venture.supervision import ledger, queries, services
from venture.supervision.models import (
    ApprovedLine,
    CategorySpend,
    Evaluation,
    FundedProject,
    MonthlySpend,
)


@pytest.fixture(autouse=True)
def _english(_test_settings, settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def f(db):
    return build_funded()


def stored(project):
    """Everything the running totals hold for one project, by name."""
    project = FundedProject.objects.get(pk=project.pk)
    return {
        "project": (project.spent_total, project.first_spent_on, project.last_spent_on),
        "lines": {ln.item: ln.spent for ln in ApprovedLine.objects.filter(project=project)},
        "categories": {
            s.category.name: s.amount for s in CategorySpend.objects.filter(project=project).select_related("category")
        },
        "months": {s.month: s.amount for s in MonthlySpend.objects.filter(project=project)},
    }


def _csv(rows):
    text = "日期,预算科目,明细项目,金额,收款方,摘要,凭证号\n" + "\n".join(rows) + "\n"
    return SimpleUploadedFile("台账.csv", text.encode("utf-8-sig"), content_type="text/csv")


def test_a_new_project_has_zero_totals(f):
    assert stored(f.project) == {
        "project": (Decimal("0.00"), None, None),
        "lines": {"人员经费项目": Decimal("0.00"), "活动经费项目": Decimal("0.00"), "管理费项目": Decimal("0.00")},
        "categories": {},
        "months": {},
    }


def test_every_entry_and_import_updates_the_totals(client, f):
    travel = BudgetCategory.objects.create(competition=f.competition, name="差旅费", order=5)
    spend(f.project, "300.00", date=day(10))
    spend(f.project, "1234.56", "人员经费", date=day(40))
    services.record_expenditure(
        project=f.project,
        by=None,
        date=day(41),
        category=travel,
        amount=Decimal("88.80"),
        payee="出租车",
        description="交通",
        voucher_no="PZ-9",
    )
    spend(f.other_project, "777.00", "人员经费", date=day(10))  # another project's spending never counts here
    assert (f.project.spent_total, f.project.first_spent_on, f.project.last_spent_on) == (
        Decimal("1623.36"),
        day(10),
        day(41),
    )  # the caller's instance follows too
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/import/",
        {
            "file": _csv(
                [
                    f"{day(70).isoformat()},活动经费,活动经费项目,200.00,示范市文具店,活动物资,PZ-10",
                    f'{day(71).isoformat()},管理费,管理费项目,"1,000.01",示范市打印店,打印,PZ-11',
                ]
            )
        },
    )
    assert r.status_code == 302
    month = {n: datetime.date((day(n)).year, day(n).month, 1) for n in (10, 40, 41, 70, 71)}
    expected_months = {}
    for n, amount in [(10, "300.00"), (40, "1234.56"), (41, "88.80"), (70, "200.00"), (71, "1000.01")]:
        expected_months[month[n]] = expected_months.get(month[n], Decimal("0")) + Decimal(amount)
    assert stored(f.project) == {
        "project": (Decimal("2823.37"), day(10), day(71)),
        "lines": {
            "人员经费项目": Decimal("1234.56"),
            "活动经费项目": Decimal("500.00"),
            "管理费项目": Decimal("1000.01"),
        },
        "categories": {
            "人员经费": Decimal("1234.56"),
            "活动经费": Decimal("500.00"),
            "管理费": Decimal("1000.01"),
            "差旅费": Decimal("88.80"),
        },
        "months": expected_months,
    }
    assert stored(f.other_project)["project"] == (Decimal("777.00"), day(10), day(10))
    assert ledger.differences() == []


def test_a_refused_entry_or_import_leaves_the_totals_alone(client, f):
    spend(f.project, "300.00")
    before = stored(f.project)
    with pytest.raises(ValidationError):
        spend(f.project, "-5.00")
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/import/",
        {
            "file": _csv(
                [
                    f"{day(10).isoformat()},活动经费,活动经费项目,300.00,示范市文具店,活动物资,PZ-1",
                    f"{day(11).isoformat()},活动经费,活动经费项目,abc,示范市文具店,活动物资,PZ-2",
                ]
            )
        },
    )
    assert r.status_code == 400
    assert stored(f.project) == before


def test_workspace_and_portfolio_read_the_same_totals(client, f):
    spend(f.project, "1000.00", date=day(6))
    spend(f.project, "250.50", "管理费", date=day(50))
    client.force_login(f.staff)
    workspace = client.get(f"/supervision/projects/{f.project.pk}/").context
    page = client.get(f"/supervision/portfolio/?round={f.competition.pk}&q={f.project.title}").context
    mine = {row["project"].pk: row for row in page["rows"]}[f.project.pk]
    assert workspace["spent"] == mine["spent"] == Decimal("1250.50")
    assert (
        [(c["name"], c["approved"], c["spent"]) for c in workspace["categories"]]
        == [(c["name"], c["approved"], c["spent"]) for c in mine["categories"]]
        == [
            ("人员经费", Decimal("15000.00"), Decimal("0")),
            ("活动经费", Decimal("40000.00"), Decimal("1000.00")),
            ("管理费", Decimal("5000.00"), Decimal("250.50")),
        ]
    )
    months = {}
    for n, amount in [(6, "1000.00"), (50, "250.50")]:
        key = datetime.date(day(n).year, day(n).month, 1)
        months[key] = months.get(key, Decimal("0")) + Decimal(amount)
    assert page["monthly_totals"] == sorted(months.items()) and sum(months.values()) == Decimal("1250.50")
    assert page["category_totals"] == [
        ("人员经费", Decimal("15000.00"), Decimal("0")),
        ("活动经费", Decimal("40000.00"), Decimal("1000.00")),
        ("管理费", Decimal("5000.00"), Decimal("250.50")),
    ]


def test_alerts_read_the_first_and_last_spending_dates_from_the_totals(f):
    spend(f.project, "10.00", date=day(1))  # before the agreement (signed on day 5)
    codes = [a.code for a in queries.alerts(FundedProject.objects.get(pk=f.project.pk), today=day(2))]
    assert "before_agreement" in codes


def test_budget_revision_cannot_cut_a_line_below_its_running_total(f):
    spend(f.project, "1500.00", "人员经费")
    with pytest.raises(ValidationError) as exc:
        services.revise_budget(
            project=f.project,
            by=f.staff,
            kind="budget",
            reason="调整",
            amounts={
                line(f.project, "人员经费").pk: Decimal("1000.00"),
                line(f.project, "活动经费").pk: Decimal("54000.00"),
            },
        )
    assert exc.value.messages == ["“人员经费项目” has already spent ¥1,500.00; it cannot be cut below that."]


def test_ledger_totals_command_finds_and_fixes_drift(f):
    spend(f.project, "300.00")
    call_command("ledger_totals")  # agrees: no error
    ApprovedLine.objects.filter(pk=line(f.project, "活动经费").pk).update(spent=Decimal("1.00"))
    MonthlySpend.objects.filter(project=f.project).delete()
    with pytest.raises(CommandError, match="2 difference"):
        call_command("ledger_totals")

    out = StringIO()
    call_command("ledger_totals", "--fix", stdout=out)
    assert "Fixed 2 difference(s)." in out.getvalue()
    assert ledger.differences() == []
    assert stored(f.project)["lines"]["活动经费项目"] == Decimal("300.00")
    assert AuditEvent.objects.filter(action="ledger.totals_fixed").get().after == {"differences": 2}


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_totals_of_an_existing_ledger():
    f = build_funded()
    spend(f.project, "300.00", date=day(10))
    spend(f.project, "1234.56", "人员经费", date=day(40))
    expected = stored(f.project)
    # As if the ledger had been written before the totals existed: wipe them, then migrate back and forth.
    FundedProject.objects.update(spent_total=0, first_spent_on=None, last_spent_on=None)
    ApprovedLine.objects.update(spent=0)
    CategorySpend.objects.all().delete()
    MonthlySpend.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate([("supervision", "0002_rectification_status_label")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert stored(f.project) == expected
    assert expected["project"] == (Decimal("1534.56"), day(10), day(40))


# --- Re-evaluation (复评) ------------------------------------------------------------------------------------------


def test_re_evaluation_after_reinstatement_releases_the_gated_tranche(client, f):
    t1, t2, _t3 = f.project.tranches.all()
    first = evaluate(f, "midterm", ["20", "10", "10"])  # 40 of 100: fails, suspends
    assert (first.attempt, first.passed) == (1, False)
    with pytest.raises(ValidationError) as exc:  # not while the project is suspended
        evaluate(f, "midterm", ["40", "30", "30"])
    assert exc.value.messages == [
        "The evaluation failed and the project is suspended: reinstate it once the "
        "rectification is done, then hold the re-evaluation."
    ]
    client.force_login(f.supervisor)
    url = f"/supervision/projects/{f.project.pk}/evaluations/midterm/"
    body = client.get(url).content.decode()
    assert "reinstate it once the rectification is done" in body and "Record the evaluation" not in body
    services.reinstate(project=f.project, by=f.staff, reason="整改到位")
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "Mid-term evaluation: re-evaluation" in body
    assert "Re-evaluation (attempt 2)" in client.get(url).content.decode()
    criteria = list(f.competition.evaluation_criteria.filter(kind="midterm"))
    r = client.post(
        url,
        {
            f"c_{criteria[0].pk}": "30",
            f"c_{criteria[1].pk}": "20",
            f"c_{criteria[2].pk}": "20",
            "comment": "整改后复评",
        },
    )
    assert r.status_code == 302
    second = Evaluation.objects.get(project=f.project, kind="midterm", attempt=2)
    assert (second.total, second.passed) == (Decimal("70.00"), True)
    assert AuditEvent.objects.filter(action="evaluation.midterm").order_by("id").last().after == {
        "total": "70.00",
        "passed": True,
        "attempt": 2,
    }
    services.release_tranche(tranche=t1, released_on=day(91), voucher_no="FK-001", by=f.staff)
    services.release_tranche(tranche=t2, released_on=day(92), voucher_no="FK-002", by=f.staff)
    t2.refresh_from_db()
    assert t2.released_amount == Decimal("18000.00")
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "re-evaluation 2" in body and "Mid-term evaluation: re-evaluation" not in body
    with pytest.raises(ValidationError) as exc:  # a pass is final
        evaluate(f, "midterm", ["40", "30", "30"])
    assert exc.value.messages == ["This evaluation has already been passed."]


def test_a_second_pass_of_one_kind_is_refused_by_the_database(f):
    evaluate(f, "final", ["40", "30", "30"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.create(project=f.project, kind="final", attempt=2, total=Decimal("90"), passed=True)


def test_no_evaluation_while_suspended_and_no_final_before_the_mid_term_is_passed(client, f):
    evaluate(f, "midterm", ["20", "10", "10"])  # fails: suspended
    with pytest.raises(ValidationError) as exc:  # neither kind while suspended
        evaluate(f, "final", ["40", "30", "30"])
    assert exc.value.messages == [
        "The evaluation failed and the project is suspended: reinstate it once the "
        "rectification is done, then hold the re-evaluation."
    ]
    services.reinstate(project=f.project, by=f.staff, reason="整改到位")
    with pytest.raises(ValidationError) as exc:  # the final waits for the mid-term's re-evaluation
        evaluate(f, "final", ["40", "30", "30"])
    assert exc.value.messages == ["The mid-term evaluation has not been passed yet: hold its re-evaluation first."]
    client.force_login(f.supervisor)
    body = client.get(f"/supervision/projects/{f.project.pk}/").content.decode()
    assert "Mid-term evaluation: re-evaluation" in body
    assert f"/supervision/projects/{f.project.pk}/evaluations/final/" not in body
    evaluate(f, "midterm", ["30", "20", "20"])
    assert evaluate(f, "final", ["30", "20", "20"]).attempt == 1


def test_the_admin_cannot_edit_the_running_totals(client, f):
    User.objects.filter(pk=f.staff.pk).update(is_staff=True, is_superuser=True)
    spend(f.project, "300.00")
    client.force_login(User.objects.get(pk=f.staff.pk))
    url = f"/admin/supervision/fundedproject/{f.project.pk}/change/"
    body = client.get(url).content.decode()
    assert 'name="spent_total"' not in body and 'name="first_spent_on"' not in body
    client.post(
        url,
        {
            "title": f.project.title,
            "period_start": f.project.period_start.isoformat(),
            "period_end": f.project.period_end.isoformat(),
            "signed_on": f.project.signed_on.isoformat(),
            "people_target": "200",
            "status": "active",
            "feedback_token": f.project.feedback_token,
            "spent_total": "0",
            "first_spent_on": "",
            "last_spent_on": "",
        },
    )
    assert stored(f.project)["project"][0] == Decimal("300.00")
