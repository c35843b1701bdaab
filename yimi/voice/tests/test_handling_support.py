"""Builders shared by the handling tests (moderation, routing, escalation, batch, scoping): a
city with two districts, departments with handling settings, and the people who work on letters.
No tests here."""

from __future__ import annotations

from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user
from yimi.voice.models import DepartmentSetting, Suggestion
from yimi.voice.services.mailbox import suggestion_submit

PASSWORD = "pw-Yimi-2026!"  # noqa: S105 - a test account's password


def world(*, passwords: bool = False) -> dict:
    """Districts A and B; in each a parks and a transport department (A's parks: 10 days);
    a city-level WCCO, a WCCO per district, care staff, department users. Passwords (slow to
    hash) only for browser tests; page tests use ``force_login``."""
    pw = PASSWORD if passwords else None
    city = make_city()
    w: dict = dict(city)
    w["parks_a"] = make_department(city["A"], "parks")
    w["transport_a"] = make_department(city["A"], "transport")
    w["parks_b"] = make_department(city["B"], "parks")
    w["edu_city"] = make_department(city["city"], "edu")
    DepartmentSetting.objects.create(department=w["parks_a"], kind="parks", deadline_days=10)
    DepartmentSetting.objects.create(department=w["transport_a"], kind="transport")
    DepartmentSetting.objects.create(department=w["parks_b"], kind="parks", deadline_days=20)
    DepartmentSetting.objects.create(department=w["edu_city"], kind="edu", deadline_days=30)
    w["wcco_city"] = make_user(Role.WCCO, city["city"], password=pw)
    w["wcco_a"] = make_user(Role.WCCO, city["A"], password=pw)
    w["wcco_b"] = make_user(Role.WCCO, city["B"], password=pw)
    w["director_a1"] = make_user(Role.DIRECTOR, city["CA1"], password=pw)
    w["director_a2"] = make_user(Role.DIRECTOR, city["CA2"], password=pw)
    w["supervisor_a"] = make_user(Role.SUPERVISOR, city["SA"], password=pw)
    w["supervisor_b"] = make_user(Role.SUPERVISOR, city["SB"], password=pw)
    w["dept_parks_a"] = make_user(Role.DEPARTMENT, city["A"], department=w["parks_a"], password=pw)
    w["dept_transport_a"] = make_user(
        Role.DEPARTMENT, city["A"], department=w["transport_a"], password=pw
    )
    w["dept_parks_b"] = make_user(Role.DEPARTMENT, city["B"], department=w["parks_b"], password=pw)
    w["admin"] = make_user(Role.ADMIN, None, password=pw)
    return w


def letter(text: str = "希望公园里多一个滑梯，还有秋千。", *, area=None, **kw) -> Suggestion:
    fields = {
        "age_group": "9-12",
        "topic": "play",
        "guardian_consent": True,
        "guardian_contact": "13600000000",
    }
    fields.update(kw)
    return suggestion_submit(text=text, area=area, **fields)


def login(client, user) -> None:
    client.force_login(user)
