"""Permission rules of the audit trail."""

from venture.permissions import register, staff_or_auditor

register("audit.browse", staff_or_auditor)
register("audit.export", staff_or_auditor)
