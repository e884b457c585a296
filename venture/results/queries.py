"""Read side of the results: what the results page, the verify page, the results report and the finalists page show.

Everything about a frozen round comes from the snapshot's stored ``outputs``: nothing is recomputed per request, and a
page costs the same fixed number of queries whatever the size of the round (proposals and judges are fetched once
each). The finalists page ranks the pre-scoring through ``judging.ranking`` (the judging app computes every ranking).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from judging import ranking as judging_ranking
from judging import scoring
from judging.models import Judge, PanelStage, ScoreSheet, SheetStatus
from judging.queries import board
from judging.ranking import decided_label
from venture import charts
from venture.competitions.models import AggregationMethod, Stage
from venture.proposals.models import Proposal, ProposalStatus
from venture.screening.models import FinalistDecision

from .models import ResultSnapshot

STRIP_PLOT_LIMIT = 30  # rows in the strip plot of judges' totals
SENSITIVITY_ALL_BELOW = 30  # up to this many proposals the sensitivity table lists them all
METHOD_LABELS = {
    "mean": AggregationMethod.MEAN.label,
    "median": AggregationMethod.MEDIAN.label,
    "trimmed_mean": AggregationMethod.TRIMMED_MEAN.label,
    "zscore": gettext_lazy("z-score (each judge's scores standardized)"),
}


def shown_snapshot(competition):
    """The valid snapshot, as services.current_snapshot, for display only: without the sealed inputs (30,000 score
    rows in a 500-proposal round, a third of the page's time to decode) and with the users it names."""
    return (
        ResultSnapshot.objects.filter(competition=competition, valid=True)
        .defer("inputs")
        .select_related("created_by", "signed_off_by")
        .first()
    )


def last_invalidated(competition):
    """The most recent invalidated snapshot (what the page says when an unlock reopened the round), or None."""
    return (
        ResultSnapshot.objects.filter(competition=competition, valid=False)
        .only("digest", "created_at", "invalidated_at", "invalidated_reason")
        .first()
    )


# --- Presentation of a snapshot (shared by the page and the report) ----------------------------------------------


def _f2(x):
    return "" if x is None else f"{x:.2f}"


def _signed(x):
    return "" if x is None else f"{x:+.2f}"


def _pct(x):
    return "" if x is None else f"{x * 100:.0f}%"


def method_in_words(method, trim):
    """The ranking method as a sentence; docs/scoring.md (section 3) requires saying that the trim applies to the totals."""
    if method == AggregationMethod.TRIMMED_MEAN:
        return _(
            "Trimmed mean of the judges' totals: each judge's total for a project is the weighted sum of their points "
            "on the criteria (0–100); for each project the %(trim)s highest and %(trim)s lowest totals are dropped "
            "and the remaining totals are averaged. The trim applies to each judge's TOTAL, not to each criterion "
            "separately, so the per-criterion averages (plain means over all judges) need not add up to the score."
        ) % {"trim": trim}
    if method == AggregationMethod.MEDIAN:
        return _(
            "Median of the judges' totals: each judge's total for a project is the weighted sum of their points "
            "on the criteria (0–100); the project's score is the middle total."
        )
    return _(
        "Mean of the judges' totals: each judge's total for a project is the weighted sum of their points on "
        "the criteria (0–100); the project's score is the plain mean over the judges who scored it (a recused "
        "judge is left out, not counted as zero)."
    )


def tiebreak_in_words(chain, names):
    steps = []
    for rule in chain:
        code = f"criterion:{rule[1]}" if isinstance(rule, list | tuple) else rule
        steps.append(decided_label(code, names))
    steps.append(_("Tie (chair decides)"))
    return steps


def rule_labels(names):
    """A function from a tie-break rule code to its words, each translated once per request."""
    labels = {}

    def label(code):
        if code not in labels:
            labels[code] = decided_label(code, names) if code else ""
        return labels[code]

    return label


def ranked_proposals(ranking):
    """{pk: Proposal} of the ranked proposals with their organization and category: one query."""
    return (
        Proposal.objects.select_related("organization", "category")
        .only("id", "title", "organization__name", "category__name")
        .in_bulk([r["proposal"] for r in ranking])
    )


def judge_names(judge_ids):
    """A function from a judge's pk to the name shown (``#pk`` for a judge no longer there): one query."""
    judges = Judge.objects.select_related("user").in_bulk(judge_ids)

    def name(pk):
        judge = judges.get(pk)
        return judge.user.display_name if judge else f"#{pk}"

    return name


def ranking_rows(ranking, criteria, proposals, label):
    """The ranking table, one row per project in rank order, as plain strings: the template then renders 500 rows
    without per-value localization."""
    behind, tied = _("behind the previous on: %(rule)s"), _("tied with the previous")
    interval, single = _("rank %(lo)s–%(hi)s"), _("rank %(rank)s")
    rows = []
    for r in ranking:
        proposal = proposals.get(r["proposal"])
        prev = r.get("decided_by_prev")
        rows.append(
            {
                "pk": r["proposal"],
                "rank": str(r["rank"]),
                "title": proposal.title if proposal else f"#{r['proposal']}",
                "organization": proposal.organization.name if proposal else "",
                "category": proposal.category.name if proposal and proposal.category_id else "—",
                "score": _f2(r["score"]),
                "mean": _f2(r["mean"]),
                "median": _f2(r["median"]),
                "n": str(r["n_judges"]),
                "decided_by": label(r["decided_by"]),
                # "behind the previous on …" only when a tie-break (not the score itself) separated the two
                "decided_prev": (
                    tied if prev == "tie" else behind % {"rule": label(prev)} if prev and prev != "score" else ""
                ),
                "p_top_k": _pct(r["p_top_k"]),
                "p_rank1": _pct(r["p_rank1"]),
                "interval": (
                    single % {"rank": r["rank_lo"]}
                    if r["rank_lo"] == r["rank_hi"]
                    else interval % {"lo": r["rank_lo"], "hi": r["rank_hi"]}
                ),
                "criteria": [_f2(r["criteria"].get(c.code)) for c in criteria],
                "ranks": [r["sensitivity"].get(m) for m in scoring.SENSITIVITY_METHODS],
                "top_k_changes": r["top_k_changes"],
            }
        )
    return rows


def sensitivity_rows(rows, top_k):
    """The rows of the "would another method change the result?" table: all of them in a small round, else the
    projects in the top K under at least one method (the only ones a method could move in or out)."""
    if len(rows) <= SENSITIVITY_ALL_BELOW:
        return rows
    return [row for row in rows if min(v for v in row["ranks"] if v is not None) <= top_k]


def judge_rows(judges, name):
    return [
        {
            "name": name(j["judge"]),
            "count": int(j["count"] or 0),
            "mean": _f2(j["mean"]),
            "sd": _f2(j["sd"]),
            "leniency": _signed(j["leniency"]),
            "share_trimmed": _pct(j["share_trimmed"]),
            "outliers": int(j["outliers"] or 0),
        }
        for j in judges
    ]


def totals_strip_plot(rows, ranking, limit):
    """Each of the first ``limit`` projects' judges' totals as dots, its score as a bar."""
    shown = list(zip(rows, ranking[:limit], strict=False))
    return charts.strip_plot(
        {f"{row['rank']}. {row['title']}": [t for _j, t in r["totals"]] for row, r in shown},
        marks={f"{row['rank']}. {row['title']}": r["score"] for row, r in shown},
        title=_("Judges' totals per project (bar: the score)"),
    )


def leniency_chart(judges, name):
    return charts.bar_chart(
        [(name(j["judge"]), j["leniency"]) for j in judges],
        title=_("Judge leniency (points above or below the other judges)"),
        value_format=_signed,
    )


def results_data(competition, snapshot, *, strip_limit=STRIP_PLOT_LIMIT):
    """The ranking, diagnostics and charts of a snapshot, ready for a template. Three queries: criteria, proposals
    (with organization and category), judges (with their user)."""
    outputs = snapshot.outputs
    criteria = list(competition.criteria.all())
    names = {c.code: c.name for c in criteria}
    ranking, judges, top_k = outputs["ranking"], outputs["judges"], outputs["top_k"]
    rows = ranking_rows(ranking, criteria, ranked_proposals(ranking), rule_labels(names))
    judge_ids = [j["judge"] for j in judges]
    name = judge_names(judge_ids)
    sensitivity = sensitivity_rows(rows, top_k)
    icc = outputs.get("icc")
    return {
        "criteria": criteria,
        "rows": rows,
        "n": len(rows),
        "top_k": top_k,
        "n_boot": outputs.get("n_boot"),
        "kendall_w": _f2(outputs.get("kendall_w")),
        "alpha": _f2(outputs.get("krippendorff_alpha")),
        "icc": [(k, _f2(v)) for k, v in icc.items()] if icc else None,
        "judges": judge_rows(judges, name),
        "judge_choices": sorted(((pk, name(pk)) for pk in judge_ids), key=lambda item: item[1]),
        "sensitivity": sensitivity,
        "sensitivity_all": sensitivity is rows,
        "sensitivity_methods": [METHOD_LABELS[m] for m in scoring.SENSITIVITY_METHODS],
        "strip_plot": totals_strip_plot(rows, ranking, strip_limit),
        "strip_limited": len(rows) > strip_limit,
        "strip_limit": strip_limit,
        "leniency_chart": leniency_chart(judges, name),
        "method_words": method_in_words(snapshot.method, snapshot.params.get("trim", 1)),
        "tiebreak_steps": tiebreak_in_words(snapshot.params.get("tiebreak", []), names),
    }


def unlock_picker(competition, data, *, proposal_id=None, judge_id=None):
    """Step one of an audited unlock: the projects and judges to choose from and, once both are chosen, the sealed
    sheet to unlock (step two confirms it with a reason)."""
    picker = {
        "proposals": [(r["pk"], r["title"]) for r in data["rows"]],
        "judges": data["judge_choices"],
        "sheet": None,
        "error": "",
        "chosen": (None, None),
    }
    if proposal_id is not None and judge_id is not None:
        picker["chosen"] = (proposal_id, judge_id)
        picker["sheet"] = (
            ScoreSheet.objects.select_related("assignment__proposal", "assignment__judge__user")
            .filter(
                assignment__panel__competition=competition,
                assignment__panel__stage=PanelStage.FINAL,
                assignment__proposal_id=proposal_id,
                assignment__judge_id=judge_id,
                status=SheetStatus.SUBMITTED,
            )
            .first()
        )
        if picker["sheet"] is None:
            picker["error"] = _("That judge has no sealed sheet for that project.")
    return picker


def results_page(competition, *, may_unlock=False, unlock_choice=(None, None)):
    """The results page: before the freeze, the sheets in so far (a few queries, no scoring) and the last
    invalidated snapshot if any; after it, the frozen ranking with its diagnostics and, for who may unlock a sheet,
    the unlock picker (``unlock_choice``: the (proposal pk, judge pk) chosen so far)."""
    snapshot = shown_snapshot(competition)
    page = {"competition": competition, "snapshot": snapshot, "stage": Stage(competition.stage)}
    if snapshot is None:
        page["invalidated"] = last_invalidated(competition)
        if competition.stage == Stage.FINAL:
            status = board(competition, PanelStage.FINAL)
            page["sheets"] = {k: status[k] for k in ("expected", "submitted", "complete")}
        return page
    page.update(results_data(competition, snapshot))
    page["signed_off_by"] = snapshot.signed_off_by
    if may_unlock:
        proposal_id, judge_id = unlock_choice
        page["unlock"] = unlock_picker(competition, page, proposal_id=proposal_id, judge_id=judge_id)
    return page


def verify_rows(checks):
    """The checks of services.verify as (what was checked, held) in the order the page and the auditor read them."""
    labels = [
        (
            "sheets_unchanged",
            _("The sealed score sheets in the database are unchanged since the freeze")
            if checks.get("legacy")
            else _(
                "The sealed score sheets, rubric, money settings and requested amounts in "
                "the database are unchanged since the freeze"
            ),
        ),
        ("stored_inputs_intact", _("The stored inputs still match the digest")),
        ("ranking_reproduced", _("The ranking is reproduced from the stored inputs")),
        (
            "outputs_reproduced",
            _(
                "Every published output (scores, decided-by, top-k, probabilities, sensitivity, "
                "diagnostics) is reproduced from the stored inputs"
            ),
        ),
        ("code_version_same", _("The scoring code version is the same as at the freeze")),
    ]
    if checks.get("legacy"):  # its top-k read the round's settings live: not part of its verdict (services.verify)
        labels.remove(labels[3])
    return [(label, checks[key]) for key, label in labels]


# --- The finalists decision: the results of pre-scoring ----------------------------------------------------------

S = ProposalStatus
FINALIST_POOL = (S.ELIGIBLE, S.FINALIST, S.NOT_SELECTED)


def finalist_candidates(competition):
    """The proposals the finalists are chosen from (eligible, finalist, not selected) with the pre-scoring ranking:
    the additive judge-effect model's rank and adjusted score, the raw mean and its rank beside them; the pre-scored
    in rank order, then the eligible proposals nobody pre-scored, by title.

    Returns ``rows`` ({"proposal", "rank", "score", "mean", "mean_rank", "n"}), ``source`` (what the ranking is,
    recorded with the decision) and ``error`` (why there is no ranking, or None)."""
    pool = list(
        Proposal.objects.filter(competition=competition, status__in=FINALIST_POOL).select_related(
            "organization", "category"
        )
    )
    by_pk = {p.pk: p for p in pool}
    rows, error, source = [], None, _("Staff selection without pre-scoring")
    try:
        result = judging_ranking.compute(competition, PanelStage.PRESCORING)
        for pid, row in result.table.iterrows():
            if pid in by_pk:
                rows.append(
                    {
                        "proposal": by_pk.pop(pid),
                        "rank": int(row["rank"]),
                        "score": row["score"],
                        "mean": row["mean"],
                        "mean_rank": int(row["mean_rank"]),
                        "n": int(row["n_judges"]),
                    }
                )
        source = _("Pre-scoring ranking (additive judge-effect model)")
    except ValueError as exc:  # no sheets yet, or a design the model cannot rank (scoring.DisconnectedDesign)
        error = str(exc)
    for p in sorted(by_pk.values(), key=lambda p: p.title):  # eligible but not pre-scored
        rows.append({"proposal": p, "rank": None, "score": None, "mean": None, "mean_rank": None, "n": 0})
    return {"rows": rows, "source": source, "error": error}


def ranking_record(rows):
    """The ranking as the finalist decision records it: proposal pk, rank and score to 2 decimals."""
    return [
        {
            "proposal": r["proposal"].pk,
            "rank": r["rank"],
            "score": None if r["score"] is None else round(float(r["score"]), 2),
        }
        for r in rows
    ]


def finalists_page(competition):
    """The finalists page: the candidates, the quota, the boxes ticked to start with (the current finalists, else
    the ranks within the quota) and the last recorded decisions."""
    candidates = finalist_candidates(competition)
    rows, quota = candidates["rows"], competition.finalist_quota
    preselected = {r["proposal"].pk for r in rows if r["proposal"].status == S.FINALIST}
    if not preselected:
        preselected = {r["proposal"].pk for r in rows if r["rank"] is not None and r["rank"] <= quota}
    return {
        "competition": competition,
        **candidates,
        "quota": quota,
        "preselected": preselected,
        "decisions": FinalistDecision.objects.filter(competition=competition).select_related("decided_by")[:5],
    }
