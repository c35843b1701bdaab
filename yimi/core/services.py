"""Writes to core data. Every service is keyword-only, atomic and writes its own audit row."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from yimi.core.fields import EncryptedBinaryField, EncryptedJSONField, EncryptedTextField
from yimi.core.models import Area, AuditLog, DataVersion, Department, User
from yimi.core.roles import STAFF_ROLES, Role


class ServiceError(Exception):
    """A business rule refused the write; the message is shown to the user as it is."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class PermissionDenied(ServiceError):
    code = "forbidden"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return f"<{len(value)} bytes>"
    return value


def snapshot(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete field values of ``obj`` as JSON-ready data, for the audit log."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        # The audit row has its own time; an auto-updated timestamp is not a change.
        if field.name in exclude or field.name == "password" or getattr(field, "auto_now", False):
            continue
        data[field.attname] = _jsonable(getattr(obj, field.attname))
    return data


# Shown in the audit log in place of an encrypted value: that it was set, never what it is.
REDACTED = "[encrypted]"


def redacted_snapshot(obj: models.Model, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """:func:`snapshot` for rows holding personal data: every encrypted field is shown only as
    set or empty, keyed hashes (``*_hash``, they would let a key holder test guesses) and the
    fields in ``drop`` (codes that open a row) are left out. The audit log is stored in the
    clear; it must say *that* a name changed, never what it was."""
    encrypted = {
        f.attname
        for f in obj._meta.concrete_fields
        if isinstance(f, EncryptedTextField | EncryptedJSONField | EncryptedBinaryField)
    }
    data = snapshot(obj)
    for name in list(data):
        if name.endswith("_hash") or name in drop:
            del data[name]
        elif name in encrypted:
            data[name] = REDACTED if data[name] not in (None, "") else ""
    return data


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    area_path: str = "",
    ip: str | None = None,
) -> AuditLog:
    """Write one audit row. Call it inside the service's transaction so both land or neither."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
        if not area_path:
            area = getattr(obj, "area", None)
            area_path = area.path if isinstance(area, Area) else ""
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditLog.objects.create(
        actor=real_actor,
        actor_name=(real_actor.get_username() if real_actor else "system")[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        before=before,
        after=after,
        note=note,
        area_path=area_path,
        ip_address=ip,
    )


def _area_path(parent: Area | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


@transaction.atomic
def area_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    level: int,
    parent: Area | None = None,
    boundary: dict | None = None,
    name_en: str = "",
    is_demo: bool = False,
) -> Area:
    code = code.strip()
    if not code or "/" in code:
        raise ServiceError(_("Division code “%(code)s” is not valid.") % {"code": code})
    if parent is not None and level <= parent.level:
        raise ServiceError(_("An area must be one level below its parent."))
    if parent is None and level != Area.Level.CITY:
        raise ServiceError(_("Only a city can be at the top of the area tree."))
    if boundary is not None:
        _validate_boundary(boundary)
    area = Area.objects.create(
        code=code,
        name=name,
        name_en=name_en,
        level=level,
        parent=parent,
        path=_area_path(parent, code),
        boundary=boundary,
        is_demo=is_demo,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=area,
        after=snapshot(area),
        area_path=area.path,
    )
    return area


@transaction.atomic
def area_update(*, actor: User | None, area: Area, **fields: Any) -> Area:
    allowed = {"name", "name_en", "boundary", "is_demo"}
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(_("These fields cannot be changed: %(f)s") % {"f": ", ".join(unknown)})
    if fields.get("boundary") is not None:
        _validate_boundary(fields["boundary"])
    before = snapshot(area)
    for k, v in fields.items():
        setattr(area, k, v)
    area.save()
    after = snapshot(area)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            obj=area,
            before=before,
            after=after,
            area_path=area.path,
        )
    return area


def _validate_boundary(boundary: dict) -> None:
    from shapely.geometry import shape

    try:
        geom = shape(boundary)
    except Exception as exc:
        raise ServiceError(_("The boundary is not valid GeoJSON: %(e)s") % {"e": exc}) from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise ServiceError(_("A boundary must be a Polygon or MultiPolygon."))


@transaction.atomic
def department_create(*, actor: User | None, code: str, name: str, area: Area) -> Department:
    dept = Department.objects.create(code=code, name=name, area=area)
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=dept,
        after=snapshot(dept),
        area_path=area.path,
    )
    return dept


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    role: str,
    area: Area | None = None,
    department: Department | None = None,
    display_name: str = "",
) -> User:
    if role not in Role.values:
        raise ServiceError(_("Unknown role “%(role)s”.") % {"role": role})
    if role in STAFF_ROLES and role != Role.ADMIN and area is None:
        raise ServiceError(_("A staff user needs an area."))
    if role == Role.DEPARTMENT and department is None:
        raise ServiceError(_("Department staff need a department."))
    user = User(
        username=username,
        role=role,
        area=area,
        department=department,
        display_name=display_name,
        # System administrators use the Django admin; everybody else works in Yimi's pages.
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=user,
        after=snapshot(user),
        area_path=area.path if area else "",
    )
    return user


def data_version_bump(*, key: str) -> str:
    """Mark the data set ``key`` as changed (call inside the writing transaction)."""
    token = uuid.uuid4().hex
    DataVersion.objects.update_or_create(key=key, defaults={"token": token})
    return token
