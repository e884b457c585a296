"""Permission rules of screening."""

from venture.permissions import is_staff, register

register("screening.manage", is_staff)
