"""What the screening pages read: the round's screening list (filtered and ordered as the bulk page shows it) and a
proposal's neighbours in that list, so the side-by-side screening page walks the same list in the same order."""

from bisect import bisect_left

from django.db.models import Q

from venture.proposals.models import Proposal, ProposalStatus

S = ProposalStatus
SCREEN_STATUSES = [S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE, S.FINALIST, S.NOT_SELECTED]
ORDER = ("status", "title", "pk")


def clean_filter(params):
    """The list's filter from request parameters: ``{"status": …, "q": …}`` with unknown statuses dropped and the
    search trimmed; empty values are left out so that the filter can be put back into a URL as it came."""
    status = params.get("status", "")
    q = params.get("q", "").strip()[:100]
    return {k: v for k, v in (("status", status if status in SCREEN_STATUSES else ""), ("q", q)) if v}


def screening_proposals(competition, *, status="", q=""):
    """The round's proposals in screening, filtered by status and by a search in the title or the organization's
    name, in the list's order (status, title, id)."""
    proposals = Proposal.objects.filter(competition=competition, status__in=SCREEN_STATUSES)
    if status:
        proposals = proposals.filter(status=status)
    if q:
        proposals = proposals.filter(Q(title__icontains=q) | Q(organization__name__icontains=q))
    return proposals.order_by(*ORDER)


def neighbours(proposal, *, status="", q=""):
    """(previous id, next id, position 1-based or None, count) of ``proposal`` in the filtered screening list of its
    round, in one query. A proposal that is not (or no longer) in the filtered list gets the neighbours it would have
    by its place in the order, so "next" still goes on from where the reviewer is."""
    rows = [tuple(r) for r in screening_proposals(proposal.competition, status=status, q=q).values_list(*ORDER)]
    ids = [pk for _status, _title, pk in rows]
    if proposal.pk in ids:
        at = ids.index(proposal.pk)  # the database's order (its collation of titles), as the list shows it
        return (ids[at - 1] if at else None), (ids[at + 1] if at + 1 < len(ids) else None), at + 1, len(ids)
    at = bisect_left(rows, (proposal.status, proposal.title, proposal.pk))
    return (ids[at - 1] if at else None), (ids[at] if at < len(ids) else None), None, len(ids)
