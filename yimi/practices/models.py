"""The practice library (policy area → measure → item → case), loaded from data/*.yaml, and
the city's own self-assessment against it (MeasureProgress).

Catalogue rows are keyed by the stable codes and ids of the data files, so a new release of
the data updates them in place; progress rows point at measures and are never touched by a load.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PolicyArea(models.Model):
    """一 … 七: a policy area (政策方面) of the national list."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    numeral = models.CharField(_("numeral"), max_length=2)
    title = models.CharField(_("title"), max_length=200)

    class Meta:
        verbose_name = _("policy area")
        verbose_name_plural = _("policy areas")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.numeral}、{self.title}"


class Measure(models.Model):
    """A measure (主要举措), e.g. 二(一) 推动城市规划建设融入"1米视角"."""

    code = models.CharField(_("code"), max_length=12, unique=True)  # 二(一)
    slug = models.CharField(max_length=8, unique=True)  # 2-1, for URLs
    area = models.ForeignKey(
        PolicyArea, verbose_name=_("policy area"), on_delete=models.PROTECT, related_name="measures"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    yimi_parts = models.JSONField(_("Yimi parts"), default=list, blank=True)
    planned_parts = models.JSONField(_("planned parts"), default=list, blank=True)
    # A measure that a later release of the list dropped keeps its progress row; it is hidden.
    retired = models.BooleanField(_("no longer in the list"), default=False)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["area__number", "number"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Item(models.Model):
    """A numbered item (具体内容) of a measure, e.g. 二(一)1."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["measure__area__number", "measure__number", "number"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Case(models.Model):
    """One city's practice named by an item, summarised anew, with its figures and documents."""

    key = models.CharField(_("id"), max_length=40, unique=True)  # 3-1-1-suzhou
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="cases")
    position = models.PositiveSmallIntegerField(default=0)
    province = models.CharField(_("province"), max_length=20, db_index=True)
    city = models.CharField(_("city"), max_length=20, db_index=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    title = models.CharField(_("title"), max_length=60)
    summary = models.TextField(_("summary"))
    years = models.JSONField(_("years"), default=list, blank=True)
    # [{"label": "点位", "value": 68, "unit": "个"}, …]
    figures = models.JSONField(_("key figures"), default=list, blank=True)
    documents = models.JSONField(_("documents"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=16)  # the item code, e.g. 三(二)1
    # Plain-text copies for search and filters: JSON columns keep Chinese as \\u escapes on
    # SQLite, so LIKE could not find 托育 in them. "|法规|参与|" lets a tag match exactly.
    documents_text = models.TextField(blank=True, editable=False)
    tags_text = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = [
            "item__measure__area__number",
            "item__measure__number",
            "item__number",
            "position",
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.title}"

    @property
    def place(self) -> str:
        city = self.city if self.province == f"{self.city}市" else f"{self.province}{self.city}"
        return f"{city}{self.district}"


class ProgressStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    ESTABLISHED = "established", _("Established practice")


class EvidenceKind(models.TextChoices):
    NONE = "", _("None")
    THEME = "theme", _("Map theme")
    ROUTE = "route", _("Curated route")
    ANALYSIS = "analysis", _("Accessibility analysis")
    POLICY = "policy", _("Aid policy (care menu)")
    FILE = "file", _("Uploaded file")


class MeasureProgress(models.Model):
    """The city's self-assessment (自评) of one measure; every change is in the audit log."""

    measure = models.OneToOneField(
        Measure, verbose_name=_("measure"), on_delete=models.PROTECT, related_name="progress"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ProgressStatus.choices,
        default=ProgressStatus.NOT_STARTED,
        db_index=True,
    )
    note = models.TextField(_("note"), blank=True)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    evidence_kind = models.CharField(
        _("evidence"), max_length=10, choices=EvidenceKind.choices, blank=True, default=""
    )
    evidence_object_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The object's name when it was linked: the page still says what it was if it is deleted.
    evidence_label = models.CharField(_("evidence"), max_length=255, blank=True)
    evidence_file = models.FileField(upload_to="practices/evidence/", blank=True)
    evidence_file_name = models.CharField(_("file name"), max_length=200, blank=True)
    evidence_file_type = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("measure progress")
        verbose_name_plural = _("self-assessment")
        ordering = ["measure__area__number", "measure__number"]

    def __str__(self) -> str:
        return f"{self.measure.code} {self.get_status_display()}"
