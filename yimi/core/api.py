"""Core API: who am I, and the area tree."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from yimi.core.models import Area

router = Router(tags=["core"])


class MeSchema(Schema):
    authenticated: bool
    username: str | None = None
    display_name: str | None = None
    role: str | None = None
    area: str | None = None
    department: str | None = None


class AreaSchema(Schema):
    code: str
    name: str
    level: int
    parent: str | None
    has_boundary: bool


@router.get("/me", response=MeSchema, summary="The current user")
def me(request: HttpRequest):
    u = request.user
    if not u.is_authenticated:
        return {"authenticated": False}
    return {
        "authenticated": True,
        "username": u.get_username(),
        "display_name": str(u),
        "role": u.role,
        "area": u.area.code if u.area_id else None,
        "department": u.department.code if u.department_id else None,
    }


@router.get(
    "/areas", response=list[AreaSchema], summary="Administrative areas (市→区→街道→社区→网格)"
)
def areas(request: HttpRequest):
    return [
        {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent": a.parent.code if a.parent_id else None,
            "has_boundary": a.boundary is not None,
        }
        for a in Area.objects.select_related("parent").order_by("path")
    ]
