"""The work pages: my day per role, visits and the visit form, the worklist; scoping and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from yimi.care import matching
from yimi.care.models import Aspect, Visit, WorklistItem
from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_department, make_user

from .builders_work import make_child, make_policy, today


@pytest.fixture
def city(db):
    return make_city()


@pytest.fixture
def setup(city):
    dept = make_department(city["A"], "civil")
    policy = make_policy(city["A"], dept, name="关爱探访")
    late = make_child(city["CA1"], name="测试童晚", next_visit_due=today() - dt.timedelta(days=4))
    other = make_child(city["CA2"], name="测试童邻", next_visit_due=today() - dt.timedelta(days=4))
    matching.rematch_all()
    return {"dept": dept, "policy": policy, "late": late, "other": other}


def test_home_for_a_director_lists_the_day(client, city, setup):
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    page = client.get(reverse("care:home")).content.decode()
    assert 'data-count="overdue">1<' in page and 'data-count="worklist">1<' in page
    assert "测试童晚" in page and "测试童邻" not in page
    assert reverse("care:visit_new", args=[setup["late"].pk]) in page


def test_home_for_oversight_has_counts_and_no_names(client, city, setup):
    client.force_login(make_user(Role.WCCO, city["A"]))
    page = client.get(reverse("care:home")).content.decode()
    assert "测试童晚" not in page and "测试童邻" not in page
    assert "<strong>2</strong>" in page  # two children, two overdue
    assert client.get(reverse("care:visits")).status_code == 403
    assert client.get(reverse("care:worklist")).status_code == 403


def test_home_refuses_the_public_and_other_roles_get_their_link(client, city, setup):
    client.force_login(make_user(Role.PUBLIC))
    assert client.get(reverse("care:home")).status_code == 403
    client.force_login(make_user(Role.DEPARTMENT, city["A"], setup["dept"]))
    assert "0" in client.get(reverse("care:home")).content.decode()
    client.logout()
    assert client.get(reverse("care:home")).status_code == 302


def test_visit_form_records_a_visit_and_the_child_leaves_the_overdue_list(client, city, setup):
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    child = setup["late"]
    url = reverse("care:visit_new", args=[child.pk])
    page = client.get(url).content.decode()
    assert "测试童晚" in page and page.count('class="card work-aspect') == 8
    assert AuditLog.objects.filter(
        action="read", object_type="care.child", object_id=str(child.pk)
    ).exists()
    data = {"visited_on": today().isoformat(), "kind": "home", "risk_after": ""}
    data.update({f"finding_{a}": "正常" for a in Aspect.values if a != "other"})
    # "other" is missing: refused, nothing written, the error is on the page.
    response = client.post(url, data)
    assert response.status_code == 200 and not Visit.objects.exists()
    assert "has-error" in response.content.decode()
    data.update(
        {
            "finding_other": "无",
            "concern_safety": "on",
            "action_0": "联系学校",
            "due_0": (today() + dt.timedelta(days=3)).isoformat(),
            "next": "/care/",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == "/care/"
    visit = Visit.objects.get()
    assert visit.concerns == ["safety"] and visit.follow_ups[0]["action"] == "联系学校"
    page = client.get(reverse("care:visits")).content.decode()
    assert "测试童晚" not in page.split('id="due"')[0]  # not overdue any more
    assert "联系学校" in page  # the follow-up is due this week
    # An open redirect is refused.
    response = client.post(url, {**data, "next": "https://evil.example/"})
    assert response["Location"] == reverse("care:visits")


def test_visit_form_is_404_outside_the_area_and_403_for_oversight(client, city, setup):
    client.force_login(make_user(Role.DIRECTOR, city["CA1"]))
    assert client.get(reverse("care:visit_new", args=[setup["other"].pk])).status_code == 404
    client.force_login(make_user(Role.DIRECTOR, city["B"]))
    assert client.get(reverse("care:visit_new", args=[setup["late"].pk])).status_code == 404
    client.force_login(make_user(Role.WCCO, city["A"]))
    assert client.get(reverse("care:visit_new", args=[setup["late"].pk])).status_code == 403


def test_supervisor_sees_the_street_grouped_by_community(client, city, setup):
    make_user(Role.DIRECTOR, city["CA2"])
    client.force_login(make_user(Role.SUPERVISOR, city["SA"]))
    page = client.get(reverse("care:visits")).content.decode()
    assert "甲一社区" in page and "甲二社区" in page
    assert "测试童晚" in page and "测试童邻" in page


def test_worklist_page_shows_reasons_and_dismisses(client, city, setup):
    director = make_user(Role.DIRECTOR, city["CA1"])
    client.force_login(director)
    page = client.get(reverse("care:worklist")).content.decode()
    assert "测试童晚" in page and "关爱探访" in page and "类别" in page
    assert "测试童邻" not in page
    item = WorklistItem.objects.get(child=setup["late"], state="open")
    other = WorklistItem.objects.get(child=setup["other"], state="open")
    # Another community's item answers 404; a blank note is refused.
    assert (
        client.post(reverse("care:worklist_dismiss", args=[other.pk]), {"note": "x"}).status_code
        == 404
    )
    client.post(reverse("care:worklist_dismiss", args=[item.pk]), {"note": ""})
    item.refresh_from_db()
    assert item.state == "open"
    client.post(reverse("care:worklist_dismiss", args=[item.pk]), {"note": "监护人拒绝"})
    item.refresh_from_db()
    assert item.state == "dismissed"
    assert "测试童晚" not in client.get(reverse("care:worklist")).content.decode()


def test_care_link_in_the_top_bar(client, city, setup):
    client.force_login(make_user(Role.DIRECTOR, city["CA1"]))
    page = client.get(reverse("care:menu")).content.decode()
    assert f'href="{reverse("care:home")}"' in page
