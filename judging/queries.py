"""Reads for judging pages: each a fixed number of queries whatever the size of the round."""

from typing import Any

import pandas as pd
from django.db.models import Count, FloatField, Max, Q
from django.db.models.functions import Cast

from venture.proposals.models import Proposal, ProposalStatus

from .models import Assignment, ConflictStatus, Criterion, Panel, PanelStage, RoadshowSlot, Score, SheetStatus


def criteria_frame(competition):
    rows = list(Criterion.objects.filter(competition=competition).values("pk", "code", "name", "max_points", "weight"))
    frame = pd.DataFrame(rows, columns=["pk", "code", "name", "max_points", "weight"])
    frame["max_points"] = frame["max_points"].astype(float)
    frame["weight"] = frame["weight"].astype(float)
    return frame.rename(columns={"code": "criterion"})


def score_frame(competition, stage):
    """Submitted sheets of one stage as the long frame judging.scoring expects: proposal, judge, criterion, points."""
    rows = (
        Score.objects.filter(
            sheet__assignment__panel__competition=competition,
            sheet__assignment__panel__stage=stage,
            sheet__status=SheetStatus.SUBMITTED,
            sheet__assignment__conflict__status=ConflictStatus.CLEAR,
        )
        # points cast in the database: 100,000 Decimals (a national pre-scoring) cost a quarter of a second
        .annotate(points_float=Cast("points", FloatField()))
        .values_list("sheet__assignment__proposal_id", "sheet__assignment__judge_id", "criterion__code", "points_float")
    )
    frame = pd.DataFrame(list(rows), columns=["proposal", "judge", "criterion", "points"])
    frame["points"] = frame["points"].astype(float)
    return frame


def stage_status(competition, stage):
    """The sheet counts of one stage in one aggregate query, summed in the database (the figures ``board`` gives,
    without building its proposal x judge grid): ``expected`` (assignments of the panel's judges not recused),
    ``submitted`` (of those), ``complete``; and ``fingerprint``, which changes whenever a sheet, a declaration or the
    panel changes (the panel's change token, and the sheets' count, last id and last change), so that a ranking
    computed from the stage can be kept under it (``judging.ranking.cached``)."""
    panel = Panel.objects.filter(competition=competition, stage=stage).values("pk", "board_version").first()
    if panel is None:
        return {"expected": 0, "submitted": 0, "complete": False, "fingerprint": None}
    not_recused = ~Q(conflict__status=ConflictStatus.RECUSED)
    figures = (
        Assignment.objects.filter(panel_id=panel["pk"], judge__panels=panel["pk"])
        .order_by()
        .aggregate(
            expected=Count("pk", filter=not_recused),
            submitted=Count("pk", filter=not_recused & Q(sheet__status=SheetStatus.SUBMITTED)),
            sheets=Count("sheet"),
            last_sheet=Max("sheet__pk"),
            changed=Max("sheet__updated_at"),
        )
    )
    return {
        "expected": figures["expected"],
        "submitted": figures["submitted"],
        "complete": figures["expected"] > 0 and figures["expected"] == figures["submitted"],
        "fingerprint": (
            panel["pk"],
            panel["board_version"],
            figures["sheets"],
            figures["last_sheet"],
            figures["changed"].isoformat() if figures["changed"] else None,
        ),
    }


def _cells(competition, stage):
    """Every assignment of the stage with its conflict status and sheet status, in one query."""
    return list(
        Assignment.objects.filter(panel__competition=competition, panel__stage=stage).values(
            "proposal_id", "judge_id", "conflict__status", "sheet__status"
        )
    )


# The plain values, read once: an enum member's lookup is slow beside a str comparison, and a board of 500 x 15 asks
# 7,500 times.
_RECUSED, _CLEAR = ConflictStatus.RECUSED.value, ConflictStatus.CLEAR.value
_SUBMITTED, _DRAFT = SheetStatus.SUBMITTED.value, SheetStatus.DRAFT.value


def cell_state(row):
    conflict, sheet = row["conflict__status"], row["sheet__status"]
    if conflict == _RECUSED:
        return "recused"
    if sheet == _SUBMITTED:
        return "submitted"
    if sheet == _DRAFT or conflict == _CLEAR:
        return "scoring"
    return "pending"


def board(competition, stage, order=None):
    """Live board: for each proposal (in presentation order when given) each judge's state; never a score."""
    panel = Panel.objects.filter(competition=competition, stage=stage).first()
    judges = list(panel.judges.select_related("user").order_by("user__username")) if panel else []
    cells = _cells(competition, stage)
    assigned = sorted({c["proposal_id"] for c in cells})
    # Presentation order first; any assigned proposal missing from it (added after the draw) still counts.
    proposal_ids = [p for p in (order or []) if p in set(assigned)] + [p for p in assigned if p not in set(order or [])]
    proposals = Proposal.objects.select_related("organization").in_bulk(proposal_ids)
    states = {(c["proposal_id"], c["judge_id"]): cell_state(c) for c in cells}
    rows: list[dict[str, Any]] = []
    for pid in proposal_ids:
        row_states = [states.get((pid, j.pk)) for j in judges]
        expected = [s for s in row_states if s not in (None, "recused")]
        rows.append(
            {
                "proposal": proposals.get(pid),
                "states": row_states,
                "submitted": sum(1 for s in expected if s == "submitted"),
                "expected": len(expected),
            }
        )
    total_expected = sum(r["expected"] for r in rows)
    total_submitted = sum(r["submitted"] for r in rows)
    return {
        "judges": judges,
        "rows": rows,
        "expected": total_expected,
        "submitted": total_submitted,
        "complete": total_expected > 0 and total_expected == total_submitted,
    }


def hall_rows(competition):
    """The big screen's rows in two queries, summed in the database: each proposal assigned at the final stage with
    its title, organization, roadshow position (None before the draw or when added after it) and sheet counts, the
    same figures as ``board`` gives per row (expected: not recused; submitted: of those). In roadshow order, then by
    title. (Grouped by the assignment's proposal id, title and organization name only: grouping by the proposal row
    would group by every one of its long text columns.)"""
    not_recused = ~Q(conflict__status=ConflictStatus.RECUSED)
    rows = list(
        Assignment.objects.filter(panel__competition=competition, panel__stage=PanelStage.FINAL)
        .values("proposal_id", "proposal__title", "proposal__organization__name")
        .annotate(
            expected=Count("pk", filter=not_recused),
            submitted=Count("pk", filter=not_recused & Q(sheet__status=SheetStatus.SUBMITTED)),
        )
        .order_by()
    )
    positions = dict(
        RoadshowSlot.objects.filter(roadshow__competition=competition).values_list("proposal_id", "position")
    )
    out = [
        {
            "pk": r["proposal_id"],
            "title": r["proposal__title"],
            "organization": r["proposal__organization__name"],
            "position": positions.get(r["proposal_id"]),
            "expected": r["expected"],
            "submitted": r["submitted"],
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (r["position"] is None, r["position"] or 0, r["title"], r["pk"]))


def progress(competition, stage):
    data = board(competition, stage)
    per_judge = []
    for i, judge in enumerate(data["judges"]):
        states = [r["states"][i] for r in data["rows"] if r["states"][i] is not None]
        expected = [s for s in states if s != "recused"]
        per_judge.append(
            {
                "judge": judge,
                "assigned": len(states),
                "recused": states.count("recused"),
                "submitted": expected.count("submitted"),
                "missing": len(expected) - expected.count("submitted"),
                "expected": len(expected),
            }
        )
    missing = [
        (r["proposal"], data["judges"][i])
        for r in data["rows"]
        for i, s in enumerate(r["states"])
        if s in ("pending", "scoring")
    ]
    return {"board": data, "judges": per_judge, "missing": missing}


def finalists(competition):
    return Proposal.objects.filter(competition=competition, status=ProposalStatus.FINALIST)
