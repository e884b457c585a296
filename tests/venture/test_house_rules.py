"""Issue #19, the house in order: one money formatter; the rules pages act on are predicates (model properties and
the supervision services' refusal functions), not status lists in templates; template tags never query; the version
is read from pyproject.toml."""

import ast
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template

from tests import factories
from tests.builders import build_funded, evaluate
from venture import money
from venture.awards.models import Award
from venture.awards.services import check_award_amount
from venture.proposals.models import Proposal, ProposalStatus
from venture.results.services import code_version
from venture.supervision import services
from venture.supervision.models import ProgressReport, ReportStatus
from venture.version import app_version

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _english(_test_settings, settings):
    settings.LANGUAGE_CODE = "en"


# --- Money ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.8"), "¥1,234,567.80"),
        (Decimal("-100000"), "-¥100,000.00"),
        (Decimal("-0.004"), "¥0.00"),  # rounds to zero: no minus sign
        (Decimal("0.005"), "¥0.01"),  # half up, not half even
        (Decimal("2.675"), "¥2.68"),
        (2.675, "¥2.68"),  # a float through its repr, not its binary expansion (2.67499999...)
        (12, "¥12.00"),
        ("-5.5", "-¥5.50"),
        (None, ""),
        ("", ""),
    ],
)
def test_format_money(value, shown):
    assert money.format_money(value) == shown


def test_format_money_without_the_currency_sign():
    assert money.format_money(Decimal("-100000"), symbol=False) == "-100,000.00"
    assert money.format_money(Decimal("100000"), symbol=False) == "100,000.00"


def test_money_filter_uses_the_one_formatter():
    template = Template("{{ a|money }}|{{ b|money }}|{{ c|money }}|{{ d|money }}")
    assert template.render(Context({"a": Decimal("-100000"), "b": Decimal("5"), "c": None, "d": "n/a"})) == (
        "-¥100,000.00|¥5.00||n/a"
    )


def test_no_money_formatted_by_hand():
    """Every ``:,.2f`` (money with thousands separators) goes through venture.money."""
    offenders = []
    for path in [*ROOT.glob("venture/**/*.py"), *ROOT.glob("judging/**/*.py"), *ROOT.glob("templates/**/*.html")]:
        if path.name == "money.py":
            continue
        text = path.read_text(encoding="utf-8")
        if ":,.2f" in text or "¥{" in text or "¥%(" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_a_negative_amount_in_a_service_message(db, competition, org_a):
    """Messages carry the formatted amount with its sign before the ¥ (the msgid holds no ¥ of its own)."""
    competition.fund_pool, competition.max_grant = Decimal("100000"), Decimal("200000")
    competition.save()
    proposal = factories.proposal(competition, org_a, status="awarded", requested=Decimal("150000"))
    factories.proposal(competition, org_a, status="awarded", requested=Decimal("120000"))
    Award.objects.create(competition=competition, proposal=proposal, rank=1, amount=Decimal("120000"))
    other = Proposal.objects.exclude(pk=proposal.pk).get()
    with pytest.raises(Exception) as caught:
        check_award_amount(competition, other, Decimal("1000"))
    assert caught.value.messages == ["This would exceed the fund pool: ¥120,000.00 already awarded, -¥20,000.00 left."]


# --- Proposal rules are properties, not status strings in templates ---------------------------------------------

WITHDRAWABLE = {"draft", "submitted", "returned"}


@pytest.mark.parametrize("status", [*ProposalStatus.values, "", "mitted", "draft submitted"])
def test_proposal_predicates_by_status(status):
    """Exact statuses only: the old template test ``status in "draft submitted returned"`` was a substring test that
    took "", "mitted" or "draft submitted" for withdrawable."""
    proposal = Proposal(status=status)
    assert proposal.withdrawable is (status in WITHDRAWABLE)
    assert proposal.returnable is (status == "submitted")
    assert proposal.has_result is (status in {"finalist", "awarded", "not_funded"})


@pytest.mark.parametrize("status", ["draft", "submitted", "returned", "eligible", "withdrawn", "mitted", ""])
def test_withdraw_and_return_buttons_follow_the_predicates(client, competition, org_a, applicant_a, staff, status):
    proposal = factories.proposal(competition, org_a, status="draft")
    Proposal.objects.filter(pk=proposal.pk).update(status=status)  # whatever the database holds
    client.force_login(applicant_a)
    body = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert (f"/proposals/{proposal.pk}/withdraw/" in body) is (status in WITHDRAWABLE)
    client.force_login(staff)
    body = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert (f"/proposals/{proposal.pk}/return/" in body) is (status == "submitted")


def test_no_status_string_tests_in_templates():
    """``status in "..."`` in a template is a substring test; the rules live on the models."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.glob("templates/**/*.html")
        if "status in " in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


# --- Supervision: the workspace's actions come from the services' predicates ---------------------------------------


@pytest.mark.parametrize(
    ("status", "write", "review"),
    [
        ("due", True, False),
        ("changes", True, False),
        ("submitted", False, True),
        ("accepted", False, False),
        ("", False, False),
        ("du", False, False),
    ],
)
def test_report_predicates(status, write, review):
    report = ProgressReport(status=status)
    assert (report.open_to_write, report.open_to_review) == (write, review)
    assert set(ReportStatus.values) == {"due", "changes", "submitted", "accepted"}


def test_refusals_say_why_and_the_workspace_agrees(client, db):
    f = build_funded()
    project, (t1, t2, t3) = f.project, list(f.project.tranches.all())
    assert services.evaluation_refusal(project, "midterm", preconditions=False) is None
    assert services.evaluation_refusal(project, "final", preconditions=False) is None
    assert services.release_refusal(t1, project) is None
    assert services.release_refusal(t2, project) == (
        "The release condition does not hold yet: After a passed mid-term evaluation."
    )
    assert services.reinstate_refusal(project) == "A project cannot go from “In progress” to “In progress”."
    assert services.close_refusal(project) == "A project closes after a passed final evaluation."

    evaluate(f, "midterm", ["20", "10", "10"])  # failed: the project is suspended
    project.refresh_from_db()
    assert services.evaluation_refusal(project, "midterm") == (
        "The evaluation failed and the project is suspended: reinstate it once the rectification is done, then hold "
        "the re-evaluation."
    )
    assert (
        services.release_refusal(t1, project)
        == "The project is Suspended (failed evaluation); no tranche can be released."
    )
    assert services.reinstate_refusal(project) is None
    client.force_login(f.staff)
    page = client.get(f"/supervision/projects/{project.pk}/")
    assert page.context["reinstate_form"] is not None and page.context["release_forms"] == {}
    assert page.context["closeout_form"] is None
    client.force_login(f.supervisor)
    assert client.get(f"/supervision/projects/{project.pk}/").context["evaluation_kinds"] == []

    services.reinstate(project=project, by=f.staff, reason="整改到位")
    project.refresh_from_db()
    assert services.next_attempt(project, "midterm") == 2
    assert services.evaluation_refusal(project, "final") == (
        "The mid-term evaluation has not been passed yet: hold its re-evaluation first."
    )
    assert client.get(f"/supervision/projects/{project.pk}/").context["evaluation_kinds"] == [
        {"value": "midterm", "label": "Mid-term evaluation: re-evaluation"}
    ]
    evaluate(f, "midterm", ["30", "20", "20"])
    evaluate(f, "final", ["35", "25", "25"])
    project.refresh_from_db()
    assert services.evaluation_refusal(project, "final") == "This evaluation has already been passed."
    assert services.close_refusal(project) is None
    client.force_login(f.staff)
    page = client.get(f"/supervision/projects/{project.pk}/")
    assert page.context["closeout_form"] is not None and set(page.context["release_forms"]) == {t1.pk, t2.pk, t3.pk}


def test_a_failed_post_shows_the_workspace_with_the_form_errors(client, db):
    """The shared POST shape: an invalid form or the service's ValidationError → the workspace (400) with the bound
    form and its errors; success → a message and the redirect."""
    f = build_funded()
    client.force_login(f.staff)
    url = f"/supervision/projects/{f.project.pk}/reinstate/"
    r = client.post(url, {"reason": "整改到位"})  # the project is active: the service refuses
    assert r.status_code == 400
    assert r.context["reinstate_form"].non_field_errors() == [
        "A project cannot go from “In progress” to “In progress”."
    ]
    r = client.post(f"/supervision/projects/{f.project.pk}/close/", {"closeout_report": ""})
    assert r.status_code == 400 and r.context["closeout_form"].errors["closeout_report"] == ["This field is required."]
    client.force_login(f.supervisor)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/rectifications/add/",
        {"what": "补齐签到表", "deadline": "2030-01-01", "owner": "项目主管"},
        follow=True,
    )
    assert r.redirect_chain[-1][0] == f"/supervision/projects/{f.project.pk}/"
    assert "Rectification item added." in r.content.decode()


# --- Template tags never query ---------------------------------------------------------------------------------------


def test_template_tags_do_not_query():
    """No template tag module touches the ORM: views fetch what pages show (and select_related it)."""
    forbidden = {"objects", "prefetch_related_objects", "select_related", "prefetch_related", "queries"}
    for path in [*ROOT.glob("venture/**/templatetags/*.py"), *ROOT.glob("judging/**/templatetags/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not names & forbidden, (path, names & forbidden)


def test_organization_page_lists_funded_projects_in_constant_queries(client, db, django_assert_max_num_queries):
    f = build_funded()
    client.force_login(f.staff)
    url = f"/organizations/{f.project.organization_id}/"
    with django_assert_max_num_queries(12):
        body = client.get(url).content.decode()
    assert f'href="/supervision/projects/{f.project.pk}/"' in body and "¥60,000.00" in body


# --- One version -------------------------------------------------------------------------------------------------------


def test_version_is_read_from_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert app_version() == declared
    assert code_version().startswith(f"{declared}+scoring.")
