"""What the observer-group and co-building pages share: who may work on them, reading form
values, the generic staff form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area
from yimi.core.services import ServiceError
from yimi.places.models import Place

from ..services.groups import COMMUNITY_ROLES

SESSION_CODE = "voice_event_code"


# Helpers ---------------------------------------------------------------------------------------


def _community_staff(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_superuser or getattr(user, "role", None) in COMMUNITY_ROLES):
        raise DjangoPermissionDenied(
            _("Only the 妇儿工委办, supervisors and directors run observer groups and co-building.")
        )


def staff_view(fn: Callable) -> Callable:
    @login_required
    def wrapped(request, *args, **kwargs):
        _community_staff(request)
        return fn(request, *args, **kwargs)

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _datetime(value: str | None) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _float(value: str | None) -> float | None:
    try:
        return float(value) if (value or "").strip() else None
    except ValueError:
        return None


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def _place(value: str | None) -> Place | None:
    if not value or not str(value).isdigit():
        return None
    return Place.objects.exclude(verification=Place.Verification.RETIRED).filter(pk=value).first()


def _checked(data, name: str) -> bool:
    return data.get(name) in ("1", "on", "true")


def _areas_for(user) -> list[Area]:
    qs = Area.objects.all()
    if not (user.is_superuser or user.role == "admin"):
        qs = qs.filter(path__startswith=user.area.path) if user.area_id else qs.none()
    return list(qs.order_by("path"))


def _area(user, value: str | None) -> Area | None:
    areas = {str(a.pk): a for a in _areas_for(user)}
    return areas.get(str(value or ""))


def _errors(exc: ServiceError) -> dict:
    details = exc.details or [{"field": "", "message": exc.message}]
    return {
        "errors": {d["field"]: d["message"] for d in details if d.get("field")},
        "error_list": [d["message"] for d in details],
    }


def _form(request, *, title: str, fields: list[dict], back: str, status: int = 200, **extra):
    ctx = {"title": title, "fields": fields, "back": back, "errors": {}, "error_list": []}
    ctx.update(extra)
    return render(request, "voice/group_form.html", ctx, status=status)


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


# Public pages ----------------------------------------------------------------------------------
