"""Permission rules of rounds (competitions)."""

from venture.permissions import any_of, is_staff, register, union_side

register("competition.manage", is_staff)
register("competition.view_internal", union_side)
register("competition.copy", is_staff)  # "new round from …": next year's round made from this one


def call_published(user, competition):
    """The call is public (it has left the "being set up" stage): its guide and budget template are for everyone."""
    return competition is not None and competition.stage != "draft"


register("competition.guide", any_of(call_published, is_staff))  # the 申报指南 PDF and the budget template
