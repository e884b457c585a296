"""Permission rules of the background tasks: staff see the failed tasks and run them again."""

from venture.permissions import is_staff, register

register("tasks.manage", is_staff)
