"""The practice library in Django's admin: the catalogue read-only (it comes from data/*.yaml:
edit the files and run `yimi practices-load`), the self-assessment through Yimi's own pages."""

from django.contrib import admin

from .models import Case, Measure, MeasureProgress, PolicyArea


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyArea)
class PolicyAreaAdmin(ReadOnlyAdmin):
    list_display = ("number", "numeral", "title")


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "retired")
    list_filter = ("area", "retired")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("source", "title", "province", "city")
    list_filter = ("province",)
    search_fields = ("title", "summary", "city")


@admin.register(MeasureProgress)
class MeasureProgressAdmin(ReadOnlyAdmin):
    # Changes go through the service (audited); the admin only shows them.
    list_display = ("measure", "status", "department", "target_date", "updated_at")
    list_filter = ("status",)
