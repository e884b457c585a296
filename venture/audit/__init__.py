"""The audit trail: one model (AuditEvent) and one function (record) that every state-changing service calls."""
