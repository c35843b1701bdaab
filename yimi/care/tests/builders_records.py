"""Builders for the records tests: a city with a community in each district, users, children.

Everything goes through the real services (child_create, consent_grant …).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from yimi.care.identity import generate_id_number
from yimi.care.models import Child, Order, OrderTask, Policy
from yimi.care.services import records as services
from yimi.core.models import Area
from yimi.core.roles import Role
from yimi.core.services import area_create
from yimi.core.tests.factories import make_city, make_department, make_user

_rng = random.Random(4)
_seq = itertools.count(1)


def city_with_b() -> dict:
    """:func:`make_city` plus a community in district B (``CB1``)."""
    city = make_city()
    city["CB1"] = area_create(
        actor=None,
        code="990002001001",
        name="乙一社区",
        level=Area.Level.COMMUNITY,
        parent=city["SB"],
    )
    return city


def people(city: dict) -> dict:
    dept = make_department(city["A"], "edu")
    return {
        "director": make_user(Role.DIRECTOR, city["CA1"]),
        "director_b": make_user(Role.DIRECTOR, city["CB1"]),
        "supervisor": make_user(Role.SUPERVISOR, city["SA"]),
        "wcco": make_user(Role.WCCO, city["A"]),
        "dept_user": make_user(Role.DEPARTMENT, city["A"], department=dept),
        "dept": dept,
        "public": make_user(Role.PUBLIC),
    }


def id_number(birth: dt.date | None = None, sex: str | None = None) -> str:
    return generate_id_number(
        _rng,
        region="110108",
        # A different day each call: the sequence part of generated numbers has only 10 values.
        birth_date=birth or dt.date(2015, 3, 7) + dt.timedelta(days=next(_seq) % 300),
        sex=sex,
        today=dt.date(2026, 1, 1),
    )


def child(actor, area, *, name: str = "测试童甲", **kw) -> Child:
    fields = {
        "categories": ["left_behind"],
        "risk_level": "medium",
        "id_number": id_number(),
        "address": "测试路 1 号",
        "health": {"conditions": "哮喘"},
    }
    fields.update(kw)
    return services.child_create(actor=actor, area=area, name=name, **fields)


def order_for(child: Child, dept, sections=("health",)) -> Order:
    """An order of ``child`` with a task for ``dept`` (built directly: orders are another slice)."""
    policy = Policy.objects.create(
        code=f"P{next(_seq)}",
        name="测试政策",
        domain="medical",
        benefit="测试",
        lead_department=dept,
        area=child.area,
        sections=list(sections),
    )
    order = Order.objects.create(
        number=f"O-{next(_seq)}", child=child, policy=policy, area=child.area
    )
    OrderTask.objects.create(order=order, department=dept, role=OrderTask.Role.LEAD)
    return order
