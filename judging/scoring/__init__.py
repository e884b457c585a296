"""Scoring engine: turn score sheets into a ranking that a panel, an auditor and an applicant can check by hand.

What it computes and why - formulas, the tie-break chain, the reliability statistics, the bootstrap, the budget
rules and worked examples with their numbers - is written down in ``docs/scoring.md``; the tests in
``tests/judging/test_scoring.py`` verify those examples. The package is pure pandas/numpy/scipy and never imports
Django (``tests/judging/test_scoring.py::test_package_does_not_import_django`` walks every module), so it can be run
and audited on its own.

Modules, from the bottom up (each imports only the ones above it):

* ``_base`` - constants, :class:`DisconnectedDesign`, input validation, the proposals x judges panel matrix;
* ``aggregation`` - :func:`judge_totals`, :func:`aggregate`, :func:`criterion_aggregates`, :func:`judge_effects`;
* ``ranks`` - :func:`rank` (the tie-break chain) and :func:`rank_round`, the one pipeline from score sheets to a
  ranked table that the provisional ranking, the finalists decision and the frozen results all call;
* ``reliability`` - :func:`kendall_w`, :func:`icc`, :func:`krippendorff_alpha`, :func:`judge_diagnostics`,
  :func:`flag_totals`;
* ``stability`` - :func:`bootstrap_ranks`, :func:`method_sensitivity`;
* ``budget`` - :func:`select_within_budget`, :func:`knapsack_what_if`.

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

from ._base import (
    DEFAULT_TIEBREAK,
    ICC_MIN_PROPOSALS,
    METHODS,
    SENSITIVITY_METHODS,
    TRIM_WARN_BELOW_JUDGES,
    DisconnectedDesign,
)
from .aggregation import aggregate, criterion_aggregates, judge_effects, judge_totals
from .budget import knapsack_what_if, select_within_budget
from .ranks import RoundRanking, rank, rank_round
from .reliability import flag_totals, icc, judge_diagnostics, kendall_w, krippendorff_alpha
from .stability import bootstrap_ranks, method_sensitivity

__all__ = [
    "DEFAULT_TIEBREAK",
    "ICC_MIN_PROPOSALS",
    "METHODS",
    "SENSITIVITY_METHODS",
    "TRIM_WARN_BELOW_JUDGES",
    "DisconnectedDesign",
    "RoundRanking",
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
    "rank_round",
    "select_within_budget",
]
