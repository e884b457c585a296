from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture import permissions
from venture.competitions.models import Competition
from venture.errors import flash_error
from venture.organizations.models import Organization
from venture.uploads import serve

from . import services
from .forms import (
    AttachmentForm,
    BudgetLineFormSet,
    IndicatorFormSet,
    MilestoneFormSet,
    PlaceLinesForm,
    ProposalFilterForm,
    ProposalForm,
    ReasonForm,
    ReuseProposalForm,
    StartProposalForm,
)
from .models import Attachment, Proposal
from .rules import proposal_member

PROPOSAL_QS = Proposal.objects.select_related("competition", "organization", "category", "updated_by")


@login_required
def proposal_start(request, competition_pk):
    permissions.require(request.user, "proposal.create")
    competition = get_object_or_404(Competition, pk=competition_pk)
    organizations = Organization.objects.filter(memberships__user=request.user)
    if not organizations.exists():
        messages.info(request, _("Register your organization first; then you can start a proposal."))
        return redirect("organizations:create")
    if not competition.is_accepting():
        messages.error(request, _("This call is not accepting applications."))
        return redirect("competitions:call", pk=competition.pk)
    form = StartProposalForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        proposal = services.create_proposal(
            competition=competition,
            organization=form.cleaned_data["organization"],
            title=form.cleaned_data["title"],
            by=request.user,
        )
        messages.success(request, _("Draft created. Save as often as you like until the deadline."))
        return redirect("proposals:edit", pk=proposal.pk)
    # "Start from my proposal of …": the organizations' proposals of earlier rounds.
    earlier = (
        Proposal.objects.filter(organization__in=organizations)
        .exclude(competition=competition)
        .select_related("competition", "organization")
        .order_by("-competition__year", "-created_at")
    )
    return render(
        request, "venture/proposals/start.html", {"form": form, "competition": competition, "earlier": earlier}
    )


@login_required
def proposal_reuse(request, competition_pk, pk):
    """ "Start from my proposal of …": a new draft with a copy of one of the organization's earlier proposals."""
    permissions.require(request.user, "proposal.create")
    source = permissions.get_for(request.user, "proposal.reuse", PROPOSAL_QS, pk=pk)
    competition = get_object_or_404(Competition, pk=competition_pk)
    if not competition.is_accepting():
        messages.error(request, _("This call is not accepting applications."))
        return redirect("competitions:call", pk=competition.pk)
    form = ReuseProposalForm(request.POST or None, initial={"title": source.title})
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.reuse_proposal(
                source=source, competition=competition, by=request.user, title=form.cleaned_data["title"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Draft created from “%(title)s” (%(round)s). Check every part: dates, amounts and this year's rules.")
                % {"title": source.title, "round": source.competition.title},
            )
            if proposal.unplaced_lines.exists():
                messages.warning(
                    request, _("Some budget lines have no matching category in this round; place them below.")
                )
            return redirect("proposals:edit", pk=proposal.pk)
    return render(request, "venture/proposals/reuse.html", {"form": form, "competition": competition, "source": source})


def _line_initial(proposal):
    return [
        {
            "category": line.category_id,
            "item": line.item,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "quantity": line.quantity,
            "note": line.note,
        }
        for line in proposal.budget_lines.order_by("category__order", "id")
    ]


def _edit_forms(request, proposal):
    competition = proposal.competition
    data = request.POST if request.method == "POST" else None
    return {
        "form": ProposalForm(data, instance=proposal, competition=competition),
        "lines": BudgetLineFormSet(
            data,
            prefix="lines",
            initial=None if data else _line_initial(proposal),
            form_kwargs={"competition": competition, "categories": competition.budget_categories.all()},
        ),
        "milestones": MilestoneFormSet(
            data,
            prefix="milestones",
            initial=None if data else [{"date": m.date, "title": m.title} for m in proposal.milestones.all()],
        ),
        "indicators": IndicatorFormSet(
            data,
            prefix="indicators",
            initial=None
            if data
            else [{"name": i.name, "target": i.target, "unit": i.unit} for i in proposal.indicators.all()],
        ),
    }


def _save_draft(request, proposal, forms):
    form = forms["form"]
    return services.save_draft(
        proposal=proposal,
        by=request.user,
        data=form.cleaned_data,
        budget_lines=forms["lines"].rows(),
        milestones=forms["milestones"].rows(),
        indicators=forms["indicators"].rows(),
        expected_version=form.cleaned_data["version"],
    )


@require_POST
@login_required
def proposal_autosave(request, pk):
    """The edit form saves itself in the background (static/js/proposal_form.js): the same form and the same version
    check as "Save draft", answered in JSON. A conflict (409) or a form that cannot be saved yet changes
    nothing; the text stays in the applicant's browser. A form that cannot be saved yet (a budget line half typed) is
    the ordinary state of a draft being written, not an error: it is answered 200 with ``saved`` false."""
    proposal = permissions.get_for(request.user, "proposal.edit", PROPOSAL_QS, pk=pk)
    forms = _edit_forms(request, proposal)
    if not all(f.is_valid() for f in forms.values()):
        return JsonResponse(
            {"saved": False, "message": _("Not saved yet: some fields need your attention (see “Save draft”).")}
        )
    try:
        proposal = _save_draft(request, proposal, forms)
    except services.ConcurrentEdit as exc:
        return JsonResponse({"saved": False, "conflict": True, "message": str(exc)}, status=409)
    except ValidationError as exc:
        return JsonResponse({"saved": False, "message": " ".join(exc.messages)}, status=422)
    at = timezone.localtime(proposal.updated_at).strftime("%H:%M")
    return JsonResponse(
        {"saved": True, "version": proposal.version, "at": at, "message": _("Saved at %(time)s") % {"time": at}}
    )


@require_POST
@login_required
def place_lines(request, pk):
    """Place the budget lines copied from an earlier proposal that had no category in this round."""
    proposal = permissions.get_for(request.user, "proposal.edit", PROPOSAL_QS, pk=pk)
    form = PlaceLinesForm(request.POST, proposal=proposal)
    if form.is_valid():
        try:
            services.place_budget_lines(
                proposal=proposal,
                by=request.user,
                placements=form.rows(),
                expected_version=form.cleaned_data["version"],
            )
            messages.success(request, _("Budget lines placed."))
        except services.ConcurrentEdit as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            flash_error(request, exc)
    else:
        messages.error(request, _("Choose a budget category for each line, or leave it out."))
    return redirect("proposals:edit", pk=proposal.pk)


@login_required
def proposal_edit(request, pk):
    proposal = permissions.get_for(request.user, "proposal.view", PROPOSAL_QS, pk=pk)
    if not permissions.can(request.user, "proposal.edit", proposal):
        if not proposal_member(request.user, proposal):
            raise Http404
        # The applicant's bookmarked edit link of a submitted proposal: the read-only page says why (not a bare 404).
        messages.info(
            request,
            _("This proposal is “%(status)s” and can no longer be edited; this is its read-only view.")
            % {"status": proposal.get_status_display()},
        )
        return redirect("proposals:detail", pk=proposal.pk)
    forms = _edit_forms(request, proposal)
    unsaved = request.method == "POST"  # a failed save: the saved draft's problems would be stale next to the errors
    if request.method == "POST":
        if all(f.is_valid() for f in forms.values()):
            form = forms["form"]
            try:
                _save_draft(request, proposal, forms)
            except services.ConcurrentEdit as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if "submit" in request.POST:
                    return _submit(request, proposal)
                messages.success(request, _("Draft saved."))
                return redirect("proposals:edit", pk=proposal.pk)
        else:
            messages.error(request, _("Some fields need your attention; nothing was saved yet. Your input is kept."))
    problems = [] if unsaved else services.submission_problems(proposal)
    return render(
        request,
        "venture/proposals/edit.html",
        {
            "proposal": proposal,
            **forms,
            "problems": problems,
            "unsaved": unsaved,
            "line_problems": _line_problems(problems),
            "attachment_form": AttachmentForm(),
            "attachments": proposal.attachments.all(),
            "place_form": PlaceLinesForm(proposal=proposal) if proposal.unplaced_lines.exists() else None,
        },
    )


def _line_problems(problems):
    out = {}
    for p in problems:
        if p.line is not None:
            out.setdefault(p.line, []).append(p.message)
    return out


def _submit(request, proposal):
    try:
        services.submit_proposal(proposal=proposal, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("proposals:edit", pk=proposal.pk)
    messages.success(request, _("Proposal submitted. You will be notified by e-mail of each change of status."))
    return redirect("proposals:detail", pk=proposal.pk)


@require_POST
@login_required
def proposal_submit(request, pk):
    proposal = permissions.get_for(request.user, "proposal.submit", PROPOSAL_QS, pk=pk)
    return _submit(request, proposal)


@require_POST
@login_required
def proposal_withdraw(request, pk):
    proposal = permissions.get_for(request.user, "proposal.withdraw", PROPOSAL_QS, pk=pk)
    try:
        services.withdraw_proposal(proposal=proposal, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("Proposal withdrawn."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("proposals:detail", pk=proposal.pk)


@require_POST
@login_required
def proposal_return(request, pk):
    proposal = permissions.get_for(request.user, "proposal.return", PROPOSAL_QS, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason; the applicant will see it."))
        return redirect("proposals:detail", pk=proposal.pk)
    try:
        services.return_proposal(proposal=proposal, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Proposal returned to the applicant for revision."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("proposals:detail", pk=proposal.pk)


@login_required
def proposal_detail(request, pk):
    proposal = permissions.get_for(request.user, "proposal.view", PROPOSAL_QS, pk=pk)
    return render(
        request,
        "venture/proposals/detail.html",
        {
            "proposal": proposal,
            "budget_lines": proposal.budget_lines.select_related("category"),
            "milestones": proposal.milestones.all(),
            "indicators": proposal.indicators.all(),
            "attachments": proposal.attachments.all(),
            "timeline": proposal.status_changes.select_related("by"),
            "reason_form": ReasonForm(),
        },
    )


@require_POST
@login_required
def attachment_add(request, pk):
    proposal = permissions.get_for(request.user, "proposal.edit", PROPOSAL_QS, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_attachment(
                proposal=proposal,
                by=request.user,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
            messages.success(request, _("File uploaded."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        for error in form.errors.get("file", []):
            messages.error(request, error)
    return redirect("proposals:edit", pk=proposal.pk)


@login_required
def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment.objects.select_related("proposal__organization"), pk=pk)
    permissions.require(request.user, "proposal.view", attachment.proposal)
    return serve(attachment.file, download_name=attachment.original_name)


@require_POST
@login_required
def attachment_delete(request, pk):
    attachment = get_object_or_404(Attachment.objects.select_related("proposal__organization"), pk=pk)
    permissions.require(request.user, "proposal.edit", attachment.proposal)
    try:
        services.remove_attachment(attachment=attachment, by=request.user)
        messages.success(request, _("File removed."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("proposals:edit", pk=attachment.proposal_id)


@login_required
def proposal_list(request, competition_pk):
    """Staff: every proposal of a round, filtered, searched, sorted, 50 a page, in a constant number of queries."""
    competition = permissions.get_for(request.user, "proposal.list", Competition.objects.all(), pk=competition_pk)
    form = ProposalFilterForm(request.GET or None, competition=competition)
    proposals = Proposal.objects.filter(competition=competition).select_related("organization", "category")
    proposals = form.filter(proposals) if form.is_valid() else proposals.order_by("-submitted_at", "id")
    page = Paginator(proposals, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "venture/proposals/list.html",
        {"competition": competition, "form": form, "page": page, "query": query.urlencode()},
    )
