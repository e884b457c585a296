"""Scoring engine: turn score sheets into a ranking that a panel, an auditor and an applicant can check by hand.

This module is the implementation of the contract in ``scoring.md``. It is pure pandas/numpy/scipy and must never
import Django (a test enforces it), so it can be run and audited on its own.

Data shapes
-----------
* ``scores``: long frame ``[proposal, judge, criterion, points]``; points on the criterion's own scale
  ``0..max_points``. A recused judge simply has no rows for that proposal.
* ``criteria``: frame ``[criterion, max_points, weight]``; weights add up to 100.
* ``totals``: long frame ``[proposal, judge, total]`` as returned by :func:`judge_totals` (0..100).
* ``aggregated``: frame indexed by ``proposal`` as returned by :func:`aggregate`.

Conventions
-----------
* Everything is computed in floats; nothing is rounded except for *comparisons*: scores, totals and criterion
  aggregates are compared after rounding to 2 decimals (the figure people see), so two proposals that look equal
  on the results sheet are treated as equal. (Float noise below 1e-9 is removed first, so 80.15 computed two
  different ways never rounds to two different figures.)
* Money (``cost``, ``amount``, ``budget``) is :class:`decimal.Decimal` and is never converted to float.
* Bad input raises :class:`ValueError` whose message names the problem (empty input, missing columns, points out
  of range or NaN, duplicate rows, weights not adding up to 100, trimming more judges than there are, unknown
  method, ...). :class:`DisconnectedDesign` is a ``ValueError`` too.
* No Python loop runs over proposals in the hot paths: the panel is held as a proposals x judges matrix with NaN
  for cells that were not scored, and every aggregate is a vectorised operation on that matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import rankdata

__all__ = [
    "DEFAULT_TIEBREAK",
    "ICC_MIN_PROPOSALS",
    "METHODS",
    "SENSITIVITY_METHODS",
    "TRIM_WARN_BELOW_JUDGES",
    "DisconnectedDesign",
    "aggregate",
    "bootstrap_ranks",
    "criterion_aggregates",
    "flag_totals",
    "icc",
    "judge_diagnostics",
    "judge_effects",
    "judge_totals",
    "kendall_w",
    "knapsack_what_if",
    "krippendorff_alpha",
    "method_sensitivity",
    "rank",
    "select_within_budget",
]

#: Aggregation methods understood by :func:`aggregate`.
METHODS = ("mean", "median", "trimmed_mean", "zscore", "additive")
#: Methods compared by :func:`method_sensitivity` by default (the additive model is for incomplete designs).
SENSITIVITY_METHODS = ("mean", "median", "trimmed_mean", "zscore")
#: Default tie-break chain. The criterion rule is not in the default because it needs a named criterion; a round
#: that wants it declares e.g. ``["score", ("criterion", "social_benefit"), "head_to_head", ...]``.
DEFAULT_TIEBREAK = ("score", "head_to_head", "first_places", "untrimmed_mean", "lottery")
#: The ICC is not meaningful (and must be hidden in the UI) below this many proposals.
ICC_MIN_PROPOSALS = 10
#: The round's settings should warn when a trimmed mean is computed over fewer judges than this.
TRIM_WARN_BELOW_JUDGES = 5
#: Outlier rule: |x - median| > OUTLIER_MAD_FACTOR * MAD  or  |x - median| > OUTLIER_POINTS.
OUTLIER_MAD_FACTOR = 2.5 * 1.4826
OUTLIER_POINTS = 15.0

SCORE_COLUMNS = ("proposal", "judge", "criterion", "points")
CRITERIA_COLUMNS = ("criterion", "max_points", "weight")
TOTALS_COLUMNS = ("proposal", "judge", "total")
_TIEBREAK_RULES = ("score", "median", "head_to_head", "first_places", "untrimmed_mean", "lottery")
_BUDGET_RULES = ("stop", "skip", "partial")


class DisconnectedDesign(ValueError):  # noqa: N818 - the contract names it this way
    """The judge-proposal graph has more than one connected component.

    The additive (judge-effect) model can only compare proposals that are linked through shared judges; with
    several components there is no data that says how one component's scale relates to another's, so no adjusted
    ranking may be produced. ``components`` holds, per component, a dict ``{"judges": [...], "proposals": [...]}``.
    """

    def __init__(self, components: list[dict[str, list]]):
        self.components = components
        self.n_components = len(components)
        parts = [
            f"{{judges {_fmt_ids(c['judges'], 4)}; proposals {_fmt_ids(c['proposals'], 4)}}}" for c in components[:4]
        ]
        more = f" and {len(components) - 4} more" if len(components) > 4 else ""
        super().__init__(
            f"disconnected design: the judge-proposal graph has {len(components)} components "
            f"({', '.join(parts)}{more}); the additive model cannot put them on one scale - assign shared judges "
            f"across the groups or rank each group separately"
        )


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------


def _fmt_ids(ids: Iterable, limit: int = 5) -> str:
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:limit])
    return f"[{shown}{', ...' if len(ids) > limit else ''}]" + (f" ({len(ids)} in all)" if len(ids) > limit else "")


def _r2(x):
    """Round for comparison: strip float noise below 1e-9, then round to 2 decimals (the displayed figure)."""
    return np.round(np.round(np.asarray(x, dtype=float), 9), 2)


def _require_frame(df, name: str, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: there are no rows to score")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; expected columns {list(columns)}")


def _to_float(series: pd.Series, where: str) -> np.ndarray:
    """Numeric column -> float array; NaN, missing, infinite or non-numeric values raise ValueError."""
    arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = list(series.index[bad])
        raise ValueError(f"{where} has NaN, missing or non-numeric values (rows {_fmt_ids(rows)})")
    return arr


def _check_ids(df: pd.DataFrame, name: str, cols: Sequence[str]) -> None:
    for col in cols:
        null = df[col].isna().to_numpy()
        if null.any():
            raise ValueError(f"{name}.{col} has missing values (rows {_fmt_ids(df.index[null])})")


def _check_trim(trim) -> int:
    if isinstance(trim, bool) or not isinstance(trim, (int, np.integer)) or trim < 0:
        raise ValueError(f"trim must be a non-negative integer (judges dropped at each end), got {trim!r}")
    return int(trim)


def _check_method(method: str, allowed: Sequence[str] = METHODS) -> str:
    if method not in allowed:
        raise ValueError(f"unknown method {method!r}; choose one of {list(allowed)}")
    return method


def _validate_totals(totals, name: str = "totals") -> pd.DataFrame:
    """Check a totals frame and return ``[proposal, judge, total]`` with float totals."""
    _require_frame(totals, name, TOTALS_COLUMNS)
    df = totals.loc[:, list(TOTALS_COLUMNS)]
    _check_ids(df, name, ("proposal", "judge"))
    vals = _to_float(df["total"], f"{name}.total")
    out = (vals < 0) | (vals > 100)
    if out.any():
        raise ValueError(f"{name}.total out of range 0..100 (rows {_fmt_ids(df.index[out])}, e.g. {vals[out][0]:g})")
    dup = df.duplicated(["proposal", "judge"], keep=False).to_numpy()
    if dup.any():
        pairs = df.loc[dup, ["proposal", "judge"]].drop_duplicates().itertuples(index=False)
        raise ValueError(f"{name} has duplicate (proposal, judge) rows: {_fmt_ids([tuple(p) for p in pairs])}")
    return pd.DataFrame({"proposal": df["proposal"].to_numpy(), "judge": df["judge"].to_numpy(), "total": vals})


def _validate_criteria(criteria) -> pd.DataFrame:
    _require_frame(criteria, "criteria", CRITERIA_COLUMNS)
    df = criteria.loc[:, list(CRITERIA_COLUMNS)]
    _check_ids(df, "criteria", ("criterion",))
    dup = df["criterion"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"criteria lists a criterion more than once: {_fmt_ids(df['criterion'][dup].unique())}")
    max_points = _to_float(df["max_points"], "criteria.max_points")
    weight = _to_float(df["weight"], "criteria.weight")
    if (max_points <= 0).any():
        raise ValueError(
            f"criteria.max_points must be positive (criteria {_fmt_ids(df['criterion'][max_points <= 0])})"
        )
    if (weight < 0).any():
        raise ValueError(f"criteria.weight must not be negative (criteria {_fmt_ids(df['criterion'][weight < 0])})")
    if abs(weight.sum() - 100.0) > 1e-6:
        raise ValueError(f"criteria weights must add up to 100, they add up to {weight.sum():g}")
    return pd.DataFrame({"criterion": df["criterion"].to_numpy(), "max_points": max_points, "weight": weight})


@dataclass(frozen=True)
class _Sheets:
    """Validated score sheets as integer codes (each id column factorized once, sorted) and float points."""

    proposals: pd.Index
    judges: pd.Index
    criteria: pd.DataFrame  # validated criteria frame; ``c`` indexes its rows
    p: np.ndarray
    j: np.ndarray
    c: np.ndarray
    points: np.ndarray

    @property
    def cell(self) -> np.ndarray:
        return self.p * len(self.judges) + self.j


def _validate_scores(scores, criteria) -> _Sheets:
    """Check scores against criteria (range, unknown criteria, duplicates, incomplete sheets) and encode them."""
    crit = _validate_criteria(criteria)
    _require_frame(scores, "scores", SCORE_COLUMNS)
    df = scores.loc[:, list(SCORE_COLUMNS)]
    _check_ids(df, "scores", ("proposal", "judge", "criterion"))
    points = _to_float(df["points"], "scores.points")
    c = pd.Index(crit["criterion"]).get_indexer(df["criterion"])
    if (c < 0).any():
        raise ValueError(f"scores has unknown criteria (not in criteria): {_fmt_ids(df['criterion'][c < 0].unique())}")
    max_points = crit["max_points"].to_numpy()[c]
    out = (points < 0) | (points > max_points)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise ValueError(
            f"scores.points out of range (rows {_fmt_ids(df.index[out])}; e.g. {points[i]:g} on criterion "
            f"{df['criterion'].iloc[i]!r} whose range is 0..{max_points[i]:g})"
        )
    p, proposals = pd.factorize(df["proposal"], sort=True)
    j, judges = pd.factorize(df["judge"], sort=True)
    sheets = _Sheets(pd.Index(proposals, name="proposal"), pd.Index(judges, name="judge"), crit, p, j, c, points)
    cell = sheets.cell
    key = cell * len(crit) + c
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    if (counts > 1).any():
        rows = np.flatnonzero(counts[inv] > 1)
        trip = df.iloc[rows].drop_duplicates().itertuples(index=False)
        raise ValueError(
            f"scores has duplicate (proposal, judge, criterion) rows: {_fmt_ids([tuple(t)[:3] for t in trip])}"
        )
    cells, n_per_cell = np.unique(uniq // len(crit), return_counts=True)
    short = n_per_cell != len(crit)
    if short.any():
        bad = [(proposals[q // len(judges)], judges[q % len(judges)]) for q in cells[short][:6]]
        raise ValueError(
            f"incomplete score sheets (a judge must score every criterion of a proposal or none - recusal): "
            f"(proposal, judge) {_fmt_ids(bad)} scored {n_per_cell[short][0]} of {len(crit)} criteria"
        )
    return sheets


@dataclass(frozen=True)
class _Panel:
    """A round as a matrix: ``x[i, j]`` = judge j's total for proposal i, NaN where not scored."""

    proposals: pd.Index
    judges: pd.Index
    x: np.ndarray

    @property
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.x)


def _panel(df: pd.DataFrame, value: str = "total") -> _Panel:
    p_codes, proposals = pd.factorize(df["proposal"], sort=True)
    j_codes, judges = pd.factorize(df["judge"], sort=True)
    x = np.full((len(proposals), len(judges)), np.nan)
    x[p_codes, j_codes] = df[value].to_numpy(dtype=float)
    return _Panel(pd.Index(proposals, name="proposal"), pd.Index(judges, name="judge"), x)


def _sorted_last(x: np.ndarray):
    """Sort along the last axis (NaN last) and count the non-missing values."""
    s = np.sort(x, axis=-1)
    n = np.count_nonzero(~np.isnan(x), axis=-1)
    return s, n


def _take(s: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.take_along_axis(s, np.clip(idx, 0, s.shape[-1] - 1)[..., None], axis=-1)[..., 0]


def _median_sorted(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        med = (_take(s, (n - 1) // 2) + _take(s, n // 2)) / 2.0
    return np.where(n > 0, med, np.nan)


def _trimmed_sorted(s: np.ndarray, n: np.ndarray, trim: int, fallback_to_mean: bool = False) -> np.ndarray:
    """Trimmed mean from sorted rows: drop ``trim`` values from each end of the n observed values, average the rest.

    Rows where ``n - 2*trim < 1`` give NaN, or the plain mean when ``fallback_to_mean`` (used by the bootstrap).
    Only positions are dropped, so a repeated extreme loses one copy only: [90, 90, 80, 70, 70] -> 80.0.
    """
    pos = np.arange(s.shape[-1])
    keep_n = n - 2 * trim
    ok = keep_n >= 1
    keep = (pos >= trim) & (pos < (n - trim)[..., None])
    filled = np.where(np.isnan(s), 0.0, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        tm = np.where(keep, filled, 0.0).sum(axis=-1) / np.where(ok, keep_n, 1)
        if fallback_to_mean:
            mean = filled.sum(axis=-1) / n
            return np.where(ok, tm, np.where(n > 0, mean, np.nan))
    return np.where(ok, tm, np.nan)


def _mean_last(x: np.ndarray) -> np.ndarray:
    n = np.count_nonzero(~np.isnan(x), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(np.isnan(x), 0.0, x).sum(axis=-1) / n, np.nan)


def _zscores(x: np.ndarray) -> np.ndarray:
    """Per judge (column): z = (x - mean_j) / sd_j with the population sd; a judge with sd 0 gets z = 0."""
    mean_j = _mean_last(x.T)
    dev = x - mean_j
    n_j = np.count_nonzero(~np.isnan(x), axis=0)
    sd_j = np.sqrt(np.where(np.isnan(dev), 0.0, dev * dev).sum(axis=0) / n_j)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sd_j > 1e-12, dev / np.where(sd_j > 1e-12, sd_j, 1.0), 0.0)
    return np.where(np.isnan(x), np.nan, z)


def _components(obs: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the bipartite judge-proposal graph (proposal nodes first, then judges)."""
    n_p, n_j = obs.shape
    rows, cols = np.nonzero(obs)
    adj = sparse.coo_matrix((np.ones(len(rows)), (rows, cols + n_p)), shape=(n_p + n_j, n_p + n_j))
    return connected_components(adj, directed=False)


def _additive_fit(panel: _Panel) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fit of x_ij = a_i + b_j over observed cells with sum_j b_j = 0 (a_i = mu + theta_i).

    Eliminating a_i = mean_j(x_ij - b_j) from the normal equations leaves the J x J system C b = q with
    C = diag(m_j) - N' diag(1/n_i) N (N = observed indicator). C is singular with null space 1 exactly when the
    graph is connected, so (C + 11') b = q gives the solution with sum(b) = 0.
    """
    obs = panel.observed
    n_comp, labels = _components(obs)
    if n_comp > 1:
        n_p = obs.shape[0]
        comps = []
        for c in range(n_comp):
            members = np.flatnonzero(labels == c)
            comps.append(
                {
                    "judges": list(panel.judges[members[members >= n_p] - n_p]),
                    "proposals": list(panel.proposals[members[members < n_p]]),
                }
            )
        raise DisconnectedDesign(comps)
    nmat = obs.astype(float)
    x0 = np.where(obs, panel.x, 0.0)
    n_i = nmat.sum(axis=1)
    m_j = nmat.sum(axis=0)
    r = x0.sum(axis=1)
    c = np.diag(m_j) - nmat.T @ (nmat / n_i[:, None])
    q = x0.sum(axis=0) - nmat.T @ (r / n_i)
    b = np.linalg.solve(c + 1.0, q)
    a = (r - nmat @ b) / n_i
    return a, b


def _panel_stats(panel: _Panel) -> dict[str, np.ndarray]:
    s, n = _sorted_last(panel.x)
    mean = _mean_last(panel.x)
    dev = panel.x - mean[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(
            n > 1, np.sqrt(np.where(np.isnan(dev), 0.0, dev * dev).sum(axis=1) / np.maximum(n - 1, 1)), np.nan
        )
    return {
        "s": s,
        "n": n,
        "mean": mean,
        "median": _median_sorted(s, n),
        "min": s[:, 0],
        "max": _take(s, n - 1),
        "sd": sd,
    }


def _aggregate_panel(panel: _Panel, method: str, trim: int) -> pd.DataFrame:
    st = _panel_stats(panel)
    if method == "mean":
        score = st["mean"]
    elif method == "median":
        score = st["median"]
    elif method == "trimmed_mean":
        short = st["n"] - 2 * trim < 1
        if short.any():
            raise ValueError(
                f"cannot trim {trim} judge(s) from each end: proposals {_fmt_ids(panel.proposals[short])} have only "
                f"{int(st['n'][short].min())} judge total(s) (need at least {2 * trim + 1})"
            )
        score = _trimmed_sorted(st["s"], st["n"], trim)
    elif method == "zscore":
        score = _mean_last(_zscores(panel.x))
    else:  # additive
        score, _ = _additive_fit(panel)
    out = pd.DataFrame(
        {
            "score": score,
            "n_judges": st["n"].astype(int),
            "mean": st["mean"],
            "median": st["median"],
            "min": st["min"],
            "max": st["max"],
            "sd": st["sd"],
        },
        index=panel.proposals,
    )
    out.attrs.update({"method": method, "trim": trim})
    return out


def _complete_block(panel: _Panel) -> np.ndarray:
    """Listwise deletion: the proposals scored by every judge in the round (rows without NaN)."""
    return panel.x[panel.observed.all(axis=1)]


# ----------------------------------------------------------------------------------------------------------------
# totals and aggregation
# ----------------------------------------------------------------------------------------------------------------


def judge_totals(scores: pd.DataFrame, criteria: pd.DataFrame) -> pd.DataFrame:
    """Each judge's weighted total (0..100) for each proposal they scored.

    ``total = sum_c weight_c * points_c / max_points_c``; when max_points equals the weight (25/25/30/20 sheets)
    this is just the sum of the points. Example: 8, 7, 9, 6 out of 10 with weights 25/25/30/20 -> 76.5.

    Raises ValueError for: empty frames, missing columns, NaN/non-numeric points, points outside
    ``0..max_points``, unknown criteria, duplicate (proposal, judge, criterion) rows, weights not adding up to 100,
    and incomplete sheets (a judge who scored some but not all criteria of a proposal; recusal = no rows at all).

    Returns a frame ``[proposal, judge, total]`` sorted by proposal then judge.
    """
    sh = _validate_scores(scores, criteria)
    crit = sh.criteria
    part = sh.points * crit["weight"].to_numpy()[sh.c] / crit["max_points"].to_numpy()[sh.c]
    cells, inv = np.unique(sh.cell, return_inverse=True)
    total = np.bincount(inv, weights=part, minlength=len(cells))
    n_j = len(sh.judges)
    return pd.DataFrame({"proposal": sh.proposals[cells // n_j], "judge": sh.judges[cells % n_j], "total": total})


def aggregate(totals: pd.DataFrame, method: str = "trimmed_mean", trim: int = 1) -> pd.DataFrame:
    """Combine the judges' totals into one score per proposal.

    Methods:

    * ``"mean"`` - plain mean over the judges who scored the proposal (a recused judge is not a zero).
    * ``"median"``.
    * ``"trimmed_mean"`` (default) - sort the n totals, drop ``trim`` from each end, average the rest. Only one copy
      of a repeated extreme is dropped ([90, 90, 80, 70, 70] -> 80.0). Raises ValueError when n - 2*trim < 1 for
      any proposal. The **totals** are trimmed, not each criterion.
    * ``"zscore"`` - per judge z = (x - mean_j) / sd_j (population sd, over all of that judge's totals), score =
      mean z. A judge whose totals are all equal gets z = 0. Only sound when assignment was random; an
      alternative to show, never the default.
    * ``"additive"`` - least-squares fit of x_ij = mu + theta_i + b_j with sum_j b_j = 0; score = mu + theta_i on the
      totals' scale. Raises :class:`DisconnectedDesign` when the judge-proposal graph is not connected.

    ``trim`` is only used by ``"trimmed_mean"``.

    Returns a frame indexed by ``proposal`` (sorted) with columns ``score`` (by the chosen method), ``n_judges``,
    ``mean``, ``median``, ``min``, ``max`` and ``sd`` (sample sd, NaN for a single judge). Values are not rounded;
    round to 2 decimals for display. ``attrs`` holds ``method`` and ``trim``.
    """
    _check_method(method)
    trim = _check_trim(trim)
    return _aggregate_panel(_panel(_validate_totals(totals)), method, trim)


def criterion_aggregates(
    scores: pd.DataFrame, criteria: pd.DataFrame, method: str = "trimmed_mean", trim: int = 1
) -> pd.DataFrame:
    """Per-proposal, per-criterion aggregate of the points, with the same method as the overall score.

    This feeds the ``("criterion", name)`` tie-break rule of :func:`rank` ("the same aggregate on a named
    criterion"). Each criterion is aggregated on its own points scale, independently (so a trimmed mean drops the
    extreme judges *of that criterion*). Returns a frame indexed by ``proposal`` with one column per criterion.
    """
    _check_method(method)
    trim = _check_trim(trim)
    sh = _validate_scores(scores, criteria)
    cols = {}
    for k, name in enumerate(sh.criteria["criterion"]):  # a handful of criteria, each aggregated vectorised
        m = sh.c == k
        x = np.full((len(sh.proposals), len(sh.judges)), np.nan)
        x[sh.p[m], sh.j[m]] = sh.points[m]
        cols[name] = _aggregate_panel(_Panel(sh.proposals, sh.judges, x), method, trim)["score"]
    out = pd.DataFrame(cols)
    out.index.name = "proposal"
    return out


def judge_effects(totals: pd.DataFrame) -> pd.Series:
    """Judge effects b_j (leniency, in total points) of the additive model x_ij = mu + theta_i + b_j + e_ij.

    Fitted by least squares over the observed cells with sum_j b_j = 0, so b_j > 0 means judge j scores higher than
    the panel on the same proposals. Raises :class:`DisconnectedDesign` when the judge-proposal graph is not
    connected. Returns a Series indexed by judge, named ``effect``.
    """
    panel = _panel(_validate_totals(totals))
    _, b = _additive_fit(panel)
    return pd.Series(b, index=panel.judges, name="effect")


# ----------------------------------------------------------------------------------------------------------------
# ranking and tie-breaks
# ----------------------------------------------------------------------------------------------------------------


def _parse_rule(rule) -> tuple[str, str | None]:
    if isinstance(rule, tuple | list) and len(rule) == 2 and rule[0] == "criterion":
        return "criterion", rule[1]
    if isinstance(rule, str) and rule.startswith("criterion:"):
        return "criterion", rule.split(":", 1)[1]
    if isinstance(rule, str) and rule in _TIEBREAK_RULES:
        return rule, None
    raise ValueError(f"unknown tie-break rule {rule!r}; use {list(_TIEBREAK_RULES)} or ('criterion', <criterion name>)")


def _rule_label(rule: tuple[str, str | None]) -> str:
    return f"criterion:{rule[1]}" if rule[0] == "criterion" else rule[0]


def rank(
    aggregated: pd.DataFrame,
    totals: pd.DataFrame | None = None,
    tiebreak: Sequence = DEFAULT_TIEBREAK,
    *,
    criterion_scores: pd.DataFrame | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Rank proposals (1 = best) and say, per proposal, which rule decided its place.

    ``aggregated`` is the output of :func:`aggregate` (index ``proposal``; a ``proposal`` column is accepted too).
    ``tiebreak`` is the round's chain, declared before judging; it must start with ``"score"``. Rules:

    * ``"score"`` - the aggregate score.
    * ``("criterion", name)`` (or ``"criterion:name"``) - the same aggregate on one criterion; needs
      ``criterion_scores``, a frame indexed by proposal with a column per criterion, as made by
      :func:`criterion_aggregates` with the same method and trim.
    * ``"median"`` - the median of the totals (column ``median``).
    * ``"head_to_head"`` - within the tied group, X beats Y when more of their common judges gave X a higher total
      than Y; the group is ordered by wins minus losses (for two proposals: who more common judges preferred).
    * ``"first_places"`` - how many judges gave the proposal their highest total of the round (every proposal tied
      at a judge's top counts).
    * ``"untrimmed_mean"`` - the plain mean of the totals (column ``mean``).
    * ``"lottery"`` - a draw from ``numpy.random.default_rng(seed)`` over the proposals sorted by id, so it is
      reproducible and can be recorded in the audit trail; reported as ``"lottery"``. Without a ``seed`` the rule
      is skipped and the proposals stay tied, for the chair to decide.

    Every value is compared after rounding to 2 decimals. ``totals`` is needed by ``head_to_head`` and
    ``first_places``.

    Returns the aggregated frame sorted by rank (ties by proposal id) with added columns:

    * ``rank`` (int): 1 + the number of proposals strictly ahead, so proposals still equal after the whole chain
      share a rank (1, 1, 3).
    * ``decided_by``: the rule that separated the proposal from the next one (the last proposal: from the previous
      one; a lone proposal: ``"score"``), or ``"tie"`` for a proposal that shares its rank.
    * ``decided_by_prev``: the rule that separated it from the previous one (``"tie"`` if it shares the previous
      one's rank, missing (NaN) for the first), so the UI can say "behind X on head-to-head" on the lower proposal too.
    """
    if not isinstance(aggregated, pd.DataFrame):
        raise ValueError(f"aggregated must be a pandas DataFrame, got {type(aggregated).__name__}")
    agg = aggregated
    if "proposal" in agg.columns:
        agg = agg.set_index("proposal")
    if len(agg) == 0:
        raise ValueError("aggregated is empty: there are no proposals to rank")
    if "score" not in agg.columns:
        raise ValueError("aggregated is missing column(s) ['score']; pass the output of aggregate()")
    if agg.index.has_duplicates:
        raise ValueError(f"aggregated lists proposals more than once: {_fmt_ids(agg.index[agg.index.duplicated()])}")
    rules = [_parse_rule(r) for r in tiebreak]
    if not rules or rules[0][0] != "score":
        raise ValueError("the tie-break chain must start with 'score'")

    agg = agg.sort_index()  # deterministic base order: proposal id
    props = agg.index
    n_props = len(props)
    keys: dict[str, np.ndarray] = {}

    def column_key(col: str) -> np.ndarray:
        if col not in agg.columns:
            raise ValueError(f"aggregated is missing column(s) [{col!r}] needed by the tie-break chain")
        vals = _to_float(agg[col], f"aggregated.{col}")
        return _r2(vals)

    keys["score"] = column_key("score")
    xr = None
    for kind, arg in rules[1:]:
        if kind == "median":
            keys["median"] = column_key("median")
        elif kind == "untrimmed_mean":
            keys["untrimmed_mean"] = column_key("mean")
        elif kind == "criterion":
            if criterion_scores is None:
                raise ValueError(
                    f"tie-break rule ('criterion', {arg!r}) needs criterion_scores (criterion_aggregates())"
                )
            if arg not in criterion_scores.columns:
                raise ValueError(f"criterion_scores has no column for criterion {arg!r}")
            col = criterion_scores[arg]
            missing = props.difference(col.index)
            if len(missing):
                raise ValueError(f"criterion_scores lacks proposals {_fmt_ids(missing)}")
            vals = col.reindex(props).to_numpy(dtype=float, na_value=np.nan)
            keys[f"criterion:{arg}"] = np.where(np.isnan(vals), -np.inf, _r2(vals))
        elif kind in ("head_to_head", "first_places"):
            if totals is None:
                raise ValueError(f"tie-break rule {kind!r} needs the totals frame")
            if xr is None:
                panel = _panel(_validate_totals(totals))
                missing = props.difference(panel.proposals)
                if len(missing):
                    raise ValueError(f"totals has no rows for proposals {_fmt_ids(missing)}")
                xr = _r2(panel.x[panel.proposals.get_indexer(props)])
            if kind == "first_places":
                with np.errstate(invalid="ignore"):
                    top = np.nanmax(np.where(np.isnan(xr), -np.inf, xr), axis=0)
                keys["first_places"] = (xr == top[None, :]).sum(axis=1).astype(float)
        elif kind == "lottery" and seed is not None:
            keys["lottery"] = np.random.default_rng(seed).random(n_props)

    sep_after = np.full(n_props, None, dtype=object)  # rule separating position-in-props p from the next one

    def key_for(kind_label: str, members: np.ndarray) -> np.ndarray | None:
        if kind_label == "head_to_head":
            sub = xr[members]
            prefer = (sub[:, None, :] > sub[None, :, :]).sum(axis=-1)
            beats = prefer > prefer.T
            return (beats.sum(axis=1) - beats.sum(axis=0)).astype(float)
        key = keys.get(kind_label)  # None: lottery without a seed
        return None if key is None else key[members]

    def split(members: np.ndarray, rule_i: int) -> list[np.ndarray]:
        if len(members) == 1 or rule_i == len(rules):
            return [members]
        label = _rule_label(rules[rule_i])
        key = key_for(label, members)
        if key is None:  # lottery without a seed: leave tied for the chair
            return split(members, rule_i + 1)
        order = np.argsort(-key, kind="stable")
        members, key = members[order], key[order]
        breaks = np.flatnonzero(key[1:] != key[:-1]) + 1
        out: list[np.ndarray] = []
        for k, sub in enumerate(np.split(members, breaks)):
            if k > 0:
                sep_after[out[-1][-1]] = label
            out.extend(split(sub, rule_i + 1))
        return out

    # rule 1 (score) vectorised over all proposals; later rules only visit the (few) runs tied on score
    base = np.argsort(-keys["score"], kind="stable")
    sk = keys["score"][base]
    starts = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
    ends = np.r_[starts[1:], n_props]
    order = base.copy()
    group_start = np.zeros(n_props, dtype=bool)
    group_start[starts] = True
    for s0, e0 in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
        sub = split(base[s0:e0], 1)
        order[s0:e0] = np.concatenate(sub)
        group_start[s0 + np.cumsum([0] + [len(g) for g in sub[:-1]])] = True
    sep_after[order[ends[:-1] - 1]] = "score"  # the last member of each score run, after refinement

    pos = np.arange(n_props)
    ranks = np.maximum.accumulate(np.where(group_start, pos, 0)) + 1
    group_end = np.r_[group_start[1:], True]
    shared = ~(group_start & group_end)
    nxt = sep_after[order]  # rule vs next (None for the last, or inside a tied group)
    decided_prev = np.empty(n_props, dtype=object)
    decided_prev[0] = None
    decided_prev[1:] = np.where(ranks[1:] == ranks[:-1], "tie", nxt[:-1])
    decided = nxt.copy()
    if n_props == 1:
        decided[0] = "score"
    else:
        decided[-1] = decided_prev[-1]
    decided = np.where(shared, "tie", decided)

    out = agg.iloc[order].copy()
    out["rank"] = ranks.astype(int)
    out["decided_by"] = decided.astype(object)
    out["decided_by_prev"] = decided_prev
    out.attrs.update(aggregated.attrs)
    out.attrs["tiebreak"] = [_rule_label(r) for r in rules]
    out.attrs["seed"] = seed
    return out


def _competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank by rounded score along the last axis, 1 = best, equal scores share the best rank; NaN ranks last."""
    s = _r2(scores)
    s = np.where(np.isnan(s), -np.inf, s)
    return rankdata(-s, method="min", axis=-1).astype(int)


# ----------------------------------------------------------------------------------------------------------------
# agreement statistics
# ----------------------------------------------------------------------------------------------------------------


def kendall_w(totals: pd.DataFrame) -> float:
    """Kendall's coefficient of concordance W with the tie correction.

    Each judge ranks the proposals (average ranks for equal totals, compared at 2 decimals);
    ``W = 12 S / (m^2 (n^3 - n) - m sum_j T_j)`` with S the sum of squared deviations of the rank sums from their
    mean, m judges, n proposals and ``T_j = sum (t^3 - t)`` over judge j's groups of t tied totals.

    W needs complete data: it is computed on the proposals scored by every judge (listwise deletion; use
    :func:`krippendorff_alpha` for incomplete rounds). Returns NaN when fewer than 2 judges or 2 such proposals
    remain, or when every judge gave all proposals the same total.
    """
    x = _complete_block(_panel(_validate_totals(totals)))
    n, m = x.shape
    if n < 2 or m < 2:
        return float("nan")
    xr = _r2(x)
    ranks = rankdata(xr, method="average", axis=0)
    rsum = ranks.sum(axis=1)
    s = float(((rsum - m * (n + 1) / 2.0) ** 2).sum())
    xs = np.sort(xr, axis=0)
    # tie groups per judge: run lengths of equal values in each sorted column (loop over the few judges)
    t_sum = 0.0
    for col in xs.T:
        _, counts = np.unique(col, return_counts=True)
        t_sum += float((counts.astype(float) ** 3 - counts).sum())
    denom = m * m * (n**3 - n) - m * t_sum
    return 12.0 * s / denom if denom > 0 else float("nan")


def icc(totals: pd.DataFrame) -> dict[str, float]:
    """Intraclass correlations from the two-way ANOVA (Shrout & Fleiss 1979; McGraw & Wong 1996).

    With n proposals (targets), k judges, MSR (proposals), MSC (judges), MSE (residual) and
    MSW = (SSC + SSE) / (n (k - 1)) (within proposals):

    * ``ICC(1,1)`` = (MSR - MSW) / (MSR + (k-1) MSW)                       one-way random
    * ``ICC(A,1)`` = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)    = S&F ICC(2,1), absolute agreement
    * ``ICC(C,1)`` = (MSR - MSE) / (MSR + (k-1) MSE)                        = S&F ICC(3,1), consistency
    * ``ICC(A,k)`` = (MSR - MSE) / (MSR + (MSC - MSE) / n)                  = S&F ICC(2,k)
    * ``ICC(C,k)`` = (MSR - MSE) / MSR                                       = S&F ICC(3,k)

    Negative values are returned as they are (never clipped). Computed on the proposals scored by every judge
    (listwise deletion); NaN when fewer than 2 proposals or 2 judges remain. Hide it in the UI below
    :data:`ICC_MIN_PROPOSALS` proposals.
    """
    keys = ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(A,k)", "ICC(C,k)")
    x = _complete_block(_panel(_validate_totals(totals)))
    n, k = x.shape
    if n < 2 or k < 2:
        return dict.fromkeys(keys, float("nan"))
    grand = x.mean()
    row, col = x.mean(axis=1), x.mean(axis=0)
    ssr = k * float(((row - grand) ** 2).sum())
    ssc = n * float(((col - grand) ** 2).sum())
    sse = float(((x - row[:, None] - col[None, :] + grand) ** 2).sum())  # from residuals: no cancellation
    msr, msc = ssr / (n - 1), ssc / (k - 1)
    mse = sse / ((n - 1) * (k - 1))
    msw = (ssc + sse) / (n * (k - 1))

    def ratio(num: float, den: float) -> float:
        return num / den if den != 0 else float("nan")

    return {
        "ICC(1,1)": ratio(msr - msw, msr + (k - 1) * msw),
        "ICC(A,1)": ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n),
        "ICC(C,1)": ratio(msr - mse, msr + (k - 1) * mse),
        "ICC(A,k)": ratio(msr - mse, msr + (msc - mse) / n),
        "ICC(C,k)": ratio(msr - mse, msr),
    }


def krippendorff_alpha(totals: pd.DataFrame) -> float:
    """Krippendorff's alpha at the interval level; missing cells are allowed (incomplete rounds).

    Units are proposals, coders are judges, values are totals; only units with at least two totals (pairable
    values) count. With n pairable values in all and m_u in unit u, for the interval metric (v - v')^2:

    ``alpha = 1 - D_o / D_e``,
    ``D_o = (1/n) sum_u sum_{i != j in u} (v_i - v_j)^2 / (m_u - 1)``,
    ``D_e = 1/(n (n-1)) sum_{i != j over all pairable values} (v_i - v_j)^2``,

    which is the coincidence-matrix definition (Krippendorff 2011) written with sums of squares. Returns NaN when
    fewer than two pairable values exist or when all pairable values are equal.
    """
    x = _panel(_validate_totals(totals)).x
    m_u = np.count_nonzero(~np.isnan(x), axis=1)
    x = x[m_u >= 2]
    m_u = m_u[m_u >= 2].astype(float)
    if len(m_u) == 0:
        return float("nan")
    v = np.where(np.isnan(x), 0.0, x)
    s1, s2 = v.sum(axis=1), (v * v).sum(axis=1)
    n = m_u.sum()
    within = float((2.0 * (m_u * s2 - s1 * s1) / (m_u - 1.0)).sum())  # sum over units of ordered-pair sq. diffs
    total = 2.0 * (n * s2.sum() - s1.sum() ** 2)
    d_o = within / n
    d_e = total / (n * (n - 1.0))
    return 1.0 - d_o / d_e if d_e > 0 else float("nan")


# ----------------------------------------------------------------------------------------------------------------
# per-judge diagnostics
# ----------------------------------------------------------------------------------------------------------------


def _flags_matrix(panel: _Panel, trim: int) -> dict[str, np.ndarray]:
    x = panel.x
    obs = panel.observed
    st = _panel_stats(panel)
    n = st["n"]
    med = st["median"]
    dev = x - med[:, None]
    absdev = np.abs(dev)
    mad = _median_sorted(*_sorted_last(absdev))
    with np.errstate(invalid="ignore"):
        outlier = obs & (
            ((mad[:, None] > 0) & (absdev > OUTLIER_MAD_FACTOR * mad[:, None])) | (absdev > OUTLIER_POINTS)
        )
    # share of each total removed by trimming: a total sits in a block of E equal values starting at sorted
    # position L; the trimmed positions are [0, trim) and [n - trim, n); equal copies share the removal equally.
    xr = _r2(x)
    with np.errstate(invalid="ignore"):
        less = (xr[:, None, :] < xr[:, :, None]).sum(axis=-1)
        equal = (xr[:, None, :] == xr[:, :, None]).sum(axis=-1)
    trimmed_ok = (n - 2 * trim >= 1)[:, None]
    lo_overlap = np.clip(np.minimum(less + equal, trim) - less, 0, None)
    hi_overlap = np.clip(less + equal - np.maximum(less, (n - trim)[:, None]), 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(obs & trimmed_ok, (lo_overlap + hi_overlap) / np.maximum(equal, 1), 0.0)
    share = np.where(obs, share, np.nan)
    # leave-one-out mean of the other judges on the same proposal
    rowsum = np.where(obs, x, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = (rowsum[:, None] - x) / (n[:, None] - 1)
    loo = np.where(obs & (n[:, None] > 1), loo, np.nan)
    return {"median": med, "mad": mad, "deviation": dev, "outlier": outlier, "trimmed_share": share, "loo": loo}


def flag_totals(totals: pd.DataFrame, trim: int = 1) -> pd.DataFrame:
    """Per (proposal, judge) flags behind :func:`judge_diagnostics`, for the staff/auditor views.

    Returns ``[proposal, judge, total, median, mad, deviation, outlier, trimmed_share, loo_mean]`` where
    ``median``/``mad`` are the proposal's median and median absolute deviation of the totals, ``deviation`` is
    total - median, ``outlier`` is ``|deviation| > 2.5 * 1.4826 * MAD`` (only when MAD > 0) or ``|deviation| > 15``,
    ``trimmed_share`` is the share of this total dropped by a trimmed mean with ``trim`` (tied copies of an extreme
    share the removal: two 90s at the top with trim 1 are each 0.5 trimmed; 0 when the proposal has too few judges
    to trim), and ``loo_mean`` the mean of the other judges on the proposal (NaN if it had no other judge).
    """
    trim = _check_trim(trim)
    panel = _panel(_validate_totals(totals))
    f = _flags_matrix(panel, trim)
    p_idx, j_idx = np.nonzero(panel.observed)
    return pd.DataFrame(
        {
            "proposal": panel.proposals[p_idx],
            "judge": panel.judges[j_idx],
            "total": panel.x[p_idx, j_idx],
            "median": f["median"][p_idx],
            "mad": f["mad"][p_idx],
            "deviation": f["deviation"][p_idx, j_idx],
            "outlier": f["outlier"][p_idx, j_idx],
            "trimmed_share": f["trimmed_share"][p_idx, j_idx],
            "loo_mean": f["loo"][p_idx, j_idx],
        }
    )


def judge_diagnostics(totals: pd.DataFrame, trim: int = 1) -> pd.DataFrame:
    """Per-judge diagnostics (staff and auditor see all; a judge sees only their own row).

    Index ``judge``; columns:

    * ``count`` - proposals scored; ``mean``; ``sd`` (sample sd of the judge's totals, NaN for one total);
    * ``leniency`` - mean over the judge's proposals of x_ij minus the leave-one-out mean of the other judges on
      that proposal (proposals the judge scored alone are skipped; NaN if none is left);
    * ``share_trimmed`` - share of the judge's totals removed by a trimmed mean with ``trim`` (see
      :func:`flag_totals` for tied extremes);
    * ``outliers`` - number of the judge's totals with ``|x - median| > 2.5 * 1.4826 * MAD`` (when MAD > 0) or more
      than 15 points from the proposal's median.
    """
    trim = _check_trim(trim)
    panel = _panel(_validate_totals(totals))
    f = _flags_matrix(panel, trim)
    x = panel.x
    obs = panel.observed
    count = obs.sum(axis=0)
    mean = _mean_last(x.T)
    dev = x - mean[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(count > 1, np.sqrt(np.where(obs, dev * dev, 0.0).sum(axis=0) / np.maximum(count - 1, 1)), np.nan)
    diff = x - f["loo"]
    return pd.DataFrame(
        {
            "count": count.astype(int),
            "mean": mean,
            "sd": sd,
            "leniency": _mean_last(diff.T),
            "share_trimmed": _mean_last(f["trimmed_share"].T),
            "outliers": f["outlier"].sum(axis=0).astype(int),
        },
        index=panel.judges,
    )


# ----------------------------------------------------------------------------------------------------------------
# robustness: bootstrap and method sensitivity
# ----------------------------------------------------------------------------------------------------------------


def bootstrap_ranks(
    totals: pd.DataFrame,
    method: str = "trimmed_mean",
    top_k: int = 12,
    n_boot: int = 1000,
    seed: int = 0,
    trim: int = 1,
) -> pd.DataFrame:
    """How stable is the ranking? Resample the judges with replacement and recompute.

    Each resample draws as many judges as the panel has, with replacement (a judge drawn twice counts twice);
    proposals are ranked by their rounded score in that resample (competition ranking, no tie-break chain, so a
    tie for first counts as rank 1 for each). Methods: ``mean``, ``median``, ``trimmed_mean``, ``zscore`` (z-scores
    are computed once per judge from all of that judge's totals and then resampled). ``additive`` is not supported
    (a resample can disconnect the design) and raises ValueError.

    Fallbacks, so that no resample crashes: when a resample leaves a proposal with fewer than 2*trim + 1 judges, its
    trimmed mean in that resample is the plain mean of the judges it has; when it has no judge at all in the
    resample, it ranks behind every scored proposal.

    Returns a frame indexed by proposal with ``p_rank1`` (share of resamples at rank 1), ``p_top_k`` (rank <=
    top_k), and ``rank_lo``/``rank_hi``, the 5th and 95th percentiles of the resampled ranks (a 90% interval;
    ``inverted_cdf`` percentiles, so both are ranks that actually occurred). Same seed -> same numbers.
    """
    _check_method(method, ("mean", "median", "trimmed_mean", "zscore"))
    trim = _check_trim(trim)
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    panel = _panel(_validate_totals(totals))
    x = _zscores(panel.x) if method == "zscore" else panel.x
    n_p, n_j = x.shape
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_j, size=(n_boot, n_j))
    ranks = np.empty((n_boot, n_p), dtype=np.int32)
    batch = max(1, 2_000_000 // max(1, n_p * n_j))  # keep each (proposals x batch x judges) block ~16 MB
    for start in range(0, n_boot, batch):
        sub = x[:, draws[start : start + batch]]  # (proposals, batch, judges)
        if method in ("mean", "zscore"):
            score = _mean_last(sub)
        else:
            s, n = _sorted_last(sub)
            score = _median_sorted(s, n) if method == "median" else _trimmed_sorted(s, n, trim, fallback_to_mean=True)
        ranks[start : start + batch] = _competition_ranks(score.T)
    out = pd.DataFrame(
        {
            "p_rank1": (ranks == 1).mean(axis=0),
            "p_top_k": (ranks <= top_k).mean(axis=0),
            "rank_lo": np.percentile(ranks, 5, axis=0, method="inverted_cdf").astype(int),
            "rank_hi": np.percentile(ranks, 95, axis=0, method="inverted_cdf").astype(int),
        },
        index=panel.proposals,
    )
    out.attrs.update({"method": method, "trim": trim, "top_k": int(top_k), "n_boot": int(n_boot), "seed": seed})
    return out


def method_sensitivity(
    totals: pd.DataFrame, top_k: int, methods: Sequence[str] = SENSITIVITY_METHODS, trim: int = 1
) -> pd.DataFrame:
    """Would the finalists / funded set change under another aggregation method?

    For each method, proposals are ranked by their rounded score (competition ranking, equal scores share a rank,
    no tie-break chain) and "in the top K" means rank <= top_k (so a tie at the boundary can put more than K in).
    Returns a frame indexed by proposal, sorted by the first method's rank, with ``score_<method>``,
    ``rank_<method>`` and ``top_k_<method>`` (bool) per method and ``membership_differs`` (True when the proposal is
    in the top K under some methods but not others).
    """
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(methods)
    if not methods:
        raise ValueError("methods is empty: name at least one aggregation method")
    for m in methods:
        _check_method(m)
    trim = _check_trim(trim)
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    panel = _panel(_validate_totals(totals))
    cols: dict[str, np.ndarray] = {}
    members = []
    for m in methods:  # a handful of methods, each vectorised
        score = _aggregate_panel(panel, m, trim)["score"].to_numpy()
        r = _competition_ranks(score)
        cols[f"score_{m}"] = score
        cols[f"rank_{m}"] = r
        cols[f"top_k_{m}"] = r <= top_k
        members.append(r <= top_k)
    inside = np.vstack(members)
    cols["membership_differs"] = inside.any(axis=0) & ~inside.all(axis=0)
    out = pd.DataFrame(cols, index=panel.proposals)
    return out.sort_values(f"rank_{methods[0]}", kind="stable")


# ----------------------------------------------------------------------------------------------------------------
# funding within the pool
# ----------------------------------------------------------------------------------------------------------------


def _money(value, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, np.integer)):
        raise ValueError(f"{where} must be a Decimal (money is never a float), got {value!r}")
    d = Decimal(int(value)) if not isinstance(value, Decimal) else value
    if not d.is_finite():
        raise ValueError(f"{where} is not a finite amount: {value!r}")
    if d < 0:
        raise ValueError(f"{where} must not be negative, got {value}")
    return d


def _ranked_for_budget(ranked, budget, extra: Sequence[str] = ()) -> tuple[pd.DataFrame, Decimal]:
    if isinstance(ranked, pd.DataFrame) and "proposal" not in ranked.columns and ranked.index.name == "proposal":
        ranked = ranked.reset_index()
    _require_frame(ranked, "ranked", ("proposal", "rank", "cost", *extra))
    df = ranked.loc[:, ["proposal", "rank", "cost", *extra]].copy()
    _check_ids(df, "ranked", ("proposal",))
    if df["proposal"].duplicated().any():
        raise ValueError(
            f"ranked lists proposals more than once: {_fmt_ids(df['proposal'][df['proposal'].duplicated()])}"
        )
    rank_vals = _to_float(df["rank"], "ranked.rank")
    df["rank"] = rank_vals.astype(int)
    df["cost"] = [_money(c, f"cost of proposal {p}") for p, c in zip(df["proposal"], df["cost"], strict=True)]
    df = df.iloc[np.argsort(rank_vals, kind="stable")].reset_index(drop=True)
    return df, _money(budget, "budget")


def select_within_budget(ranked: pd.DataFrame, budget: Decimal, rule: str = "stop") -> pd.DataFrame:
    """Fund proposals in rank order within the pool (money in Decimal throughout).

    ``ranked`` has columns ``proposal``, ``rank`` and ``cost`` (Decimal; ints are accepted, floats are refused);
    the output of :func:`rank` with a ``cost`` column added works (its ``proposal`` index is used). Walking in rank
    order (ties in the given order):

    * ``"stop"`` - stop at the first proposal that does not fit;
    * ``"skip"`` - skip it and keep going with the next that fits;
    * ``"partial"`` - offer the remaining amount (if any) to the first that does not fit, then stop; staff confirm
      that the applicant accepts a partial award.

    Example, budget 100, (score, cost): A 90/60, B 88/30, C 87/30, D 86/40, E 60/10 -> stop: A, B (90 spent);
    skip: A, B, E (100 spent); partial: A, B, C with C offered 10.

    Raises ValueError when the funding line cuts through a tie (proposals sharing a rank would be treated
    differently): resolve the tie first (a seeded lottery or a chair decision in the tie-break chain).

    Returns the selected proposals in rank order: ``proposal``, ``rank``, ``cost``, ``amount`` (Decimal; equal to
    ``cost`` except for a partial award) and ``partial`` (bool).
    """
    if rule not in _BUDGET_RULES:
        raise ValueError(f"unknown budget rule {rule!r}; choose one of {list(_BUDGET_RULES)}")
    df, budget = _ranked_for_budget(ranked, budget)
    remaining = budget
    amounts: list[Decimal | None] = []
    stopped = False
    for cost in df["cost"]:  # sequential by nature ("skip" depends on what is left); one step per proposal
        if stopped:
            amounts.append(None)
        elif cost <= remaining:
            amounts.append(cost)
            remaining -= cost
        elif rule == "skip":
            amounts.append(None)
        else:
            if rule == "partial" and remaining > 0:
                amounts.append(remaining)
                remaining = Decimal(0)
            else:
                amounts.append(None)
            stopped = True
    df["amount"] = amounts
    df["partial"] = [a is not None and a != c for a, c in zip(amounts, df["cost"], strict=True)]
    status = np.array(
        ["none" if a is None else ("partial" if p else "full") for a, p in zip(amounts, df["partial"], strict=True)]
    )
    for r in np.unique(df["rank"].to_numpy()[df["rank"].duplicated(keep=False).to_numpy()]):
        group = (df["rank"] == r).to_numpy()
        if len(set(status[group])) > 1:
            raise ValueError(
                f"the funding line cuts through a tie: proposals {_fmt_ids(df['proposal'][group])} share rank {r} "
                f"but the budget would treat them differently; resolve the tie (seeded lottery or chair decision) "
                f"before allocating"
            )
    sel = df[df["amount"].notna()].reset_index(drop=True)
    return sel.loc[:, ["proposal", "rank", "cost", "amount", "partial"]]


def knapsack_what_if(ranked: pd.DataFrame, budget: Decimal) -> pd.DataFrame:
    """WHAT-IF ONLY - the set of proposals with the largest total score that fits the budget (0/1 knapsack).

    This is **not** a funding rule and must be labelled as a what-if wherever it is shown: it can drop the
    top-ranked project (budget 100, A 90/60, B 88/30, C 87/30, D 86/40, E 60/10 -> B, C, D). ``ranked`` needs
    ``proposal``, ``rank``, ``cost`` (Decimal) and ``score``; scores are compared at 2 decimals.

    Solved exactly as an integer program (scipy ``milp``/HiGHS) on the costs expressed as integers in the smallest
    currency unit present; the chosen set is re-checked against the budget in Decimal.

    Returns the chosen proposals in rank order with ``proposal``, ``rank``, ``score``, ``cost``, ``amount`` (=
    cost) and ``what_if`` (always True); ``attrs["label"]`` carries the caption to show.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp  # noqa: PLC0415 — ~0.9 s to import; only the what-if needs it

    df, budget = _ranked_for_budget(ranked, budget, extra=("score",))
    score = _r2(_to_float(df["score"], "ranked.score"))
    exps = [c.as_tuple().exponent for c in itertools.chain(df["cost"], [budget])]
    scale = Decimal(10) ** max(0, -min(int(e) for e in exps))
    units = np.array([int(c * scale) for c in df["cost"]], dtype=np.int64)
    cap = int((budget * scale).to_integral_value(rounding=ROUND_FLOOR))
    n = len(df)
    res = milp(
        c=-np.round(score * 100),
        constraints=LinearConstraint(units.reshape(1, n), -np.inf, cap),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    if res.x is None:  # pragma: no cover - the empty set is always feasible
        raise ValueError(f"knapsack what-if found no solution: {res.message}")
    chosen = np.round(res.x).astype(bool)
    out = df[chosen].reset_index(drop=True)
    spent = sum(out["cost"], Decimal(0))
    if spent > budget:  # pragma: no cover - integer costs make this impossible; guard anyway
        raise ValueError("knapsack what-if exceeded the budget")
    out["amount"] = list(out["cost"])
    out["what_if"] = True
    out = out.loc[:, ["proposal", "rank", "score", "cost", "amount", "what_if"]]
    out.attrs["label"] = "What-if only: knapsack optimum (largest total score within budget) - not the funding rule"
    return out
