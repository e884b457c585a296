from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import modelformset_factory
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture import permissions
from venture.competitions.models import Competition
from venture.proposals.models import Proposal, ProposalStatus

from . import queries, services
from .forms import BulkForm, ChecklistForm, ChecklistItemForm
from .models import ChecklistItem, CheckResult

S = ProposalStatus
SCREEN_STATUSES = queries.SCREEN_STATUSES


def _with_filter(url, filters):
    """``url`` with the screening list's filter (status, search) as its query string."""
    return f"{url}?{urlencode(filters)}" if filters else url


@login_required
def screening_list(request, competition_pk):
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    filters = queries.clean_filter(request.GET)
    proposals = queries.screening_proposals(competition, **filters).select_related("organization", "category")
    items = list(competition.checklist.all())
    results = {}
    for r in CheckResult.objects.filter(proposal__competition=competition).values("proposal_id", "passed"):
        counts = results.setdefault(r["proposal_id"], [0, 0])
        counts[0 if r["passed"] else 1] += 1
    return render(
        request,
        "venture/screening/list.html",
        {
            "competition": competition,
            "proposals": proposals,
            "items": items,
            "results": results,
            "status": filters.get("status", ""),
            "q": filters.get("q", ""),
            "filter_query": urlencode(filters),
            "statuses": [(s, S(s).label) for s in SCREEN_STATUSES],
        },
    )


@require_POST
@login_required
def screening_bulk(request, competition_pk):
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    form = BulkForm(request.POST, competition=competition)
    back = _with_filter(reverse("screening:list", args=[competition.pk]), queries.clean_filter(request.POST))
    if not form.is_valid():
        messages.error(request, _("Choose proposals and a decision."))
        return redirect(back)
    done, skipped, failed = services.bulk_decide(
        proposals=form.cleaned_data["proposals"],
        eligible=form.cleaned_data["decision"] == "eligible",
        reason=form.cleaned_data["reason"],
        by=request.user,
    )
    if done:
        messages.success(request, _("%(n)s proposal(s) decided.") % {"n": len(done)})
    if skipped:
        messages.warning(
            request,
            _(
                "%(n)s proposal(s) skipped: each needs its own reason, give it on the proposal's "
                "screening page. %(list)s"
            )
            % {"n": len(skipped), "list": " · ".join(f"{p.title}: {why}" for p, why in skipped)},
        )
    for proposal, error in failed:
        messages.error(request, f"{proposal.title}: {error}")
    return redirect(back)


@login_required
def screening_detail(request, pk):
    """The proposal (left) beside the round's checklist and the decision (right), with the previous and next
    proposals of the screening list as filtered there, so staff screen a round without leaving the page."""
    proposal = permissions.get_for(
        request.user,
        "proposal.screen",
        Proposal.objects.select_related("competition", "organization", "category"),
        pk=pk,
    )
    filters = queries.clean_filter(request.GET)
    previous, following, position, count = queries.neighbours(proposal, **filters)  # before a decision moves it
    items = proposal.competition.checklist.all()
    results = {r.item_id: r for r in proposal.check_results.all()}
    form = ChecklistForm(
        request.POST or None,
        items=items,
        results=results,
        initial={
            "decision": {S.ELIGIBLE: "eligible", S.INELIGIBLE: "ineligible"}.get(proposal.status, ""),
            "reason": proposal.status_reason,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_checks(proposal=proposal, results=form.results(), by=request.user)
            decision = form.cleaned_data["decision"]
            if decision:
                services.decide(
                    proposal=proposal,
                    eligible=decision == "eligible",
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            messages.success(request, _("Screening saved."))
            if "save_next" in request.POST and following:
                return redirect(_with_filter(reverse("screening:detail", args=[following]), filters))
            return redirect(_with_filter(reverse("screening:list", args=[proposal.competition_id]), filters))
        except ValidationError as exc:
            form.add_error(None, exc)
    rows = [(item, form[f"pass_{item.pk}"], form[f"note_{item.pk}"]) for item in form.items]
    return render(
        request,
        "venture/screening/detail.html",
        {
            "proposal": proposal,
            "form": form,
            "rows": rows,
            "budget_lines": proposal.budget_lines.select_related("category"),
            "milestones": proposal.milestones.all(),
            "indicators": proposal.indicators.all(),
            "attachments": proposal.attachments.all(),
            "filter_query": urlencode(filters),
            "list_url": _with_filter(reverse("screening:list", args=[proposal.competition_id]), filters),
            "previous_url": previous and _with_filter(reverse("screening:detail", args=[previous]), filters),
            "next_url": following and _with_filter(reverse("screening:detail", args=[following]), filters),
            "position": position,
            "count": count,
        },
    )


@login_required
def checklist(request, competition_pk):
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    FormSet = modelformset_factory(ChecklistItem, form=ChecklistItemForm, extra=3, can_delete=True)
    formset = FormSet(request.POST or None, queryset=competition.checklist.all())
    if request.method == "POST" and formset.is_valid():
        services.save_checklist(
            competition=competition, items=formset.save(commit=False), deleted=formset.deleted_objects, by=request.user
        )
        messages.success(request, _("Checklist saved."))
        return redirect("screening:checklist", competition_pk=competition.pk)
    return render(request, "venture/screening/checklist.html", {"competition": competition, "formset": formset})
