"""Test data for the work slice (visits, menu, worklist), built with the ORM until the records
service exists; hashes through :func:`yimi.core.keys.match_hash` as the real service does."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from yimi.care.models import Aspect, Child, Policy
from yimi.care.schedule import child_schedule_refresh
from yimi.core import keys
from yimi.core.models import Area, Department

_seq = itertools.count(1)

# Clearly fictitious names, as the demo uses.
NAMES = ["测试童甲", "测试童乙", "测试童丙", "测试童丁", "测试童戊", "测试童己"]

LEFT_BEHIND_RULE = {
    "all": [
        {"field": "categories", "op": "in", "value": ["left_behind"]},
        {"field": "age", "op": "<", "value": 16},
    ]
}


def make_child(area: Area, *, next_visit_due: dt.date | None = None, **kw) -> Child:
    n = next(_seq)
    name = kw.pop("name", NAMES[n % len(NAMES)] + str(n))
    birth = kw.pop("birth_date", dt.date(2015, 3, 7))
    # No ID number by default: generated ones repeat for one birth date (the hash is unique).
    id_number = kw.pop("id_number", "")
    fields = {
        "file_no": f"W-{n:05d}",
        "area": area,
        "name": name,
        "name_hash": keys.match_hash(name, purpose="child_name"),
        "id_number": id_number,
        "id_hash": keys.match_hash(id_number, purpose="id_number") if id_number else None,
        "birth_date": birth,
        "sex": "male",
        "categories": ["left_behind"],
        "risk_level": "medium",
    }
    fields.update(kw)
    child = Child.objects.create(**fields)
    if next_visit_due is None:
        child_schedule_refresh(child=child)
        child.refresh_from_db()
    else:
        Child.objects.filter(pk=child.pk).update(next_visit_due=next_visit_due)
        child.next_visit_due = next_visit_due
    return child


def make_policy(area: Area, lead: Department, **kw) -> Policy:
    n = next(_seq)
    fields = {
        "code": f"WP-{n:04d}",
        "name": f"测试政策{n}",
        "domain": "life",
        "benefit": "探访与生活补助",
        "lead_department": lead,
        "area": area,
        "eligibility": LEFT_BEHIND_RULE,
        "step_days": {"confirm": 3, "handle": 15, "follow_up": 30},
        "sections": ["basic"],
    }
    fields.update(kw)
    return Policy.objects.create(**fields)


def findings(text: str = "正常") -> dict[str, str]:
    return {a: f"{text}（{a}）" for a in Aspect.values}


def today() -> dt.date:
    return timezone.localdate()
