"""Benchmark of judging/scoring/ at the scale of docs/scoring.md (section 11): 500 proposals x 15 judges x 4 criteria.

Prints medians over several runs (not a timed test):

* the full pipeline: judge_totals + aggregate + rank + every diagnostic except the bootstrap
  (criterion aggregates, Kendall's W, ICC, Krippendorff's alpha, judge diagnostics, judge effects / additive
  model, method sensitivity), target well under 1 s;
* bootstrap_ranks with 1,000 resamples, target under 5 s;
* the same trimmed-mean ranking done row by row in plain Python, and the speed ratio against the engine
  (the two rankings are checked to agree).

Run from the project root:  .venv/bin/python bench/bench_scoring.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judging import scoring as sc  # noqa: E402

N_PROPOSALS, N_JUDGES = 500, 15
CRITERIA = pd.DataFrame(
    {
        "criterion": ["need", "design", "social_benefit", "budget"],
        "max_points": [10, 10, 10, 10],
        "weight": [25, 25, 30, 20],
    }
)


def make_scores(seed: int = 2024) -> pd.DataFrame:
    """Random but seeded score sheets: proposal quality + judge leniency + noise, in half points on 0..10."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(6.5, 1.2, size=N_PROPOSALS)
    leniency = rng.normal(0.0, 0.6, size=N_JUDGES)
    n_c = len(CRITERIA)
    pts = quality[:, None, None] + leniency[None, :, None] + rng.normal(0, 1.0, size=(N_PROPOSALS, N_JUDGES, n_c))
    pts = np.clip(np.round(pts * 2) / 2, 0, 10)
    p, j, c = np.meshgrid(np.arange(N_PROPOSALS), np.arange(N_JUDGES), np.arange(n_c), indexing="ij")
    return pd.DataFrame(
        {
            "proposal": [f"P{i:03d}" for i in p.ravel()],
            "judge": [f"J{i:02d}" for i in j.ravel()],
            "criterion": CRITERIA["criterion"].to_numpy()[c.ravel()],
            "points": pts.ravel(),
        }
    )


def pipeline(scores: pd.DataFrame) -> dict:
    totals = sc.judge_totals(scores, CRITERIA)
    agg = sc.aggregate(totals, "trimmed_mean", trim=1)
    crit = sc.criterion_aggregates(scores, CRITERIA, "trimmed_mean", trim=1)
    ranked = sc.rank(
        agg,
        totals,
        ["score", ("criterion", "social_benefit"), "head_to_head", "first_places", "untrimmed_mean", "lottery"],
        criterion_scores=crit,
        seed=1,
    )
    return {
        "ranked": ranked,
        "w": sc.kendall_w(totals),
        "icc": sc.icc(totals),
        "alpha": sc.krippendorff_alpha(totals),
        "judges": sc.judge_diagnostics(totals, trim=1),
        "effects": sc.judge_effects(totals),
        "additive": sc.aggregate(totals, "additive"),
        "sensitivity": sc.method_sensitivity(totals, top_k=50),
    }


def engine_trimmed_ranking(scores: pd.DataFrame) -> pd.DataFrame:
    totals = sc.judge_totals(scores, CRITERIA)
    return sc.rank(sc.aggregate(totals, "trimmed_mean", trim=1), totals, ["score"])


def python_trimmed_ranking(rows: list[tuple], criteria_rows: list[tuple]) -> list[tuple[str, int]]:
    """The straightforward per-row implementation: dicts and sorted lists, one row at a time."""
    crit = {c: (m, w) for c, m, w in criteria_rows}
    totals: dict[tuple[str, str], float] = {}
    for proposal, judge, criterion, points in rows:
        max_points, weight = crit[criterion]
        key = (proposal, judge)
        totals[key] = totals.get(key, 0.0) + points * weight / max_points
    by_proposal: dict[str, list[float]] = {}
    for (proposal, _judge), total in totals.items():
        by_proposal.setdefault(proposal, []).append(total)
    scored = []
    for proposal, vals in by_proposal.items():
        vals = sorted(vals)[1:-1]
        scored.append((round(round(sum(vals) / len(vals), 9), 2), proposal))
    scored.sort(key=lambda t: (-t[0], t[1]))
    ranks, prev, rank = [], None, 0
    for pos, (score, proposal) in enumerate(scored, start=1):
        if score != prev:
            rank, prev = pos, score
        ranks.append((proposal, rank))
    return ranks


def timed(fn, runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--boot-runs", type=int, default=5)
    args = ap.parse_args()
    runs, boot_runs = max(5, args.runs), max(5, args.boot_runs)

    scores = make_scores()
    print(
        f"scoring benchmark: {N_PROPOSALS} proposals x {N_JUDGES} judges x {len(CRITERIA)} criteria = "
        f"{len(scores):,} score rows; cpus={os.cpu_count()}; numpy {np.__version__}, pandas {pd.__version__}"
    )
    pipeline(scores)  # warm-up (imports, caches)

    totals = sc.judge_totals(scores, CRITERIA)
    parts = {
        "judge_totals": lambda: sc.judge_totals(scores, CRITERIA),
        "aggregate(trimmed_mean)": lambda: sc.aggregate(totals, "trimmed_mean"),
        "criterion_aggregates": lambda: sc.criterion_aggregates(scores, CRITERIA),
        "rank(full chain)": lambda: sc.rank(sc.aggregate(totals), totals, seed=1),
        "kendall_w": lambda: sc.kendall_w(totals),
        "icc": lambda: sc.icc(totals),
        "krippendorff_alpha": lambda: sc.krippendorff_alpha(totals),
        "judge_diagnostics": lambda: sc.judge_diagnostics(totals),
        "judge_effects+additive": lambda: (sc.judge_effects(totals), sc.aggregate(totals, "additive")),
        "method_sensitivity": lambda: sc.method_sensitivity(totals, top_k=50),
    }
    print(f"\nper step (median of {runs} runs):")
    for name, fn in parts.items():
        med, _, _ = timed(fn, runs)
        print(f"  {name:<26} {med * 1000:8.1f} ms")

    med, times, res = timed(lambda: pipeline(scores), runs)
    print(
        f"\nfull pipeline (totals + aggregate + rank + all diagnostics except bootstrap): median {med * 1000:.1f} ms "
        f"over {runs} runs [min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}]  (target well under 1000 ms)"
    )
    print(
        f"  W = {res['w']:.3f}, ICC(A,1) = {res['icc']['ICC(A,1)']:.3f}, ICC(C,k) = {res['icc']['ICC(C,k)']:.3f}, "
        f"alpha = {res['alpha']:.3f}, top-50 membership differs for "
        f"{int(res['sensitivity']['membership_differs'].sum())} proposals"
    )

    med_b, times_b, boot = timed(
        lambda: sc.bootstrap_ranks(totals, "trimmed_mean", top_k=50, n_boot=1000, seed=0), boot_runs
    )
    print(
        f"\nbootstrap_ranks (trimmed_mean, 1,000 resamples): median {med_b * 1000:.1f} ms over {boot_runs} runs "
        f"[min {min(times_b) * 1000:.1f}, max {max(times_b) * 1000:.1f}]  (target under 5000 ms)"
    )
    leader = boot["p_rank1"].idxmax()
    print(f"  most likely winner {leader}: P(rank 1) = {boot.loc[leader, 'p_rank1']:.3f}")

    crit_rows = list(CRITERIA.itertuples(index=False, name=None))
    rows = list(scores.itertuples(index=False, name=None))
    med_py, _, py_ranks = timed(lambda: python_trimmed_ranking(rows, crit_rows), runs)
    med_py_df, _, _ = timed(
        lambda: python_trimmed_ranking(list(scores.itertuples(index=False, name=None)), crit_rows), runs
    )
    med_np, _, np_ranked = timed(lambda: engine_trimmed_ranking(scores), runs)
    agree = dict(py_ranks) == np_ranked["rank"].to_dict()
    print(
        f"\ntrimmed-mean ranking (totals -> trimmed mean -> rank), median of {runs} runs:\n"
        f"  plain Python per row, from pre-built tuples:       {med_py * 1000:8.1f} ms\n"
        f"  plain Python per row, from the same DataFrame:     {med_py_df * 1000:8.1f} ms\n"
        f"  engine (vectorised, incl. full input validation):  {med_np * 1000:8.1f} ms\n"
        f"  ratio python/engine: {med_py / med_np:.2f}x (tuples), {med_py_df / med_np:.2f}x (DataFrame); "
        f"rankings agree: {agree}"
    )
    if not agree:
        raise SystemExit("the plain-Python and engine rankings disagree")


if __name__ == "__main__":
    main()
