"""Totals and aggregation: from score sheets to one score per proposal (docs/scoring.md, sections 2-3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ._base import (
    DisconnectedDesign,
    _check_method,
    _check_trim,
    _fmt_ids,
    _mean_last,
    _median_sorted,
    _Panel,
    _panel,
    _sorted_last,
    _take,
    _trimmed_sorted,
    _validate_scores,
    _validate_totals,
)


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
