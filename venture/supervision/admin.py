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
    # Money and the ledger's running totals change only through the services (which lock the project row).
    readonly_fields = (
        "released_total",
        "grant",
        "agreement",
        "proposal",
        "organization",
        "competition",
        "spent_total",
        "first_spent_on",
        "last_spent_on",
    )
    filter_horizontal = ("supervisors",)
