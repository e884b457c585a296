from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from venture import permissions

from .models import Proposal


@login_required
def proposal_detail(request, pk):
    proposal = permissions.get_for(
        request.user, "proposal.view",
        Proposal.objects.select_related("competition", "organization", "category", "updated_by"), pk=pk,
    )
    return render(request, "venture/proposals/detail.html", {
        "proposal": proposal,
        "budget_lines": proposal.budget_lines.select_related("category"),
        "milestones": proposal.milestones.all(),
        "indicators": proposal.indicators.all(),
        "attachments": proposal.attachments.all(),
        "timeline": proposal.status_changes.select_related("by"),
    })
