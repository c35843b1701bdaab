"""Core data: administrative areas, departments, users with roles, the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimi.core.roles import DEPARTMENT_ROLES, STAFF_ROLES, Role


def model_scope_department_alone(model) -> bool:
    return bool(getattr(model, "scope_department_alone", False))


class ScopedQuerySet(models.QuerySet):
    """The one place where area and department scoping is decided (``visible_to``).

    A model opts in by naming the path to its area (``scope_area_field``) and, when it belongs
    to a department, to that (``scope_department_field``); ``scope_department_alone = True``
    scopes department users by the department only (rows handed to them wherever they are).
    Models whose rows are public to everybody in part say which with ``scope_public_q()``.
    """

    def visible_to(self, user, action: str = "view") -> ScopedQuerySet:
        model = self.model
        area_field = getattr(model, "scope_area_field", None)
        # Rows that record an area as a path string (the audit log) rather than a foreign key.
        path_field = getattr(model, "scope_area_path_field", None)
        dept_field = getattr(model, "scope_department_field", None)
        public_q = model.scope_public_q() if hasattr(model, "scope_public_q") else None

        authenticated = user is not None and user.is_authenticated
        if not authenticated or getattr(user, "role", None) not in STAFF_ROLES:
            if action == "view" and public_q is not None:
                return self.filter(public_q)
            return self.none()
        if user.is_superuser or user.role == Role.ADMIN:
            return self.all()

        if dept_field and user.role in DEPARTMENT_ROLES and model_scope_department_alone(model):
            # Rows handed to a department (a letter, an action) are the department's wherever
            # they are about; an area filter would lose those without an area.
            q = Q(**{dept_field: user.department_id}) if user.department_id else Q(pk__in=[])
            if action == "view" and public_q is not None:
                q |= public_q
            return self.filter(q)

        q = Q()
        if area_field:
            if user.area_id is None:
                return self.none()
            q &= Q(**{f"{area_field}__path__startswith": user.area.path})
            if user.area.parent_id is None:
                # City-level users also own rows that no area polygon contains.
                q |= Q(**{f"{area_field}__isnull": True})
        elif path_field:
            if user.area_id is None:
                return self.none()
            q &= Q(**{f"{path_field}__startswith": user.area.path})
            if user.area.parent_id is None:
                q |= Q(**{path_field: ""})
        if dept_field and user.role in DEPARTMENT_ROLES:
            q &= Q(**{dept_field: user.department_id})
        if action == "view" and public_q is not None:
            if not public_q:  # an empty Q means every row is public (OR-ing it adds nothing)
                return self.all()
            q |= public_q
        return self.filter(q)


class Area(models.Model):
    """An administrative area: 市 → 区 → 街道 → 社区 → 网格, keyed by its 行政区划代码."""

    class Level(models.IntegerChoices):
        CITY = 1, _("City")
        DISTRICT = 2, _("District")
        STREET = 3, _("Street")
        COMMUNITY = 4, _("Community")
        GRID = 5, _("Grid")

    code = models.CharField(_("division code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/110000/110108/110108900/": lets a whole subtree be selected with one prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)

    class Meta:
        verbose_name = _("administrative area")
        verbose_name_plural = _("administrative areas")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def ancestors_and_self(self) -> list[Area]:
        codes = [c for c in self.path.split("/") if c]
        by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]


class Department(models.Model):
    """A government department or unit (教育局, 卫健委, 民政局 …) within an area."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person using Yimi, with one role, scoped to an area and (for departments) a department."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PUBLIC)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_yimi_staff(self) -> bool:
        return self.is_authenticated and (self.is_superuser or self.role in STAFF_ROLES)


class AuditLog(models.Model):
    """One row per write (and per sensitive read or export): who, what, before/after, when."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")
        READ = "read", _("Read")
        LOGIN = "login", _("Log in")
        LOGIN_FAILED = "login_failed", _("Failed log-in")
        LOGOUT = "logout", _("Log out")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    area_path = models.CharField(max_length=255, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_path_field = "area_path"

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
        )

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each field whose value differs."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return [(k, before.get(k), after.get(k)) for k in keys]


class DataVersion(models.Model):
    """A token that changes whenever a data set changes (places, the walking network …).

    Caches built from a data set (the walking graph, snapped places) are keyed by the token, so
    a process finds out that its cache is stale with one primary-key read, and a cache built from
    one database is never taken for another's.
    """

    key = models.CharField(max_length=40, primary_key=True)
    token = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self) -> str:
        return f"{self.key}={self.token}"
