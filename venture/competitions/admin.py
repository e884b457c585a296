from django.contrib import admin

from .models import BudgetCategory, Category, Competition, TranchePlanItem


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0


class BudgetCategoryInline(admin.TabularInline):
    model = BudgetCategory
    extra = 0


class TrancheInline(admin.TabularInline):
    model = TranchePlanItem
    extra = 0


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    list_display = ("title", "year", "stage", "fund_pool")
    list_filter = ("stage", "year")
    readonly_fields = ("stage",)  # stages change only through the round page's actions
    inlines = [CategoryInline, BudgetCategoryInline, TrancheInline]
