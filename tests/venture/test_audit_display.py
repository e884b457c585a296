"""The audit trail as people read it: a label per action in the UI language (the code kept small beside it), and
changes as "field: before → after" lines with verbose names, choice labels and money through venture.money.

``test_every_recorded_action_has_a_label`` reads the source with ``ast``: every ``action=`` given to a call (the
audit ``record`` and the helpers that pass it on) must have a label; an action built from a status (an f-string) must
be one of the families listed here with the statuses it can take, so a new family fails until it is listed."""

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import translation

from judging.models import ConflictStatus
from judging.services import TIMER_ACTIONS
from tests import factories
from venture.audit import actions, display
from venture.audit.models import AuditEvent
from venture.audit.services import record
from venture.awards.models import ObjectionStatus
from venture.organizations.models import OrgStatus
from venture.proposals.models import ProposalStatus
from venture.screening import services as screening
from venture.screening.models import ChecklistItem
from venture.supervision.models import EvaluationKind, ProjectStatus, ReportStatus, RevisionKind

ROOT = Path(__file__).resolve().parent.parent.parent

# f-string actions in the source -> every action they can produce.
FAMILIES = {
    "f'proposal.{to}'": [f"proposal.{s}" for s in ProposalStatus.values],
    "f'organization.{to}'": [f"organization.{s}" for s in OrgStatus.values],
    "f'report.{to}'": [f"report.{s}" for s in ReportStatus.values],
    "f'project.{to}'": [f"project.{s}" for s in ProjectStatus.values],
    "f'project.revise.{kind}'": [f"project.revise.{k}" for k in RevisionKind.values],
    "f'evaluation.{kind}'": [f"evaluation.{k}" for k in EvaluationKind.values],
    "f'objection.{objection.status}'": [f"objection.{s}" for s in ObjectionStatus.values],
    "f'conflict.{to}'": [f"conflict.{s}" for s in ConflictStatus.values],
    "f'roadshow.{action}'": [f"roadshow.{a}" for a in TIMER_ACTIONS],
    "f\"rectification.{('close' if close else 'reopen')}\"": ["rectification.close", "rectification.reopen"],
}
# ``action=NAME`` where NAME is not a constant of the module: why its values are covered anyway.
PASSED_ON = {
    "action": "a parameter passed on (save_rows, _transition) or a loop over literal (action, …) tuples whose "
    "actions the same module or its callers give as constants, collected here as well",
}


def _constants(tree):
    """Module-level and local string assignments NAME = "a.b" and NAME: type = "a.b"."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, set()).add(node.value.value)
    return found


def recorded_actions():
    """(actions, unknown): every action code the source can record, and the expressions it could not resolve."""
    codes, unknown = set(), []
    module_constants = {}
    trees = {}
    for package in ("venture", "judging"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            trees[path] = ast.parse(path.read_text(encoding="utf-8"))
            for name, values in _constants(trees[path]).items():
                module_constants.setdefault(name, set()).update(values)

    def resolve(expr, path, constants):
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            codes.add(expr.value)
        elif isinstance(expr, ast.IfExp):
            resolve(expr.body, path, constants)
            resolve(expr.orelse, path, constants)
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                resolve(value, path, constants)
        elif isinstance(expr, ast.JoinedStr):
            source = ast.unparse(expr)
            if source in FAMILIES:
                codes.update(FAMILIES[source])
            else:
                unknown.append(f"{path.relative_to(ROOT)}: {source}")
        elif isinstance(expr, ast.Name) and expr.id in constants:
            codes.update(constants[expr.id])
        elif isinstance(expr, ast.Name) and expr.id in PASSED_ON:
            pass
        elif isinstance(expr, ast.Attribute) and expr.attr in module_constants:
            codes.update(module_constants[expr.attr])
        else:
            unknown.append(f"{path.relative_to(ROOT)}: {ast.unparse(expr)}")

    for path, tree in trees.items():
        constants = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in ("add_argument", "filter", "exclude", "control_timer", "AuditEvent"):
                    continue  # argparse's action=, queries on the action column, the timer's own verb
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        resolve(keyword.value, path, constants)
    return codes, unknown


def test_every_recorded_action_has_a_label():
    codes, unknown = recorded_actions()
    assert unknown == []
    assert len(codes) > 100
    assert sorted(code for code in codes if actions.label(code) is None) == []
    # Spot checks that the collector reaches each kind of expression.
    assert {
        "screening.checks",
        "sheet.submit",
        "roadshow.redraw",
        "notice.republish",
        "ledger.duplicate_invoice",
    } <= codes
    assert {"proposal.submitted", "organization.resubmit", "rectification.reopen", "evaluation.final"} <= codes


def test_no_label_is_left_for_an_action_that_is_never_recorded():
    codes, _unknown = recorded_actions()
    assert sorted(set(actions.LABELS) - codes) == []


def test_every_label_is_translated():
    def shown(language):
        with translation.override(language):
            return {code: str(text) for code, text in actions.LABELS.items()}

    chinese, english = shown("zh-hans"), shown("en")
    assert sorted(code for code in actions.LABELS if chinese[code] == english[code]) == []


def test_the_labels_follow_the_ui_language():
    with translation.override("zh-hans"):
        assert display.action_label("screening.checks") == "记录资格审查结果"
        assert display.action_label("proposal.submitted") == "提交申报"
        assert display.action_label("made.up") == "made.up"
    with translation.override("en"):
        assert display.action_label("screening.checks") == "Eligibility checks recorded"


@pytest.mark.django_db
def test_changes_read_as_field_before_after_with_verbose_names_choices_and_money(staff):
    c = factories.competition(stage="screening")
    proposal = factories.proposal(c, factories.organization(), status="submitted", title="关爱快递小哥")
    event = record(
        actor=staff,
        action="proposal.eligible",
        obj=proposal,
        before={"status": "submitted", "requested_amount": "100000.00", "reason": ""},
        after={"status": "eligible", "requested_amount": "-2500.5", "reason": ""},
    )
    with translation.override("zh-hans"):
        assert display.changes(event) == [
            display.Change(field="状态", before="已提交", after="初审通过"),
            display.Change(field="申请资助金额", before="¥100,000.00", after="-¥2,500.50"),
        ]
    with translation.override("en"):
        assert display.changes(event) == [
            display.Change(field="Status", before="Submitted", after="Passed preliminary review"),
            display.Change(field="Requested amount", before="¥100,000.00", after="-¥2,500.50"),
        ]
    created = record(actor=staff, action="award.offer_next", obj=proposal, after={"amount": "80000", "rank": 7})
    with translation.override("zh-hans"):
        assert display.changes(created) == [
            display.Change(field="金额", before=None, after="¥80,000.00"),
            display.Change(field="名次", before=None, after="7"),
        ]


@pytest.mark.django_db
def test_the_audit_page_shows_labels_codes_and_readable_changes(client, staff):
    c = factories.competition(stage="screening")
    item = ChecklistItem.objects.create(competition=c, text="材料齐全", order=0)
    proposal = factories.proposal(c, factories.organization(), status="submitted", title="关爱快递小哥")
    screening.record_checks(proposal=proposal, results={item: (False, "缺少登记证书")}, by=staff)
    screening.record_checks(proposal=proposal, results={item: (True, "已补交")}, by=staff)
    client.force_login(staff)
    with translation.override("zh-hans"):
        html = client.get("/audit/?action=screening.checks").content.decode()
    assert (
        '<td class="audit-action">记录资格审查结果<br><code class="small text-muted" title="动作代码">'
        "screening.checks</code></td>" in html
    )
    assert (
        '<div><span class="fw-semibold">材料齐全</span>：通过：否；备注：缺少登记证书 → 通过：是；备注：已补交</div>'
        in html
    )
    assert '<div><span class="fw-semibold">材料齐全</span>：通过：否；备注：缺少登记证书</div>' in html
    assert "{&#x27;" not in html and "{'passed'" not in html  # no raw Python dicts
    assert AuditEvent.objects.filter(action="screening.checks").count() == 2


@pytest.mark.django_db
def test_the_audit_page_keeps_a_constant_number_of_queries(client, staff, django_assert_max_num_queries):
    c = factories.competition(stage="screening")
    for n in range(40):
        p = factories.proposal(c, factories.organization(), status="submitted", title=f"项目{n}")
        record(
            actor=staff, action="proposal.eligible", obj=p, before={"status": "submitted"}, after={"status": "eligible"}
        )
    client.force_login(staff)
    with django_assert_max_num_queries(12):
        assert client.get("/audit/").status_code == 200


def test_an_evaluations_total_is_points_and_a_tranches_remainder_is_money(settings):
    """Seen in the manual's picture of the audit log: an evaluation's total showed as ¥89.00, a tranche's remainder
    as a bare 0.00."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        evaluation = SimpleNamespace(
            action="evaluation.final", object_type="", before=None, after={"total": "89.00", "attempt": 1}
        )
        tranche = SimpleNamespace(
            action="tranche.release", object_type="", before=None, after={"tranche": 3, "remaining": "0.00"}
        )
        assert [(c.field, c.after) for c in display.changes(evaluation)] == [("Total", "89.00"), ("Attempt", "1")]
        assert [(c.field, c.after) for c in display.changes(tranche)] == [("Tranche", "3"), ("Remaining", "¥0.00")]


def test_an_events_lines_read_the_same_whatever_order_the_database_gives_its_keys(settings):
    """PostgreSQL's jsonb returns keys by length, SQLite as written: the audit page reads in one deliberate order
    (the changed thing and its status, then the model's fields as declared, then the other keys)."""
    settings.LANGUAGE_CODE = "en"
    written = {"tranche": 2, "amount": "5000.00", "voucher": "PZ-7", "on": "2026-11-06", "remaining": "0.00"}
    by_length = dict(sorted(written.items(), key=lambda kv: (len(kv[0]), kv[0])))
    assert list(by_length) != list(written)
    with translation.override("en"):
        lines = [
            [
                (c.field, c.after)
                for c in display.changes(
                    SimpleNamespace(action="tranche.release", object_type="", before=None, after=after)
                )
            ]
            for after in (written, by_length)
        ]
        proposal = [
            [
                c.field
                for c in display.changes(
                    SimpleNamespace(
                        action="screening.decide",
                        object_type="proposals.proposal",
                        before={"status": "submitted", "requested_amount": "1.00", "title": "a"},
                        after=after,
                    )
                )
            ]
            for after in (
                {"title": "b", "requested_amount": "2.00", "status": "eligible"},
                {"status": "eligible", "title": "b", "requested_amount": "2.00"},
            )
        ]
    assert (
        lines[0]
        == lines[1]
        == [
            ("Tranche", "2"),
            ("Voucher number", "PZ-7"),
            ("Amount", "¥5,000.00"),
            ("Date", "2026-11-06"),
            ("Remaining", "¥0.00"),
        ]
    )
    assert proposal[0] == proposal[1] == ["Status", "Project title", "Requested amount"]
