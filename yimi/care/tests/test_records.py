"""Children's records: validation, creation, changes with timeline, masking, scoped lists, the
file by section with read audit, ID reveal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from yimi.care import policy
from yimi.care.identity import validate_id_number
from yimi.care.models import ChildEvent, Document, Section, Status
from yimi.care.selectors import records as selectors
from yimi.care.services import records as services
from yimi.core.models import AuditLog
from yimi.core.services import REDACTED, PermissionDenied, ServiceError

from .builders_records import child, city_with_b, id_number, order_for, people


@pytest.fixture
def city(db):
    return city_with_b()


@pytest.fixture
def who(city):
    return people(city)


def _fields(exc: ServiceError) -> set[str]:
    return {d["field"] for d in exc.details}


# ------------------------------------------------------------------------------ validation


def test_validate_derives_birth_date_and_sex_from_the_id_number(city):
    number = id_number(dt.date(2016, 5, 4), "female")
    data = services.child_validate(
        {
            "name": " 王小红 ",
            "id_number": number.lower(),
            "categories": "留守儿童, orphan",
            "area": city["CA1"].code,
        }
    )
    assert data["birth_date"] == dt.date(2016, 5, 4) and data["sex"] == "female"
    assert data["name"] == "王小红" and data["area"] == city["CA1"]
    assert data["categories"] == ["orphan", "left_behind"]
    assert data["risk_level"] == "low" and data["school_stage"] == "none"


def test_validate_names_every_bad_field(city):
    number = id_number(dt.date(2016, 5, 4), "female")
    bad_check = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ServiceError) as err:
        services.child_validate(
            {
                "name": "",
                "id_number": bad_check,
                "categories": ["nope"],
                "risk_level": "extreme",
                "school_stage": "college",
                "area": city["SA"],
            }
        )
    details = {d["field"]: d["message"] for d in err.value.details}
    assert set(details) == {"name", "id_number", "categories", "risk_level", "school_stage", "area"}
    assert "校验码" in details["id_number"] and "nope" in details["categories"]


def test_validate_refuses_birth_date_or_sex_that_disagree_with_the_id(city):
    number = id_number(dt.date(2016, 5, 4), "female")
    with pytest.raises(ServiceError) as err:
        services.child_validate(
            {
                "name": "甲",
                "id_number": number,
                "birth_date": "2016-05-05",
                "sex": "male",
                "categories": ["orphan"],
                "area": city["CA1"],
            }
        )
    assert _fields(err.value) == {"birth_date", "sex"}
    with pytest.raises(ServiceError) as err:
        services.child_validate({"name": "甲", "categories": ["orphan"], "area": city["CA1"]})
    assert _fields(err.value) == {"birth_date", "sex"}


# ------------------------------------------------------------------------------ create / update


def test_create_numbers_the_file_hashes_and_audits_without_personal_data(city, who):
    a = child(who["director"], city["CA1"])
    b = child(who["director"], city["CA1"], name="测试童乙")
    assert a.file_no == "990001001001-00001" and b.file_no == "990001001001-00002"
    assert a.name_hash and a.id_hash and a.birth_date == validate_id_number(a.id_number).birth_date
    row = AuditLog.objects.get(object_type="care.child", object_id=str(a.pk), action="create")
    assert row.after["name"] == REDACTED and "测试童甲" not in str(row.after)
    assert a.events.get().kind == ChildEvent.Kind.CREATED
    a.refresh_from_db()
    assert a.next_visit_due is not None  # the schedule ran


def test_create_refused_outside_own_area_and_for_other_roles(city, who):
    with pytest.raises(PermissionDenied):
        child(who["director"], city["CB1"])
    for role in ("wcco", "dept_user", "public"):
        with pytest.raises(PermissionDenied):
            child(who[role], city["CA1"])


def test_duplicate_id_number_names_the_file_only_to_who_may_see_it(city, who):
    number = id_number(dt.date(2014, 1, 2), "male")
    a = child(who["director"], city["CA1"], id_number=number)
    with pytest.raises(ServiceError) as err:
        child(who["supervisor"], city["CA2"], id_number=" " + number.replace("1", "１", 1))
    assert err.value.code == "conflict" and a.file_no in err.value.message
    with pytest.raises(ServiceError) as err:
        child(who["director_b"], city["CB1"], id_number=number)
    assert err.value.code == "conflict" and a.file_no not in err.value.message


def test_update_writes_a_timeline_entry_per_field_sensitive_ones_without_values(city, who):
    c = child(who["director"], city["CA1"])
    services.child_update(
        actor=who["director"], child=c, name="测试童丙", risk_level="high", address="新地址 2 号"
    )
    entries = {e.section: e.summary for e in c.events.filter(kind=ChildEvent.Kind.UPDATED)}
    assert len(c.events.filter(kind=ChildEvent.Kind.UPDATED)) == 3
    assert "测试童丙" not in entries[Section.BASIC] or "→" not in entries[Section.BASIC]
    summaries = list(c.events.values_list("summary", flat=True))
    assert any("→" in s and "高" in s for s in summaries)  # risk: old → new
    assert "姓名已修改" in summaries and "地址已修改" in summaries
    assert not any("测试童" in s or "新地址" in s for s in summaries)
    c.refresh_from_db()
    assert c.name == "测试童丙"
    assert selectors.child_list(who["director"], q="测试童丙").get() == c
    assert not selectors.child_list(who["director"], q="测试童甲").exists()


def test_update_refused_for_other_area_and_hidden(city, who):
    c = child(who["director"], city["CA1"])
    with pytest.raises(ServiceError) as err:
        services.child_update(actor=who["director_b"], child=c, risk_level="high")
    assert err.value.code == "not_found"


def test_close_and_reopen(city, who):
    c = child(who["director"], city["CA1"])
    with pytest.raises(ServiceError) as err:
        services.child_close(actor=who["director"], child=c, status="closed", reason="")
    assert _fields(err.value) == {"reason"}
    c = services.child_close(actor=who["director"], child=c, status="transferred", reason="迁出")
    assert c.status == Status.TRANSFERRED and c.closed_on and c.next_visit_due is None
    c = services.child_reopen(actor=who["director"], child=c)
    assert c.status == Status.ACTIVE and c.next_visit_due is not None
    assert c.events.filter(kind=ChildEvent.Kind.STATUS).count() == 2


def test_family_assessment_and_documents(city, who):
    d = who["director"]
    c = child(d, city["CA1"])
    m = services.family_member_add(
        actor=d, child=c, relation="mother", name="测试母", is_guardian=True
    )
    services.family_member_update(actor=d, member=m, situation="away")
    m.refresh_from_db()
    assert m.situation == "away"
    with pytest.raises(ServiceError) as err:
        services.family_member_add(actor=d, child=c, relation="aunt", name="")
    assert _fields(err.value) == {"relation", "name"}
    services.family_member_remove(actor=d, member=m)
    assert not c.family.exists()
    services.assessment_add(actor=d, child=c, risk_level="high", summary="需关注")
    c.refresh_from_db()
    assert c.risk_level == "high"
    doc = services.document_upload(
        actor=d,
        child=c,
        title="低保证明",
        filename="a.pdf",
        content=b"%PDF-1 secret",
        content_type="application/pdf",
    )
    assert Document.objects.get(pk=doc.pk).content == b"%PDF-1 secret"
    with pytest.raises(ServiceError) as err:
        services.document_upload(
            actor=d, child=c, title="big", filename="b", content=b"x" * (Document.MAX_BYTES + 1)
        )
    assert _fields(err.value) == {"file"}
    got = selectors.document_get(d, c, doc.pk)
    assert got.content == b"%PDF-1 secret"
    assert AuditLog.objects.filter(
        action="read", object_id=str(c.pk), note__startswith="document"
    ).exists()
    summaries = " ".join(c.events.values_list("summary", flat=True))
    assert "测试母" not in summaries


# ------------------------------------------------------------------------------ lists


def test_mask_name():
    assert selectors.mask_name("张三") == "张**"
    assert selectors.mask_name("欧阳小明") == "欧**"
    assert selectors.mask_name("") == ""


def test_lists_are_identified_for_caseworkers_and_masked_for_wcco(city, who):
    c = child(who["director"], city["CA1"], name="张小明")
    child(who["director_b"], city["CB1"], name="李小红")
    rows = [selectors.child_row(who["director"], x) for x in selectors.child_list(who["director"])]
    assert [r["name"] for r in rows] == ["张小明"]
    assert rows[0]["id_number"].count("*") == 11 and c.id_number not in str(rows)
    rows = [selectors.child_row(who["wcco"], x) for x in selectors.child_list(who["wcco"])]
    assert [r["name"] for r in rows] == ["张**"] and rows[0]["name_masked"]
    # De-identified users cannot find a child by name or ID number.
    assert not selectors.child_list(who["wcco"], q="张小明").exists()
    assert not selectors.child_list(who["wcco"], q=c.id_number).exists()
    assert selectors.child_list(who["wcco"], q=c.file_no[-5:]).get() == c
    # Caseworkers find by full ID number and exact name, never across districts.
    assert selectors.child_list(who["director"], q=c.id_number.lower()).get() == c
    assert not selectors.child_list(who["director"], q="张小").exists()
    assert not selectors.child_list(who["director"], q="李小红").exists()
    assert not selectors.child_list(who["director_b"], q="张小明").exists()


def test_list_filters(city, who):
    d = who["director"]
    a = child(d, city["CA1"], categories=["orphan"], risk_level="high")
    b = child(
        d,
        city["CA1"],
        name="乙",
        categories=["migrant"],
        risk_level="low",
        id_number="",
        birth_date="2019-02-03",
        sex="女",
    )
    assert b.sex == "female" and not b.id_hash
    assert list(selectors.child_list(d, category="orphan")) == [a]
    assert list(selectors.child_list(d, risk="low")) == [b]
    assert list(selectors.child_list(d, risk="high")) == [a]
    services.child_close(actor=d, child=b, status="closed", reason="成年")
    assert list(selectors.child_list(d, status="closed")) == [b]
    assert list(selectors.child_list(d, area=city["CA2"].code)) == []
    assert list(
        selectors.child_list(d, due="overdue", today=dt.date.today() + dt.timedelta(400))
    ) == [a]


# ------------------------------------------------------------------------------ the file


def test_detail_shows_only_allowed_sections_and_audits_the_read(city, who):
    c = child(who["director"], city["CA1"])
    detail = selectors.child_detail(who["director"], c)
    assert set(detail["sections"]) >= {"basic", "identity", "health", "contact"}
    assert detail["sections"]["basic"]["name"] == "测试童甲"
    assert detail["sections"]["identity"]["id_number"] != c.id_number
    row = AuditLog.objects.filter(action="read", object_id=str(c.pk)).latest("id")
    assert row.actor == who["director"] and set(row.after["sections"]) == set(policy.ALL_SECTIONS)

    # The department sees the child only with a task and an active referral consent, and only
    # the policy's sections.
    with pytest.raises(Http404):
        selectors.child_detail(who["dept_user"], c)
    order_for(c, who["dept"], sections=("health",))
    services.consent_grant(
        actor=who["director"],
        child=c,
        purpose="referral",
        department=who["dept"],
        given_by="测试母",
        relation="mother",
    )
    detail = selectors.child_detail(who["dept_user"], c)
    assert set(detail["sections"]) == {"basic", "health"}
    assert "identity" not in detail["sections"] and "family" not in detail
    assert all(e["section"] in {"basic", "health", "orders"} for e in detail["timeline"])
    row = AuditLog.objects.filter(action="read", object_id=str(c.pk)).latest("id")
    assert row.actor == who["dept_user"] and row.after["sections"] == ["basic", "health", "orders"]

    # The 妇儿工委办: de-identified.
    detail = selectors.child_detail(who["wcco"], c)
    assert detail["child"]["name"] == "测**" and detail["sections"] == {}
    with pytest.raises(Http404):
        selectors.child_detail(who["director_b"], c)


def test_reveal_id_is_audited_and_refused_for_wcco_and_departments(city, who):
    c = child(who["director"], city["CA1"])
    assert selectors.child_reveal_id(who["supervisor"], c) == c.id_number
    row = AuditLog.objects.filter(action="read", object_id=str(c.pk)).latest("id")
    assert row.after == {"sections": ["identity"], "what": "reveal_id"}
    assert row.actor == who["supervisor"]
    with pytest.raises(PermissionDenied):
        selectors.child_reveal_id(who["wcco"], c)
    order_for(c, who["dept"])
    services.consent_grant(
        actor=who["director"],
        child=c,
        purpose="referral",
        department=who["dept"],
        given_by="测试母",
        relation="mother",
    )
    with pytest.raises(PermissionDenied):
        selectors.child_reveal_id(who["dept_user"], c)
    with pytest.raises(Http404):
        selectors.child_reveal_id(who["director_b"], c)
    assert AuditLog.objects.filter(action="read", after__what="reveal_id").count() == 1


def test_volunteer_never_opens_a_file_not_even_the_paired_childs(city, who):
    """The paired child's minimal view is care:my_children; the file shows a full name."""
    from yimi.care.models import Pairing, Volunteer
    from yimi.core.roles import Role
    from yimi.core.tests.factories import make_user

    c = child(who["director"], city["CA1"], notes="家中情况复杂")
    user = make_user(Role.VOLUNTEER, city["CA1"])
    vol = Volunteer.objects.create(
        area=city["CA1"],
        user=user,
        name="志愿者",
        check_state="passed",
        check_valid_until=dt.date(2099, 1, 1),
    )
    Pairing.objects.create(volunteer=vol, child=c, started_on=dt.date(2026, 1, 1))
    assert list(selectors.child_list(user)) == []
    with pytest.raises(Http404):
        selectors.child_get(user, c.pk)
    with pytest.raises(Http404):
        selectors.child_detail(user, c)
    with pytest.raises(PermissionDenied):
        selectors.child_reveal_id(user, c)
