"""Practice library tests: the real catalogue (loaded by migrate's post_migrate) and one user
per role in a small city."""

from __future__ import annotations

import pytest

from yimi.core.models import Area
from yimi.core.roles import Role
from yimi.core.services import area_create, department_create, user_create

PASSWORD = "pw-for-tests-7Kq!"


@pytest.fixture
def city(db):
    c = area_create(actor=None, code="330300", name="温州市", level=Area.Level.CITY)
    d = area_create(actor=None, code="330302", name="鹿城区", level=Area.Level.DISTRICT, parent=c)
    return {"city": c, "district": d}


@pytest.fixture
def dept(city):
    return department_create(actor=None, code="edu-330300", name="温州市教育局", area=city["city"])


@pytest.fixture
def users(city, dept):
    def make(name, role, area=None, department=None):
        return user_create(
            actor=None,
            username=name,
            password=PASSWORD,
            role=role,
            area=area,
            department=department,
        )

    return {
        "admin": make("p-admin", Role.ADMIN),
        "wcco": make("p-wcco", Role.WCCO, city["city"]),
        "department": make("p-dept", Role.DEPARTMENT, city["city"], dept),
        "supervisor": make("p-sup", Role.SUPERVISOR, city["district"]),
        "director": make("p-dir", Role.DIRECTOR, city["district"]),
        "expert": make("p-expert", Role.EXPERT, city["city"]),
        "volunteer": make("p-vol", Role.VOLUNTEER, city["city"]),
        "public": make("p-public", Role.PUBLIC),
    }
