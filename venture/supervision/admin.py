from django.contrib import admin

from .models import EvaluationCriterion, FundedProject


@admin.register(EvaluationCriterion)
class EvaluationCriterionAdmin(admin.ModelAdmin):
    """The mid-term and final evaluation rubrics of a round (100 points, pass mark in the round's settings)."""

    list_display = ("competition", "kind", "order", "name", "max_points")
    list_filter = ("competition", "kind")
    ordering = ("competition", "kind", "order")


@admin.register(FundedProject)
class FundedProjectAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "competition", "grant", "released_total", "status")
    list_filter = ("competition", "status")
    search_fields = ("title", "organization__name")
    readonly_fields = ("released_total", "grant", "agreement", "proposal", "organization", "competition")
    filter_horizontal = ("supervisors",)
