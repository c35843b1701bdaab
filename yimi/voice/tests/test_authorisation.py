"""District A's people never reach district B's voice data, by any page or endpoint.

Two districts, A and B, each with letters in every state (published and answered with a picture,
pending review, hidden, a possible disclosure), a public and an internal action with a milestone
and a photo, an observer group with a member and an activity, an alliance member with a service
item, an event with a registration. Users of every role sit in A.

1. Every voice URL and every voice API path is enumerated from the URL conf and the OpenAPI
   schema and filled with B's objects (a new URL whose parameters the test cannot fill fails).
2. No A-side user (nor an anonymous visitor) sees any of B's non-public words — a child's own
   text, a guardian's contact, a member's or a parent's name, minutes, internal notes, an
   internal action — by GET or POST of any page or endpoint, or by any list filter pointed at B.
3. Staff pages of B's objects are never answered with success to A-side users, and after all
   those requests B's rows are exactly as they were: nothing was changed by a POST.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user
from yimi.voice import urls as voice_urls
from yimi.voice.models import (
    Action,
    Activity,
    AllianceMember,
    Disclosure,
    Event,
    GroupMember,
    Milestone,
    ObserverGroup,
    Registration,
    ServiceItem,
    Suggestion,
)
from yimi.voice.services import actions as action_services

from .conftest import png_bytes
from .test_escaping import _kwargs
from .test_public_support import letter

pytestmark = pytest.mark.django_db


def _side(w: dict, tag: str, where, dept, dept_user) -> dict:
    """One district's voice objects and the words of them that only its own staff may read."""
    s = letter(
        where,
        text=f"原信{tag}：我家住在{tag}苑，希望滑梯修好。",
        published=f"公开稿{tag}：希望滑梯修好。",
        department=dept,
        adoption="adopted",
        reply=f"答复{tag}：我们会修好滑梯。",
        image=png_bytes(),
        publish_image=True,
        due_in_days=5,
    )
    Suggestion.objects.filter(pk=s.pk).update(
        guardian_contact=f"1390000{tag}", adoption_reason=f"内部理由{tag}"
    )
    pending = letter(where, text=f"待审原信{tag}：公园太远了。")
    Suggestion.objects.filter(pk=pending.pk).update(published_text=f"待审稿{tag}")
    letter(
        where,
        text=f"隐藏原信{tag}",
        published=f"隐藏稿{tag}",
        visibility=Suggestion.Visibility.HIDDEN,
    )
    # Triage flags this one on arrival (hidden at once, a Disclosure for the area's care staff).
    told = letter(where, text=f"求助原信{tag}：有人在学校打我。", department=dept)
    disclosure = Disclosure.objects.get(suggestion=told)
    disclosure.note = f"跟进{tag}"
    disclosure.save()
    action = action_services.action_create(
        actor=dept_user, suggestion=s, title=f"公开行动{tag}", description="把滑梯换新"
    )
    milestone = action_services.milestone_add(actor=dept_user, action=action, title=f"采购{tag}")
    photo = action_services.action_photo_add(
        actor=dept_user, action=action, image=png_bytes(), caption=f"照片{tag}"
    )
    internal = action_services.action_create(
        actor=dept_user, suggestion=s, title=f"内部行动{tag}", is_public=False
    )
    today = dt.date.today()
    group = ObserverGroup.objects.create(name=f"观察团{tag}", area=where, terms="章程")
    member = GroupMember.objects.create(
        group=group,
        name=f"团员{tag}",
        age_group="9-12",
        guardian_name=f"团员家长{tag}",
        guardian_contact=f"1370000{tag}",
        guardian_consent_on=today,
        term_start=today,
        term_end=today + dt.timedelta(days=365),
    )
    activity = Activity.objects.create(
        group=group,
        kind="site_visit",
        title=f"走访{tag}",
        held_on=today,
        minutes=f"会议纪要{tag}",
        outcomes=f"成果{tag}",
    )
    activity.attendees.set([member])
    org = AllianceMember.objects.create(
        name=f"联盟单位{tag}", kind="company", area=where, joined_on=today, open_space_m2=100
    )
    service = ServiceItem.objects.create(member=org, title=f"服务{tag}", lon=116.6, lat=39.5)
    now = timezone.now()
    event = Event.objects.create(
        title=f"友好日{tag}",
        kind="friendly_day",
        organiser=org,
        area=where,
        starts_at=now + dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=3, hours=2),
        capacity=30,
    )
    registration = Registration.objects.create(
        event=event,
        guardian_name=f"报名家长{tag}",
        guardian_contact=f"1350000{tag}",
        children=1,
        age_group="6-9",
        code=f"REGCODE{tag}",
    )
    return {
        "objects": {
            "suggestion": s,
            "disclosure": disclosure,
            "action": internal,
            "public_action": action,
            "milestone": milestone,
            "photo": photo,
            "group": group,
            "member": member,
            "activity": activity,
            "alliance": org,
            "service": service,
            "event": event,
            "registration": registration,
        },
        "area": where,
        "department": dept,
        "secrets": [
            f"原信{tag}",
            f"1390000{tag}",
            f"待审原信{tag}",
            f"待审稿{tag}",
            f"隐藏原信{tag}",
            f"隐藏稿{tag}",
            f"求助原信{tag}",
            f"跟进{tag}",
            f"内部行动{tag}",
            f"团员{tag}",
            f"团员家长{tag}",
            f"1370000{tag}",
            f"会议纪要{tag}",
            f"报名家长{tag}",
            f"1350000{tag}",
            f"REGCODE{tag}",
        ],
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module in a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        city = make_city()
        edu_a, edu_b = make_department(city["A"], "edu"), make_department(city["B"], "edu")
        users = {
            "wcco_a": make_user(Role.WCCO, city["A"]),
            "supervisor_a": make_user(Role.SUPERVISOR, city["SA"]),
            "director_a": make_user(Role.DIRECTOR, city["CA1"]),
            "dept_a": make_user(Role.DEPARTMENT, city["A"], edu_a),
            "expert_a": make_user(Role.EXPERT, city["A"]),
            "volunteer_a": make_user(Role.VOLUNTEER, city["CA1"]),
            "public": make_user(Role.PUBLIC, None),
        }
        dept_b_user = make_user(Role.DEPARTMENT, city["B"], edu_b)
        a = _side(city, "甲", city["CA1"], edu_a, users["dept_a"])
        b = _side(city, "乙", city["SB"], edu_b, dept_b_user)
        yield {"city": city, "users": users, "A": a, "B": b}
        transaction.set_rollback(True)


A_SIDE = [
    "wcco_a",
    "supervisor_a",
    "director_a",
    "dept_a",
    "expert_a",
    "volunteer_a",
    "public",
    None,
]
# Pages of the public site: B's public objects (a published letter, a public action, an event)
# may be shown to anyone, but never their non-public words.
PUBLIC_NAMES = {
    "mailbox",
    "thanks",
    "receipt",
    "public-suggestions",
    "suggestion-picture",
    "changes",
    "change-detail",
    "action-photo",
    "groups",
    "alliance",
    "events",
    "event",
    "event-registered",
    "event-cancel",
}


def _client(world, who: str | None) -> Client:
    client = Client()
    if who is not None:
        client.force_login(world["users"][who])
    return client


def _patterns() -> list[URLPattern]:
    return [p for p in voice_urls.urlpatterns if isinstance(p, URLPattern) and p.name]


def _url(pattern: URLPattern, side: dict) -> str:
    kwargs = _kwargs(pattern.name, list(pattern.pattern.converters), side["objects"])
    assert kwargs is not None, f"voice:{pattern.name}: the matrix cannot fill its parameters"
    return reverse(f"voice:{pattern.name}", kwargs=kwargs)


def _api_operations() -> list[tuple[str, str]]:
    from yimi.api import api

    schema = api.get_openapi_schema()
    return sorted(
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/voice/")
        for method in ops
    )


API_PARAMS = {
    "code": lambda s: s["objects"]["suggestion"].receipt_code,
    "suggestion_id": lambda s: s["objects"]["suggestion"].pk,
    "action_id": lambda s: s["objects"]["action"].pk,
    "event_id": lambda s: s["objects"]["event"].pk,
    "pk": None,
    "id": None,
}
API_PK_BY_SEGMENT = {
    "suggestions": "suggestion",
    "actions": "action",
    "events": "event",
    "receipts": None,
}


def _fill_api(path: str, side: dict) -> str:
    def sub(m: re.Match) -> str:
        key = m.group(1)
        if API_PARAMS.get(key):
            return str(API_PARAMS[key](side))
        segment = path[: m.start()].rstrip("/").rsplit("/", 1)[-1]
        kind = API_PK_BY_SEGMENT.get(segment)
        assert kind, f"no rule for {{{key}}} of {path}: add it to the matrix"
        return str(side["objects"][kind].pk)

    return re.sub(r"\{(\w+)\}", sub, path)


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", "replace")


def _leaks(text: str, side: dict) -> list[str]:
    return [s for s in side["secrets"] if s in text]


def _snapshot(side: dict) -> dict:
    """Every row of B's voice objects as it stands (encrypted fields decrypted)."""
    o = side["objects"]
    rows = {}
    for model, pks in (
        (Suggestion, Suggestion.objects.filter(area=side["area"]).values_list("pk", flat=True)),
        (Action, [o["action"].pk, o["public_action"].pk]),
        (Milestone, [o["milestone"].pk]),
        (ObserverGroup, [o["group"].pk]),
        (GroupMember, [o["member"].pk]),
        (Activity, [o["activity"].pk]),
        (AllianceMember, [o["alliance"].pk]),
        (ServiceItem, [o["service"].pk]),
        (Event, [o["event"].pk]),
        (Registration, [o["registration"].pk]),
        (Disclosure, [o["disclosure"].pk]),
    ):
        for obj in model.objects.filter(pk__in=list(pks)):
            rows[(model.__name__, obj.pk)] = model_to_dict(obj)
    return rows


def test_every_voice_page_can_be_filled(world):
    patterns = _patterns()
    assert len(patterns) >= 60
    for pattern in patterns:
        _url(pattern, world["B"])
    for _method, path in _api_operations():
        _fill_api(path, world["B"])
    assert len(_api_operations()) >= 10


def test_no_a_side_user_reaches_district_b_through_any_page(world):
    b = world["B"]
    before = _snapshot(b)
    failures = []
    for pattern in _patterns():
        url = _url(pattern, b)
        has_object = bool(pattern.pattern.converters)
        for who in A_SIDE:
            client = _client(world, who)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                leaked = _leaks(_text(response), b)
                if leaked:
                    failures.append(f"{who} {method.upper()} {url}: shows {leaked}")
                ok = 200 <= response.status_code < 300
                if has_object and ok and pattern.name not in PUBLIC_NAMES:
                    failures.append(f"{who} {method.upper()} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert _snapshot(b) == before, "a POST by an A-side user changed district B's voice data"


def test_no_a_side_user_reaches_district_b_through_the_api(world):
    b = world["B"]
    before = _snapshot(b)
    failures = []
    for method, path in _api_operations():
        url = _fill_api(path, b)
        for who in A_SIDE:
            client = _client(world, who)
            if method == "GET":
                response = client.get(url)
            else:
                response = client.generic(method, url, "{}", content_type="application/json")
            leaked = _leaks(_text(response), b)
            if leaked:
                failures.append(f"{who} {method} {url}: shows {leaked}")
            if method != "GET" and 200 <= response.status_code < 300 and "{" in path:
                failures.append(f"{who} {method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert _snapshot(b) == before


def test_no_a_side_user_finds_district_b_by_filter_or_search(world):
    b = world["B"]
    o = b["objects"]
    queries = [
        {"area": b["area"].pk, "department": b["department"].pk, "q": "乙", "page": 1},
        {"area": b["area"].code, "topic": "play", "status": "assigned", "visibility": "hidden"},
        {"group": o["group"].pk, "event": o["event"].pk, "code": o["registration"].code},
        {"suggestion": o["suggestion"].pk, "action": o["action"].pk, "overdue": "1"},
    ]
    list_pages = [_url(p, b) for p in _patterns() if not p.pattern.converters]
    api_lists = [path for method, path in _api_operations() if method == "GET" and "{" not in path]
    failures = []
    for who in A_SIDE:
        client = _client(world, who)
        for url in list_pages + api_lists:
            for query in queries:
                response = client.get(url, query)
                leaked = [s for s in _leaks(_text(response), b) if s not in str(query.values())]
                if leaked:
                    failures.append(f"{who} GET {url} {query}: shows {leaked}")
    assert not failures, "\n".join(failures)


def test_district_a_staff_do_see_their_own(world):
    """The matrix is not vacuous: A's own staff do read A's letter, member and registration."""
    a = world["A"]
    o = a["objects"]
    wcco = _client(world, "wcco_a")
    page = wcco.get(reverse("voice:staff-letter", kwargs={"pk": o["suggestion"].pk}))
    assert page.status_code == 200 and "原信甲" in _text(page)
    dept = _client(world, "dept_a")
    page = dept.get(reverse("voice:dept-letter", kwargs={"pk": o["suggestion"].pk}))
    assert page.status_code == 200
    # The registrations list shows A's parent, masked.
    page = wcco.get(reverse("voice:staff-event", kwargs={"pk": o["event"].pk}))
    assert page.status_code == 200 and "报" in _text(page)
