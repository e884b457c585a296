from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import modelformset_factory
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from judging import ranking as ranking_module
from judging import scoring
from judging.models import PanelStage
from judging.scoring import DisconnectedDesign
from venture import permissions
from venture.audit.services import record
from venture.competitions.models import Competition
from venture.proposals.models import Proposal, ProposalStatus

from . import services
from .forms import BulkForm, ChecklistForm, ChecklistItemForm
from .models import ChecklistItem, CheckResult, FinalistDecision

S = ProposalStatus
SCREEN_STATUSES = [S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE, S.FINALIST, S.NOT_SELECTED]


@login_required
def screening_list(request, competition_pk):
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    status = request.GET.get("status", "")
    proposals = (Proposal.objects.filter(competition=competition, status__in=SCREEN_STATUSES)
                 .select_related("organization", "category").order_by("status", "title"))
    if status in SCREEN_STATUSES:
        proposals = proposals.filter(status=status)
    items = list(competition.checklist.all())
    results = {}
    for r in CheckResult.objects.filter(proposal__competition=competition).values("proposal_id", "passed"):
        counts = results.setdefault(r["proposal_id"], [0, 0])
        counts[0 if r["passed"] else 1] += 1
    return render(request, "venture/screening/list.html", {
        "competition": competition, "proposals": proposals, "items": items, "results": results,
        "status": status, "statuses": [(s, S(s).label) for s in SCREEN_STATUSES],
    })


@require_POST
@login_required
def screening_bulk(request, competition_pk):
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    form = BulkForm(request.POST, competition=competition)
    if not form.is_valid():
        messages.error(request, _("Choose proposals and a decision."))
        return redirect("screening:list", competition_pk=competition.pk)
    done, failed = services.bulk_decide(proposals=form.cleaned_data["proposals"],
                                        eligible=form.cleaned_data["decision"] == "eligible",
                                        reason=form.cleaned_data["reason"], by=request.user)
    if done:
        messages.success(request, _("%(n)s proposal(s) decided.") % {"n": len(done)})
    for proposal, error in failed:
        messages.error(request, f"{proposal.title}: {error}")
    return redirect("screening:list", competition_pk=competition.pk)


@login_required
def screening_detail(request, pk):
    proposal = permissions.get_for(request.user, "proposal.screen",
                                   Proposal.objects.select_related("competition", "organization", "category"), pk=pk)
    items = proposal.competition.checklist.all()
    results = {r.item_id: r for r in proposal.check_results.all()}
    form = ChecklistForm(request.POST or None, items=items, results=results,
                         initial={"decision": {S.ELIGIBLE: "eligible", S.INELIGIBLE: "ineligible"}.get(
                             proposal.status, ""), "reason": proposal.status_reason})
    if request.method == "POST" and form.is_valid():
        try:
            services.record_checks(proposal=proposal, results=form.results(), by=request.user)
            decision = form.cleaned_data["decision"]
            if decision:
                services.decide(proposal=proposal, eligible=decision == "eligible",
                                reason=form.cleaned_data["reason"], by=request.user)
            messages.success(request, _("Screening saved."))
            return redirect("screening:list", competition_pk=proposal.competition_id)
        except ValidationError as exc:
            form.add_error(None, exc)
    rows = [(item, form[f"pass_{item.pk}"], form[f"note_{item.pk}"]) for item in form.items]
    return render(request, "venture/screening/detail.html", {"proposal": proposal, "form": form, "rows": rows})


@login_required
def checklist(request, competition_pk):
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    FormSet = modelformset_factory(ChecklistItem, form=ChecklistItemForm, extra=3, can_delete=True)
    formset = FormSet(request.POST or None, queryset=competition.checklist.all())
    if request.method == "POST" and formset.is_valid():
        items = formset.save(commit=False)
        for item in items:
            item.competition = competition
            item.save()
        for item in formset.deleted_objects:
            item.delete()

        record(actor=request.user, action="screening.checklist", obj=competition,
               after={"items": list(competition.checklist.values_list("text", flat=True))})
        messages.success(request, _("Checklist saved."))
        return redirect("screening:checklist", competition_pk=competition.pk)
    return render(request, "venture/screening/checklist.html", {"competition": competition, "formset": formset})


@login_required
def finalists(request, competition_pk):
    """The pre-ranking (additive model, raw mean beside it) and the recorded finalist decision."""
    competition = permissions.get_for(request.user, "screening.manage", Competition.objects.all(), pk=competition_pk)
    pool = list(Proposal.objects.filter(competition=competition, status__in=[S.ELIGIBLE, S.FINALIST, S.NOT_SELECTED])
                .select_related("organization", "category"))
    by_pk = {p.pk: p for p in pool}
    rows, error, source = [], None, _("Staff selection without pre-scoring")
    try:
        result = ranking_module.compute(competition, PanelStage.PRESCORING)

        mean = scoring.aggregate(result.totals, method="mean")
        mean_rank = mean["score"].rank(ascending=False, method="min").astype(int).to_dict()
        for pid, row in result.table.iterrows():
            if pid in by_pk:
                rows.append({"proposal": by_pk.pop(pid), "rank": int(row["rank"]), "score": row["score"],
                             "mean": row["mean"], "mean_rank": mean_rank.get(pid), "n": int(row["n_judges"])})
        source = _("Pre-scoring ranking (additive judge-effect model)")
    except (ValueError, DisconnectedDesign) as exc:
        error = str(exc)
    for p in sorted(by_pk.values(), key=lambda p: p.title):  # eligible but not pre-scored
        rows.append({"proposal": p, "rank": None, "score": None, "mean": None, "mean_rank": None, "n": 0})
    quota = competition.finalist_quota
    if request.method == "POST":
        ids = {int(x) for x in request.POST.getlist("finalists") if x.isdigit()}
        chosen = [r["proposal"] for r in rows if r["proposal"].pk in ids]
        try:
            services.confirm_finalists(
                competition=competition, finalists=chosen, by=request.user, source=source,
                ranking=[{"proposal": r["proposal"].pk, "rank": r["rank"],
                          "score": None if r["score"] is None else round(float(r["score"]), 2)} for r in rows],
                note=request.POST.get("note", ""))
            messages.success(request, _("%(n)s finalists confirmed.") % {"n": len(chosen)})
            return redirect("screening:finalists", competition_pk=competition.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    preselected = {r["proposal"].pk for r in rows if r["proposal"].status == S.FINALIST}
    if not preselected:
        preselected = {r["proposal"].pk for r in rows if r["rank"] is not None and r["rank"] <= quota}
    return render(request, "venture/screening/finalists.html", {
        "competition": competition, "rows": rows, "error": error, "quota": quota, "preselected": preselected,
        "decisions": FinalistDecision.objects.filter(competition=competition).select_related("decided_by")[:5],
        "source": source,
    })
