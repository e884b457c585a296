from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from venture import permissions

from .models import User
from .throttle import unlock


@admin.register(User)
class VentureUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (
        ("Venture", {"fields": ("role", "full_name", "mobile", "last_sign_in_at", "last_sign_in_ip", "two_factor")}),
    )
    readonly_fields = ("last_sign_in_at", "last_sign_in_ip", "two_factor")
    list_display = ("username", "full_name", "role", "email", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email")

    @admin.display(description=_("Two-factor sign-in"))
    def two_factor(self, obj):
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("two_factor_reset", args=[obj.pk]), _("Reset (lost phone)…"))


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LoginLockAdmin(AccessAttemptAdmin):
    """Failed sign-ins per username and address (django-axes). Deleting a row lifts its lock; each is audited."""

    def _staff(self, request):
        return permissions.can(request.user, "login.unlock")

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_delete_permission(self, request, obj=None):
        return self._staff(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        unlock(attempts=[obj], by=request.user)

    def delete_queryset(self, request, queryset):
        unlock(attempts=list(queryset), by=request.user)
