"""Award within the pool from the signed-off results; grades; publish the notice (公示); objections; agreements."""

import datetime
import hashlib
from decimal import ROUND_HALF_UP, Decimal

import cn2an
import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from judging import scoring
from venture.audit.services import record
from venture.competitions import policy
from venture.competitions.models import Competition, Stage
from venture.competitions.services import advance_stage
from venture.money import format_money
from venture.organizations.services import identity, payee
from venture.proposals.models import Proposal, ProposalStatus
from venture.proposals.services import transition
from venture.results.services import current_snapshot, grant_costs, live_check
from venture.validators import validate_money

from .models import (
    AWARD_TRANSITIONS,
    Award,
    AwardGrade,
    AwardStatus,
    GrantAgreement,
    Objection,
    ObjectionStatus,
    PublicNotice,
    PublicNoticeVersion,
    StatutoryDay,
    StatutoryDayKind,
)
from .workdays import add_working_days
from .workdays import library_knows as workdays_library_knows


def live_awards_block_unlock(competition):
    """The unlock guard this app registers with the results (apps.py): frozen results that live awards were made
    from stay frozen."""
    if Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED).exists():
        return _("Awards have been made from these results; cancel them before unlocking a sheet.")
    return ""


# --- Awards within the pool -----------------------------------------------------------------------------------------


def _lock_pool(competition):
    """Lock the round's row for the rest of the transaction: two staff awarding at once queue here."""
    return Competition.objects.select_for_update().get(pk=competition.pk)


def committed(competition):
    return Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0")


def _sync_awarded_total(competition):
    """Store the sum of the live awards on the round (under its row lock, taken by the caller). The database refuses
    a total above the fund pool (constraint ``awards_within_pool``)."""
    competition.awarded_total = committed(competition)
    competition.save(update_fields=["awarded_total"])


def check_award_amount(competition, proposal, amount, exclude=None):
    """The one money check of an award, whichever path makes or changes it (the edit form, the add form, proposing
    down the ranking, an offer after an upheld objection): yuan with at most two decimals, more than zero, within
    the request, the maximum grant and what the pool has left."""
    validate_money(amount)
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError(_("An award is more than zero."))
    if proposal.requested_amount is not None and amount > proposal.requested_amount:
        raise ValidationError(
            _("An award cannot exceed the amount requested (%(x)s).") % {"x": format_money(proposal.requested_amount)}
        )
    if amount > competition.max_grant:
        raise ValidationError(
            _("An award cannot exceed the maximum grant (%(x)s).") % {"x": format_money(competition.max_grant)}
        )
    others = Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    used = others.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    if used + amount > competition.fund_pool:
        raise ValidationError(
            _("This would exceed the fund pool: %(used)s already awarded, %(left)s left.")
            % {"used": format_money(used), "left": format_money(competition.fund_pool - used)}
        )


def _require_signed_off(competition):
    snapshot = current_snapshot(competition)
    if snapshot is None or not snapshot.signed_off_at:
        raise ValidationError(_("The auditor must sign off the frozen results first."))
    return snapshot


@transaction.atomic
def propose_awards(*, competition, by):
    """Offer grants down the frozen ranking within the pool by the round's declared rule (select_within_budget)."""
    competition = _lock_pool(competition)
    policy.ensure(competition, policy.Part.AWARDS)
    snapshot = _require_signed_off(competition)
    if Award.objects.filter(competition=competition).exists():
        raise ValidationError(_("Awards have already been proposed for this round."))
    ranked = pd.DataFrame(
        [(r["proposal"], r["rank"]) for r in snapshot.outputs["ranking"]], columns=["proposal", "rank"]
    )
    costs = grant_costs(competition, ranked["proposal"])
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
        check_award_amount(competition, proposal, amount)
        grade = _grade_for(grades, i, len(chosen))
        awards.append(
            Award.objects.create(
                competition=competition,
                proposal=proposal,
                rank=int(row.rank),
                amount=amount,
                partial=bool(getattr(row, "partial", False)),
                grade=grade,
            )
        )
    _sync_awarded_total(competition)
    record(
        actor=by,
        action="awards.propose",
        obj=competition,
        after={
            "rule": competition.funding_rule,
            "awards": [[a.proposal_id, str(a.amount)] for a in awards],
            "total": str(sum((a.amount for a in awards), Decimal("0"))),
        },
    )
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
    policy.ensure(competition, policy.Part.AWARDS)
    award = Award.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=award.pk)
    if award.status != AwardStatus.OFFERED:
        raise ValidationError(_("Only an offered award can be changed."))
    check_award_amount(competition, award.proposal, amount, exclude=award)
    before = {"amount": str(award.amount), "grade": award.grade_id}
    award.amount, award.grade = Decimal(amount), grade
    award.save()
    _sync_awarded_total(competition)
    record(
        actor=by,
        action="award.change",
        obj=award.proposal,
        before=before,
        after={"amount": str(amount), "grade": grade.pk if grade else None},
    )
    return award


@transaction.atomic
def add_award(*, competition, proposal, amount, by, grade=None):
    """Staff award one more proposal by hand (e.g. the next in rank); the pool check is under the row lock."""
    competition = _lock_pool(competition)
    policy.ensure(competition, policy.Part.AWARDS)
    snapshot = _require_signed_off(competition)
    ranks = {r["proposal"]: r["rank"] for r in snapshot.outputs["ranking"]}
    if proposal.pk not in ranks:
        raise ValidationError(_("Only ranked finalists can be awarded."))
    if Award.objects.filter(proposal=proposal).exclude(status=AwardStatus.CANCELLED).exists():
        raise ValidationError(_("This proposal already has an award."))
    check_award_amount(competition, proposal, amount)
    award = Award.objects.create(
        competition=competition, proposal=proposal, rank=ranks[proposal.pk], amount=Decimal(amount), grade=grade
    )
    _sync_awarded_total(competition)
    record(actor=by, action="award.add", obj=proposal, after={"amount": str(amount)})
    return award


def _award_transition(award, to):
    if to not in AWARD_TRANSITIONS[AwardStatus(award.status)]:
        raise ValidationError(
            _("An award cannot go from “%(from)s” to “%(to)s”.")
            % {"from": award.get_status_display(), "to": AwardStatus(to).label}
        )


@transaction.atomic
def cancel_award(*, award, reason, by):
    competition = _lock_pool(award.competition)
    policy.ensure(competition, policy.Part.AWARDS)
    award = Award.objects.select_for_update().get(pk=award.pk)
    _award_transition(award, AwardStatus.CANCELLED)
    award.status, award.cancelled_reason = AwardStatus.CANCELLED, reason
    award.save()
    _sync_awarded_total(competition)
    record(actor=by, action="award.cancel", obj=award.proposal, note=reason)
    return award


def next_in_rank(competition):
    """The best-ranked finalist without a live award whose cost still fits the pool (None when none fits)."""
    snapshot = current_snapshot(competition)
    live = set(
        Award.objects.filter(competition=competition)
        .exclude(status=AwardStatus.CANCELLED)
        .values_list("proposal_id", flat=True)
    )
    cancelled = set(
        Award.objects.filter(competition=competition, status=AwardStatus.CANCELLED).values_list(
            "proposal_id", flat=True
        )
    )
    left = competition.fund_pool - committed(competition)
    candidates = [r for r in snapshot.outputs["ranking"] if r["proposal"] not in live | cancelled]
    costs = grant_costs(competition, [r["proposal"] for r in candidates])
    for r in candidates:
        if costs[r["proposal"]] <= left:
            return Proposal.objects.get(pk=r["proposal"]), costs[r["proposal"]], r["rank"]
    return None


# --- Public notice and objections -----------------------------------------------------------------------------------


def results_tampered(competition):
    """The results' live check (issue #14) for the notice and its publication: True when the sealed rows no longer
    match the digest of the valid snapshot."""
    snapshot = current_snapshot(competition)
    return snapshot is not None and not live_check(snapshot, competition)


def publication_refusal(competition):
    """Why the notice may not be published now ("" when it may): the stage policy, the pool and the live check."""
    reason = policy.refusal(competition, policy.Part.NOTICE_TEXT)
    if reason:
        return reason
    used = committed(competition)
    if used > competition.fund_pool:
        return _("The awards (%(used)s) exceed the fund pool (%(pool)s); the notice cannot be published.") % {
            "used": format_money(used),
            "pool": format_money(competition.fund_pool),
        }
    if results_tampered(competition):
        return _(
            "The sealed results no longer match the database; the notice cannot be published. Run the verification."
        )
    return ""


@transaction.atomic
def publish_notice(*, competition, by, starts_on=None, text=""):
    """Publish the public notice, or publish it again after ``reopen_notice`` (the next version, a new period)."""
    competition = _lock_pool(competition)
    _require_signed_off(competition)
    reason = publication_refusal(competition)
    if reason:
        raise ValidationError(reason)
    if not Award.objects.filter(competition=competition, status=AwardStatus.OFFERED).exists():
        raise ValidationError(_("Propose the awards before publishing the notice."))
    starts_on = starts_on or timezone.localdate()
    ends_on, covered = add_working_days(starts_on, competition.notice_working_days)
    offered = Award.objects.filter(competition=competition, status=AwardStatus.OFFERED).select_related(
        "proposal__organization"
    )
    identities = {str(a.proposal.organization_id): identity(a.proposal.organization) for a in offered}
    notice = PublicNotice.objects.select_for_update().filter(competition=competition).first()
    values = {
        "published_at": timezone.now(),
        "published_by": by,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "calendar_covered": covered,
        "text": text,
        "identities": identities,
    }
    if notice is None:
        notice = PublicNotice.objects.create(competition=competition, **values)
        action = "notice.publish"
    else:
        for field, value in values.items():
            setattr(notice, field, value)
        notice.version += 1
        notice.reopened_at, notice.reopen_reason = None, ""
        notice.save()
        action = "notice.republish"
    advance_stage(competition=competition, to=Stage.NOTICE, by=by)
    record(
        actor=by,
        action=action,
        obj=competition,
        after={
            "version": notice.version,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "calendar_covered": covered,
            "total": str(committed(competition)),
        },
    )
    return notice


def _notice_awards(competition, notice):
    items = (
        Award.objects.filter(competition=competition)
        .exclude(status=AwardStatus.CANCELLED)
        .select_related("proposal__organization", "grade")
        .order_by("rank")
    )
    return [
        {
            "proposal": a.proposal_id,
            "title": a.proposal.title,
            "rank": a.rank,
            "grade": a.grade.name if a.grade else "",
            "amount": f"{a.amount:.2f}",
            "party": notice.identities.get(str(a.proposal.organization_id)) or identity(a.proposal.organization),
        }
        for a in items
    ]


@transaction.atomic
def reopen_notice(*, competition, reason, by):
    """Reopen a published notice for a change of its awards or grades (issue #14): the version as published goes on
    record (PublicNoticeVersion), objections stop until it is published again, and the round is back in the results
    stage, where the stage policy lets awards and grades change. Publishing again (``publish_notice``) makes the next
    version and restarts the notice period."""
    competition = _lock_pool(competition)
    if not reason.strip():
        raise ValidationError(_("Give the reason for reopening the notice."))
    if competition.stage != Stage.NOTICE:
        raise ValidationError(_("Only a running public notice can be reopened."))
    notice = PublicNotice.objects.select_for_update().get(competition=competition)
    if notice.objections.filter(status=ObjectionStatus.PENDING).exists():
        raise ValidationError(_("Handle every pending objection before reopening the notice."))
    return _reopen(competition, notice, reason, by)


def _reopen(competition, notice, reason, by):
    awards = _notice_awards(competition, notice)
    version = PublicNoticeVersion.objects.create(
        notice=notice,
        version=notice.version,
        published_at=notice.published_at,
        published_by=notice.published_by,
        starts_on=notice.starts_on,
        ends_on=notice.ends_on,
        text=notice.text,
        identities=notice.identities,
        awards=awards,
        total=sum((Decimal(a["amount"]) for a in awards), Decimal("0")),
        superseded_at=timezone.now(),
        superseded_by=by,
        reason=reason,
    )
    notice.reopened_at, notice.reopen_reason = timezone.now(), reason
    notice.save(update_fields=["reopened_at", "reopen_reason"])
    advance_stage(competition=competition, to=Stage.RESULTS, by=by, note=reason)
    record(
        actor=by,
        action="notice.reopen",
        obj=competition,
        note=reason,
        before={
            "version": version.version,
            "starts_on": version.starts_on,
            "ends_on": version.ends_on,
            "total": str(version.total),
        },
    )
    return version


def with_published_identities(notice, awards):
    """The awards as the notice shows them: each with ``party``, its organization's identity as published (an
    organization first listed after publication, e.g. offered after an upheld objection, as it was then)."""
    awards = list(awards)
    for award in awards:
        award.party = notice.identities.get(str(award.proposal.organization_id)) or identity(
            award.proposal.organization
        )
    return awards


def notice_open(notice, today=None):
    today = today or timezone.localdate()
    return notice.closed_at is None and notice.reopened_at is None and notice.starts_on <= today <= notice.ends_on


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
    objection = Objection.objects.create(
        notice=notice, award=award, name=name, contact=contact, text=text, attachment=attachment or "", client_key=key
    )
    record(
        actor=None,
        action="objection.submit",
        obj=notice.competition,
        after={"objection": objection.pk, "award": award.pk if award else None},
    )
    return objection


@transaction.atomic
def handle_objection(*, objection, upheld, outcome, by):
    """Dismiss, or uphold: the notice is reopened (its version as published kept on record), the award concerned is
    cancelled and the next-ranked project that fits is offered; staff then publish the notice again."""
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("notice__competition", "award")
        .get(pk=objection.pk)
    )
    if objection.status != ObjectionStatus.PENDING:
        raise ValidationError(_("This objection has already been handled."))
    if not outcome.strip():
        raise ValidationError(_("Write the outcome; it is published with the notice."))
    competition = _lock_pool(objection.notice.competition)
    offered = None
    if upheld:
        if objection.award is None:
            raise ValidationError(_("Choose the award the upheld objection concerns."))
        # The awards change, so the notice as published goes on record and is reopened (the stage policy allows
        # award changes only then); staff publish it again, which restarts the notice period.
        if competition.stage == Stage.NOTICE:
            _reopen(
                competition,
                PublicNotice.objects.select_for_update().get(pk=objection.notice_id),
                _("Objection upheld: %(outcome)s") % {"outcome": outcome},
                by,
            )
            competition.refresh_from_db()
        cancel_award(award=objection.award, reason=outcome, by=by)
        nxt = next_in_rank(competition)
        if nxt:
            proposal, cost, rank = nxt
            check_award_amount(competition, proposal, cost)
            offered = Award.objects.create(competition=competition, proposal=proposal, rank=rank, amount=cost)
            _sync_awarded_total(competition)
            record(actor=by, action="award.offer_next", obj=proposal, after={"amount": str(cost), "rank": rank})
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
    objection.outcome, objection.handled_by, objection.handled_at = outcome, by, timezone.now()
    objection.save()
    record(
        actor=by,
        action=f"objection.{objection.status}",
        obj=competition,
        note=outcome,
        after={"objection": objection.pk, "offered": offered.proposal_id if offered else None},
    )
    return objection, offered


@transaction.atomic
def close_notice(*, competition, by, today=None):
    """After the notice period with no pending objection: awards become final, proposals awarded, agreements made."""
    competition = _lock_pool(competition)
    notice = competition.notice
    if competition.stage != Stage.NOTICE:
        raise ValidationError(_("The notice is not running; publish it again before closing it."))
    today = today or timezone.localdate()
    if today <= notice.ends_on:
        raise ValidationError(_("The notice runs until %(day)s.") % {"day": notice.ends_on.isoformat()})
    if notice.objections.filter(status=ObjectionStatus.PENDING).exists():
        raise ValidationError(_("Handle every objection before closing the notice."))
    agreements = []
    for award in Award.objects.filter(competition=competition, status=AwardStatus.OFFERED).select_related("proposal"):
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


CENT = Decimal("0.01")
REFUND_DAYS = 30  # unspent and disallowed money is refunded within this many days of close-out (the agreement says so)


def approved_lines(proposal, amount):
    """The approved budget of a grant of ``amount`` to ``proposal``: its budget lines (by category order), scaled when
    the grant is smaller than the request, the last line taking the rounding so that the lines add up to ``amount``.
    As JSON rows ``{"category_id", "category", "item", "amount"}``: the agreement prints them and keeps them, and the
    project's approved lines are made from them when the agreement is signed."""
    lines = list(proposal.budget_lines.select_related("category").order_by("category__order", "id"))
    requested = sum((line.amount for line in lines), Decimal("0"))
    ratio = (amount / requested) if requested else Decimal("1")
    rows, allotted = [], Decimal("0")
    for i, line in enumerate(lines):
        part = (
            amount - allotted if i == len(lines) - 1 else (line.amount * ratio).quantize(CENT, rounding=ROUND_HALF_UP)
        )
        allotted += part
        rows.append(
            {
                "category_id": line.category_id,
                "category": line.category.name,
                "item": line.item,
                "amount": f"{part:.2f}",
            }
        )
    return rows


def create_agreement(*, award):
    competition = award.competition
    number = f"GY{competition.year}-{award.rank:03d}-{award.proposal_id:05d}"
    plan = []
    remaining = award.amount
    items = list(competition.tranche_plan.all())
    for i, t in enumerate(items):
        part = remaining if i == len(items) - 1 else (award.amount * t.percent / 100).quantize(Decimal("0.01"))
        remaining -= part
        plan.append(
            {
                "order": t.order,
                "percent": f"{t.percent.normalize():f}",
                "amount": f"{part:.2f}",
                "condition": t.condition,
            }
        )
    p = award.proposal
    return GrantAgreement.objects.create(
        award=award,
        number=number,
        amount=award.amount,
        amount_in_words=amount_in_words(award.amount),
        period_start=p.period_start,
        period_end=p.period_end,
        tranches=plan,
        party={**identity(p.organization), **payee(p.organization)},
        budget=approved_lines(p, award.amount),
        refund_days=REFUND_DAYS,
    )


@transaction.atomic
def set_grades(*, competition, names, by):
    """The round's award grades in order (e.g. 一等资助, 二等资助); renaming keeps awards linked to their grade."""

    names = [n.strip() for n in names if n.strip()]
    if len(set(names)) != len(names):
        raise ValidationError(_("Each grade is listed once."))
    competition = _lock_pool(competition)
    policy.ensure(competition, policy.Part.GRADES)
    existing = list(competition.grades.order_by("order"))
    before = [g.name for g in existing]
    for i, name in enumerate(names):
        if i < len(existing):
            existing[i].name, existing[i].order = name, i
            existing[i].save()
        else:
            AwardGrade.objects.create(competition=competition, name=name, order=i)
    for grade in existing[len(names) :]:
        grade.delete()
    _grade_ungraded(competition)
    record(actor=by, action="awards.grades", obj=competition, before={"grades": before}, after={"grades": names})


def _grade_ungraded(competition):
    """Awards made before the grades were set (or whose grade was removed) take a grade by the same rank-order spread
    as proposed awards; an award that has a grade keeps it (staff may have chosen it by hand)."""
    grades = list(competition.grades.order_by("order"))
    live = list(Award.objects.filter(competition=competition).exclude(status=AwardStatus.CANCELLED).order_by("rank"))
    for i, award in enumerate(live):
        if award.grade_id is None and grades:
            award.grade = _grade_for(grades, i, len(live))
            award.save(update_fields=["grade"])


# --- The statutory calendar for a year the library does not know ----------------------------------------------------


@transaction.atomic
def set_statutory_year(*, year, holidays, workdays, by):
    """Enter a year's schedule from the State Council's notice: ``holidays`` and ``workdays`` as [(date, name)] (days
    off on weekdays or weekends, and weekend days made workdays). Replaces what was entered for that year before."""
    if workdays_library_knows(year):
        raise ValidationError(
            _("The calendar already knows the holidays of %(year)s; there is nothing to enter.") % {"year": year}
        )
    if not holidays:
        raise ValidationError(_("Enter at least one holiday of %(year)s.") % {"year": year})
    days = [(d, StatutoryDayKind.HOLIDAY, name) for d, name in holidays]
    days += [(d, StatutoryDayKind.WORKDAY, name) for d, name in workdays]
    outside = sorted(d for d, _k, _n in days if d.year != year)
    if outside:
        raise ValidationError(
            _("These dates are not in %(year)s: %(dates)s.")
            % {"year": year, "dates": ", ".join(f"{d:%Y-%m-%d}" for d in outside)}
        )
    seen: set[datetime.date] = set()
    twice: set[datetime.date] = set()
    for d, _k, _n in days:
        (twice if d in seen else seen).add(d)
    if twice:
        raise ValidationError(
            _("Each date is entered once, as a holiday or as a workday: %(dates)s.")
            % {"dates": ", ".join(f"{d:%Y-%m-%d}" for d in sorted(twice))}
        )
    before = [str(day) for day in StatutoryDay.objects.filter(date__year=year)]
    StatutoryDay.objects.filter(date__year=year).delete()
    made = StatutoryDay.objects.bulk_create(
        [StatutoryDay(date=d, kind=kind, name=name[:50]) for d, kind, name in sorted(days)]
    )
    record(
        actor=by,
        action="calendar.year",
        object_type="awards.statutoryday",
        before={"year": year, "days": before},
        after={"year": year, "days": [str(day) for day in made]},
    )
    return made
