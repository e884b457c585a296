"""Template tags for pages outside supervision that show a piece of it (awards page, organization record), each a
fixed number of queries whatever the number of rows."""

from django import template
from django.db.models import prefetch_related_objects

from venture.supervision import queries

register = template.Library()


@register.simple_tag
def with_projects(awards):
    """The awards with their grant agreement and its project fetched in two queries (not two per award)."""
    awards = list(awards)
    prefetch_related_objects(awards, "agreement__project")
    return awards


@register.simple_tag
def organization_projects(organization):
    """The organization's funded projects with their evaluations, two queries."""
    return queries.organization_projects(organization)


@register.filter
def project_of(award):
    """The award's funded project, or None (after ``with_projects``, no query)."""
    agreement = getattr(award, "agreement", None)
    return getattr(agreement, "project", None) if agreement is not None else None


@register.filter
def agreement_of(award):
    return getattr(award, "agreement", None)
