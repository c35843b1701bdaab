"""The access part's data in the Django admin (read-mostly; the services are the way to write)."""

from django.contrib import admin

from .models import AnalysisRun, ChildPopulation, DemandSet, PlannedFacility


@admin.register(ChildPopulation)
class ChildPopulationAdmin(admin.ModelAdmin):
    list_display = ("area", "age_group", "year", "count", "source")
    list_filter = ("year", "age_group")
    readonly_fields = ("area", "age_group", "year", "count", "source", "updated_by")


@admin.register(DemandSet)
class DemandSetAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "rows", "children", "generated", "created_at")
    exclude = ("data",)
    readonly_fields = ("name", "kind", "file_name", "rows", "children", "generated", "area")


@admin.register(PlannedFacility)
class PlannedFacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "capacity", "area", "created_at")
    list_filter = ("category",)


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "progress", "area", "created_at", "finished_at")
    list_filter = ("status",)
    exclude = ("tables",)
    readonly_fields = (
        "area",
        "params",
        "status",
        "progress",
        "stage",
        "error",
        "summary",
        "result_file",
        "generated_demand",
        "created_by",
        "started_at",
        "finished_at",
    )
