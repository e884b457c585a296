"""Funding within the pool (docs/scoring.md, section 8). Money is Decimal throughout."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from ._base import _BUDGET_RULES, _check_ids, _fmt_ids, _r2, _require_frame, _to_float

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
