import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture import permissions
from venture.competitions.models import Competition
from venture.proposals.models import Proposal

from . import ranking as ranking_module
from . import services
from .forms import DeclarationForm, JudgeForm, PanelForm, ReasonForm, ScoreSheetForm
from .models import (
    Assignment,
    ConflictDeclaration,
    ConflictEntry,
    ConflictStatus,
    Judge,
    PanelStage,
    ScoreSheet,
    SheetStatus,
)
from .queries import stage_status
from .rubric import plain_number, total_bands

ASSIGNMENTS = Assignment.objects.select_related(
    "judge__user", "panel__competition", "proposal__organization", "proposal__category", "conflict", "sheet"
)


def _stage(stage):
    if stage not in PanelStage.values:
        raise Http404
    return PanelStage(stage)


@login_required
def declare(request, pk):
    """回避 first: the judge sees only title and organization until they declare no conflict. Once recused, the form
    gives way to the reason: only staff can reverse a recusal."""
    assignment = permissions.get_for(request.user, "assignment.declare", ASSIGNMENTS, pk=pk)
    declaration = getattr(assignment, "conflict", None)
    recused = (declaration is not None and declaration.status == ConflictStatus.RECUSED) or services.recused_elsewhere(
        judge=assignment.judge, proposal=assignment.proposal, exclude=declaration
    )
    form = DeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.declare(
                assignment=assignment,
                has_conflict=form.cleaned_data["has_conflict"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("judging:declare", pk=pk)
        if form.cleaned_data["has_conflict"]:
            messages.info(request, _("You are recused from this proposal. Thank you for declaring it."))
            return redirect("home")
        return redirect("judging:sheet", pk=pk)
    history = (
        list(
            ConflictEntry.objects.filter(judge=assignment.judge, proposal=assignment.proposal)
            .select_related("by", "panel")
            .order_by("at", "id")
        )
        if recused
        else []
    )
    return render(
        request,
        "judging/declare.html",
        {
            "assignment": assignment,
            "declaration": declaration,
            "form": form,
            "recused": recused,
            "history": history,
            "why_final": services.RECUSAL_IS_FINAL,
        },
    )


def _sheet_json(form, *, status=400, **extra):
    """The outcome of a save sent by the sheet's script (static/js/sheet.js), which keeps the judge's input."""
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    return JsonResponse({"ok": False, "errors": errors, **extra}, status=status)


@login_required
def score_sheet(request, pk):
    """The judge's score sheet. A save sent by static/js/sheet.js (header X-Requested-With: fetch) is answered in
    JSON, so a failed save on the hall's Wi-Fi leaves the page and what was typed as they are."""
    assignment = permissions.get_for(request.user, "assignment.score", ASSIGNMENTS, pk=pk)
    competition = assignment.panel.competition
    criteria = list(competition.criteria.all())
    sheet = getattr(assignment, "sheet", None)  # joined by ASSIGNMENTS: one query fewer than fetching it again
    locked = sheet is not None and sheet.status == SheetStatus.SUBMITTED
    initial = {"version": sheet.version if sheet else 0, "comment": sheet.comment if sheet else ""}
    if sheet:
        initial.update({f"c_{s.criterion_id}": plain_number(s.points) for s in sheet.scores.all()})
    form = ScoreSheetForm(request.POST or None, initial=initial, criteria=criteria, step=competition.score_step)
    by_script = request.headers.get("X-Requested-With") == "fetch"
    if request.method == "POST" and not locked:
        submit = "submit" in request.POST
        if form.is_valid():
            try:
                saved = services.save_sheet(
                    assignment=assignment,
                    by=request.user,
                    points=form.points(),
                    comment=form.cleaned_data["comment"],
                    expected_version=form.cleaned_data["version"],
                    submit=submit,
                )
            except services.StaleSheet:
                form.add_error(
                    None,
                    _(
                        "This sheet was saved from another tab or device after you opened it. Your "
                        "entries were NOT saved and are still below; reload to see the saved "
                        "version, then enter your scores again."
                    ),
                )
                if by_script:
                    return _sheet_json(form, status=409, stale=True)
            except services.SheetErrors as exc:
                for key, message in exc.field_errors.items():
                    form.add_error("comment" if key == "comment" else f"c_{key}", message)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                message = _("Score sheet submitted. Thank you.") if submit else _("Draft saved.")
                if by_script:
                    if submit:
                        messages.success(request, message)
                    return JsonResponse(
                        {
                            "ok": True,
                            "version": saved.version,
                            "submitted": submit,
                            "message": str(message),
                            "redirect": reverse("home") if submit else "",
                        }
                    )
                messages.success(request, message)
                return redirect("home") if submit else redirect("judging:sheet", pk=pk)
        if by_script:
            return _sheet_json(form)
    elif request.method == "POST" and locked:
        # A double-clicked submit lands here: the sheet is already in, nothing changes.
        if by_script:
            return JsonResponse(
                {
                    "ok": False,
                    "locked": True,
                    "errors": {"__all__": [str(_("This score sheet has been submitted and is locked."))]},
                },
                status=409,
            )
        messages.info(request, _("This score sheet has been submitted and is locked."))
        return redirect("judging:sheet", pk=pk)
    rows = [(c, form[f"c_{c.pk}"]) for c in criteria]
    return render(
        request,
        "judging/sheet.html",
        {
            "assignment": assignment,
            "competition": competition,
            "proposal": assignment.proposal,
            "form": form,
            "rows": rows,
            "sheet": sheet,
            "locked": locked,
            "total_bands": json.dumps(total_bands(criteria), ensure_ascii=False),
            "budget_lines": assignment.proposal.budget_lines.select_related("category"),
        },
    )


@require_POST
@login_required
def unlock(request, pk):
    sheet = get_object_or_404(ScoreSheet.objects.select_related("assignment__panel__competition"), pk=pk)
    permissions.require(request.user, "sheet.unlock", sheet)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.unlock_sheet(sheet=sheet, reason=form.cleaned_data["reason"], by=request.user)
            messages.success(request, _("Sheet unlocked; the judge can change and resubmit it."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Give the reason for unlocking."))
    competition = sheet.assignment.panel.competition
    return redirect("judging:progress", competition_pk=competition.pk, stage=sheet.assignment.panel.stage)


@login_required
def judge_list(request):
    permissions.require(request.user, "judge.list")
    judges = Judge.objects.select_related("user").order_by("expertise", "user__username")
    return render(request, "judging/judge_list.html", {"judges": judges})


@login_required
def judge_create(request):
    permissions.require(request.user, "judging.manage")
    form = JudgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.add_judge(
            by=request.user,
            username=data["username"],
            full_name=data["full_name"],
            email=data["email"],
            title=data["title"],
            affiliation=data["affiliation"],
            expertise=data["expertise"],
            phone=data["phone"],
            other_affiliations=data["other_affiliations"],
        )
        messages.success(request, _("Judge added; an invitation e-mail was sent."))
        return redirect("judging:judges")
    return render(request, "judging/judge_form.html", {"form": form})


@login_required
def panel(request, competition_pk, stage):
    competition = permissions.get_for(request.user, "judging.manage", Competition.objects.all(), pk=competition_pk)
    stage = _stage(stage)
    existing = competition.panels.filter(stage=stage).first()
    form = PanelForm(request.POST or None, initial={"judges": existing.judges.all() if existing else []})
    if request.method == "POST" and form.is_valid():
        judges = list(form.cleaned_data["judges"])
        try:
            if stage == PanelStage.PRESCORING:
                services.generate_prescoring(
                    competition=competition,
                    judges=judges,
                    k=form.cleaned_data["k"] or 3,
                    seed=form.cleaned_data["seed"],
                    by=request.user,
                )
                messages.success(request, _("Pre-scoring assignment generated."))
            else:
                services.set_panel(competition=competition, stage=stage, judges=judges, by=request.user)
                services.assign_final_panel(competition=competition, by=request.user)
                messages.success(request, _("Final panel set; every judge is assigned every finalist."))
            return redirect("judging:panel", competition_pk=competition.pk, stage=stage)
        except ValidationError as exc:
            form.add_error(None, exc)
    assignments = (
        Assignment.objects.filter(panel__competition=competition, panel__stage=stage)
        .select_related("judge__user", "proposal", "conflict")
        .order_by("proposal__title", "judge_id")
    )
    loads: dict[Judge, int] = {}
    for a in assignments:
        loads[a.judge] = loads.get(a.judge, 0) + 1
    return render(
        request,
        "judging/panel.html",
        {
            "competition": competition,
            "stage": stage,
            "form": form,
            "assignments": assignments,
            "loads": sorted(loads.items(), key=lambda kv: kv[0].user.username),
        },
    )


@login_required
def conflict_register(request, competition_pk):
    """Every declaration of the round with its whole history (declarations, overrides, reversals: who, when, why),
    in a fixed number of queries."""
    competition = permissions.get_for(request.user, "judging.monitor", Competition.objects.all(), pk=competition_pk)
    entries = ConflictEntry.objects.select_related("by").order_by("at", "id")
    declarations = (
        ConflictDeclaration.objects.filter(assignment__panel__competition=competition)
        .exclude(status=ConflictStatus.PENDING)
        .select_related("assignment__judge__user", "assignment__proposal__organization", "assignment__panel")
        .prefetch_related(Prefetch("entries", queryset=entries))
        .order_by(
            "-status", "assignment__proposal__title", "assignment__panel__stage", "assignment__judge__user__username"
        )
    )
    # Entries of pre-scoring assignments that were regenerated since: their history stays on the register.
    earlier = entries.filter(panel__competition=competition, declaration__isnull=True).select_related(
        "judge__user", "proposal", "panel"
    )
    return render(
        request,
        "judging/conflicts.html",
        {"competition": competition, "declarations": declarations, "earlier": earlier, "form": ReasonForm()},
    )


@require_POST
@login_required
def conflict_override(request, pk):
    declaration = get_object_or_404(
        ConflictDeclaration.objects.select_related("assignment__panel__competition", "assignment__proposal"), pk=pk
    )
    permissions.require(request.user, "conflict.override", declaration)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.override_conflict(
                assignment=declaration.assignment, reason=form.cleaned_data["reason"], by=request.user
            )
            messages.success(request, _("Override recorded; the judge may now score this proposal."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Give the reason for the override."))
    return redirect("judging:conflicts", competition_pk=declaration.assignment.panel.competition_id)


RANKING_PAGE_SIZE = 100


@login_required
def provisional_ranking(request, competition_pk, stage):
    """Staff: the ranking once sheets are in, 100 a page, searchable by project or organization (a national
    pre-scoring stage ranks 5,000). Judges never reach this page. A constant number of queries: the stage's counts
    in one aggregate, the ranking from the cache while no sheet changes (``ranking.cached``), the page's proposals."""
    competition = permissions.get_for(request.user, "judging.manage", Competition.objects.all(), pk=competition_pk)
    stage = _stage(stage)

    status = stage_status(competition, stage)
    result, error = None, None
    try:
        result = ranking_module.cached(competition, stage, fingerprint=status["fingerprint"])
    except ValueError as exc:
        error = str(exc)
    q = request.GET.get("q", "").strip()[:100]
    rows, page, ranked = [], None, 0
    criteria = list(competition.criteria.all())
    if result is not None:
        order = [int(pid) for pid in result.table.index]
        ranked = len(order)
        if q:
            matching = set(
                Proposal.objects.filter(competition=competition)
                .filter(Q(title__icontains=q) | Q(organization__name__icontains=q))
                .values_list("pk", flat=True)
            )
            order = [pid for pid in order if pid in matching]
        page = Paginator(order, RANKING_PAGE_SIZE).get_page(request.GET.get("page"))
        ids = list(page.object_list)
        proposals = Proposal.objects.select_related("organization").only("title", "organization__name").in_bulk(ids)
        names = {c.code: c.name for c in criteria}
        table = result.table.loc[ids] if ids else result.table.iloc[:0]
        for pid, row in zip(ids, table.to_dict("records"), strict=True):
            rows.append(
                {
                    "proposal": proposals.get(pid),
                    "rank": int(row["rank"]),
                    "score": row["score"],
                    "mean": row["mean"],
                    "median": row["median"],
                    "n": int(row["n_judges"]),
                    "decided_by": ranking_module.decided_label(row["decided_by"], names),
                    "mean_rank": int(row["mean_rank"]) if stage == PanelStage.PRESCORING else None,
                    "criteria": [row.get(f"avg_{c}") for c in result.criteria["criterion"]],
                }
            )
    query = urlencode({"q": q}) if q else ""
    return render(
        request,
        "judging/ranking.html",
        {
            "competition": competition,
            "stage": stage,
            "status": status,
            "result": result,
            "rows": rows,
            "page": page,
            "query": query,
            "q": q,
            "ranked": ranked,
            "error": error,
            "criteria": criteria,
        },
    )
