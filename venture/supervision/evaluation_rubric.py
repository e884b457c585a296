"""The mid-term and final evaluation rubrics of a round: the criteria supervisors score a funded project on
(``EvaluationCriterion``), one rubric per evaluation.

Staff edit them as steps of the round's set-up (pages in the competitions namespace, ``competitions:evaluation_*``);
the save goes through the round's shared set-up machinery (``venture.competitions.services.save_rows``). This module
also tells the round what it needs of them (registered in ``venture.competitions.setup``): a new round starts with the
default rubrics, and a round opens only with both in place.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from venture.competitions import setup
from venture.competitions.services import HUNDRED, check_unique, format_number, row_errors, save_rows

from .models import Evaluation, EvaluationCriterion, EvaluationKind, FundedProject

EVALUATION_CRITERION_FIELDS = ["name", "max_points"]

# What a round starts with (and what the page proposes for a round that has none); staff change it as they see fit.
DEFAULT_EVALUATION_RUBRIC = [
    (gettext_lazy("Goals achieved"), 30),
    (gettext_lazy("Quality of service"), 30),
    (gettext_lazy("Use of funds"), 20),
    (gettext_lazy("Project management"), 20),
]


def default_evaluation_rubric():
    """The default rubric as rows for ``save_evaluation_rubric``, named in the active language."""
    return [
        {"id": None, "name": str(name), "max_points": Decimal(points)} for name, points in DEFAULT_EVALUATION_RUBRIC
    ]


def evaluation_rubric_locked(competition, kind):
    """A rubric is fixed once a project of the round has been evaluated on it: an evaluation's points are kept per
    criterion, and the pass mark is compared with totals scaled by the rubric."""
    return Evaluation.objects.filter(project__competition=competition, kind=kind).exists()


def locked_evaluation_kinds(competition):
    return set(Evaluation.objects.filter(project__competition=competition).values_list("kind", flat=True).distinct())


def evaluation_rubric_locked_message(kind):
    return _(
        "The rubric of the “%(evaluation)s” is locked because a project of this round has been evaluated; it "
        "can no longer be changed."
    ) % {"evaluation": EvaluationKind(kind).label}


def check_evaluation_criterion(row):
    """Rules for one evaluation criterion; raises ValidationError keyed by field."""
    if row.get("max_points") is not None and row["max_points"] <= 0:
        raise ValidationError({"max_points": [_("The maximum points must be more than zero.")]})


def check_evaluation_rubric(rows):
    """Rules for an evaluation rubric as a whole: at least one criterion, each with a name and maximum points more
    than zero, names unique, maximum points adding up to exactly 100."""
    rows = [
        {
            "id": row.get("id"),
            "name": (row.get("name") or "").strip(),
            "max_points": Decimal(str(row["max_points"])) if row.get("max_points") is not None else None,
        }
        for row in rows
    ]
    if not rows:
        raise ValidationError(_("The rubric needs at least one criterion."), code="empty")
    errors = []
    for row in rows:
        if not row["name"] or row["max_points"] is None:
            raise ValidationError(_("Every criterion needs a name and maximum points."), code="required")
        try:
            check_evaluation_criterion(row)
        except ValidationError as exc:
            errors += row_errors(row["name"], exc)
    if errors:
        raise ValidationError(errors)
    check_unique(rows, "name", _("The criterion “%(value)s” is listed twice."))
    total = sum((row["max_points"] for row in rows), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The maximum points add up to %(total)s; they must add up to exactly 100.")
            % {"total": format_number(total)},
            code="total",
        )
    return rows


def save_evaluation_rubric(*, competition, kind, by, criteria):
    """Replace the round's rubric for the ``kind`` evaluation ([{"id"?, "name", "max_points"}], in display order;
    maximum points add up to 100). Refused once a project of the round has been evaluated on it."""
    kind = EvaluationKind(kind)

    def check(competition, rows, current):
        # ``evaluate`` locks the project before it reads the rubric: holding the round's projects here means an
        # evaluation either comes first (and is seen below) or waits until the new rubric is in place.
        list(FundedProject.objects.select_for_update().filter(competition=competition).values_list("pk", flat=True))
        if evaluation_rubric_locked(competition, kind):
            raise ValidationError(evaluation_rubric_locked_message(kind), code="locked")
        return check_evaluation_rubric(rows)

    return save_rows(
        competition=competition,
        by=by,
        model=EvaluationCriterion,
        rows=criteria,
        check=check,
        fields=EVALUATION_CRITERION_FIELDS,
        audited=["id", "order", *EVALUATION_CRITERION_FIELDS],
        scope={"kind": kind},
        action="competition.evaluation_rubric",
        audit_key="criteria",
        audit_extra={"kind": kind.value},
    )


# --- What the round needs to know about its evaluation rubrics -------------------------------------------------------


def create_default_rubrics(competition):
    """A new round starts with the default rubric for each evaluation; returns what the creation's audit records."""
    rows = [{field: row[field] for field in EVALUATION_CRITERION_FIELDS} for row in default_evaluation_rubric()]
    EvaluationCriterion.objects.bulk_create(
        [
            EvaluationCriterion(competition=competition, kind=kind, order=order, **row)
            for kind in EvaluationKind
            for order, row in enumerate(rows)
        ]
    )
    return {"evaluation_rubric": {kind.value: rows for kind in EvaluationKind}}


def opening_problems(competition):
    with_rubric = set(EvaluationCriterion.objects.filter(competition=competition).values_list("kind", flat=True))
    return [
        _("Set up the rubric of the “%(evaluation)s”.") % {"evaluation": kind.label}
        for kind in EvaluationKind
        if kind not in with_rubric
    ]


def copy_rubrics(source, competition):
    """A round copied from ``source`` gets its mid-term and final evaluation rubrics (the defaults for a kind the
    source has none of)."""
    criteria = list(EvaluationCriterion.objects.filter(competition=source))
    kinds = {c.kind for c in criteria}
    defaults = [{field: row[field] for field in EVALUATION_CRITERION_FIELDS} for row in default_evaluation_rubric()]
    copies = [
        EvaluationCriterion(competition=competition, kind=c.kind, order=c.order, name=c.name, max_points=c.max_points)
        for c in criteria
    ] + [
        EvaluationCriterion(competition=competition, kind=kind, order=order, **row)
        for kind in EvaluationKind
        if kind not in kinds
        for order, row in enumerate(defaults)
    ]
    EvaluationCriterion.objects.bulk_create(copies)
    return {
        "evaluation_rubric": {
            kind.value: [{"name": c.name, "max_points": c.max_points} for c in copies if c.kind == kind]
            for kind in EvaluationKind
        }
    }


setup.register(
    setup.SetupPart(
        name="evaluation_rubric",
        order=60,
        on_create=create_default_rubrics,
        on_copy=copy_rubrics,
        opening_problems=opening_problems,
    )
)
