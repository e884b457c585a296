"""Shared ground of the scoring engine: constants, the error type, input validation and the panel matrix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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


class DisconnectedDesign(ValueError):  # noqa: N818 - docs/scoring.md names it this way
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
