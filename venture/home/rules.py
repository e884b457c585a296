"""Permission rules of the role home pages."""

from venture.permissions import is_applicant, is_auditor, is_judge, is_staff, is_supervisor, register

register("home.applicant", is_applicant)
register("home.judge", is_judge)
register("home.staff", is_staff)
register("home.supervisor", is_supervisor)
register("home.auditor", is_auditor)
