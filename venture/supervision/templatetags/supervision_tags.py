"""Template filters for pages outside supervision that show a piece of it (the awards page). They read only what
the view fetched (``select_related("agreement__project")``) and never query."""

from django import template

register = template.Library()


@register.filter
def project_of(award):
    """The award's funded project, or None."""
    agreement = getattr(award, "agreement", None)
    return getattr(agreement, "project", None) if agreement is not None else None


@register.filter
def agreement_of(award):
    return getattr(award, "agreement", None)
