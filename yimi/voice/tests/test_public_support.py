"""Test data for the public, action and statistics tests: letters sent through the real mailbox
service, then moderated and answered by setting the fields the handling services set (those
services are another module's; these tests are about what follows an answer)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user
from yimi.voice.models import Suggestion
from yimi.voice.services.mailbox import suggestion_submit


def letter(
    area,
    *,
    text: str = "希望公园里有饮水机。",
    topic: str = "play",
    published: str | None = None,
    department=None,
    adoption: str = "",
    reply: str = "",
    image: bytes | None = None,
    publish_image: bool = False,
    visibility: str | None = None,
    answered_days: float | None = None,
    due_in_days: int | None = None,
    created_days_ago: float = 0,
) -> Suggestion:
    s = suggestion_submit(
        text=text,
        age_group="12-15",
        topic=topic,
        guardian_consent=True,
        guardian_contact="13800000000",
        area=area,
        image=image,
    )
    now = timezone.now()
    created = now - dt.timedelta(days=created_days_ago)
    fields: dict = {"created_at": created}
    if published is not None:
        fields.update(
            visibility=Suggestion.Visibility.PUBLISHED,
            published_text=published,
            publish_image=publish_image,
        )
    if visibility is not None:
        fields["visibility"] = visibility
    if department is not None:
        fields.update(department=department, status=Suggestion.Status.ASSIGNED)
    if due_in_days is not None:
        fields["due_on"] = timezone.localdate() + dt.timedelta(days=due_in_days)
    if adoption:
        fields.update(
            adoption=adoption,
            public_reply=reply,
            status=Suggestion.Status.ANSWERED,
            answered_at=created + dt.timedelta(days=answered_days or 0),
        )
    Suggestion.objects.filter(pk=s.pk).update(**fields)
    s.refresh_from_db()
    return s


def world() -> dict:
    """A city, two departments of district A and one of B, and their users."""
    city = make_city()
    edu = make_department(city["A"], "edu")
    parks = make_department(city["A"], "parks")
    edu_b = make_department(city["B"], "edu")
    return {
        **city,
        "edu": edu,
        "parks": parks,
        "edu_b": edu_b,
        "wcco_city": make_user(Role.WCCO, city["city"]),
        "wcco_a": make_user(Role.WCCO, city["A"]),
        "wcco_b": make_user(Role.WCCO, city["B"]),
        "u_edu": make_user(Role.DEPARTMENT, city["A"], edu),
        "u_parks": make_user(Role.DEPARTMENT, city["A"], parks),
        "director": make_user(Role.DIRECTOR, city["CA1"]),
        "public": make_user(Role.PUBLIC, None),
    }
