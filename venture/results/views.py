"""Results pages (staff and the auditor): the frozen ranking with its diagnostics, freeze, verify, sign off and the
audited unlock of a sealed sheet; and the finalists decision from the results of pre-scoring. The pages' data comes
from ``queries``, every write from ``services``; the results report PDF is in ``venture.documents``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from judging.forms import ReasonForm
from judging.models import PanelStage, ScoreSheet
from venture import permissions
from venture.competitions.models import Competition

from . import queries, services


def _round(request, competition_pk, action="results.view"):
    return permissions.get_for(request.user, action, Competition.objects.all(), pk=competition_pk)


def _pk(value):
    return int(value) if value.isdigit() else None


@login_required
def results(request, competition_pk):
    competition = _round(request, competition_pk)
    page = queries.results_page(
        competition,
        may_unlock=permissions.can(request.user, "sheet.unlock"),
        unlock_choice=(_pk(request.GET.get("unlock_proposal", "")), _pk(request.GET.get("unlock_judge", ""))),
    )
    # The cheap live check (issue #14): the sealed rows now against the stored digest; a red banner when it fails.
    page["tampered"] = page["snapshot"] is not None and not services.live_check(page["snapshot"], competition)
    return render(request, "venture/results/results.html", page)


@require_POST
@login_required
def freeze(request, competition_pk):
    competition = _round(request, competition_pk)
    permissions.require(request.user, "results.freeze", competition)
    try:
        snapshot = services.freeze_results(competition=competition, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Results frozen. Digest: %(digest)s") % {"digest": snapshot.digest})
    return redirect("results:results", competition_pk=competition.pk)


@require_http_methods(["GET", "POST"])
@login_required
def verify_view(request, competition_pk):
    competition = _round(request, competition_pk)
    snapshot = services.current_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to verify."))
        return redirect("results:results", competition_pk=competition.pk)
    checks = services.verify(snapshot)
    return render(
        request,
        "venture/results/verify.html",
        {"competition": competition, "snapshot": snapshot, "checks": checks, "rows": queries.verify_rows(checks)},
    )


@require_POST
@login_required
def sign_off_view(request, competition_pk):
    competition = _round(request, competition_pk)
    permissions.require(request.user, "results.sign_off", competition)
    snapshot = services.current_snapshot(competition)
    if snapshot is None:
        messages.error(request, _("There are no valid frozen results to sign off."))
        return redirect("results:results", competition_pk=competition.pk)
    try:
        services.sign_off(snapshot=snapshot, by=request.user, note=request.POST.get("note", "").strip()[:2000])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Results signed off."))
    return redirect("results:results", competition_pk=competition.pk)


@require_POST
@login_required
def unlock(request, competition_pk, sheet_pk):
    sheets = ScoreSheet.objects.select_related("assignment__panel__competition").filter(
        assignment__panel__competition_id=competition_pk, assignment__panel__stage=PanelStage.FINAL
    )
    sheet = permissions.get_for(request.user, "sheet.unlock", sheets, pk=sheet_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["reason"].strip():
        messages.error(request, _("Give the reason for unlocking."))
        return redirect("results:results", competition_pk=competition_pk)
    try:
        services.unlock_after_freeze(sheet=sheet, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.warning(
            request,
            _(
                "Sheet unlocked: the frozen results are invalidated and the round is back in "
                "final review. Freeze again once the judge has resubmitted."
            ),
        )
    return redirect("results:results", competition_pk=competition_pk)


@require_http_methods(["GET", "POST"])
@login_required
def finalists(request, competition_pk):
    """The pre-ranking (additive model, raw mean beside it) and the recorded finalist decision."""
    competition = _round(request, competition_pk, "screening.manage")
    if request.method == "POST":
        try:
            decision = services.decide_finalists(
                competition=competition,
                chosen={int(x) for x in request.POST.getlist("finalists") if x.isdigit()},
                note=request.POST.get("note", ""),
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(n)s finalists confirmed.") % {"n": decision.finalists.count()})
            if decision.cancelled_tasks:
                messages.warning(
                    request,
                    _("%(n)s open pre-scoring tasks were cancelled: %(tasks)s.")
                    % {
                        "n": len(decision.cancelled_tasks),
                        "tasks": "; ".join(f"{judge} · {title}" for judge, title in decision.cancelled_tasks),
                    },
                )
            return redirect("results:finalists", competition_pk=competition.pk)
    return render(request, "venture/results/finalists.html", queries.finalists_page(competition))
