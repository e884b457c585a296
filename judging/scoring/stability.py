"""Rank stability: the judge bootstrap and method sensitivity (docs/scoring.md, section 7)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._base import (
    SENSITIVITY_METHODS,
    _check_method,
    _check_trim,
    _mean_last,
    _median_sorted,
    _panel,
    _sorted_last,
    _trimmed_sorted,
    _validate_totals,
)
from .aggregation import _aggregate_panel, _zscores
from .ranks import _competition_ranks

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
    cols["membership_differs"] = np.asarray(inside.any(axis=0) & ~inside.all(axis=0))  # per proposal (axis 0 = methods)
    out = pd.DataFrame(cols, index=panel.proposals)
    return out.sort_values(f"rank_{methods[0]}", kind="stable")
