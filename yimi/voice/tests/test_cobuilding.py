"""Co-building: alliance totals, service items on the map, events with capacity enforced under
concurrent registration, check-in and cancel codes, walk-ins and participation counts, scoping,
and public pages and API answers with nothing personal in them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_user
from yimi.places.models import Place
from yimi.voice.models import Registration
from yimi.voice.selectors import community as sel
from yimi.voice.services import cobuilding

PARENT, PHONE = "赵丽华", "13712345678"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def staff(city):
    return make_user(Role.SUPERVISOR, city["SA"])


@pytest.fixture
def place(city):
    return Place.objects.create(
        name="演示青少年活动中心",
        category="other",
        lon=116.2,
        lat=39.5,
        source="manual",
        area=city["CA1"],
    )


@pytest.fixture
def member(staff, city):
    return cobuilding.alliance_member_create(
        actor=staff,
        area=city["CA1"],
        name="演示书店",
        kind="company",
        joined_on=dt.date(2025, 3, 1),
        open_space_m2=300,
        contact="010-00000000（前台）",
    )


def _event(staff, city, place=None, *, capacity=5, days=7, member=None):
    start = timezone.now() + dt.timedelta(days=days)
    return cobuilding.event_create(
        actor=staff,
        area=city["CA1"],
        title="儿童友好日：绘本共读",
        kind="friendly_day",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=capacity,
        organiser=member,
        place=place,
        description="每月一次",
    )


def _register(event, children=1, name=PARENT, phone=PHONE):
    return cobuilding.registration_create(
        event=event, guardian_name=name, guardian_contact=phone, children=children, age_group="6-9"
    )


@pytest.mark.django_db
def test_alliance_totals_and_service_items_on_the_map(client, staff, city, member, place):
    other = cobuilding.alliance_member_create(
        actor=staff,
        area=city["CA2"],
        name="演示体育馆",
        kind="culture",
        joined_on=dt.date(2025, 5, 1),
        open_space_m2=1200,
    )
    cobuilding.service_item_create(
        actor=staff,
        member=member,
        title="周末绘本课",
        place=place,
        age_from=3,
        age_to=8,
        schedule="每周六",
    )
    cobuilding.service_item_create(
        actor=staff,
        member=other,
        title="游泳体验",
        lon=116.3,
        lat=39.6,
        age_from=6,
        age_to=12,
        is_free=False,
    )
    cobuilding.service_item_create(actor=staff, member=other, title="无地点的服务")
    with pytest.raises(ServiceError):
        cobuilding.service_item_create(actor=staff, member=other, title="x", age_from=12, age_to=6)
    with pytest.raises(ServiceError):
        cobuilding.service_item_create(actor=staff, member=other, title="x", lon=116.3)
    data = sel.public_alliance()
    assert data["totals"] == {"members": 2, "open_space_m2": 1500, "service_items": 3}
    assert {(p["title"], p["lon"], p["lat"]) for p in data["points"]} == {
        ("周末绘本课", 116.2, 39.5),
        ("游泳体验", 116.3, 39.6),
    }
    html = client.get(reverse("voice:alliance")).content.decode()
    assert "演示书店" in html and "1500" in html and 'id="cb-points"' in html
    assert "leaflet/leaflet.js" in html and "unpkg" not in html and "cdn" not in html.lower()
    api = client.get("/api/v1/voice/alliance").json()
    assert api["totals"]["service_items"] == 3 and len(api["members"]) == 2


@pytest.mark.django_db
def test_registration_gives_a_code_capacity_is_enforced_at_the_edge(staff, city):
    event = _event(staff, city, capacity=5)
    r1 = _register(event, children=3)
    assert len(r1.code) == cobuilding.CODE_LENGTH and r1.status == Registration.Status.REGISTERED
    with pytest.raises(ServiceError) as exc:
        _register(event, children=3)  # only 2 left
    assert exc.value.code == "full" and "2" in exc.value.message
    _register(event, children=2)
    with pytest.raises(ServiceError) as exc:
        _register(event, children=1)
    assert exc.value.code == "full"
    assert sel.remaining(event) == 0
    # Cancelling gives the places back; a cancelled code cannot be used again.
    cobuilding.registration_cancel(event=event, code=cobuilding.code_display(r1.code).lower())
    assert sel.remaining(event) == 3
    with pytest.raises(ServiceError):
        cobuilding.registration_cancel(event=event, code=r1.code)
    with pytest.raises(ServiceError):
        _register(event, children=11)
    with pytest.raises(ServiceError):
        cobuilding.registration_create(
            event=event, guardian_name="", guardian_contact="1", children=1, age_group="6-9"
        )


CONCURRENT = textwrap.dedent(
    """
    import json, sys, threading, datetime as dt
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.db import close_old_connections
    from django.utils import timezone
    from yimi.core.roles import Role
    from yimi.core.services import ServiceError
    from yimi.core.tests.factories import make_city, make_user
    from yimi.voice.models import Registration
    from yimi.voice.services import cobuilding
    city = make_city()
    staff = make_user(Role.DIRECTOR, city["CA1"])
    start = timezone.now() + dt.timedelta(days=3)
    rounds = []
    for n in range(int(sys.argv[2])):
        event = cobuilding.event_create(actor=staff, area=city["CA1"], title=f"e{n}",
            kind="workshop", starts_at=start, ends_at=start + dt.timedelta(hours=1), capacity=1)
        barrier = threading.Barrier(2)
        results = []
        def register(i):
            try:
                barrier.wait()
                cobuilding.registration_create(event=event, guardian_name=f"p{i}",
                    guardian_contact="1", children=1, age_group="6-9")
                results.append("ok")
            except ServiceError as exc:
                results.append(exc.code)
            except Exception as exc:
                results.append(f"error: {exc}")
            finally:
                close_old_connections()
        threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        rounds.append({"results": sorted(results),
                       "rows": Registration.objects.filter(event=event).count()})
    open(sys.argv[1], "w").write(json.dumps(rounds))
    """
)


def test_two_parents_at_once_cannot_both_take_the_last_place(tmp_path):
    """Two threads, a barrier, one place: on a FILE database with the project's SQLite settings
    (WAL, IMMEDIATE transactions, a busy timeout), in a fresh process, ten times over."""
    data = tmp_path / "data"
    data.mkdir()
    env = os.environ.copy()
    for name in ("DATABASE_URL", "YIMI_FIELD_KEYS", "YIMI_HASH_KEY"):
        env.pop(name, None)
    env.update(
        YIMI_DATA_DIR=str(data),
        YIMI_KEY_DIR=str(tmp_path / "keys"),
        DJANGO_SETTINGS_MODULE="yimi.settings",
        YIMI_IGNORE_DOTENV="1",
        SECRET_KEY="test-concurrency-not-secret",
    )
    out = tmp_path / "rounds.json"
    proc = subprocess.run(
        [sys.executable, "-c", CONCURRENT, str(out), "10"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rounds = json.loads(out.read_text())
    assert len(rounds) == 10
    assert all(r == {"results": ["full", "ok"], "rows": 1} for r in rounds), rounds


@pytest.mark.django_db
def test_check_in_walk_ins_and_participation_counts(staff, city):
    event = _event(staff, city, capacity=20)
    a = _register(event, children=2)
    b = _register(event, children=3, name="钱芳", phone="13600000001")
    c = _register(event, children=1, name="孙伟", phone="13600000002")
    cobuilding.registration_cancel(event=event, code=c.code)
    cobuilding.registration_check_in(actor=staff, event=event, code=cobuilding.code_display(a.code))
    with pytest.raises(ServiceError) as exc:
        cobuilding.registration_check_in(actor=staff, event=event, code=a.code)
    assert exc.value.code == "duplicate"
    with pytest.raises(ServiceError):
        cobuilding.registration_check_in(actor=staff, event=event, code=c.code)  # cancelled
    with pytest.raises(ServiceError):
        cobuilding.registration_check_in(actor=staff, event=event, code="ZZZZZZZZ")
    with pytest.raises(ServiceError):
        cobuilding.registration_cancel(event=event, code=a.code)  # already checked in
    cobuilding.walk_ins_add(actor=staff, event=event, count=4)
    cobuilding.walk_ins_add(actor=staff, event=event, count=-1)
    with pytest.raises(ServiceError):
        cobuilding.walk_ins_add(actor=staff, event=event, count=-10)
    p = sel.participation(event)
    assert (p.families, p.registered, p.checked_in, p.walk_ins) == (2, 5, 2, 3)
    assert p.participants == 5 and p.attendance_percent == "—"  # it has not started yet
    from yimi.voice.models import Event

    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    assert sel.participation(event).attendance_percent == "40%"
    other = _event(staff, city, capacity=10, days=9)
    cobuilding.registration_check_in(
        actor=staff, event=other, code=_register(other, children=4, name="周", phone="1").code
    )
    total = sel.participation([event, other])
    assert (total.registered, total.checked_in, total.walk_ins) == (9, 6, 3)
    assert total.registered_started == 5  # the other event is still to come
    assert b.code != a.code


@pytest.mark.django_db
def test_registrations_are_encrypted_masked_for_staff_and_reveal_is_audited(client, staff, city):
    event = _event(staff, city)
    r = _register(event, children=2)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT guardian_name, guardian_contact FROM voice_registration WHERE id=%s", [r.pk]
        )
        raw = " ".join(str(v) for v in cur.fetchone())
    assert PARENT not in raw and PHONE not in raw
    log = " ".join(f"{a.before}{a.after}{a.note}" for a in AuditLog.objects.all())
    assert PARENT not in log and PHONE not in log and r.code not in log
    client.force_login(staff)
    html = client.get(reverse("voice:staff-event", args=[event.pk])).content.decode()
    assert "赵**" in html and "137****5678" in html and PARENT not in html and PHONE not in html
    html = client.post(
        reverse("voice:staff-event", args=[event.pk]), {"reveal": str(r.pk)}
    ).content.decode()
    assert PARENT in html and PHONE in html
    assert AuditLog.objects.filter(
        action=AuditLog.Action.READ,
        object_type="voice.registration",
        object_id=str(r.pk),
        actor=staff,
    ).exists()
    # Check in through the desk.
    resp = client.post(reverse("voice:staff-event", args=[event.pk]), {"code": r.code.lower()})
    assert resp.status_code == 200
    r.refresh_from_db()
    assert r.status == Registration.Status.CHECKED_IN and r.checked_in_at is not None
    resp = client.post(reverse("voice:staff-event", args=[event.pk]), {"walk_ins": "3"})
    event.refresh_from_db()
    assert event.walk_ins == 3


@pytest.mark.django_db
def test_area_b_staff_cannot_see_area_a_events_registrations_or_members(
    client, staff, city, member
):
    event = _event(staff, city)
    r = _register(event)
    b = make_user(Role.WCCO, city["B"])
    client.force_login(b)
    assert "绘本共读" not in client.get(reverse("voice:staff-events")).content.decode()
    assert "演示书店" not in client.get(reverse("voice:staff-alliance")).content.decode()
    for url in (
        reverse("voice:staff-event", args=[event.pk]),
        reverse("voice:staff-event-edit", args=[event.pk]),
        reverse("voice:staff-alliance-member", args=[member.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("voice:staff-event", args=[event.pk]), {"code": r.code}).status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        cobuilding.registration_check_in(actor=b, event=event, code=r.code)
    with pytest.raises(PermissionDenied):
        cobuilding.registration_reveal(actor=b, registration=r)
    r.refresh_from_db()
    assert r.status == Registration.Status.REGISTERED


@pytest.mark.django_db
def test_public_pages_and_api_have_nothing_personal(client, staff, city, place, member):
    event = _event(staff, city, place, member=member, capacity=10)
    _register(event, children=2)
    for url in (
        reverse("voice:events"),
        reverse("voice:event", args=[event.pk]),
        reverse("voice:alliance"),
    ):
        html = client.get(url).content.decode()
        assert PARENT not in html and PHONE not in html and "赵**" not in html, url
    html = client.get(reverse("voice:event", args=[event.pk])).content.decode()
    assert "8" in html and "绘本共读" in html
    events = client.get("/api/v1/voice/events").json()
    assert len(events) == 1 and events[0]["places_left"] == 8
    assert set(events[0]) == {
        "id",
        "title",
        "kind",
        "kind_label",
        "organiser",
        "area",
        "place_id",
        "place",
        "lon",
        "lat",
        "starts_at",
        "ends_at",
        "capacity",
        "places_left",
        "registration_open",
        "description",
    }
    resp = client.post(
        f"/api/v1/voice/events/{event.pk}/registrations",
        {
            "guardian_name": "吴敏",
            "guardian_contact": "13500000000",
            "children": 2,
            "age_group": "u6",
        },
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert set(body) == {"check_in_code", "event_id", "children"}
    assert Registration.objects.filter(code=body["check_in_code"].replace("-", "")).exists()
    full = client.post(
        f"/api/v1/voice/events/{event.pk}/registrations",
        {"guardian_name": "吴敏", "guardian_contact": "1", "children": 7, "age_group": "u6"},
        content_type="application/json",
    )
    assert full.status_code == 409
    alliance = client.get("/api/v1/voice/alliance").json()
    assert set(alliance["members"][0]) == {
        "id",
        "name",
        "kind",
        "kind_label",
        "area",
        "joined_on",
        "open_space_m2",
        "contact",
        "description",
        "services",
    }


@pytest.mark.django_db
def test_a_parent_registers_on_the_page_sees_the_code_and_cancels(client, staff, city, settings):
    event = _event(staff, city, capacity=3)
    url = reverse("voice:event", args=[event.pk])
    resp = client.post(
        url,
        {"guardian_name": PARENT, "guardian_contact": PHONE, "children": "4", "age_group": "6-9"},
    )
    assert resp.status_code == 400 and "3" in resp.content.decode()
    resp = client.post(
        url,
        {"guardian_name": PARENT, "guardian_contact": PHONE, "children": "2", "age_group": "6-9"},
    )
    assert resp.status_code == 302
    page = client.get(resp["Location"]).content.decode()
    r = Registration.objects.get(event=event)
    assert cobuilding.code_display(r.code) in page and PARENT not in page
    resp = client.post(reverse("voice:event-cancel", args=[event.pk]), {"code": "WRONG"})
    assert resp.status_code == 400
    resp = client.post(reverse("voice:event-cancel", args=[event.pk]), {"code": r.code})
    assert resp.status_code == 200
    r.refresh_from_db()
    assert r.status == Registration.Status.CANCELLED


@pytest.mark.django_db
def test_registration_is_rate_limited(client, staff, city, settings):
    settings.YIMI_VOICE_RATE_LIMITS = {"register": (2, 600)}
    event = _event(staff, city, capacity=50)
    url = f"/api/v1/voice/events/{event.pk}/registrations"
    body = {"guardian_name": "甲", "guardian_contact": "1", "children": 1, "age_group": "6-9"}
    codes = [client.post(url, body, content_type="application/json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    page = client.post(reverse("voice:event", args=[event.pk]), body)
    assert page.status_code == 429


@pytest.mark.django_db
def test_past_and_closed_events_take_no_registrations(staff, city):
    event = _event(staff, city)
    past_start = timezone.now() - dt.timedelta(days=3)
    event.starts_at, event.ends_at = past_start, past_start + dt.timedelta(hours=2)
    event.save()
    with pytest.raises(ServiceError) as exc:
        _register(event)
    assert exc.value.code == "closed"
    assert list(sel.public_events(upcoming=True)) == []
    with pytest.raises(ServiceError):
        cobuilding.event_create(
            actor=staff,
            area=city["CA1"],
            title="x",
            kind="workshop",
            starts_at=past_start,
            ends_at=past_start - dt.timedelta(hours=1),
            capacity=3,
        )


@pytest.mark.django_db
def test_text_fields_are_escaped_on_public_and_staff_pages(client, staff, city, place):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    member = cobuilding.alliance_member_create(
        actor=staff,
        area=city["CA1"],
        name="联盟" + evil,
        kind="other",
        joined_on=dt.date(2025, 1, 1),
        description=evil,
        contact=evil,
    )
    cobuilding.service_item_create(
        actor=staff,
        member=member,
        title="服务" + evil,
        description=evil,
        schedule=evil,
        place=place,
    )
    event = _event(staff, city, place, member=member)
    event.title, event.description = "活动" + evil, evil
    event.save()
    r = cobuilding.registration_create(
        event=event, guardian_name=evil, guardian_contact=evil, children=1, age_group="6-9"
    )
    client.force_login(staff)
    for url in (
        reverse("voice:alliance"),
        reverse("voice:events"),
        reverse("voice:event", args=[event.pk]),
        reverse("voice:staff-alliance-member", args=[member.pk]),
        reverse("voice:staff-event", args=[event.pk]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
    html = client.post(
        reverse("voice:staff-event", args=[event.pk]), {"reveal": str(r.pk)}
    ).content.decode()
    assert "&lt;script&gt;" in html and "<script>alert(1)" not in html
