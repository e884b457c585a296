from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from judging.models import PanelStage, ScoreSheet, SheetStatus
from venture import permissions
from venture.competitions import policy
from venture.competitions.models import Competition
from venture.errors import flash_error as _error
from venture.money import format_money
from venture.proposals.models import Proposal
from venture.results.services import current_snapshot
from venture.security import client_ip

from . import services, workdays
from .forms import AwardForm, HandleForm, ObjectionForm, PublishForm, ReopenForm, StatutoryYearForm
from .models import Award, AwardStatus, Objection, ObjectionStatus, PublicNotice, StatutoryDay

AWARDS = Award.objects.select_related("proposal__organization", "proposal__category", "grade")


@login_required
def awards(request, competition_pk):
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    items = list(AWARDS.filter(competition=competition).select_related("agreement__project").order_by("status", "rank"))
    committed = services.committed(competition)
    notice = PublicNotice.objects.filter(competition=competition).first()
    objections = list(notice.objections.select_related("award__proposal", "handled_by")) if notice else []
    return render(
        request,
        "venture/awards/awards.html",
        {
            "competition": competition,
            "awards": items,
            "committed": committed,
            # The stage policy's reasons, shown instead of the forms they refuse ("" where the form is offered).
            "awards_locked": policy.refusal(competition, policy.Part.AWARDS),
            "grades_locked": policy.refusal(competition, policy.Part.GRADES),
            "publish_refused": services.publication_refusal(competition) if items else "",
            "reopen_form": ReopenForm(),
            "versions": list(notice.versions.select_related("superseded_by")) if notice else [],
            "left": competition.fund_pool - committed,
            "snapshot": current_snapshot(competition),
            "next": services.next_in_rank(competition) if current_snapshot(competition) else None,
            "notice": notice,
            "objections": objections,
            "publish_form": PublishForm(initial={"starts_on": timezone.localdate()}),
            "handle_form": HandleForm(),
            "today": timezone.localdate(),
            "grade_lines": "\n".join(competition.grades.values_list("name", flat=True)),
        },
    )


@require_POST
@login_required
def grades(request, competition_pk):
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    try:
        services.set_grades(competition=competition, names=request.POST.get("grades", "").splitlines(), by=request.user)
        messages.success(request, _("Grades saved."))
    except ValidationError as exc:
        _error(request, exc)
    return redirect("awards:awards", competition_pk=competition.pk)


@require_POST
@login_required
def propose(request, competition_pk):
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    try:
        made = services.propose_awards(competition=competition, by=request.user)
        messages.success(request, _("%(n)s awards proposed within the fund pool.") % {"n": len(made)})
    except ValidationError as exc:
        _error(request, exc)
    return redirect("awards:awards", competition_pk=competition.pk)


@login_required
def award_edit(request, pk):
    award = get_object_or_404(AWARDS.select_related("competition"), pk=pk)
    permissions.require(request.user, "awards.manage", award)
    locked = policy.refusal(award.competition, policy.Part.AWARDS)
    if locked:  # the stage policy's reason instead of the form; a post is refused before it is read
        if request.method == "POST":
            messages.error(request, locked)
        return render(request, "venture/awards/award_form.html", {"award": award, "locked": locked})
    form = AwardForm(
        request.POST or None, competition=award.competition, initial={"amount": award.amount, "grade": award.grade}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_award(
                award=award, amount=form.cleaned_data["amount"], grade=form.cleaned_data["grade"], by=request.user
            )
            messages.success(request, _("Award saved."))
            return redirect("awards:awards", competition_pk=award.competition_id)
        except ValidationError as exc:
            form.add_error("amount", exc)
    return render(request, "venture/awards/award_form.html", {"award": award, "form": form})


@require_POST
@login_required
def award_add(request, competition_pk):
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    proposal = Proposal.objects.filter(
        pk=request.POST.get("proposal") if str(request.POST.get("proposal", "")).isdigit() else None,
        competition=competition,
    ).first()
    if proposal is None:
        messages.error(request, _("Choose a ranked finalist."))
        return redirect("awards:awards", competition_pk=competition.pk)
    try:
        amount = Decimal(request.POST.get("amount", ""))
        services.add_award(competition=competition, proposal=proposal, amount=amount, by=request.user)
        messages.success(request, _("Award added."))
    except (ValidationError, ArithmeticError) as exc:
        _error(request, exc if isinstance(exc, ValidationError) else ValidationError(_("Enter an amount in yuan.")))
    return redirect("awards:awards", competition_pk=competition.pk)


@require_POST
@login_required
def notice_publish(request, competition_pk):
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            notice = services.publish_notice(
                competition=competition,
                by=request.user,
                starts_on=form.cleaned_data["starts_on"],
                text=form.cleaned_data["text"],
            )
            messages.success(
                request,
                _("The public notice is published and runs until %(day)s.") % {"day": notice.ends_on.isoformat()},
            )
            if not notice.calendar_covered:
                messages.warning(
                    request,
                    _(
                        "The statutory holiday calendar does not cover this period; working days "
                        "were counted Monday to Friday. Check the end date by hand."
                    ),
                )
        except ValidationError as exc:
            _error(request, exc)
    else:
        messages.error(request, _("Enter the day the notice starts."))
    return redirect("awards:awards", competition_pk=competition.pk)


@require_POST
@login_required
def notice_reopen(request, competition_pk):
    """Reopen the running notice for a change of awards or grades; it is published again as a new version."""
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for reopening the notice."))
        return redirect("awards:awards", competition_pk=competition.pk)
    try:
        version = services.reopen_notice(competition=competition, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.warning(
            request,
            _(
                "Version %(n)s of the notice is kept on record. Change the awards, then publish the "
                "notice again: its period restarts."
            )
            % {"n": version.version},
        )
    return redirect("awards:awards", competition_pk=competition.pk)


@require_POST
@login_required
def notice_close(request, competition_pk):
    competition = permissions.get_for(request.user, "awards.manage", Competition.objects.all(), pk=competition_pk)
    try:
        agreements = services.close_notice(competition=competition, by=request.user)
        messages.success(request, _("Awards are final; %(n)s grant agreements created.") % {"n": len(agreements)})
    except (ValidationError, PublicNotice.DoesNotExist) as exc:
        _error(request, exc if isinstance(exc, ValidationError) else ValidationError(_("No notice yet.")))
    return redirect("awards:awards", competition_pk=competition.pk)


@require_POST
@login_required
def objection_handle(request, pk):
    objection = get_object_or_404(Objection.objects.select_related("notice__competition", "award__proposal"), pk=pk)
    permissions.require(request.user, "objection.handle", objection)
    form = HandleForm(request.POST)
    if form.is_valid():
        try:
            _obj, offered = services.handle_objection(
                objection=objection,
                upheld=form.cleaned_data["decision"] == "upheld",
                outcome=form.cleaned_data["outcome"],
                by=request.user,
            )
            messages.success(request, _("Objection handled."))
            if offered:
                messages.info(
                    request,
                    _("The award was cancelled; “%(title)s” (rank %(rank)s) is offered %(amount)s.")
                    % {"title": offered.proposal.title, "rank": offered.rank, "amount": format_money(offered.amount)},
                )
        except ValidationError as exc:
            _error(request, exc)
    else:
        messages.error(request, _("Write the outcome; it is published with the notice."))
    return redirect("awards:awards", competition_pk=objection.notice.competition_id)


def _public_notice(competition_pk):
    notice = get_object_or_404(PublicNotice.objects.select_related("competition"), competition_id=competition_pk)
    return notice


def notice(request, competition_pk):
    """公示: public, no login. Projects, organizations, grades, amounts, the panel, and handled objections."""
    notice = _public_notice(competition_pk)
    competition = notice.competition
    items = services.with_published_identities(
        notice, AWARDS.filter(competition=competition).exclude(status=AwardStatus.CANCELLED).order_by("rank")
    )
    panel = competition.panels.filter(stage=PanelStage.FINAL).first()
    judges = list(panel.judges.select_related("user").order_by("expertise", "user__username")) if panel else []
    handled = notice.objections.exclude(status=ObjectionStatus.PENDING).select_related("award__proposal")
    return render(
        request,
        "venture/awards/notice.html",
        {
            "notice": notice,
            "competition": competition,
            "awards": items,
            # The red banner of the results' live check, for staff and the auditor (who may view the results).
            "tampered": permissions.can(request.user, "results.view", competition)
            and services.results_tampered(competition),
            "versions": list(notice.versions.all()),
            "judges": judges,
            "handled": handled,
            "open": services.notice_open(notice),
            "total": sum((a.amount for a in items), Decimal("0")),
            "pending": notice.objections.filter(status=ObjectionStatus.PENDING).count(),
        },
    )


def _ip(request):
    return client_ip(request)


def objection_form(request, competition_pk):
    notice = _public_notice(competition_pk)
    if not services.notice_open(notice):
        messages.error(request, _("The public notice period is over; objections are no longer accepted."))
        return redirect("awards:notice", competition_pk=competition_pk)
    form = ObjectionForm(request.POST or None, request.FILES or None, competition=notice.competition)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            # A bot filled in the honeypot: answer as if accepted, store nothing.
            messages.success(request, _("Your objection has been received. The outcome will be published here."))
            return redirect("awards:notice", competition_pk=competition_pk)
        try:
            services.submit_objection(
                notice=notice,
                name=form.cleaned_data["name"],
                contact=form.cleaned_data["contact"],
                text=form.cleaned_data["text"],
                award=form.cleaned_data["award"],
                attachment=form.cleaned_data["attachment"],
                ip=_ip(request),
            )
            messages.success(request, _("Your objection has been received. The outcome will be published here."))
            return redirect("awards:notice", competition_pk=competition_pk)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "venture/awards/objection_form.html", {"notice": notice, "form": form})


@login_required
def my_result(request, proposal_pk):
    """The applicant's own result; after publication also per-criterion averages and the panel's comments,
    without judges' names."""
    proposal = permissions.get_for(
        request.user, "result.view_own", Proposal.objects.select_related("competition", "organization"), pk=proposal_pk
    )
    competition = proposal.competition
    notice = PublicNotice.objects.filter(competition=competition).first()
    if notice is None:
        raise Http404
    snapshot = current_snapshot(competition)
    row = next((r for r in snapshot.outputs["ranking"] if r["proposal"] == proposal.pk), None) if snapshot else None
    award = (
        Award.objects.filter(proposal=proposal).exclude(status=AwardStatus.CANCELLED).select_related("grade").first()
    )
    rubric = list(competition.criteria.order_by("order", "id").values_list("code", "name"))
    comments = [
        c
        for c in ScoreSheet.objects.filter(
            assignment__proposal=proposal,
            assignment__panel__stage=PanelStage.FINAL,
            status=SheetStatus.SUBMITTED,
        )
        .exclude(comment="")
        .order_by("?")
        .values_list("comment", flat=True)
    ]
    return render(
        request,
        "venture/awards/my_result.html",
        {
            "proposal": proposal,
            "notice": notice,
            "row": row,
            "award": award,
            "ranked": len(snapshot.outputs["ranking"]) if snapshot else 0,
            # in rubric order (the snapshot's JSON keeps no order of its own: PostgreSQL's jsonb sorts the keys)
            "criteria": [
                (name, row["criteria"][code]) for code, name in rubric if code in (row or {}).get("criteria", {})
            ],
            "comments": comments,
        },
    )


@login_required
def statutory_calendar(request):
    """Staff enter a year's holidays and make-up workdays from the State Council's notice when the calendar library
    does not know that year; the public notice's working days are then counted with them."""
    permissions.require(request.user, "calendar.manage")
    today = timezone.localdate()
    missing = workdays.missing_next_year(today)
    initial_year = request.GET.get("year", "")
    initial_year = int(initial_year) if initial_year.isdigit() else (missing or today.year + 1)
    entered = list(StatutoryDay.objects.filter(date__year=initial_year))
    form = StatutoryYearForm(
        request.POST or None,
        initial={
            "year": initial_year,
            "holidays": "\n".join(f"{d.date:%Y-%m-%d} {d.name}".strip() for d in entered if d.kind == "holiday"),
            "workdays": "\n".join(f"{d.date:%Y-%m-%d} {d.name}".strip() for d in entered if d.kind == "workday"),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            made = services.set_statutory_year(
                year=form.cleaned_data["year"],
                holidays=form.cleaned_data["holidays"],
                workdays=form.cleaned_data["workdays"],
                by=request.user,
            )
            messages.success(
                request,
                _("The holiday schedule of %(year)s is saved (%(n)s days).")
                % {"year": form.cleaned_data["year"], "n": len(made)},
            )
            return redirect(f"{request.path}?year={form.cleaned_data['year']}")
        except ValidationError as exc:
            form.add_error(None, exc)
    years = sorted({d.year for d in StatutoryDay.objects.dates("date", "year")}, reverse=True)
    return render(
        request,
        "venture/awards/calendar.html",
        {
            "form": form,
            "missing": missing,
            "years": years,
            "library_last_year": max((y for y in range(2004, today.year + 3) if workdays.library_knows(y)), default=""),
            "shown_year": initial_year,
            "entered": entered,
        },
    )
