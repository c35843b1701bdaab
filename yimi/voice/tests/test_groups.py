"""Observer groups: consent to the terms, encrypted and masked member data, audited reads, term
ends, activities with suggestions entered through the mailbox, scoping, the public page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError
from yimi.core.tests.factories import make_city, make_department, make_user
from yimi.voice.models import Activity, GroupMember, Suggestion
from yimi.voice.services import groups

pytestmark = pytest.mark.django_db
NAME, GUARDIAN, PHONE = "王小明", "王建国", "13912345678"


@pytest.fixture
def city():
    return make_city()


@pytest.fixture
def director(city):
    return make_user(Role.DIRECTOR, city["CA1"])


@pytest.fixture
def group(city, director):
    return groups.group_create(
        actor=director,
        name="小小观察团",
        area=city["CA1"],
        description="走访社区，提出建议",
        terms="一、自愿参加；二、监护人同意；三、安全第一。",
        terms_version="2026.1",
        term_months=12,
    )


def _add(group, actor, **kw):
    args = {
        "actor": actor,
        "group": group,
        "name": NAME,
        "age_group": "9-12",
        "guardian_name": GUARDIAN,
        "guardian_contact": PHONE,
        "guardian_consent": True,
        "consent_on": timezone.localdate(),
        "terms_version": group.terms_version,
    }
    args.update(kw)
    return groups.member_add(**args)


def test_a_child_joins_only_with_the_guardians_consent_to_the_current_terms(group, director):
    with pytest.raises(ServiceError) as exc:
        _add(group, director, guardian_consent=False)
    assert "监护人" in exc.value.message or "guardian" in exc.value.message
    with pytest.raises(ServiceError):
        _add(group, director, terms_version="2025.1")  # an old version of the terms
    with pytest.raises(ServiceError):
        _add(group, director, consent_on=None)
    with pytest.raises(ServiceError):
        _add(group, director, guardian_contact="")
    assert GroupMember.objects.count() == 0
    m = _add(group, director)
    assert m.terms_version == "2026.1" and m.guardian_consent_on == timezone.localdate()


def test_changed_terms_need_a_new_version(group, director):
    with pytest.raises(ServiceError):
        groups.group_update(
            actor=director,
            group=group,
            name=group.name,
            description="",
            terms=group.terms + "四、新增条款。",
            terms_version=group.terms_version,
            term_months=12,
        )
    groups.group_update(
        actor=director,
        group=group,
        name=group.name,
        description="",
        terms=group.terms + "四、新增条款。",
        terms_version="2026.2",
        term_months=12,
    )
    group.refresh_from_db()
    with pytest.raises(ServiceError):
        _add(group, director, terms_version="2026.1")


def test_names_are_encrypted_at_rest_and_not_in_the_audit_log(group, director):
    m = _add(group, director)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, guardian_name, guardian_contact FROM voice_groupmember WHERE id=%s",
            [m.pk],
        )
        raw = " ".join(str(v) for v in cur.fetchone())
    assert NAME not in raw and GUARDIAN not in raw and PHONE not in raw
    log = " ".join(str(a.after) + str(a.before) for a in AuditLog.objects.all())
    assert NAME not in log and GUARDIAN not in log and PHONE not in log
    assert GroupMember.objects.get(pk=m.pk).name == NAME


def test_term_end_is_start_plus_term_months_and_end_of_membership(group, director):
    m = _add(group, director, consent_on=dt.date(2024, 1, 1), term_start=dt.date(2024, 1, 31))
    assert m.term_end == dt.date(2025, 1, 31)
    assert groups.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert groups.add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    with pytest.raises(ServiceError):
        _add(group, director, consent_on=dt.date(2024, 2, 1), term_start=dt.date(2024, 1, 1))
    groups.member_end(actor=director, member=m, ended_on=dt.date(2024, 6, 1), reason="搬家")
    m.refresh_from_db()
    assert m.status == GroupMember.Status.ENDED and m.term_end == dt.date(2024, 6, 1)
    with pytest.raises(ServiceError):
        groups.member_end(actor=director, member=m)


def test_staff_pages_mask_names_flag_expired_terms_and_reveal_is_audited(client, group, director):
    _add(group, director, consent_on=dt.date(2024, 1, 1), term_start=dt.date(2024, 1, 1))
    current = _add(group, director, name="李小红", guardian_name="李强")
    client.force_login(director)
    page = client.get(reverse("voice:staff-group", args=[group.pk])).content.decode()
    assert "王**" in page and "李**" in page and "139****5678" in page
    assert NAME not in page and GUARDIAN not in page and PHONE not in page
    assert "任期已满" in page and page.count("cb-expired") == 1
    reads_before = AuditLog.objects.filter(action=AuditLog.Action.READ).count()
    detail = client.get(reverse("voice:staff-member", args=[group.pk, current.pk]))
    assert "李小红" not in detail.content.decode()
    shown = client.post(
        reverse("voice:staff-member", args=[group.pk, current.pk]), {"reveal": "1"}
    ).content.decode()
    assert "李小红" in shown and "李强" in shown
    row = AuditLog.objects.filter(
        action=AuditLog.Action.READ, object_type="voice.groupmember"
    ).get()
    assert row.actor == director and row.object_id == str(current.pk)
    assert "李小红" not in str(row.after) + row.note + row.object_repr
    assert AuditLog.objects.filter(action=AuditLog.Action.READ).count() > reads_before


def test_the_member_export_is_masked_and_audited(client, group, director):
    _add(group, director)
    client.force_login(director)
    resp = client.get(reverse("voice:staff-members-export", args=[group.pk]))
    body = resp.content.decode("utf-8")
    assert resp.status_code == 200 and "王**" in body
    assert NAME not in body and GUARDIAN not in body and PHONE not in body
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, object_id=str(group.pk)).exists()


def test_activity_with_attendees_and_a_suggestion_through_the_mailbox(client, group, director):
    m = _add(group, director)
    activity = groups.activity_create(
        actor=director,
        group=group,
        kind=Activity.Kind.SITE_VISIT,
        title="走访地铁站",
        held_on=timezone.localdate(),
        minutes="孩子们看了进站口和扶梯。",
        accompanying_adults="社区儿童主任 1 人、社工 2 人",
        outcomes="建议设置儿童友好接送点",
        attendees=[m],
    )
    s = groups.activity_suggestion_add(
        actor=director,
        activity=activity,
        text="地铁站出口能不能有一个家长等孩子的地方？",
        topic="traffic",
        member=m,
    )
    assert s.source == Suggestion.Source.ACTIVITY and s.activity == activity
    assert s.entered_by == director and s.area == group.area and s.guardian_consent
    whole = groups.activity_suggestion_add(
        actor=director,
        activity=activity,
        text="希望扶梯旁有提示。",
        topic="traffic",
        age_group="9-12",
    )
    assert whole.activity == activity
    client.force_login(director)
    page = client.get(reverse("voice:staff-activity", args=[group.pk, activity.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<tr>") >= 3  # header + two suggestions
    assert "王**" in html and NAME not in html
    resp = client.post(
        reverse("voice:staff-activity", args=[group.pk, activity.pk]),
        {"text": "公园里需要更多长椅。", "topic": "play", "member": str(m.pk)},
    )
    assert resp.status_code == 200
    assert activity.suggestions.count() == 3


def test_only_staff_enter_activity_suggestions_and_only_with_the_activity(city, group, director):
    activity = groups.activity_create(
        actor=director, group=group, kind="training", title="培训", held_on=timezone.localdate()
    )
    from yimi.voice.services.mailbox import suggestion_submit

    with pytest.raises(PermissionDenied):
        suggestion_submit(
            text="x", age_group="15-18", topic="play", source="activity", activity=activity
        )
    with pytest.raises(ServiceError):
        suggestion_submit(
            text="x", age_group="15-18", topic="play", source="activity", actor=director
        )
    other = make_user(Role.DIRECTOR, city["CA2"])
    with pytest.raises(PermissionDenied):
        groups.activity_suggestion_add(actor=other, activity=activity, text="x", topic="play")


def test_area_b_staff_cannot_see_or_edit_area_a_groups(client, city, group, director):
    m = _add(group, director)
    activity = groups.activity_create(
        actor=director, group=group, kind="training", title="培训", held_on=timezone.localdate()
    )
    b_wcco = make_user(Role.WCCO, city["B"])
    client.force_login(b_wcco)
    assert "小小观察团" not in client.get(reverse("voice:staff-groups")).content.decode()
    for url in (
        reverse("voice:staff-group", args=[group.pk]),
        reverse("voice:staff-group-edit", args=[group.pk]),
        reverse("voice:staff-members-export", args=[group.pk]),
        reverse("voice:staff-member", args=[group.pk, m.pk]),
        reverse("voice:staff-activity", args=[group.pk, activity.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("voice:staff-member", args=[group.pk, m.pk]), {"reveal": "1"}
        ).status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        groups.member_reveal(actor=b_wcco, member=m)
    # A sibling community's director does not see it either; the district's wcco does.
    client.force_login(make_user(Role.DIRECTOR, city["CA2"]))
    assert client.get(reverse("voice:staff-group", args=[group.pk])).status_code == 404
    client.force_login(make_user(Role.WCCO, city["A"]))
    assert client.get(reverse("voice:staff-group", args=[group.pk])).status_code == 200
    # Departments and the public have no business here.
    client.force_login(make_user(Role.DEPARTMENT, city["A"], make_department(city["A"])))
    assert client.get(reverse("voice:staff-groups")).status_code == 403


def test_the_public_page_shows_groups_and_outcomes_never_member_names(client, group, director):
    m = _add(group, director)
    groups.activity_create(
        actor=director,
        group=group,
        kind="deliberation",
        title="议事会：公园改造",
        held_on=timezone.localdate(),
        minutes="王小明说：滑梯太旧了。",  # minutes are staff-only
        outcomes="公园管理处同意更换滑梯",
        attendees=[m],
    )
    html = client.get(reverse("voice:groups")).content.decode()
    assert "小小观察团" in html and "公园管理处同意更换滑梯" in html
    assert NAME not in html and "王**" not in html and GUARDIAN not in html
    assert "滑梯太旧了" not in html


def test_a_membership_is_renewed_only_with_a_new_consent(client, group, director):
    old = _add(group, director, consent_on=dt.date(2024, 1, 1), term_start=dt.date(2024, 1, 1))
    current = _add(group, director)
    with pytest.raises(ServiceError):  # months left in the term
        groups.member_renew(
            actor=director,
            member=current,
            guardian_consent=True,
            consent_on=timezone.localdate(),
            terms_version=group.terms_version,
        )
    with pytest.raises(ServiceError):
        groups.member_renew(
            actor=director,
            member=old,
            guardian_consent=False,
            consent_on=timezone.localdate(),
            terms_version=group.terms_version,
        )
    client.force_login(director)
    url = reverse("voice:staff-member", args=[group.pk, old.pk])
    assert 'id="renew"' in client.get(url).content.decode()
    resp = client.post(
        url,
        {
            "renew": "1",
            "guardian_consent": "1",
            "consent_on": timezone.localdate().isoformat(),
            "terms_version": group.terms_version,
        },
    )
    assert resp.status_code == 302
    old.refresh_from_db()
    today = timezone.localdate()
    assert old.term_start == today and old.term_end == groups.add_months(today, 12)
    assert old.guardian_consent_on == today and old.status == GroupMember.Status.ACTIVE
    assert 'id="renew"' not in client.get(url).content.decode()
