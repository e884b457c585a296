"""Permission rules of rounds (competitions)."""

from venture.permissions import is_staff, register, union_side

register("competition.manage", is_staff)
register("competition.view_internal", union_side)
