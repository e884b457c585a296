"""Permission rules of rounds (competitions)."""

from venture.permissions import is_staff, register, union_side

register("competition.manage", is_staff)
register("competition.view_internal", union_side)
register("competition.copy", is_staff)  # "new round from …": next year's round made from this one
