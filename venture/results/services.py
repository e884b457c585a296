"""Freeze, verify and sign off the results of a round's final review; the audited unlock of a sealed sheet; the
finalists decision taken from the results of pre-scoring.

A frozen snapshot holds the sealed score sheets in canonical form, the method, the scoring code's version and
everything the results page and report show (``compute_outputs``), with a SHA-256 digest over inputs and method.
Later stages (awards) read it and never change it; while they hold decisions taken from it, they say so through
``register_unlock_guard`` and an unlock waits.
"""

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from judging import scoring
from judging.models import PanelStage, ScoreSheet
from judging.queries import board, score_frame
from judging.ranking import tiebreak_chain
from judging.services import cancel_open_prescoring, unlock_sheet
from venture.audit.services import record
from venture.competitions.models import Competition, Stage
from venture.competitions.services import advance_stage
from venture.proposals.models import Proposal
from venture.screening.services import confirm_finalists
from venture.version import APP_VERSION

from . import queries
from .models import ResultSnapshot, SheetBundle

N_BOOT = 1000
BOOT_SEED = 20260101


def code_version(engine=None):
    """The app version and a hash of the scoring engine's source: a change in the maths changes the version.

    The engine (``engine``: its module's file, ``judging.scoring.__file__`` unless given) is ``judging/scoring.py``,
    hashed as its bytes (so the snapshots frozen so far keep their version), or a ``judging/scoring/`` package,
    hashed over every ``.py`` file in it, sorted by path: each file's path inside the package, then its bytes."""
    path = Path(engine or scoring.__file__)
    if path.name != "__init__.py":
        digest = hashlib.sha256(path.read_bytes())
    else:
        package = path.parent
        digest = hashlib.sha256()
        for name in sorted(file.relative_to(package).as_posix() for file in package.rglob("*.py")):
            digest.update(name.encode() + b"\0" + (package / name).read_bytes() + b"\0")
    return f"{APP_VERSION}+scoring.{digest.hexdigest()[:12]}"


# --- Canonical inputs and the digest ---------------------------------------------------------------------------------


def _exact(value):
    return format(Decimal(value).normalize(), "f")


def sealed_inputs(competition, *, legacy=False):
    """Everything the outputs read, as canonical, sorted, string-valued rows (Decimal kept exact): the submitted
    final-stage sheets and the rubric; and (issue #14) the round's money settings the top-k reads (``round``: fund
    pool, maximum grant, funding rule, finalist quota) and each scored proposal's requested amount (``requested``).

    ``legacy`` gives the inputs as snapshots frozen before the money settings were sealed held them (sheets and
    rubric only), so those snapshots verify as they did."""
    criteria = sorted([c.code, _exact(c.max_points), _exact(c.weight)] for c in competition.criteria.all())
    frame = score_frame(competition, PanelStage.FINAL)
    scores = sorted([int(p), int(j), str(c), _exact(str(v))] for p, j, c, v in frame.itertuples(index=False))
    inputs: dict[str, Any] = {"criteria": criteria, "scores": scores}
    if legacy:
        return inputs
    proposals = sorted({row[0] for row in scores})
    requested = Proposal.objects.filter(pk__in=proposals).values_list("pk", "requested_amount")
    inputs["round"] = {
        "fund_pool": _exact(competition.fund_pool),
        "max_grant": _exact(competition.max_grant),
        "funding_rule": competition.funding_rule,
        "finalist_quota": competition.finalist_quota,
    }
    inputs["requested"] = sorted([pk, None if amount is None else _exact(amount)] for pk, amount in requested)
    return inputs


def is_legacy(inputs):
    """A snapshot frozen before its inputs held the money settings (verified as before, and said so)."""
    return "round" not in inputs


class Money:
    """The money settings the outputs read: from the sealed inputs, or for a legacy snapshot from the round now."""

    requested: dict[int, Decimal | None] | None

    def __init__(self, competition, inputs=None):
        if inputs is not None and not is_legacy(inputs):
            sealed = inputs["round"]
            self.fund_pool, self.max_grant = Decimal(sealed["fund_pool"]), Decimal(sealed["max_grant"])
            self.funding_rule, self.finalist_quota = sealed["funding_rule"], int(sealed["finalist_quota"])
            self.requested = {
                int(pk): None if amount is None else Decimal(amount) for pk, amount in inputs["requested"]
            }
        else:
            self.fund_pool, self.max_grant = competition.fund_pool, competition.max_grant
            self.funding_rule, self.finalist_quota = competition.funding_rule, competition.finalist_quota
            self.requested = None  # read from the proposals when needed


def method_of(competition):
    return {
        "method": competition.method,
        "trim": competition.trim,
        "tiebreak": [list(r) if isinstance(r, tuple) else r for r in tiebreak_chain(competition)],
    }


def digest_of(inputs, method):
    canonical = json.dumps(
        {"inputs": inputs, "method": method}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _frames(inputs):
    criteria = pd.DataFrame(inputs["criteria"], columns=["criterion", "max_points", "weight"])
    criteria[["max_points", "weight"]] = criteria[["max_points", "weight"]].astype(float)
    scores = pd.DataFrame(inputs["scores"], columns=["proposal", "judge", "criterion", "points"])
    scores["points"] = scores["points"].astype(float)
    return scores, criteria


def fundable_count(competition, ranked, money=None):
    """How many of the ranking the pool would fund under the round's rule (the K of P(in the top K)); ``money``
    (``Money``) holds the settings read, the round's own by default."""
    money = money or Money(competition)
    frame = pd.DataFrame({"proposal": list(ranked.index), "rank": ranked["rank"].astype(int).values})
    costs = grant_costs(competition, frame["proposal"], money=money)
    frame["cost"] = [costs[p] for p in frame["proposal"]]
    try:
        chosen = scoring.select_within_budget(frame, money.fund_pool, rule=money.funding_rule)
    except ValueError:
        return min(len(frame), money.finalist_quota)
    return max(1, len(chosen))


def grant_costs(competition, proposal_ids, money=None):
    """What the pool would pay each proposal: its request, at most the round's maximum grant (from ``money`` when
    given: the sealed requests and maximum grant)."""
    money = money or Money(competition)
    amounts = money.requested
    if amounts is None:
        amounts = dict(Proposal.objects.filter(pk__in=list(proposal_ids)).values_list("pk", "requested_amount"))
    return {pid: min(amounts.get(pid) or Decimal("0"), money.max_grant) for pid in proposal_ids}


def compute_outputs(competition, inputs, method):
    """Everything the results page and the report show, from the canonical inputs alone (for a legacy snapshot,
    whose inputs hold no money settings, those are read from the round as they were before)."""
    scores, criteria = _frames(inputs)
    # Issue #14: the one ranking pipeline (scoring.rank_round), shared with the provisional ranking and finalists.
    result = scoring.rank_round(
        scores, criteria, method=method["method"], trim=method["trim"], tiebreak=method["tiebreak"]
    )
    totals, ranked, per_criterion = result.totals, result.table, result.criterion_means
    top_k = fundable_count(competition, ranked, Money(competition, inputs))
    boot = scoring.bootstrap_ranks(
        totals, method=method["method"], top_k=top_k, n_boot=N_BOOT, seed=BOOT_SEED, trim=method["trim"]
    )
    sensitivity = scoring.method_sensitivity(totals, top_k=top_k, trim=method["trim"])
    judges = scoring.judge_diagnostics(totals, trim=method["trim"])
    n_props = totals["proposal"].nunique()
    rows = []
    for pid, row in ranked.iterrows():
        rows.append(
            {
                "proposal": int(pid),
                "rank": int(row["rank"]),
                "score": round(float(row["score"]), 2),
                "mean": round(float(row["mean"]), 2),
                "median": round(float(row["median"]), 2),
                "n_judges": int(row["n_judges"]),
                "decided_by": str(row["decided_by"]),
                "decided_by_prev": None if pd.isna(row.get("decided_by_prev")) else str(row["decided_by_prev"]),
                "p_top_k": round(float(boot.loc[pid, "p_top_k"]), 3),
                "p_rank1": round(float(boot.loc[pid, "p_rank1"]), 3),
                "rank_lo": int(boot.loc[pid, "rank_lo"]),
                "rank_hi": int(boot.loc[pid, "rank_hi"]),
                "criteria": {c: round(float(per_criterion.loc[pid, c]), 2) for c in per_criterion.columns},
                "totals": [
                    [int(j), round(float(t), 2)]
                    for j, t in totals.loc[totals["proposal"] == pid, ["judge", "total"]].itertuples(index=False)
                ],
                "sensitivity": {m: int(sensitivity.loc[pid, f"rank_{m}"]) for m in scoring.SENSITIVITY_METHODS},
                "top_k_changes": bool(sensitivity.loc[pid, "membership_differs"]),
            }
        )

    def num(x):
        return None if x is None or pd.isna(x) else round(float(x), 4)

    return {
        "ranking": rows,
        "top_k": top_k,
        "kendall_w": num(scoring.kendall_w(totals)),
        "icc": {k: num(v) for k, v in scoring.icc(totals).items()} if n_props >= scoring.ICC_MIN_PROPOSALS else None,
        "krippendorff_alpha": num(scoring.krippendorff_alpha(totals)),
        "judges": [{"judge": int(j), **{k: num(v) for k, v in r.items()}} for j, r in judges.iterrows()],
        "n_boot": N_BOOT,
    }


# --- Freeze, verify, sign off ---------------------------------------------------------------------------------------


def current_snapshot(competition):
    return ResultSnapshot.objects.filter(competition=competition, valid=True).first()


@transaction.atomic
def freeze_results(*, competition, by):
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    if competition.stage != Stage.FINAL:
        raise ValidationError(_("Results can be frozen only at the end of the final review."))
    status = board(competition, PanelStage.FINAL)
    if not status["complete"]:
        raise ValidationError(
            _("%(missing)s expected score sheet(s) are still missing.")
            % {"missing": status["expected"] - status["submitted"]}
        )
    inputs = sealed_inputs(competition)
    method = method_of(competition)
    try:
        outputs = compute_outputs(competition, inputs, method)
    except ValueError as exc:
        raise ValidationError(_("The ranking cannot be computed: %(error)s") % {"error": exc}) from exc
    snapshot = ResultSnapshot.objects.create(
        competition=competition,
        created_by=by,
        method=method["method"],
        params=method,
        code_version=code_version(),
        inputs=inputs,
        outputs=outputs,
        digest=digest_of(inputs, method),
    )
    advance_stage(competition=competition, to=Stage.RESULTS, by=by, note=f"digest {snapshot.digest}")
    record(
        actor=by,
        action="results.freeze",
        obj=competition,
        after={"digest": snapshot.digest, "code_version": snapshot.code_version},
    )
    return snapshot


def _legacy_snapshot(snapshot):
    """``is_legacy`` of a snapshot, without loading its stored inputs when the page deferred them (one query)."""
    if "inputs" in snapshot.get_deferred_fields():
        return not ResultSnapshot.objects.filter(pk=snapshot.pk, inputs__has_key="round").exists()
    return is_legacy(snapshot.inputs)


def digest_now(snapshot, competition=None):
    """The digest of what the snapshot sealed, as it is in the database now (``competition``: the snapshot's round,
    when the caller holds it already)."""
    inputs = sealed_inputs(competition or snapshot.competition, legacy=_legacy_snapshot(snapshot))
    return digest_of(inputs, snapshot.params)


def live_check(snapshot, competition=None):
    """The cheap check the results page, the report and the public notice run on every view: the sealed rows now
    against the stored digest (four queries, no scoring). True when they match."""
    return digest_now(snapshot, competition) == snapshot.digest


def _canonical(outputs):
    return json.loads(json.dumps(outputs, sort_keys=True, ensure_ascii=False))


def verify(snapshot):
    """Recompute from the stored sheets: the digest of what is in the database now, and every published output
    (ranks, scores, decided-by, top-k, probabilities, sensitivity, diagnostics) from the stored inputs alone.
    Returns a dict of checks; ``ok`` is True only when all hold.

    A legacy snapshot (frozen before its inputs held the money settings, ``legacy``) is verified as it was then: its
    digest over the sheets and rubric, its ranking (proposal, rank, score) reproduced; its top-k reads the round's
    money settings now, so the other outputs are not part of its verdict."""
    competition = snapshot.competition
    legacy = is_legacy(snapshot.inputs)
    now = digest_now(snapshot)
    stored_digest_ok = digest_of(snapshot.inputs, snapshot.params) == snapshot.digest
    try:
        recomputed = _canonical(compute_outputs(competition, snapshot.inputs, snapshot.params))
    except (ValueError, KeyError, TypeError, ArithmeticError):  # tampered inputs that no longer compute: a failure
        recomputed = {"ranking": None}
    ranking_ok = recomputed["ranking"] is not None and [
        (r["proposal"], r["rank"], r["score"]) for r in recomputed["ranking"]
    ] == [(r["proposal"], r["rank"], r["score"]) for r in snapshot.outputs["ranking"]]
    outputs_ok = recomputed == _canonical(snapshot.outputs)
    checks = {
        "digest": snapshot.digest,
        "digest_now": now,
        "sheets_unchanged": now == snapshot.digest,
        "stored_inputs_intact": stored_digest_ok,
        "ranking_reproduced": ranking_ok,
        "outputs_reproduced": outputs_ok,
        "code_version_same": code_version() == snapshot.code_version,
        "legacy": legacy,
    }
    checks["ok"] = (
        checks["sheets_unchanged"]
        and checks["stored_inputs_intact"]
        and checks["ranking_reproduced"]
        and (legacy or outputs_ok)
    )
    return checks


@transaction.atomic
def sign_off(*, snapshot, by, note=""):
    snapshot = ResultSnapshot.objects.select_for_update().get(pk=snapshot.pk)
    if not snapshot.valid:
        raise ValidationError(_("This snapshot is no longer valid."))
    if snapshot.signed_off_at:
        raise ValidationError(_("These results have already been signed off."))
    checks = verify(snapshot)
    if not checks["ok"]:
        raise ValidationError(_("Verification failed; the results cannot be signed off."))
    snapshot.signed_off_by, snapshot.signed_off_at, snapshot.sign_off_note = by, timezone.now(), note
    snapshot.save()
    record(actor=by, action="results.sign_off", obj=snapshot.competition, after={"digest": snapshot.digest}, note=note)
    return snapshot


# Later stages that take decisions from the frozen results (awards) register here why the results may not be
# reopened: ``guard(competition)`` returns the reason, or "" when nothing stands in the way. The results app never
# imports them; they import it (dependencies run one way).
_unlock_guards = []


def register_unlock_guard(guard):
    if guard not in _unlock_guards:
        _unlock_guards.append(guard)


@transaction.atomic
def unlock_after_freeze(*, sheet, reason, by):
    """An audited unlock of a sealed sheet: the snapshot is invalidated and the round goes back to final review."""
    competition = Competition.objects.select_for_update().get(pk=sheet.assignment.panel.competition_id)
    for guard in _unlock_guards:
        refusal = guard(competition)
        if refusal:
            raise ValidationError(refusal)
    snapshot = current_snapshot(competition)
    if snapshot:
        snapshot.valid, snapshot.invalidated_at, snapshot.invalidated_reason = False, timezone.now(), reason
        snapshot.save()
        record(actor=by, action="results.invalidate", obj=competition, before={"digest": snapshot.digest}, note=reason)
    if competition.stage == Stage.RESULTS:
        advance_stage(competition=competition, to=Stage.FINAL, by=by, note=reason)
    return unlock_sheet(sheet=ScoreSheet.objects.get(pk=sheet.pk), reason=reason, by=by)


# --- The finalists decision from the results of pre-scoring --------------------------------------------------------


@transaction.atomic
def decide_finalists(*, competition, chosen, by, note=""):
    """Confirm as finalists the proposals (pks in ``chosen``) ticked on the finalists page, among those the decision
    is taken from; the pre-scoring ranking they were chosen from is recorded with the decision (screening's
    ``confirm_finalists`` writes it and the audit event)."""
    candidates = queries.finalist_candidates(competition)
    rows = candidates["rows"]
    decision = confirm_finalists(
        competition=competition,
        finalists=[r["proposal"] for r in rows if r["proposal"].pk in chosen],
        by=by,
        source=candidates["source"],
        ranking=queries.ranking_record(rows),
        note=note,
    )
    # The pre-scoring is over once the finalists are decided: its open tasks are cancelled, named to staff.
    decision.cancelled_tasks = cancel_open_prescoring(
        competition=competition, by=by, reason=_("The finalists have been decided.")
    )
    return decision


# --- The signed-sheet bundle (issue #17) -----------------------------------------------------------------------------


def record_bundle(*, snapshot, make_pdf, by):
    """The signed-sheet bundle of a signed-off snapshot, made once: ``make_pdf()`` renders it (venture.documents owns
    the rendering) only when none is kept yet; its bytes are kept and their SHA-256 recorded on the snapshot and in
    the audit trail. Returns the kept SheetBundle (the first one made, on every later call).

    The rendering (a minute for a big round) happens outside the transaction: on SQLite a write transaction holds
    the database's one write lock, and every other writer (requests, a second task worker) would wait for it and
    fail with "database is locked". Two callers at once may both render; the first to keep its bytes wins and both
    get the kept bundle."""
    _snapshot, kept = _bundle_kept(snapshot.pk)
    if kept is not None:
        return kept
    return _keep_bundle(snapshot_pk=snapshot.pk, pdf=make_pdf(), by=by)


def _bundle_kept(snapshot_pk, *, lock=False):
    """(the snapshot, its kept bundle or None); refused unless the snapshot is valid and signed off."""
    snapshot = (ResultSnapshot.objects.select_for_update() if lock else ResultSnapshot.objects).get(pk=snapshot_pk)
    if not snapshot.valid:
        raise ValidationError(_("This snapshot is no longer valid."))
    if not snapshot.signed_off_at:
        raise ValidationError(_("The signed-sheet bundle is made after the auditor's sign-off."))
    return snapshot, SheetBundle.objects.filter(snapshot=snapshot).first()


@transaction.atomic
def _keep_bundle(*, snapshot_pk, pdf, by):
    snapshot, kept = _bundle_kept(snapshot_pk, lock=True)
    if kept is not None:  # another caller kept its rendering meanwhile
        return kept
    digest = hashlib.sha256(pdf).hexdigest()
    bundle = SheetBundle.objects.create(snapshot=snapshot, pdf=pdf, sha256=digest, created_by=by)
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(bundle_sha256=digest)
    record(
        actor=by,
        action="results.bundle",
        obj=snapshot.competition,
        after={"digest": snapshot.digest, "bundle_sha256": digest, "bytes": len(pdf)},
    )
    return bundle
