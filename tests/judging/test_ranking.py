"""The ranking pipeline: scoring.rank_round (pure) and judging/ranking.py (from sealed sheets to a Ranking), and the
regression for issue #14: the provisional ranking, the finalists decision and the frozen results rank a round the
same way, because they all call scoring.rank_round.

The round used throughout ("the design round") is built so that the criterion tie-break decides between two
proposals and gives a different answer under the plain mean of the criterion than under the round's own method:

* rubric 25/25/30/20 (max points = weight, so a total is the sum of the points), tie-break criterion social_benefit;
* judges J1..J5; J5 is recused from A;
* totals: A 80 from J1..J4; B 80, C 75, D 85 from all five - exactly additive with no judge effect, so A and B tie
  on the score under every method (z-score: 0 and 0);
* social_benefit points: J1..J4 give A 22, B 23, C 20, D 26; J5 (harsh on this criterion) gives B 13, C 10, D 16.

On social_benefit, the mean puts A ahead (22 against (4 x 23 + 13) / 5 = 21), while the same aggregate as the
score puts B ahead: median 23 > 22, trimmed mean 23 > 22, z-score 0.09 > -0.35 (J1..J4 z-scores of 22 and 23 in
(22, 23, 20, 26) are -0.35 and 0.12; J5's 13 in (13, 10, 16) is 0), additive 21 > 20 (the judge-effect model
removes J5's -8 from B, and A never met J5).
Before the fix the provisional ranking used the mean of the criterion for zscore and additive while the frozen
results used the method itself: A second on the provisional page, B second in the frozen results.
"""

from decimal import Decimal

import pandas as pd
import pytest
from django.utils import translation

from judging import ranking, scoring
from judging import services as judging_services
from judging.models import PanelStage
from tests import factories
from venture.results import services as awards

CRITERIA = pd.DataFrame(
    {
        "criterion": ["targeting", "feasibility", "social_benefit", "budget"],
        "max_points": [25.0, 25.0, 30.0, 20.0],
        "weight": [25.0, 25.0, 30.0, 20.0],
    }
)
CHAIN = ["score", ("criterion", "social_benefit"), "head_to_head", "first_places", "untrimmed_mean"]

# proposal -> judge -> points (targeting, feasibility, social_benefit, budget); J5 recused from A.
DESIGN = {
    "A": {j: (19, 20, 22, 19) for j in ("J1", "J2", "J3", "J4")},
    "B": {**{j: (19, 19, 23, 19) for j in ("J1", "J2", "J3", "J4")}, "J5": (23, 24, 13, 20)},
    "C": {**{j: (18, 19, 20, 18) for j in ("J1", "J2", "J3", "J4")}, "J5": (22, 23, 10, 20)},
    "D": {**{j: (20, 20, 26, 19) for j in ("J1", "J2", "J3", "J4")}, "J5": (24, 25, 16, 20)},
}
# Under every method: D first, C last, and B ahead of A on the same aggregate of social_benefit, except under the
# plain mean, where the criterion's mean puts A ahead.
EXPECTED_ORDER = {
    "mean": ["D", "A", "B", "C"],
    "median": ["D", "B", "A", "C"],
    "trimmed_mean": ["D", "B", "A", "C"],
    "zscore": ["D", "B", "A", "C"],
    "additive": ["D", "B", "A", "C"],
}
DECIDED_BY = ["score", "criterion:social_benefit", "score", "score"]


def design_scores():
    rows = [
        (p, j, c, float(v))
        for p, sheets in DESIGN.items()
        for j, points in sheets.items()
        for c, v in zip(CRITERIA["criterion"], points, strict=True)
    ]
    return pd.DataFrame(rows, columns=["proposal", "judge", "criterion", "points"])


def summary(table):
    return [(p, int(r), d) for p, r, d in zip(table.index, table["rank"], table["decided_by"], strict=True)]


# --- scoring.rank_round (no database) -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", scoring.METHODS)
def test_rank_round_breaks_the_score_tie_on_the_same_aggregate_of_the_criterion(method):
    result = scoring.rank_round(design_scores(), CRITERIA, method=method, trim=1, tiebreak=CHAIN)
    assert list(result.table.index) == EXPECTED_ORDER[method]
    assert list(result.table["rank"]) == [1, 2, 3, 4]
    assert list(result.table["decided_by"]) == DECIDED_BY
    assert list(result.table["decided_by_prev"].iloc[1:]) == ["score", "criterion:social_benefit", "score"]
    assert result.method == method and result.trim == 1
    assert result.tiebreak == ["score", "criterion:social_benefit", "head_to_head", "first_places", "untrimmed_mean"]


def test_rank_round_scores_and_columns_by_hand():
    result = scoring.rank_round(design_scores(), CRITERIA, method="zscore", trim=1, tiebreak=CHAIN)
    table = result.table
    # J1..J4 see (80, 80, 75, 85): z = 0, 0, -1.414, 1.414; J5 sees (80, 75, 85): z = 0, -1.225, 1.225.
    # D: (4 x 1.4142 + 1.2247) / 5 = 1.3763.
    assert table["score"].round(4).to_dict() == {"D": 1.3763, "B": 0.0, "A": 0.0, "C": -1.3763}
    assert table["mean"].to_dict() == {"D": 85.0, "B": 80.0, "A": 80.0, "C": 75.0}
    assert table["n_judges"].to_dict() == {"D": 5, "B": 5, "A": 4, "C": 5}
    assert table["mean_rank"].to_dict() == {"D": 1, "B": 2, "A": 2, "C": 4}  # the plain mean ties A and B
    assert table["avg_social_benefit"].to_dict() == {"D": 24.0, "B": 21.0, "A": 22.0, "C": 18.0}
    assert table["avg_targeting"].to_dict() == {"D": 20.8, "B": 19.8, "A": 19.0, "C": 18.8}
    assert list(table.columns) == [
        "score",
        "n_judges",
        "mean",
        "median",
        "min",
        "max",
        "sd",
        "rank",
        "decided_by",
        "decided_by_prev",
        "mean_rank",
        "avg_targeting",
        "avg_feasibility",
        "avg_social_benefit",
        "avg_budget",
    ]
    assert result.criterion_means["social_benefit"].to_dict() == {"A": 22.0, "B": 21.0, "C": 18.0, "D": 24.0}
    assert len(result.totals) == 19 and result.totals["total"].sum() == 80 * 9 + 75 * 5 + 85 * 5
    assert table.attrs["method"] == "zscore" and table.attrs["tiebreak"][1] == "criterion:social_benefit"


def test_rank_round_takes_the_criterion_rule_as_stored_in_json():
    as_json = ["score", ["criterion", "social_benefit"], "head_to_head", "first_places", "untrimmed_mean"]
    a = scoring.rank_round(design_scores(), CRITERIA, method="zscore", tiebreak=as_json)
    b = scoring.rank_round(design_scores(), CRITERIA, method="zscore", tiebreak=CHAIN)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_rank_round_without_the_criterion_rule_goes_to_head_to_head():
    result = scoring.rank_round(design_scores(), CRITERIA, method="zscore", tiebreak=scoring.DEFAULT_TIEBREAK)
    # A and B share judges J1..J4, who all gave 80 to both: no head-to-head preference, no first places
    # (each judge's top is D), equal untrimmed means; the lottery has no seed, so the chair decides.
    assert summary(result.table) == [("D", 1, "score"), ("A", 2, "tie"), ("B", 2, "tie"), ("C", 4, "score")]
    seeded = scoring.rank_round(design_scores(), CRITERIA, method="zscore", tiebreak=scoring.DEFAULT_TIEBREAK, seed=7)
    assert [d for _p, _r, d in summary(seeded.table)] == ["score", "lottery", "score", "score"]


def test_rank_round_warns_when_a_trimmed_mean_rests_on_few_judges():
    assert scoring.rank_round(design_scores(), CRITERIA, method="trimmed_mean").warnings == ("few_judges",)
    assert scoring.rank_round(design_scores(), CRITERIA, method="mean").warnings == ()


def test_rank_round_refuses_what_the_engine_refuses():
    with pytest.raises(ValueError, match="unknown method 'best'"):
        scoring.rank_round(design_scores(), CRITERIA, method="best")
    with pytest.raises(ValueError, match="cannot trim 2 judge"):
        scoring.rank_round(design_scores(), CRITERIA, method="trimmed_mean", trim=2)
    with pytest.raises(ValueError, match="unknown tie-break rule 'coin'"):
        scoring.rank_round(design_scores(), CRITERIA, tiebreak=["score", "coin"])
    apart = design_scores()
    apart = apart[
        ~(
            (apart["proposal"].isin(["A", "B"]) & (apart["judge"] == "J5"))
            | (apart["proposal"].isin(["C", "D"]) & (apart["judge"] != "J5"))
        )
    ]
    with pytest.raises(scoring.DisconnectedDesign) as err:
        scoring.rank_round(apart, CRITERIA, method="additive")
    assert err.value.n_components == 2


# --- judging/ranking.py (sealed sheets in the database) -------------------------------------------------------------


def build_design_round(stage="final", method="trimmed_mean"):
    """The design round in the database: proposals A..D are 入围项目01..04, judges J1..J5, J5 recused from A."""
    competition = factories.competition(stage=stage, tiebreak_criterion="social_benefit", method=method)
    judges = {f"J{i}": factories.judge(f"design_j{i}") for i in range(1, 6)}
    proposals = dict(zip("ABCD", factories.finalists(competition, 4), strict=True))
    assignments = factories.final_panel(
        competition,
        list(judges.values()),
        list(proposals.values()),
        recused=[(judges["J5"], proposals["A"])],
        stage=stage,
    )
    codes = {c.code: c.pk for c in competition.criteria.all()}
    for p, sheets in DESIGN.items():
        for j, points in sheets.items():
            judging_services.save_sheet(
                assignment=assignments[(judges[j].pk, proposals[p].pk)],
                by=judges[j].user,
                points={codes[c]: Decimal(v) for c, v in zip(CRITERIA["criterion"], points, strict=True)},
                comment="说明",
                expected_version=0,
                submit=True,
            )
    return competition, judges, proposals


def letters(proposals, ids):
    by_pk = {p.pk: name for name, p in proposals.items()}
    return [by_pk[int(pk)] for pk in ids]


def test_tiebreak_chain_names_the_round_criterion_only_when_it_exists(db):
    competition = factories.competition(tiebreak_criterion="social_benefit")
    assert ranking.tiebreak_chain(competition) == [
        "score",
        ("criterion", "social_benefit"),
        "head_to_head",
        "first_places",
        "untrimmed_mean",
    ]
    competition.tiebreak_criterion = "no_such_code"
    assert ranking.tiebreak_chain(competition) == ["score", "head_to_head", "first_places", "untrimmed_mean"]
    competition.tiebreak_criterion = ""
    assert ranking.tiebreak_chain(competition) == ["score", "head_to_head", "first_places", "untrimmed_mean"]


def test_compute_final_stage_uses_the_round_method(db):
    competition, _judges, proposals = build_design_round(method="median")
    result = ranking.compute(competition, PanelStage.FINAL)
    assert (result.method, result.trim) == ("median", 1)
    assert result.tiebreak == [
        "score",
        ("criterion", "social_benefit"),
        "head_to_head",
        "first_places",
        "untrimmed_mean",
    ]
    assert letters(proposals, result.table.index) == ["D", "B", "A", "C"]
    assert list(result.table["decided_by"]) == DECIDED_BY
    assert list(result.table["score"]) == [85.0, 80.0, 80.0, 75.0]
    assert result.warnings == []
    assert list(result.criteria["criterion"]) == ["targeting", "feasibility", "social_benefit", "budget"]
    assert list(result.criteria["name"]) == ["项目定位精准性", "内容可行性", "社会效益", "资金预算"]
    assert len(result.totals) == 19
    trimmed = ranking.compute(competition, PanelStage.FINAL, method="trimmed_mean")
    assert trimmed.method == "trimmed_mean" and trimmed.warnings == ["few_judges"]


def test_compute_prescoring_defaults_to_the_additive_model(db):
    competition, _judges, proposals = build_design_round(stage="prescoring")
    result = ranking.compute(competition, PanelStage.PRESCORING)
    assert result.method == "additive"
    # additive on social_benefit: B 21 > A 20 (the mean of the criterion would have said A 22 > B 21)
    assert letters(proposals, result.table.index) == ["D", "B", "A", "C"]
    assert list(result.table["decided_by"]) == DECIDED_BY
    assert list(result.table["score"].round(6)) == [85.0, 80.0, 80.0, 75.0]
    assert list(result.table["mean_rank"]) == [1, 2, 2, 4]


def test_compute_without_sheets_says_so(db):
    competition = factories.competition(stage="final")
    with pytest.raises(ValueError, match="尚未提交任何评分表。"):
        ranking.compute(competition, PanelStage.FINAL)


def test_decided_label_in_words():
    with translation.override("en"):
        assert (
            ranking.decided_label("criterion:social_benefit", {"social_benefit": "Social benefit"})
            == "Score on “Social benefit”"
        )
        assert ranking.decided_label("criterion:unknown") == "Score on “unknown”"
        assert [
            ranking.decided_label(c)
            for c in ("score", "median", "head_to_head", "first_places", "untrimmed_mean", "lottery", "tie")
        ] == [
            "Score",
            "Median",
            "Head-to-head (common judges)",
            "More first places",
            "Untrimmed mean",
            "Lottery",
            "Tie (chair decides)",
        ]
        assert ranking.decided_label("something_new") == "something_new"
        assert ranking.decided_label(None) == ""
    with translation.override("zh-hans"):
        assert ranking.decided_label("tie") != "Tie (chair decides)"  # translated


# --- Issue #14: one pipeline for the provisional ranking, the finalists decision and the frozen results ----------


@pytest.mark.parametrize("method", ["mean", "median", "trimmed_mean", "zscore"])
def test_provisional_ranking_and_frozen_results_agree(db, method):
    """Regression for issue #14. Before the fix, under zscore the provisional ranking put A second (criterion mean
    22 > 21) and the frozen results put B second (criterion z-score 0.09 > -0.35)."""
    competition, _judges, proposals = build_design_round(method=method)
    provisional = ranking.compute(competition, PanelStage.FINAL)
    frozen = awards.compute_outputs(competition, awards.sealed_inputs(competition), awards.method_of(competition))
    provisional_rows = [
        (int(p), int(r["rank"]), r["decided_by"], round(float(r["score"]), 2)) for p, r in provisional.table.iterrows()
    ]
    frozen_rows = [(r["proposal"], r["rank"], r["decided_by"], r["score"]) for r in frozen["ranking"]]
    assert provisional_rows == frozen_rows
    assert letters(proposals, [p for p, *_rest in frozen_rows]) == EXPECTED_ORDER[method]
    assert [r["decided_by"] for r in frozen["ranking"]] == DECIDED_BY


def test_additive_provisional_ranking_is_rank_round_on_the_sealed_sheets(db):
    """The frozen results cannot use the additive model (the judge bootstrap refuses it: a resample can disconnect
    the design), so for additive the agreement is shown against rank_round on the same sealed inputs."""
    competition, _judges, proposals = build_design_round(method="additive")
    inputs = awards.sealed_inputs(competition)
    with pytest.raises(ValueError, match="unknown method 'additive'"):
        awards.compute_outputs(competition, inputs, awards.method_of(competition))
    scores, criteria = awards._frames(inputs)
    sealed = scoring.rank_round(
        scores, criteria, method="additive", trim=competition.trim, tiebreak=awards.method_of(competition)["tiebreak"]
    )
    provisional = ranking.compute(competition, PanelStage.FINAL)
    assert summary(provisional.table) == summary(sealed.table)
    assert letters(proposals, provisional.table.index) == ["D", "B", "A", "C"]


def test_finalists_page_ranks_by_the_same_pipeline(client, staff):
    competition, _judges, proposals = build_design_round(stage="prescoring")
    client.force_login(staff)
    response = client.get(f"/screening/round/{competition.pk}/finalists/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["proposal"].title for r in rows] == [proposals[x].title for x in ("D", "B", "A", "C")]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert [r["mean_rank"] for r in rows] == [1, 2, 2, 4]
    assert [r["n"] for r in rows] == [5, 5, 4, 5]
    assert response.context["error"] is None
