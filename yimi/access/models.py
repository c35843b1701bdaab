"""Life-circle accessibility data: child population totals, demand tables, planned facilities and
analysis runs with their stored results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yimi.core.models import Area, ScopedQuerySet
from yimi.places.models import Category


class AgeGroup(models.TextChoices):
    # The codes are the analysis core's (yimi.analysis.access.ages.AGE_GROUPS), in its order.
    INFANT = "0-3", _("0–3 years")
    PRESCHOOL = "3-6", _("3–6 years")
    PRIMARY = "6-12", _("6–12 years")
    MIDDLE = "12-15", _("12–15 years")


class ChildPopulation(models.Model):
    """Children of one age group living in an area in a year (census totals by 社区 or 街道)."""

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    age_group = models.CharField(_("age group"), max_length=5, choices=AgeGroup.choices)
    count = models.PositiveIntegerField(_("children"))
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("child population")
        verbose_name_plural = _("child population")
        ordering = ["area__path", "year", "age_group"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "age_group", "year"], name="childpopulation_unique_area_group_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area.name} {self.age_group} {self.year}: {self.count}"


class DemandSet(models.Model):
    """An uploaded (or generated) table of children by point or H3 cell, used as demand."""

    class Kind(models.TextChoices):
        POINTS = "points", _("Points")
        H3 = "h3", _("H3 cells")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    rows = models.PositiveIntegerField(_("rows"))
    children = models.FloatField(_("children"))
    # Synthetic populations (scale tests, demos): never to be shown as real children.
    generated = models.BooleanField(_("generated data"), default=False)
    # {"lon": [...], "lat": [...], "counts": [[0-3, 3-6, 6-12, 12-15], ...], "labels": [...]};
    # H3 tables keep "cells" instead of lon/lat.
    data = models.JSONField(default=dict)
    note = models.TextField(_("note"), blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("demand table")
        verbose_name_plural = _("demand tables")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class PlannedFacility(models.Model):
    """A facility that is planned, not built: added to a run to see what it would change."""

    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("administrative area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("planned facility")
        verbose_name_plural = _("planned facilities")
        ordering = ["category", "name", "id"]

    def __str__(self) -> str:
        return self.name


class AnalysisRun(models.Model):
    """One life-circle analysis with its parameters and results, kept so runs can be compared.

    Tables (coverage rows, gap cells) are JSON here; per-home arrays (nearest distances …) are in
    ``result_file``, an .npz under ``$YIMI_DATA_DIR/media/access/``.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    error = models.TextField(_("error"), blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    tables = models.JSONField(default=dict, blank=True)
    result_file = models.CharField(max_length=255, blank=True)
    generated_demand = models.BooleanField(_("generated demand"), default=False)
    demand_set = models.ForeignKey(
        DemandSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("accessibility analysis")
        verbose_name_plural = _("accessibility analyses")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"
