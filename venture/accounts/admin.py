from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class VentureUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Venture", {"fields": ("role", "full_name", "mobile")}),)
    list_display = ("username", "full_name", "role", "email", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email")
