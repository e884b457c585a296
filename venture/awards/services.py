"""Freeze, verify and sign off results; award within the pool; publish the notice; objections; agreements."""

import datetime
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import cn2an
import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from judging import scoring
from judging.models import PanelStage, ScoreSheet
from judging.queries import board, score_frame
from judging.ranking import tiebreak_chain
from judging.services import unlock_sheet
from venture.audit.services import record
from venture.competitions.models import Competition, Stage
from venture.competitions.services import advance_stage
from venture.proposals.models import Proposal, ProposalStatus
from venture.proposals.services import transition

from .models import (
    AWARD_TRANSITIONS,
    Award,
    AwardGrade,
    AwardStatus,
    GrantAgreement,
    Objection,
    ObjectionStatus,
    PublicNotice,
    ResultSnapshot,
)
from .workdays import add_working_days

APP_VERSION = "0.1.0"
N_BOOT = 1000
BOOT_SEED = 20260101


def code_version():
    """The app version and a hash of the scoring engine's source: a change in the maths changes the version."""
    source = (Path(scoring.__file__)).read_bytes()
    return f"{APP_VERSION}+scoring.{hashlib.sha256(source).hexdigest()[:12]}"


# --- Canonical inputs and the digest ---------------------------------------------------------------------------------


def sealed_inputs(competition):
    """The submitted final-stage sheets as canonical, sorted, string-valued rows (Decimal kept exact)."""
    criteria = sorted(
        [c.code, f"{c.max_points.normalize():f}", f"{c.weight.normalize():f}"]
        for c in competition.criteria.all()
    )
    frame = score_frame(competition, PanelStage.FINAL)
    scores = sorted([int(p), int(j), str(c), format(Decimal(str(v)).normalize(), "f")]
                    for p, j, c, v in frame.itertuples(index=False))
    return {"criteria": criteria, "scores": scores}


def method_of(competition):
    return {"method": competition.method, "trim": competition.trim,
            "tiebreak": [list(r) if isinstance(r, tuple) else r for r in tiebreak_chain(competition)]}


def digest_of(inputs, method):
    canonical = json.dumps({"inputs": inputs, "method": method}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _frames(inputs):
    criteria = pd.DataFrame(inputs["criteria"], columns=["criterion", "max_points", "weight"])
    criteria[["max_points", "weight"]] = criteria[["max_points", "weight"]].astype(float)
    scores = pd.DataFrame(inputs["scores"], columns=["proposal", "judge", "criterion", "points"])
    scores["points"] = scores["points"].astype(float)
    return scores, criteria


def fundable_count(competition, ranked):
    """How many of the ranking the pool would fund under the round's rule (the K of P(in the top K))."""
    frame = pd.DataFrame({"proposal": list(ranked.index), "rank": ranked["rank"].astype(int).values})
    costs = _costs(competition, frame["proposal"])
    frame["cost"] = [costs[p] for p in frame["proposal"]]
    try:
        chosen = scoring.select_within_budget(frame, competition.fund_pool, rule=competition.funding_rule)
    except ValueError:
        return min(len(frame), competition.finalist_quota)
    return max(1, len(chosen))


def _costs(competition, proposal_ids):
    amounts = dict(Proposal.objects.filter(pk__in=list(proposal_ids)).values_list("pk", "requested_amount"))
    return {pid: min(amounts[pid] or Decimal("0"), competition.max_grant) for pid in proposal_ids}


def compute_outputs(competition, inputs, method):
    """Everything the results page and the report show, from the canonical inputs alone."""
    scores, criteria = _frames(inputs)
    totals = scoring.judge_totals(scores, criteria)
    chain = [tuple(r) if isinstance(r, list) else r for r in method["tiebreak"]]
    aggregated = scoring.aggregate(totals, method=method["method"], trim=method["trim"])
    criterion_scores = scoring.criterion_aggregates(scores, criteria, method=method["method"], trim=method["trim"]) \
        if any(isinstance(r, tuple) for r in chain) else None
    ranked = scoring.rank(aggregated, totals, tiebreak=chain, criterion_scores=criterion_scores)
    per_criterion = scoring.criterion_aggregates(scores, criteria, method="mean", trim=method["trim"])
    top_k = fundable_count(competition, ranked)
    boot = scoring.bootstrap_ranks(totals, method=method["method"], top_k=top_k, n_boot=N_BOOT, seed=BOOT_SEED,
                                   trim=method["trim"])
    sensitivity = scoring.method_sensitivity(totals, top_k=top_k, trim=method["trim"])
    judges = scoring.judge_diagnostics(totals, trim=method["trim"])
    n_props = totals["proposal"].nunique()
    rows = []
    for pid, row in ranked.iterrows():
        rows.append({
            "proposal": int(pid), "rank": int(row["rank"]), "score": round(float(row["score"]), 2),
            "mean": round(float(row["mean"]), 2), "median": round(float(row["median"]), 2),
            "n_judges": int(row["n_judges"]), "decided_by": str(row["decided_by"]),
            "decided_by_prev": None if pd.isna(row.get("decided_by_prev")) else str(row["decided_by_prev"]),
            "p_top_k": round(float(boot.loc[pid, "p_top_k"]), 3), "p_rank1": round(float(boot.loc[pid, "p_rank1"]), 3),
            "rank_lo": int(boot.loc[pid, "rank_lo"]), "rank_hi": int(boot.loc[pid, "rank_hi"]),
            "criteria": {c: round(float(per_criterion.loc[pid, c]), 2) for c in per_criterion.columns},
            "totals": [[int(j), round(float(t), 2)] for j, t in
                       totals.loc[totals["proposal"] == pid, ["judge", "total"]].itertuples(index=False)],
            "sensitivity": {m: int(sensitivity.loc[pid, f"rank_{m}"]) for m in scoring.SENSITIVITY_METHODS},
            "top_k_changes": bool(sensitivity.loc[pid, "membership_differs"]),
        })

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
        raise ValidationError(_("%(missing)s expected score sheet(s) are still missing.") % {
            "missing": status["expected"] - status["submitted"]})
    inputs = sealed_inputs(competition)
    method = method_of(competition)
    try:
        outputs = compute_outputs(competition, inputs, method)
    except ValueError as exc:
        raise ValidationError(_("The ranking cannot be computed: %(error)s") % {"error": exc}) from exc
    snapshot = ResultSnapshot.objects.create(
        competition=competition, created_by=by, method=method["method"], params=method,
        code_version=code_version(), inputs=inputs, outputs=outputs, digest=digest_of(inputs, method))
    advance_stage(competition=competition, to=Stage.RESULTS, by=by, note=f"digest {snapshot.digest}")
    record(actor=by, action="results.freeze", obj=competition, after={"digest": snapshot.digest,
                                                                      "code_version": snapshot.code_version})
    return snapshot


def verify(snapshot):
    """Recompute from the stored sheets: the digest of what is in the database now, and the ranking from the stored
    inputs. Returns a dict of checks; ``ok`` is True only when all hold."""
    competition = snapshot.competition
    now_inputs = sealed_inputs(competition)
    digest_now = digest_of(now_inputs, snapshot.params)
    stored_digest_ok = digest_of(snapshot.inputs, snapshot.params) == snapshot.digest
    try:
        recomputed = compute_outputs(competition, snapshot.inputs, snapshot.params)
    except (ValueError, KeyError, TypeError):  # tampered stored inputs that no longer compute: a failed check
        recomputed = {"ranking": None}
    ranking_ok = recomputed["ranking"] is not None and [
        (r["proposal"], r["rank"], r["score"]) for r in recomputed["ranking"]] == [
        (r["proposal"], r["rank"], r["score"]) for r in snapshot.outputs["ranking"]]
    checks = {
        "digest": snapshot.digest,
        "digest_now": digest_now,
        "sheets_unchanged": digest_now == snapshot.digest,
        "stored_inputs_intact": stored_digest_ok,
        "ranking_reproduced": ranking_ok,
        "code_version_same": code_version() == snapshot.code_version,
    }
    checks["ok"] = checks["sheets_unchanged"] and checks["stored_inputs_intact"] and checks["ranking_reproduced"]
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
    record(actor=by, action="results.sign_off", obj=snapshot.competition, after={"digest": snapshot.digest},
           note=note)
    return snapshot


@transaction.atomic
def unlock_after_freeze(*, sheet, reason, by):
    """An audited unlock of a sealed sheet: the snapshot is invalidated and the round goes back to final review."""
    competition = Competition.objects.select_for_update().get(pk=sheet.assignment.panel.competition_id)
    if Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED).exists():
        raise ValidationError(_("Awards have been made from these results; cancel them before unlocking a sheet."))
    snapshot = current_snapshot(competition)
    if snapshot:
        snapshot.valid, snapshot.invalidated_at, snapshot.invalidated_reason = False, timezone.now(), reason
        snapshot.save()
        record(actor=by, action="results.invalidate", obj=competition, before={"digest": snapshot.digest},
               note=reason)
    if competition.stage == Stage.RESULTS:
        advance_stage(competition=competition, to=Stage.FINAL, by=by, note=reason)
    return unlock_sheet(sheet=ScoreSheet.objects.get(pk=sheet.pk), reason=reason, by=by)


# --- Awards within the pool -----------------------------------------------------------------------------------------


def _lock_pool(competition):
    """Lock the round's row for the rest of the transaction: two staff awarding at once queue here."""
    return Competition.objects.select_for_update().get(pk=competition.pk)


def committed(competition):
    return Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED).aggregate(
        s=Sum("amount"))["s"] or Decimal("0")


def _check_amount(competition, proposal, amount, exclude=None):
    if amount <= 0:
        raise ValidationError(_("An award is more than zero."))
    if proposal.requested_amount is not None and amount > proposal.requested_amount:
        raise ValidationError(_("An award cannot exceed the amount requested (¥%(x)s).") % {
            "x": f"{proposal.requested_amount:,.2f}"})
    if amount > competition.max_grant:
        raise ValidationError(_("An award cannot exceed the maximum grant (¥%(x)s).") % {
            "x": f"{competition.max_grant:,.2f}"})
    others = Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    used = others.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    if used + amount > competition.fund_pool:
        raise ValidationError(_("This would exceed the fund pool: ¥%(used)s already awarded, ¥%(left)s left.") % {
            "used": f"{used:,.2f}", "left": f"{competition.fund_pool - used:,.2f}"})


def _require_signed_off(competition):
    snapshot = current_snapshot(competition)
    if snapshot is None or not snapshot.signed_off_at:
        raise ValidationError(_("The auditor must sign off the frozen results first."))
    return snapshot


@transaction.atomic
def propose_awards(*, competition, by):
    """Offer grants down the frozen ranking within the pool by the round's declared rule (select_within_budget)."""
    competition = _lock_pool(competition)
    snapshot = _require_signed_off(competition)
    if Award.objects.filter(competition=competition).exists():
        raise ValidationError(_("Awards have already been proposed for this round."))
    ranked = pd.DataFrame([(r["proposal"], r["rank"]) for r in snapshot.outputs["ranking"]],
                          columns=["proposal", "rank"])
    costs = _costs(competition, ranked["proposal"])
    ranked["cost"] = [costs[p] for p in ranked["proposal"]]
    try:
        chosen = scoring.select_within_budget(ranked, competition.fund_pool, rule=competition.funding_rule)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    grades = list(competition.grades.all())
    awards = []
    for i, row in enumerate(chosen.itertuples(index=False)):
        proposal = Proposal.objects.get(pk=row.proposal)
        amount = Decimal(row.amount)
        _check_amount(competition, proposal, amount)
        grade = _grade_for(grades, i, len(chosen))
        awards.append(Award.objects.create(competition=competition, proposal=proposal, rank=int(row.rank),
                                           amount=amount, partial=bool(getattr(row, "partial", False)),
                                           grade=grade))
    record(actor=by, action="awards.propose", obj=competition,
           after={"rule": competition.funding_rule, "awards": [[a.proposal_id, str(a.amount)] for a in awards],
                  "total": str(sum((a.amount for a in awards), Decimal("0")))})
    return awards


def _grade_for(grades, index, count):
    """Spread the funded list over the round's grades in rank order (first third first grade, and so on)."""
    if not grades:
        return None
    per = max(1, -(-count // len(grades)))
    return grades[min(index // per, len(grades) - 1)]


@transaction.atomic
def set_award(*, award, amount, grade, by):
    competition = _lock_pool(award.competition)
    award = Award.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=award.pk)
    if award.status != AwardStatus.OFFERED:
        raise ValidationError(_("Only an offered award can be changed."))
    _check_amount(competition, award.proposal, amount, exclude=award)
    before = {"amount": str(award.amount), "grade": award.grade_id}
    award.amount, award.grade = amount, grade
    award.save()
    record(actor=by, action="award.change", obj=award.proposal, before=before,
           after={"amount": str(amount), "grade": grade.pk if grade else None})
    return award


@transaction.atomic
def add_award(*, competition, proposal, amount, by, grade=None):
    """Staff award one more proposal by hand (e.g. the next in rank); the pool check is under the row lock."""
    competition = _lock_pool(competition)
    snapshot = _require_signed_off(competition)
    ranks = {r["proposal"]: r["rank"] for r in snapshot.outputs["ranking"]}
    if proposal.pk not in ranks:
        raise ValidationError(_("Only ranked finalists can be awarded."))
    if Award.objects.filter(proposal=proposal).exclude(status=AwardStatus.CANCELLED).exists():
        raise ValidationError(_("This proposal already has an award."))
    _check_amount(competition, proposal, amount)
    award = Award.objects.create(competition=competition, proposal=proposal, rank=ranks[proposal.pk], amount=amount,
                                 grade=grade)
    record(actor=by, action="award.add", obj=proposal, after={"amount": str(amount)})
    return award


def _award_transition(award, to):
    if to not in AWARD_TRANSITIONS[AwardStatus(award.status)]:
        raise ValidationError(_("An award cannot go from “%(from)s” to “%(to)s”.") % {
            "from": award.get_status_display(), "to": AwardStatus(to).label})


@transaction.atomic
def cancel_award(*, award, reason, by):
    award = Award.objects.select_for_update().get(pk=award.pk)
    _award_transition(award, AwardStatus.CANCELLED)
    award.status, award.cancelled_reason = AwardStatus.CANCELLED, reason
    award.save()
    record(actor=by, action="award.cancel", obj=award.proposal, note=reason)
    return award


def next_in_rank(competition):
    """The best-ranked finalist without a live award whose cost still fits the pool (None when none fits)."""
    snapshot = current_snapshot(competition)
    live = set(Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED)
               .values_list("proposal_id", flat=True))
    cancelled = set(Award.objects.filter(competition=competition, status=AwardStatus.CANCELLED)
                    .values_list("proposal_id", flat=True))
    left = competition.fund_pool - committed(competition)
    candidates = [r for r in snapshot.outputs["ranking"] if r["proposal"] not in live | cancelled]
    costs = _costs(competition, [r["proposal"] for r in candidates])
    for r in candidates:
        if costs[r["proposal"]] <= left:
            return Proposal.objects.get(pk=r["proposal"]), costs[r["proposal"]], r["rank"]
    return None


# --- Public notice and objections -----------------------------------------------------------------------------------


@transaction.atomic
def publish_notice(*, competition, by, starts_on=None, text=""):
    competition = _lock_pool(competition)
    _require_signed_off(competition)
    if not Award.objects.filter(competition=competition, status=AwardStatus.OFFERED).exists():
        raise ValidationError(_("Propose the awards before publishing the notice."))
    starts_on = starts_on or timezone.localdate()
    ends_on, covered = add_working_days(starts_on, competition.notice_working_days)
    notice = PublicNotice.objects.create(competition=competition, published_at=timezone.now(), published_by=by,
                                         starts_on=starts_on, ends_on=ends_on, calendar_covered=covered, text=text)
    advance_stage(competition=competition, to=Stage.NOTICE, by=by)
    record(actor=by, action="notice.publish", obj=competition,
           after={"starts_on": starts_on, "ends_on": ends_on, "calendar_covered": covered})
    return notice


def notice_open(notice, today=None):
    today = today or timezone.localdate()
    return notice.closed_at is None and notice.starts_on <= today <= notice.ends_on


OBJECTIONS_PER_HOUR = 3


def client_key(ip):
    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()


@transaction.atomic
def submit_objection(*, notice, name, contact, text, award=None, attachment=None, ip="", today=None):
    if not notice_open(notice, today):
        raise ValidationError(_("The public notice period is over; objections are no longer accepted."))
    key = client_key(ip)
    recent = Objection.objects.filter(client_key=key, created_at__gte=timezone.now() - datetime.timedelta(hours=1))
    if recent.count() >= OBJECTIONS_PER_HOUR:
        raise ValidationError(_("Too many objections from this connection; please try again in an hour."))
    objection = Objection.objects.create(notice=notice, award=award, name=name, contact=contact, text=text,
                                         attachment=attachment or "", client_key=key)
    record(actor=None, action="objection.submit", obj=notice.competition,
           after={"objection": objection.pk, "award": award.pk if award else None})
    return objection


@transaction.atomic
def handle_objection(*, objection, upheld, outcome, by):
    """Dismiss, or uphold: the award concerned is cancelled and the next-ranked project that fits is offered."""
    objection = Objection.objects.select_for_update(of=("self",)).select_related("notice__competition", "award").get(
        pk=objection.pk)
    if objection.status != ObjectionStatus.PENDING:
        raise ValidationError(_("This objection has already been handled."))
    if not outcome.strip():
        raise ValidationError(_("Write the outcome; it is published with the notice."))
    competition = _lock_pool(objection.notice.competition)
    offered = None
    if upheld:
        if objection.award is None:
            raise ValidationError(_("Choose the award the upheld objection concerns."))
        cancel_award(award=objection.award, reason=outcome, by=by)
        nxt = next_in_rank(competition)
        if nxt:
            proposal, cost, rank = nxt
            offered = Award.objects.create(competition=competition, proposal=proposal, rank=rank, amount=cost)
            record(actor=by, action="award.offer_next", obj=proposal, after={"amount": str(cost), "rank": rank})
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
    objection.outcome, objection.handled_by, objection.handled_at = outcome, by, timezone.now()
    objection.save()
    record(actor=by, action=f"objection.{objection.status}", obj=competition, note=outcome,
           after={"objection": objection.pk, "offered": offered.proposal_id if offered else None})
    return objection, offered


@transaction.atomic
def close_notice(*, competition, by, today=None):
    """After the notice period with no pending objection: awards become final, proposals awarded, agreements made."""
    competition = _lock_pool(competition)
    notice = competition.notice
    today = today or timezone.localdate()
    if today <= notice.ends_on:
        raise ValidationError(_("The notice runs until %(day)s.") % {"day": notice.ends_on.isoformat()})
    if notice.objections.filter(status=ObjectionStatus.PENDING).exists():
        raise ValidationError(_("Handle every objection before closing the notice."))
    agreements = []
    for award in Award.objects.filter(competition=competition, status=AwardStatus.OFFERED).select_related(
            "proposal"):
        _award_transition(award, AwardStatus.FINAL)
        award.status = AwardStatus.FINAL
        award.save()
        transition(proposal=award.proposal, to=ProposalStatus.AWARDED, by=by)
        agreements.append(create_agreement(award=award))
    for p in Proposal.objects.filter(competition=competition, status=ProposalStatus.FINALIST):
        transition(proposal=p, to=ProposalStatus.NOT_FUNDED, by=by)
    notice.closed_at = timezone.now()
    notice.save()
    advance_stage(competition=competition, to=Stage.SUPERVISION, by=by)
    record(actor=by, action="notice.close", obj=competition, after={"agreements": [a.number for a in agreements]})
    return agreements


def amount_in_words(amount):
    return cn2an.an2cn(f"{Decimal(amount):.2f}", "rmb")


def create_agreement(*, award):
    competition = award.competition
    number = f"GY{competition.year}-{award.rank:03d}-{award.proposal_id:05d}"
    plan = []
    remaining = award.amount
    items = list(competition.tranche_plan.all())
    for i, t in enumerate(items):
        part = remaining if i == len(items) - 1 else (award.amount * t.percent / 100).quantize(Decimal("0.01"))
        remaining -= part
        plan.append({"order": t.order, "percent": f"{t.percent.normalize():f}", "amount": f"{part:.2f}",
                     "condition": t.condition})
    p = award.proposal
    return GrantAgreement.objects.create(award=award, number=number, amount=award.amount,
                                         amount_in_words=amount_in_words(award.amount), period_start=p.period_start,
                                         period_end=p.period_end, tranches=plan)


@transaction.atomic
def set_grades(*, competition, names, by):
    """The round's award grades in order (e.g. 一等资助, 二等资助); renaming keeps awards linked to their grade."""

    names = [n.strip() for n in names if n.strip()]
    if len(set(names)) != len(names):
        raise ValidationError(_("Each grade is listed once."))
    if competition.stage in (Stage.NOTICE, Stage.SUPERVISION, Stage.CLOSED):
        raise ValidationError(_("The public notice has been published; grades can no longer change."))
    existing = list(competition.grades.order_by("order"))
    before = [g.name for g in existing]
    for i, name in enumerate(names):
        if i < len(existing):
            existing[i].name, existing[i].order = name, i
            existing[i].save()
        else:
            AwardGrade.objects.create(competition=competition, name=name, order=i)
    for grade in existing[len(names):]:
        grade.delete()
    record(actor=by, action="awards.grades", obj=competition, before={"grades": before}, after={"grades": names})
