"""The child-friendly map's data: places, themes, curated routes, the stored walking network."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimi.core.models import Area, ScopedQuerySet


class Category(models.TextChoices):
    # The codes are shared with the analysis core (yimi.analysis.categories.CATEGORY_CODES).
    PARK = "park", _("Park")
    PLAYGROUND = "playground", _("Children's playground")
    POCKET_PARK = "pocket_park", _("Pocket park")
    CHILDREN_HOME = "children_home", _("Children's home")
    LIBRARY = "library", _("Library / reading space")
    MUSEUM = "museum", _("Museum / science centre")
    SCHOOL = "school", _("School")
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    CHILDCARE = "childcare", _("Childcare centre")
    HOSPITAL = "hospital", _("Hospital / child health")
    NURSING_ROOM = "nursing_room", _("Mother and baby room")
    SPORTS = "sports", _("Sports venue")
    STUDY_BASE = "study_base", _("Study base")
    PROTECTION_STATION = "protection_station", _("Minor protection station")
    OTHER = "other", _("Other")


class PlaceQuerySet(ScopedQuerySet):
    pass


class Place(models.Model):
    class Source(models.TextChoices):
        OSM = "osm", _("OpenStreetMap")
        TABLE = "table", _("Excel / CSV")
        GEOJSON = "geojson", _("GeoJSON")
        STAFF = "staff", _("Entered by staff")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not yet verified")
        VERIFIED = "verified", _("Verified")
        RETIRED = "retired", _("Retired")

    class Fee(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        FREE = "free", _("Free")
        PAID = "paid", _("Paid")

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    category = models.CharField(
        _("category"), max_length=30, choices=Category.choices, db_index=True
    )
    category_reason = models.CharField(_("why this category"), max_length=255, blank=True)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    geometry = models.JSONField(_("shape (GeoJSON)"), null=True, blank=True)
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    h3_cell = models.CharField(max_length=16, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=255, blank=True)
    age_min = models.PositiveSmallIntegerField(_("suited from age"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("suited to age"), null=True, blank=True)
    # Seats, places or childcare places (学位/托位/座位): the supply in accessibility analyses.
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    accessible = models.BooleanField(_("barrier-free"), null=True, blank=True)
    nursing_room = models.BooleanField(_("mother and baby room"), null=True, blank=True)
    family_toilet = models.BooleanField(_("family toilet"), null=True, blank=True)
    fee = models.CharField(_("fee"), max_length=8, choices=Fee.choices, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_ref = models.CharField(_("source reference"), max_length=255, blank=True)
    osm_type = models.CharField(max_length=10, blank=True)
    osm_id = models.BigIntegerField(null=True, blank=True)
    osm_version = models.PositiveIntegerField(null=True, blank=True)
    osm_timestamp = models.DateTimeField(null=True, blank=True)
    osm_tags = models.JSONField(default=dict, blank=True)
    merged_refs = models.JSONField(_("merged duplicates"), default=list, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("administrative area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="places",
    )
    verification = models.CharField(
        _("verification"),
        max_length=12,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
        db_index=True,
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlaceQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["category", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["osm_type", "osm_id"],
                condition=Q(osm_id__isnull=False),
                name="place_unique_osm_object",
            ),
        ]
        indexes = [models.Index(fields=["lon", "lat"], name="place_lonlat")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_public_q(cls) -> Q:
        return ~Q(verification=cls.Verification.RETIRED)

    @property
    def osm_ref(self) -> str:
        return f"{self.osm_type}/{self.osm_id}" if self.osm_id is not None else ""


class Theme(models.Model):
    """A theme (主题) groups places: 科普, 图书文化, 生态探索, 人文体验, 运动 …"""

    slug = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#e4572e")
    places = models.ManyToManyField(
        Place, verbose_name=_("places"), related_name="themes", blank=True
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_public_q(cls) -> Q:
        return Q()


class Route(models.Model):
    """A curated route (精品线路): places in order, with its walking path, length and time."""

    slug = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    theme = models.ForeignKey(
        Theme,
        verbose_name=_("theme"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routes",
    )
    path = models.JSONField(_("walking path (GeoJSON)"), null=True, blank=True)
    length_m = models.FloatField(_("length (m)"), null=True, blank=True)
    duration_min = models.FloatField(_("walking time (min)"), null=True, blank=True)
    straight_line = models.BooleanField(default=False)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("curated route")
        verbose_name_plural = _("curated routes")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_public_q(cls) -> Q:
        return Q()


class RouteStop(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["route", "position"]
        constraints = [
            models.UniqueConstraint(fields=["route", "position"], name="routestop_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.route_id}#{self.position}"


class OsmImport(models.Model):
    """One run of ``yimi import-osm``: the file, its checksum, what changed."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        UNCHANGED = "unchanged", _("Unchanged")
        FAILED = "failed", _("Failed")

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    data_timestamp = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class WalkNode(models.Model):
    """A node of the stored walking network (from OSM; ``osm_id`` is the OSM node id)."""

    osm_id = models.BigIntegerField(unique=True)
    lon = models.FloatField()
    lat = models.FloatField()
    # Mapped crossing (highway=crossing …) and traffic signals: safe routes to school use them.
    crossing = models.BooleanField(default=False)
    traffic_signals = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"node/{self.osm_id}"


class WalkEdge(models.Model):
    """An edge of the walking network between two consecutive nodes of a walkable way."""

    u = models.ForeignKey(WalkNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    v = models.ForeignKey(WalkNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    length_m = models.FloatField()
    way_id = models.BigIntegerField(db_index=True)
    highway = models.CharField(max_length=30)
    name = models.CharField(max_length=200, blank=True)
    sidewalk = models.BooleanField(null=True)
    crossing = models.BooleanField(default=False)  # part of a crossing way (footway=crossing)

    def __str__(self) -> str:
        return f"way/{self.way_id} {self.u_id}-{self.v_id}"


class Building(models.Model):
    """A residential building or residential land-use area from OSM: where children live.

    The accessibility analysis allocates each area's children to these in proportion to floor
    area (footprint × levels).
    """

    osm_type = models.CharField(max_length=10)
    osm_id = models.BigIntegerField()
    building = models.CharField(max_length=30, blank=True)
    is_landuse = models.BooleanField(default=False)
    levels = models.PositiveSmallIntegerField(null=True, blank=True)
    footprint_m2 = models.FloatField()
    lon = models.FloatField()
    lat = models.FloatField()
    name = models.CharField(max_length=200, blank=True)
    geometry = models.JSONField(null=True, blank=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["osm_type", "osm_id"], name="building_unique_osm"),
        ]

    def __str__(self) -> str:
        return f"{self.osm_type}/{self.osm_id}"


class BasemapFeature(models.Model):
    """Streets, parks, water and buildings from the import, drawn when no tile server is used."""

    kind = models.CharField(max_length=10, db_index=True)
    osm_ref = models.CharField(max_length=30, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    highway = models.CharField(max_length=30, blank=True)
    geometry = models.JSONField()
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()

    def __str__(self) -> str:
        return f"{self.kind} {self.osm_ref}"
