"""Permission rules of the results: the frozen ranking, its verification and the auditor's sign-off."""

from venture.permissions import is_auditor, is_staff, register, staff_or_auditor

register("results.view", staff_or_auditor)
register("results.freeze", is_staff)
register("results.sign_off", is_auditor)
register("results.reveal", is_staff)
