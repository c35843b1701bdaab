"""Test data built through the real services (no fixtures that bypass business rules)."""

from __future__ import annotations

import itertools

from yimi.core.models import Area, Department, User
from yimi.core.roles import Role
from yimi.core.services import area_create, department_create, user_create

_seq = itertools.count(1)


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def make_city() -> dict[str, Area]:
    """A city with two districts (A, B), a street in each, two communities in A's street."""
    city = area_create(actor=None, code="990000", name="测试市", level=Area.Level.CITY)
    a = area_create(
        actor=None,
        code="990001",
        name="甲区",
        level=Area.Level.DISTRICT,
        parent=city,
        boundary=box(116.0, 39.0, 116.5, 40.5),
    )
    b = area_create(
        actor=None,
        code="990002",
        name="乙区",
        level=Area.Level.DISTRICT,
        parent=city,
        boundary=box(116.5, 39.0, 117.0, 40.5),
    )
    sa = area_create(
        actor=None,
        code="990001001",
        name="甲街道",
        level=Area.Level.STREET,
        parent=a,
        boundary=box(116.0, 39.0, 116.5, 40.5),
    )
    sb = area_create(
        actor=None,
        code="990002001",
        name="乙街道",
        level=Area.Level.STREET,
        parent=b,
        boundary=box(116.5, 39.0, 117.0, 40.5),
    )
    ca1 = area_create(
        actor=None,
        code="990001001001",
        name="甲一社区",
        level=Area.Level.COMMUNITY,
        parent=sa,
        boundary=box(116.0, 39.0, 116.25, 40.5),
    )
    ca2 = area_create(
        actor=None,
        code="990001001002",
        name="甲二社区",
        level=Area.Level.COMMUNITY,
        parent=sa,
        boundary=box(116.25, 39.0, 116.5, 40.5),
    )
    return {"city": city, "A": a, "B": b, "SA": sa, "SB": sb, "CA1": ca1, "CA2": ca2}


def make_department(area: Area, code: str = "edu") -> Department:
    return department_create(
        actor=None, code=f"{code}-{next(_seq)}", name=f"{code} 部门", area=area
    )


def make_user(
    role: str = Role.DIRECTOR,
    area: Area | None = None,
    department: Department | None = None,
    password: str = "pw-Yimi-2026!",  # noqa: S107
) -> User:
    return user_create(
        actor=None,
        username=f"u{next(_seq)}-{role}",
        password=password,
        role=role,
        area=area,
        department=department,
    )
