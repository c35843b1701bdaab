"""Test data for the orders tests: children, policies, consents, users (ORM until the records
services exist; the hashes come from yimi.core.keys like the real ones)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.utils import timezone

from yimi.care.models import Child, Consent, Policy, Purpose
from yimi.core import keys
from yimi.core.models import Area, Department, User
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user

_seq = itertools.count(1)

CHILD_NAME = "测试童乙"


def make_child(area: Area, *, name: str = CHILD_NAME, **kw) -> Child:
    n = next(_seq)
    fields = {
        "file_no": f"OT-{n:05d}",
        "area": area,
        "name": name,
        "name_hash": keys.match_hash(name, purpose="child_name"),
        "birth_date": dt.date(2015, 3, 7),
        "sex": "male",
        "categories": ["left_behind"],
        "address": "测试路 1 号",
        "phone": "13800000000",
        "school": "测试小学",
        "health": {"conditions": "哮喘"},
        "disability": {"type": "肢体", "grade": 2},
    }
    fields.update(kw)
    return Child.objects.create(**fields)


def make_policy(
    area: Area,
    lead: Department,
    *,
    cooperating: tuple[Department, ...] = (),
    sections: tuple[str, ...] = ("education",),
    step_days: dict | None = None,
    code: str | None = None,
) -> Policy:
    pol = Policy.objects.create(
        code=code or f"P-{next(_seq)}",
        name="助学补贴",
        domain="education",
        benefit="每学期 1000 元",
        lead_department=lead,
        step_days=step_days if step_days is not None else {"confirm": 3, "handle": 10},
        eligibility={},
        sections=list(sections),
        area=area,
    )
    pol.cooperating.set(cooperating)
    return pol


def consent(child: Child, department: Department, *, purpose: str = Purpose.REFERRAL) -> Consent:
    return Consent.objects.create(
        child=child,
        purpose=purpose,
        department=department,
        given_by="监护人甲",
        relation="grandparent",
        given_on=timezone.localdate(),
    )


@dataclass
class World:
    """A city, a child in 甲一社区 with an education policy led by 教育局 with 卫健委."""

    areas: dict
    edu: Department
    health: Department
    other: Department
    director: User
    supervisor: User
    director_b: User
    wcco: User
    wcco_b: User
    edu_user: User
    health_user: User
    other_user: User
    child: Child
    policy: Policy


def make_world(*, consents: bool = True, step_days: dict | None = None) -> World:
    areas = make_city()
    edu = make_department(areas["A"], "edu")
    health = make_department(areas["A"], "health")
    other = make_department(areas["A"], "civil")
    child = make_child(areas["CA1"])
    pol = make_policy(areas["A"], edu, cooperating=(health,), step_days=step_days)
    if consents:
        consent(child, edu)
        consent(child, health)
    return World(
        areas=areas,
        edu=edu,
        health=health,
        other=other,
        director=make_user(Role.DIRECTOR, areas["CA1"]),
        supervisor=make_user(Role.SUPERVISOR, areas["SA"]),
        director_b=make_user(Role.DIRECTOR, areas["SB"]),
        wcco=make_user(Role.WCCO, areas["A"]),
        wcco_b=make_user(Role.WCCO, areas["B"]),
        edu_user=make_user(Role.DEPARTMENT, areas["A"], department=edu),
        health_user=make_user(Role.DEPARTMENT, areas["A"], department=health),
        other_user=make_user(Role.DEPARTMENT, areas["A"], department=other),
        child=child,
        policy=pol,
    )
