"""Agreement statistics and per-judge diagnostics (docs/scoring.md, section 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ._base import (
    OUTLIER_MAD_FACTOR,
    OUTLIER_POINTS,
    _check_trim,
    _mean_last,
    _median_sorted,
    _Panel,
    _panel,
    _r2,
    _sorted_last,
    _validate_totals,
)
from .aggregation import _panel_stats


def _complete_block(panel: _Panel) -> np.ndarray:
    """Listwise deletion: the proposals scored by every judge in the round (rows without NaN)."""
    return panel.x[panel.observed.all(axis=1)]


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
