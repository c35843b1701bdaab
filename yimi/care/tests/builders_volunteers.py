"""Test data for the volunteer and monitoring tests, built with the ORM where no service exists yet."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from django.utils import timezone

from yimi.care.identity import generate_id_number
from yimi.care.models import Child, Consent, Purpose, Volunteer
from yimi.care.services import volunteers as services
from yimi.core import keys
from yimi.core.models import Area, User

_seq = itertools.count(1)
_rng = random.Random(20261129)


def make_child(area: Area, *, name: str | None = None, **kw) -> Child:
    n = next(_seq)
    name = name or f"测试童{n:03d}"
    born = kw.pop("birth_date", dt.date(2015, 3, 7) + dt.timedelta(days=n))
    number = generate_id_number(_rng, birth_date=born)
    fields = {
        "file_no": f"TV-{n:05d}",
        "area": area,
        "name": name,
        "name_hash": keys.match_hash(name, purpose="child_name"),
        "id_number": number,
        "id_hash": keys.match_hash(number, purpose="id_number"),
        "birth_date": born,
        "sex": "male",
        "categories": ["left_behind"],
        "school_stage": "primary",
        "address": "测试路 1 号",
    }
    fields.update(kw)
    return Child.objects.create(**fields)


def give_consent(child: Child, purpose: str = Purpose.VOLUNTEER) -> Consent:
    return Consent.objects.create(
        child=child,
        purpose=purpose,
        given_by="测试监护人",
        relation="mother",
        given_on=timezone.localdate(),
    )


def new_id_number() -> str:
    # A different birth date each time: unique within a test run.
    born = dt.date(1970, 1, 1) + dt.timedelta(days=next(_seq))
    return generate_id_number(_rng, birth_date=born, sex="female")


def make_volunteer(
    actor: User, area: Area, *, passed: bool = True, name: str = "志愿者王丽华"
) -> Volunteer:
    v = services.volunteer_register(
        actor=actor,
        area=area,
        name=name,
        phone="13800000000",
        id_number=new_id_number(),
        organisation="爱心妈妈协会",
    )
    if passed:
        today = timezone.localdate()
        v = services.volunteer_check_record(
            actor=actor,
            volunteer=v,
            state=Volunteer.Check.PASSED,
            checked_on=today - dt.timedelta(days=10),
            reference="QC-2026-001",
            valid_until=today + dt.timedelta(days=365),
        )
    return v
