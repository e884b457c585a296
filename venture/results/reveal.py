"""The result reveal on the hall's projector (issue #17): after the freeze and the auditor's sign-off, staff show the
frozen ranking from the last place to the first, one place per click, each with its score and the first 8
characters of the snapshot's digest. Everything shown comes from the signed-off snapshot's stored outputs, never a
recomputation; before the sign-off the reveal is refused."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from venture import permissions
from venture.competitions.models import Competition
from venture.proposals.models import Proposal

from .models import ResultSnapshot


def revealable_snapshot(competition):
    """The valid snapshot once signed off, else None (the reveal waits for the auditor)."""
    return (
        ResultSnapshot.objects.filter(competition=competition, valid=True, signed_off_at__isnull=False)
        .defer("inputs")
        .select_related("signed_off_by")
        .first()
    )


def reveal_order(snapshot):
    """The snapshot's ranking from the last place to the first: [{rank, score, proposal, title, organization}],
    in two queries (the snapshot is already read)."""
    rows = sorted(snapshot.outputs["ranking"], key=lambda r: (-r["rank"], r["proposal"]))
    proposals = Proposal.objects.select_related("organization").in_bulk([r["proposal"] for r in rows])
    out = []
    for row in rows:
        proposal = proposals.get(row["proposal"])
        out.append(
            {
                "rank": row["rank"],
                "score": f"{row['score']:.2f}",
                "proposal": row["proposal"],
                "title": proposal.title if proposal else "",
                "organization": proposal.organization.name if proposal else "",
            }
        )
    return out


@login_required
@require_GET
def reveal(request, competition_pk):
    """Step ``?step=n`` shows the n last places (n = 0: nothing yet); a click anywhere, the space bar or the right
    arrow moves one step on (static/js/reveal.js)."""
    competition = permissions.get_for(request.user, "results.reveal", Competition.objects.all(), pk=competition_pk)
    snapshot = revealable_snapshot(competition)
    if snapshot is None:
        messages.error(
            request, _("The result can be revealed only after the results are frozen and signed off by the auditor.")
        )
        return redirect("results:results", competition_pk=competition.pk)
    order = reveal_order(snapshot)
    raw = request.GET.get("step", "0")
    step = min(int(raw), len(order)) if raw.isdigit() else 0
    shown = order[:step]
    return render(
        request,
        "venture/results/reveal.html",
        {
            "competition": competition,
            "snapshot": snapshot,
            "digest8": snapshot.digest[:8],
            "step": step,
            "total": len(order),
            "latest": shown[-1] if shown else None,
            "earlier": list(reversed(shown[:-1])),
            "next_step": step + 1 if step < len(order) else None,
        },
    )
