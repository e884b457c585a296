"""judging/queries.py: the frames the scoring engine reads and the live board, with exact values, and a constant
number of queries whatever the size of the round."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from judging import queries
from judging.models import (
    Assignment,
    ConflictDeclaration,
    ConflictStatus,
    PanelStage,
    Score,
    ScoreSheet,
    SheetStatus,
)
from tests import factories


def fill(sheet_assignment, points, status=SheetStatus.SUBMITTED):
    """A sheet with its scores straight in the database (points in the rubric's order)."""
    sheet = ScoreSheet.objects.create(assignment=sheet_assignment, status=status, total=sum(points, Decimal(0)))
    criteria = list(sheet_assignment.panel.competition.criteria.all())
    Score.objects.bulk_create(
        [Score(sheet=sheet, criterion=c, points=p) for c, p in zip(criteria, points, strict=True)]
    )
    return sheet


P = [Decimal(x) for x in ("20", "21.5", "25", "15")]  # total 81.5


@pytest.fixture
def round_(db):
    """3 judges x 3 proposals at the final stage, every state of a cell present:

    =========  =========== =========== ===========
               judge a     judge b     judge c
    =========  =========== =========== ===========
    p1         pending     recused     draft
    p2         submitted   submitted   clear, no sheet
    p3         submitted   submitted   submitted
    =========  =========== =========== ===========

    plus a pre-scoring panel on which judge a submitted a sheet for p1 (another stage: never in the final frames).
    """
    competition = factories.competition(stage="final")
    a, b, c = (factories.judge(f"q_{x}") for x in "abc")
    p1, p2, p3 = factories.finalists(competition, 3)
    cells = factories.final_panel(competition, [c, a, b], [p1, p2, p3], pending=[(a, p1)], recused=[(b, p1)])
    fill(cells[(c.pk, p1.pk)], P, status=SheetStatus.DRAFT)
    for judge, proposal in [(a, p2), (b, p2), (a, p3), (b, p3), (c, p3)]:
        fill(cells[(judge.pk, proposal.pk)], P)
    pre = factories.final_panel(competition, [a], [p1], stage="prescoring")
    fill(pre[(a.pk, p1.pk)], [Decimal(x) for x in ("1", "2", "3", "4")])
    return competition, (a, b, c), (p1, p2, p3)


def test_criteria_frame(round_):
    competition, _judges, _props = round_
    frame = queries.criteria_frame(competition)
    assert list(frame.columns) == ["pk", "criterion", "name", "max_points", "weight"]
    assert list(frame["criterion"]) == ["targeting", "feasibility", "social_benefit", "budget"]
    assert list(frame["name"]) == ["项目定位精准性", "内容可行性", "社会效益", "资金预算"]
    assert list(frame["max_points"]) == [25.0, 25.0, 30.0, 20.0]
    assert list(frame["weight"]) == [25.0, 25.0, 30.0, 20.0]
    assert frame["max_points"].dtype == float and frame["weight"].dtype == float


def test_score_frame_holds_only_submitted_clear_sheets_of_the_stage(round_):
    competition, (a, b, c), (p1, p2, p3) = round_
    frame = queries.score_frame(competition, PanelStage.FINAL)
    assert list(frame.columns) == ["proposal", "judge", "criterion", "points"]
    cells = sorted({(p, j) for p, j in zip(frame["proposal"], frame["judge"], strict=True)})
    assert cells == sorted([(p2.pk, a.pk), (p2.pk, b.pk), (p3.pk, a.pk), (p3.pk, b.pk), (p3.pk, c.pk)])
    assert len(frame) == 5 * 4
    one = frame[(frame["proposal"] == p2.pk) & (frame["judge"] == a.pk)].set_index("criterion")["points"]
    assert one.to_dict() == {"targeting": 20.0, "feasibility": 21.5, "social_benefit": 25.0, "budget": 15.0}
    assert frame["points"].dtype == float
    pre = queries.score_frame(competition, PanelStage.PRESCORING)
    assert sorted(pre["points"]) == [1.0, 2.0, 3.0, 4.0] and set(pre["judge"]) == {a.pk}


def test_score_frame_of_an_empty_stage_is_empty_with_the_columns(db):
    frame = queries.score_frame(factories.competition(stage="final"), PanelStage.FINAL)
    assert frame.empty and list(frame.columns) == ["proposal", "judge", "criterion", "points"]


def test_score_frame_drops_a_sheet_whose_judge_later_recused(round_):
    competition, (a, _b, _c), (_p1, p2, _p3) = round_
    ConflictDeclaration.objects.filter(
        assignment__judge=a, assignment__proposal=p2, assignment__panel__stage="final"
    ).update(status=ConflictStatus.RECUSED)
    frame = queries.score_frame(competition, PanelStage.FINAL)
    assert (p2.pk, a.pk) not in set(zip(frame["proposal"], frame["judge"], strict=True))
    assert len(frame) == 4 * 4


@pytest.mark.parametrize(
    ("conflict", "sheet", "state"),
    [
        (ConflictStatus.RECUSED, None, "recused"),
        (ConflictStatus.RECUSED, SheetStatus.SUBMITTED, "recused"),
        (ConflictStatus.CLEAR, SheetStatus.SUBMITTED, "submitted"),
        (ConflictStatus.CLEAR, SheetStatus.DRAFT, "scoring"),
        (ConflictStatus.CLEAR, None, "scoring"),
        (ConflictStatus.PENDING, None, "pending"),
        (None, None, "pending"),
    ],
)
def test_cell_state(conflict, sheet, state):
    assert queries.cell_state({"conflict__status": conflict, "sheet__status": sheet}) == state


def test_board_states_counts_and_judge_order(round_):
    competition, (a, b, c), (p1, p2, p3) = round_
    data = queries.board(competition, PanelStage.FINAL)
    assert [j.pk for j in data["judges"]] == [a.pk, b.pk, c.pk]  # by username, not by the order they were added
    assert [r["proposal"].pk for r in data["rows"]] == [p1.pk, p2.pk, p3.pk]
    assert [r["states"] for r in data["rows"]] == [
        ["pending", "recused", "scoring"],
        ["submitted", "submitted", "scoring"],
        ["submitted", "submitted", "submitted"],
    ]
    assert [(r["submitted"], r["expected"]) for r in data["rows"]] == [(0, 2), (2, 3), (3, 3)]
    assert (data["submitted"], data["expected"], data["complete"]) == (5, 8, False)


def test_board_in_presentation_order_keeps_proposals_missing_from_it(round_):
    competition, _judges, (p1, p2, p3) = round_
    data = queries.board(competition, PanelStage.FINAL, order=[p3.pk, 999999, p1.pk])
    # the drawn order first (an id that is not assigned is ignored), then p2, which the draw did not include
    assert [r["proposal"].pk for r in data["rows"]] == [p3.pk, p1.pk, p2.pk]


def test_board_of_a_stage_without_panel(db):
    data = queries.board(factories.competition(stage="final"), PanelStage.FINAL)
    assert data == {"judges": [], "rows": [], "expected": 0, "submitted": 0, "complete": False}


def test_board_complete_when_every_expected_sheet_is_in(round_):
    competition, (a, _b, c), (p1, p2, _p3) = round_
    ScoreSheet.objects.filter(assignment__panel__stage="final", assignment__proposal=p1, assignment__judge=c).update(
        status=SheetStatus.SUBMITTED
    )
    fill(Assignment.objects.get(panel__stage="final", judge=c, proposal=p2), P)
    ConflictDeclaration.objects.filter(
        assignment__panel__stage="final", assignment__judge=a, assignment__proposal=p1
    ).update(status=ConflictStatus.RECUSED)
    data = queries.board(competition, PanelStage.FINAL)
    assert (data["submitted"], data["expected"], data["complete"]) == (7, 7, True)


def test_progress_per_judge_and_missing_cells(round_):
    competition, (a, b, c), (p1, p2, _p3) = round_
    data = queries.progress(competition, PanelStage.FINAL)
    assert [
        (d["judge"].pk, d["assigned"], d["recused"], d["submitted"], d["missing"], d["expected"])
        for d in data["judges"]
    ] == [(a.pk, 3, 0, 2, 1, 3), (b.pk, 3, 1, 2, 0, 2), (c.pk, 3, 0, 1, 2, 3)]
    assert [(p.pk, j.pk) for p, j in data["missing"]] == [(p1.pk, a.pk), (p1.pk, c.pk), (p2.pk, c.pk)]
    assert data["board"]["expected"] == 8


def test_finalists(round_):
    competition, _judges, (p1, p2, p3) = round_
    other = factories.competition(stage="final")
    factories.finalists(other, 2)
    factories.proposal(competition, factories.organization(), status="eligible")
    assert sorted(queries.finalists(competition).values_list("pk", flat=True)) == [p1.pk, p2.pk, p3.pk]


# --- Constant query counts ------------------------------------------------------------------------------------------


def sized_round(n_proposals, n_judges, tag):
    competition = factories.competition(stage="final")
    judges = [factories.judge(f"{tag}_{i}") for i in range(n_judges)]
    proposals = factories.finalists(competition, n_proposals)
    cells = factories.final_panel(competition, judges, proposals)
    for cell in cells.values():
        fill(cell, P)
    return competition


def count_queries(call):
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


READS = {
    "criteria_frame": (lambda c: queries.criteria_frame(c), 1),
    "score_frame": (lambda c: queries.score_frame(c, PanelStage.FINAL), 1),
    "board": (lambda c: queries.board(c, PanelStage.FINAL), 4),
    "progress": (lambda c: queries.progress(c, PanelStage.FINAL), 4),
    "finalists": (lambda c: list(queries.finalists(c)), 1),
}


@pytest.mark.parametrize("name", list(READS))
def test_reads_issue_a_constant_number_of_queries(db, name, django_assert_max_num_queries):
    read, limit = READS[name]
    small, large = sized_round(2, 2, f"s{name}"), sized_round(12, 6, f"l{name}")
    assert count_queries(lambda: read(small)) == count_queries(lambda: read(large)) == limit
    with django_assert_max_num_queries(limit):
        read(large)
