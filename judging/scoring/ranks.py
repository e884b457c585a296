"""Ranking and the tie-break chain (docs/scoring.md, sections 4-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata

from ._base import (
    _TIEBREAK_RULES,
    DEFAULT_TIEBREAK,
    TRIM_WARN_BELOW_JUDGES,
    _check_method,
    _check_trim,
    _fmt_ids,
    _panel,
    _r2,
    _to_float,
    _validate_totals,
)
from .aggregation import aggregate, criterion_aggregates, judge_totals

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
    xr: np.ndarray | None = None  # the judges' rounded totals, built once when a rule needs them
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
            assert xr is not None  # built in the loop above for every head_to_head rule
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


def _competition_ranks(scores: np.ndarray) -> npt.NDArray[np.int_]:
    """Rank by rounded score along the last axis, 1 = best, equal scores share the best rank; NaN ranks last."""
    s = _r2(scores)
    s = np.where(np.isnan(s), -np.inf, s)
    return rankdata(-s, method="min", axis=-1).astype(int)


# ----------------------------------------------------------------------------------------------------------------
# the one pipeline from score sheets to a ranked table
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRanking:
    """What :func:`rank_round` returns.

    * ``table`` - the output of :func:`rank` (index ``proposal``, sorted by rank: ``score``, ``n_judges``, ``mean``,
      ``median``, ``min``, ``max``, ``sd``, ``rank``, ``decided_by``, ``decided_by_prev``) plus ``mean_rank`` (the
      proposal's rank by the plain mean of its totals, competition ranking at 2 decimals, shown beside an adjusted
      score) and one ``avg_<criterion>`` column per criterion (the plain mean of that criterion's points);
    * ``totals`` - ``[proposal, judge, total]`` from :func:`judge_totals`;
    * ``criterion_means`` - index ``proposal``, one column per criterion (the same numbers as ``avg_<criterion>``);
    * ``method``, ``trim``, ``tiebreak`` (the chain as labels, e.g. ``["score", "criterion:social_benefit", ...]``);
    * ``warnings`` - codes for the page: ``"few_judges"`` when a trimmed mean rests on fewer than
      ``TRIM_WARN_BELOW_JUDGES`` totals for some proposal.
    """

    table: pd.DataFrame
    totals: pd.DataFrame
    criterion_means: pd.DataFrame
    method: str
    trim: int
    tiebreak: list
    warnings: tuple[str, ...]


def rank_round(
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    method: str = "trimmed_mean",
    trim: int = 1,
    tiebreak: Sequence = DEFAULT_TIEBREAK,
    *,
    seed: int | None = None,
) -> RoundRanking:
    """Score sheets -> ranked table: :func:`judge_totals`, :func:`aggregate`, :func:`rank` in one call.

    This is the only place where a round is ranked: the provisional ranking page, the finalists decision after
    pre-scoring and the frozen results (freeze and verify) all call it, so they cannot disagree.

    ``scores`` and ``criteria`` are the frames of :func:`judge_totals`; ``method`` and ``trim`` those of
    :func:`aggregate`; ``tiebreak`` and ``seed`` those of :func:`rank`. A ``("criterion", name)`` rule in the chain
    (or ``["criterion", name]``, as stored in JSON) compares the **same aggregate** (same method, same trim) of that
    criterion's points, computed by :func:`criterion_aggregates` - for ``zscore`` the judges' z-scores on that
    criterion, for ``additive`` the judge-effect model fitted to that criterion's points.

    Raises what the steps raise: ValueError for bad sheets or a trim that leaves no judge, and
    :class:`DisconnectedDesign` for an additive ranking of a disconnected design.
    """
    _check_method(method)
    trim = _check_trim(trim)
    rules = [_parse_rule(r) for r in tiebreak]
    totals = judge_totals(scores, criteria)
    aggregated = aggregate(totals, method=method, trim=trim)
    criterion_scores = None
    if any(kind == "criterion" for kind, _arg in rules):
        criterion_scores = criterion_aggregates(scores, criteria, method=method, trim=trim)
    ranked = rank(aggregated, totals, tiebreak=tiebreak, criterion_scores=criterion_scores, seed=seed)
    means = criterion_aggregates(scores, criteria, method="mean", trim=trim)
    ranked["mean_rank"] = _competition_ranks(ranked["mean"].to_numpy(dtype=float))
    table = ranked.join(means.add_prefix("avg_"), how="left")
    table.attrs.update(ranked.attrs)
    warnings: tuple[str, ...] = ()
    if method == "trimmed_mean" and int(aggregated["n_judges"].min()) < TRIM_WARN_BELOW_JUDGES:
        warnings = ("few_judges",)
    return RoundRanking(
        table=table,
        totals=totals,
        criterion_means=means,
        method=method,
        trim=trim,
        tiebreak=[_rule_label(r) for r in rules],
        warnings=warnings,
    )
