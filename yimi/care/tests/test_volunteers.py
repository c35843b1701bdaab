"""Volunteers (爱心妈妈): registry, background check, 1+1 pairing rules, rotation and the log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from yimi.care.models import ChildEvent, Pairing, Volunteer, VolunteerLog
from yimi.care.selectors import volunteers as selectors
from yimi.care.services import volunteers as services
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_user

from .builders_volunteers import give_consent, make_child, make_volunteer, new_id_number

TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def english():
    # The messages are matched in English here; the pages show them in Chinese.
    with translation.override("en"):
        yield


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def director(city):
    return make_user(Role.DIRECTOR, city["CA1"])


def test_register_validates_and_deduplicates_the_id_number(city, director):
    number = new_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")  # a wrong check digit
    with pytest.raises(ServiceError, match="identity number"):
        services.volunteer_register(actor=director, area=city["CA1"], name="甲", id_number=wrong)
    v = services.volunteer_register(actor=director, area=city["CA1"], name="甲", id_number=number)
    assert v.check_state == Volunteer.Check.PENDING and v.id_hash
    # The same number with a lower-case x / surrounding spaces is the same person.
    with pytest.raises(ServiceError) as exc:
        services.volunteer_register(
            actor=director, area=city["CA1"], name="乙", id_number=f" {number.lower()} "
        )
    assert exc.value.code == "conflict"
    row = AuditLog.objects.get(object_type="care.volunteer", action="create")
    assert "甲" not in str(row.after) and number not in str(row.after)


def test_only_managers_of_the_area_register(city, director):
    other = make_user(Role.DIRECTOR, city["B"])
    with pytest.raises(PermissionDenied):
        services.volunteer_register(
            actor=other, area=city["CA1"], name="甲", id_number=new_id_number()
        )
    dept = make_user(Role.PUBLIC)
    with pytest.raises(PermissionDenied):
        services.volunteer_register(
            actor=dept, area=city["CA1"], name="甲", id_number=new_id_number()
        )


def test_pairing_refused_without_a_passed_check(city, director):
    child = make_child(city["CA1"])
    give_consent(child)
    v = make_volunteer(director, city["CA1"], passed=False)
    with pytest.raises(ServiceError, match="background check has not passed"):
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())
    services.volunteer_check_record(
        actor=director,
        volunteer=v,
        state=Volunteer.Check.FAILED,
        checked_on=TODAY(),
        reference="QC-1",
    )
    with pytest.raises(ServiceError, match="background check has not passed"):
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())
    assert not Pairing.objects.exists()


def test_pairing_refused_with_an_expired_check(city, director):
    child = make_child(city["CA1"])
    give_consent(child)
    v = make_volunteer(director, city["CA1"])
    # The check was valid until yesterday.
    Volunteer.objects.filter(pk=v.pk).update(check_valid_until=TODAY() - dt.timedelta(days=1))
    v.refresh_from_db()
    with pytest.raises(ServiceError, match="expired"):
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())


def test_a_passed_check_needs_reference_and_validity(city, director):
    v = make_volunteer(director, city["CA1"], passed=False)
    with pytest.raises(ServiceError):
        services.volunteer_check_record(
            actor=director,
            volunteer=v,
            state=Volunteer.Check.PASSED,
            checked_on=TODAY(),
            reference="",
            valid_until=TODAY() + dt.timedelta(days=30),
        )
    with pytest.raises(ServiceError):
        services.volunteer_check_record(
            actor=director,
            volunteer=v,
            state=Volunteer.Check.PASSED,
            checked_on=TODAY(),
            reference="QC",
            valid_until=None,
        )


def test_pairing_refused_without_consent_or_with_withdrawn_consent(city, director):
    child = make_child(city["CA1"])
    v = make_volunteer(director, city["CA1"])
    with pytest.raises(ServiceError, match="consent"):
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())
    consent = give_consent(child, purpose="referral")  # the wrong purpose does not count
    with pytest.raises(ServiceError, match="consent"):
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())
    consent = give_consent(child)
    consent.withdrawn_on = TODAY()
    consent.save()
    with pytest.raises(ServiceError, match="consent"):
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())


def test_pairing_refused_when_either_side_is_already_paired(city, director):
    c1, c2 = make_child(city["CA1"]), make_child(city["CA1"])
    give_consent(c1), give_consent(c2)
    v1 = make_volunteer(director, city["CA1"])
    v2 = make_volunteer(director, city["CA1"])
    p = services.pairing_start(actor=director, volunteer=v1, child=c1, started_on=TODAY())
    with pytest.raises(ServiceError, match="volunteer is already paired") as exc:
        services.pairing_start(actor=director, volunteer=v1, child=c2, started_on=TODAY())
    assert exc.value.code == "conflict"
    with pytest.raises(ServiceError, match="child is already paired"):
        services.pairing_start(actor=director, volunteer=v2, child=c1, started_on=TODAY())
    # Timeline entry without a name, audit row without a name.
    event = ChildEvent.objects.get(child=c1, kind=ChildEvent.Kind.PAIRING)
    assert event.section == "basic" and str(v1) in event.summary
    assert "王丽华" not in event.summary and c1.name not in event.summary
    audit = AuditLog.objects.get(object_type="care.pairing", object_id=str(p.pk))
    assert audit.area_path == city["CA1"].path
    # After ending, both sides are free again.
    services.pairing_end(actor=director, pairing=p, ended_on=TODAY(), reason="搬家")
    services.pairing_start(actor=director, volunteer=v1, child=c2, started_on=TODAY())
    services.pairing_start(actor=director, volunteer=v2, child=c1, started_on=TODAY())
    assert Pairing.objects.filter(ended_on__isnull=True).count() == 2


def test_pairing_refused_outside_the_volunteers_area_or_the_actors(city, director):
    child = make_child(city["CA2"])
    give_consent(child)
    v = make_volunteer(director, city["CA1"])
    # The CA1 director does not see a CA2 child at all.
    with pytest.raises(ServiceError) as exc:
        services.pairing_start(actor=director, volunteer=v, child=child, started_on=TODAY())
    assert exc.value.code == "not_found"
    supervisor = make_user(Role.SUPERVISOR, city["SA"])
    with pytest.raises(ServiceError, match="volunteer's area"):
        services.pairing_start(actor=supervisor, volunteer=v, child=child, started_on=TODAY())


def test_rotation_ends_and_starts_atomically(city, director):
    child = make_child(city["CA1"])
    give_consent(child)
    v1 = make_volunteer(director, city["CA1"])
    v2 = make_volunteer(director, city["CA1"])
    v3 = make_volunteer(director, city["CA1"], passed=False)
    p1 = services.pairing_start(
        actor=director, volunteer=v1, child=child, started_on=TODAY() - dt.timedelta(days=30)
    )
    # Rotating to a volunteer without a passed check fails and leaves the old pairing active.
    with pytest.raises(ServiceError):
        services.pairing_rotate(actor=director, pairing=p1, volunteer=v3, on=TODAY(), reason="轮换")
    p1.refresh_from_db()
    assert p1.ended_on is None
    p2 = services.pairing_rotate(
        actor=director, pairing=p1, volunteer=v2, on=TODAY(), reason="轮换"
    )
    p1.refresh_from_db()
    assert p1.ended_on == TODAY() and p1.end_reason == "轮换"
    assert p2.volunteer == v2 and p2.child == child and p2.ended_on is None


def test_failed_check_and_deactivation_end_the_pairing(city, director):
    c1, c2 = make_child(city["CA1"]), make_child(city["CA1"])
    give_consent(c1), give_consent(c2)
    v1 = make_volunteer(director, city["CA1"])
    v2 = make_volunteer(director, city["CA1"])
    p1 = services.pairing_start(actor=director, volunteer=v1, child=c1, started_on=TODAY())
    p2 = services.pairing_start(actor=director, volunteer=v2, child=c2, started_on=TODAY())
    services.volunteer_check_record(
        actor=director,
        volunteer=v1,
        state=Volunteer.Check.FAILED,
        checked_on=TODAY(),
        reference="QC-2",
    )
    user = services.volunteer_account_create(
        actor=director, volunteer=v2, username="vol-two", password="pw-Yimi-2026!"
    )
    services.volunteer_deactivate(actor=director, volunteer=v2, reason="退出")
    p1.refresh_from_db(), p2.refresh_from_db(), user.refresh_from_db()
    assert p1.ended_on is not None and p2.ended_on is not None
    assert not user.is_active


def test_account_is_a_volunteer_of_the_volunteers_area(city, director):
    v = make_volunteer(director, city["CA1"])
    user = services.volunteer_account_create(
        actor=director, volunteer=v, username="vol-one", password="pw-Yimi-2026!"
    )
    assert user.role == Role.VOLUNTEER and user.area == city["CA1"]
    assert user.display_name == ""  # the volunteer's name is never stored in the clear
    v.refresh_from_db()
    assert v.user == user
    with pytest.raises(ServiceError):
        services.volunteer_account_create(
            actor=director, volunteer=v, username="vol-again", password=None
        )


def test_log_by_own_volunteer_or_caseworker_only(city, director):
    c1, c2 = make_child(city["CA1"]), make_child(city["CA1"])
    give_consent(c1), give_consent(c2)
    v1, v2 = make_volunteer(director, city["CA1"]), make_volunteer(director, city["CA1"])
    u1 = services.volunteer_account_create(
        actor=director, volunteer=v1, username="v1", password="pw-Yimi-2026!"
    )
    services.volunteer_account_create(
        actor=director, volunteer=v2, username="v2", password="pw-Yimi-2026!"
    )
    p1 = services.pairing_start(actor=director, volunteer=v1, child=c1, started_on=TODAY())
    p2 = services.pairing_start(actor=director, volunteer=v2, child=c2, started_on=TODAY())
    entry = services.volunteer_log_add(
        actor=u1, pairing=p1, date=TODAY(), activity="辅导作业", notes="很认真"
    )
    assert entry.created_by == u1
    with pytest.raises(PermissionDenied):
        services.volunteer_log_add(actor=u1, pairing=p2, date=TODAY(), activity="x")
    services.volunteer_log_add(actor=director, pairing=p2, date=TODAY(), activity="陪伴")
    with pytest.raises(PermissionDenied):
        services.volunteer_log_add(
            actor=make_user(Role.DIRECTOR, city["CA2"]), pairing=p2, date=TODAY(), activity="x"
        )
    with pytest.raises(ServiceError, match="future"):
        services.volunteer_log_add(
            actor=u1, pairing=p1, date=TODAY() + dt.timedelta(days=1), activity="x"
        )
    assert VolunteerLog.objects.count() == 2


def test_name_masks():
    assert selectors.given_name_only("王小明") == "*小明"
    assert selectors.given_name_only("欧阳娜娜") == "**娜娜"
    assert selectors.given_name_only("李") == "*"
    assert selectors.mask_person_name("王丽华") == "王**"
