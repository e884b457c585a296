"""From sealed score sheets to a ranking: one ORM query into DataFrames, then judging.scoring does the maths."""

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd
from django.core.cache import cache
from django.utils.translation import gettext as _

from . import scoring
from .models import PanelStage
from .queries import criteria_frame, score_frame


@dataclass
class Ranking:
    method: str
    trim: int
    tiebreak: list
    table: pd.DataFrame  # rank order; scoring.rank_round's table (rank, decided_by, mean_rank, avg_<code>)
    totals: pd.DataFrame  # proposal, judge, total
    criteria: pd.DataFrame
    warnings: list = field(default_factory=list)


def tiebreak_chain(competition):
    chain: list[str | tuple[str, str]] = ["score"]
    codes = set(competition.criteria.values_list("code", flat=True))
    if competition.tiebreak_criterion and competition.tiebreak_criterion in codes:
        chain.append(("criterion", competition.tiebreak_criterion))
    chain += ["head_to_head", "first_places", "untrimmed_mean"]
    return chain


def compute(competition, stage, method=None):
    """Rank the proposals of one stage by the round's declared method (or ``method``). Raises ValueError with the
    engine's message when the data cannot support the method (e.g. too few judges to trim).

    The maths is scoring.rank_round, the same call the frozen results make (docs/scoring.md, "One pipeline")."""
    if method is None:
        method = "additive" if stage == PanelStage.PRESCORING else competition.method
    scores = score_frame(competition, stage)
    criteria = criteria_frame(competition)
    if scores.empty:
        raise ValueError(_("No score sheet has been submitted yet."))
    chain = tiebreak_chain(competition)
    result = scoring.rank_round(
        scores, criteria[["criterion", "max_points", "weight"]], method=method, trim=competition.trim, tiebreak=chain
    )
    return Ranking(
        method=method,
        trim=competition.trim,
        tiebreak=chain,
        table=result.table,
        totals=result.totals,
        criteria=criteria,
        warnings=list(result.warnings),
    )


CACHE_SECONDS = 3600


def cached(competition, stage, *, fingerprint):
    """``compute(competition, stage)`` kept in the cache under everything it depends on: the stage's
    ``fingerprint`` (``queries.stage_status``: changes with every sheet, declaration or panel change), the method,
    the trim, the tie-break criterion and the rubric's weights. A national pre-scoring stage (25,000 sheets) is
    ranked once per change instead of once per page view. Errors (ValueError) are not kept."""
    if fingerprint is None:
        return compute(competition, stage)
    method = "additive" if stage == PanelStage.PRESCORING else competition.method
    rubric = criteria_frame(competition)[["criterion", "max_points", "weight"]].values.tolist()
    signature = [competition.pk, str(stage), method, competition.trim, competition.tiebreak_criterion, rubric]
    signature.append(list(fingerprint))
    key = "judging.ranking:" + hashlib.sha256(json.dumps(signature, default=str).encode()).hexdigest()
    result = cache.get(key)
    if result is None:
        result = compute(competition, stage)
        cache.set(key, result, CACHE_SECONDS)
    return result


def decided_label(code, criterion_names=None):
    """Human words for a tie-break rule code from scoring.rank."""

    if not isinstance(code, str):
        return ""
    if code.startswith("criterion:"):
        name = (criterion_names or {}).get(code.split(":", 1)[1], code.split(":", 1)[1])
        return _("Score on “%(criterion)s”") % {"criterion": name}
    labels = {
        "score": _("Score"),
        "median": _("Median"),
        "head_to_head": _("Head-to-head (common judges)"),
        "first_places": _("More first places"),
        "untrimmed_mean": _("Untrimmed mean"),
        "lottery": _("Lottery"),
        "tie": _("Tie (chair decides)"),
    }
    return labels.get(code, code)
