"""Actions: an adopted suggestion becomes an action; permissions and department scoping;
milestones drive the progress; photos are re-encoded without EXIF (read back from the database);
every write is audited."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from yimi.core.models import AuditLog
from yimi.core.services import PermissionDenied, ServiceError
from yimi.voice.models import Action, ActionPhoto
from yimi.voice.services import actions as svc

from .conftest import jpeg_with_gps, png_bytes
from .test_public_support import letter, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def _adopted(w, dept=None, area=None, adoption="adopted"):
    return letter(
        area or w["CA1"],
        published="希望公园里有饮水机。",
        department=dept or w["edu"],
        adoption=adoption,
        reply="我们会装饮水机。",
        answered_days=3,
    )


def test_department_creates_an_action_from_its_adopted_suggestion(w):
    s = _adopted(w)
    a = svc.action_create(
        actor=w["u_edu"],
        suggestion=s,
        title="公园饮水机",
        description="夏天有水喝",
        due_on="2027-06-01",
    )
    assert a.department == w["edu"] and a.area == w["CA1"]
    assert list(a.suggestions.all()) == [s]
    assert str(a.due_on) == "2027-06-01" and a.progress == 0 and a.status == Action.Status.PLANNED
    row = AuditLog.objects.get(object_type="voice.action", action="create")
    assert row.actor == w["u_edu"] and row.after["suggestions"] == [s.pk]
    assert row.area_path == w["CA1"].path


@pytest.mark.parametrize("adoption", ["adopted", "partly", "planned"])
def test_each_actionable_answer_may_become_an_action(w, adoption):
    s = _adopted(w, adoption=adoption)
    assert svc.action_create(actor=w["wcco_a"], suggestion=s, title="行动").pk


def test_not_adopted_or_unanswered_suggestions_cannot(w):
    refused = _adopted(w, adoption="not_now")
    with pytest.raises(ServiceError, match="采纳"):
        svc.action_create(actor=w["wcco_a"], suggestion=refused, title="x")
    waiting = letter(w["CA1"], department=w["edu"])
    with pytest.raises(ServiceError):
        svc.action_create(actor=w["wcco_a"], suggestion=waiting, title="x")
    assert Action.objects.count() == 0


def test_who_may_create(w):
    s = _adopted(w)
    for name in ("u_parks", "wcco_b", "director", "public"):
        with pytest.raises(PermissionDenied):
            svc.action_create(actor=w[name], suggestion=s, title="x")
    # The city's and the district's 妇儿工委办 may.
    assert svc.action_create(actor=w["wcco_city"], suggestion=s, title="a")
    assert svc.action_create(actor=w["wcco_a"], suggestion=s, title="b")


def test_unassigned_suggestion_needs_a_department_named_by_the_wcco(w):
    s = letter(w["CA1"], adoption="adopted", reply="好")
    with pytest.raises(ServiceError, match="department|部门"):
        svc.action_create(actor=w["wcco_a"], suggestion=s, title="x")
    a = svc.action_create(actor=w["wcco_a"], suggestion=s, title="x", department=w["parks"])
    assert a.department == w["parks"]


def test_link_more_suggestions_to_an_action(w):
    s1, s2 = _adopted(w), _adopted(w, area=w["CA2"])
    a = svc.action_create(actor=w["u_edu"], suggestion=s1, title="饮水机")
    svc.action_link_suggestion(actor=w["u_edu"], action=a, suggestion=s2)
    assert set(a.suggestions.values_list("pk", flat=True)) == {s1.pk, s2.pk}
    with pytest.raises(ServiceError):
        svc.action_link_suggestion(actor=w["u_edu"], action=a, suggestion=s2)
    other = _adopted(w, dept=w["parks"])
    with pytest.raises(PermissionDenied):  # another department's suggestion
        svc.action_link_suggestion(actor=w["u_edu"], action=a, suggestion=other)
    with pytest.raises(ServiceError, match="department|部门"):  # the wcco may, but not across
        svc.action_link_suggestion(actor=w["wcco_a"], action=a, suggestion=other)
    audit = AuditLog.objects.filter(object_type="voice.action", action="update").latest("id")
    assert audit.after["suggestions"] == sorted([s1.pk, s2.pk])


def test_department_sees_and_edits_only_its_own_actions(w, client):
    mine = svc.action_create(actor=w["u_edu"], suggestion=_adopted(w), title="我的")
    theirs = svc.action_create(
        actor=w["u_parks"], suggestion=_adopted(w, dept=w["parks"]), title="别人的"
    )
    with pytest.raises(PermissionDenied):
        svc.action_update(actor=w["u_edu"], action=theirs, progress=50)
    with pytest.raises(PermissionDenied):
        svc.milestone_add(actor=w["u_edu"], action=theirs, title="x")
    client.force_login(w["u_edu"])
    page = client.get(reverse("voice:actions")).content.decode()
    assert "我的" in page and "别人的" not in page
    assert client.get(reverse("voice:action-edit", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("voice:action-edit", args=[mine.pk])).status_code == 200
    # The district's 妇儿工委办 sees both; district B's sees neither.
    client.force_login(w["wcco_a"])
    page = client.get(reverse("voice:actions")).content.decode()
    assert "我的" in page and "别人的" in page
    client.force_login(w["wcco_b"])
    assert client.get(reverse("voice:action-edit", args=[mine.pk])).status_code == 404
    client.force_login(w["director"])
    assert client.get(reverse("voice:actions")).status_code == 403


def test_progress_by_hand_without_milestones_then_from_milestones(w):
    a = svc.action_create(actor=w["u_edu"], suggestion=_adopted(w), title="x")
    a = svc.action_update(actor=w["u_edu"], action=a, progress=40, status="in_progress")
    assert a.progress == 40
    with pytest.raises(ServiceError, match="0"):
        svc.action_update(actor=w["u_edu"], action=a, progress=101)
    m1 = svc.milestone_add(actor=w["u_edu"], action=a, title="选址", due_on="2027-01-01")
    svc.milestone_add(actor=w["u_edu"], action=a, title="采购")
    m3 = svc.milestone_add(actor=w["u_edu"], action=a, title="安装")
    a.refresh_from_db()
    assert a.progress == 0  # derived: 0 of 3 done
    svc.milestone_update(actor=w["u_edu"], milestone=m1, done=True)
    a.refresh_from_db()
    assert a.progress == 33 and a.status == Action.Status.IN_PROGRESS
    with pytest.raises(ServiceError):  # set by hand while milestones decide
        svc.action_update(actor=w["u_edu"], action=a, progress=90)
    with pytest.raises(ServiceError):  # not done while milestones are open
        svc.action_update(actor=w["u_edu"], action=a, status="done")
    for m in a.milestones.filter(done_on__isnull=True):
        svc.milestone_update(actor=w["u_edu"], milestone=m, done=True)
    a.refresh_from_db()
    assert a.progress == 100
    a = svc.action_update(actor=w["u_edu"], action=a, status="done")
    assert a.status == "done"
    svc.milestone_update(actor=w["u_edu"], milestone=m3, done=False)
    a.refresh_from_db()
    assert a.progress == 66 and a.status == Action.Status.IN_PROGRESS
    assert (
        AuditLog.objects.filter(object_type="voice.milestone").count() == 3 + 1 + 2 + 1
    )  # added, done, done, opened again


def test_edit_fields_and_bad_input(w):
    a = svc.action_create(actor=w["u_edu"], suggestion=_adopted(w), title="x")
    a = svc.action_update(
        actor=w["u_edu"],
        action=a,
        title="新标题",
        description="给孩子们的话",
        due_on="2027-09-01",
        project_ref="2027年民生实事第12项",
        is_public=False,
    )
    assert (a.title, a.project_ref, a.is_public) == ("新标题", "2027年民生实事第12项", False)
    with pytest.raises(ServiceError, match="YYYY-MM-DD"):
        svc.action_update(actor=w["u_edu"], action=a, due_on="明年")
    with pytest.raises(ServiceError):
        svc.action_update(actor=w["u_edu"], action=a, title="")
    row = AuditLog.objects.filter(object_type="voice.action", action="update").latest("id")
    assert row.before["title"] == "x" and row.after["title"] == "新标题"


def test_photo_is_reencoded_without_exif(w):
    a = svc.action_create(actor=w["u_edu"], suggestion=_adopted(w), title="x")
    raw = jpeg_with_gps()
    assert b"KidPhone" in raw and b"home address" in raw
    photo = svc.action_photo_add(actor=w["u_edu"], action=a, image=raw, caption="装好了")
    stored = bytes(ActionPhoto.objects.get(pk=photo.pk).image)
    assert stored != raw and b"KidPhone" not in stored and b"home address" not in stored
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and len(img.getexif()) == 0 and "exif" not in img.info
    assert photo.image_type == "image/jpeg"
    with pytest.raises(ServiceError):
        svc.action_photo_add(actor=w["u_edu"], action=a, image=b"%PDF-1.4 not a picture")
    row = AuditLog.objects.get(object_type="voice.actionphoto")
    assert "bytes" in row.after["image"] and row.area_path == w["CA1"].path


def test_staff_pages_create_edit_milestone_photo(w, client):
    s = _adopted(w)
    client.force_login(w["u_edu"])
    url = reverse("voice:action-new") + f"?suggestion={s.pk}"
    assert client.get(url).status_code == 200
    r = client.post(url, {"suggestion": s.pk, "title": "饮水机", "is_public": "1"})
    a = Action.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("voice:action-edit", args=[a.pk])
    edit = reverse("voice:action-edit", args=[a.pk])
    r = client.post(edit, {"title": "饮水机", "status": "in_progress", "progress": "20"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.progress == 20 and a.is_public is False  # unticked box
    client.post(reverse("voice:milestone-add", args=[a.pk]), {"title": "选址"})
    m = a.milestones.get()
    client.post(reverse("voice:milestone-edit", args=[a.pk, m.pk]), {"done": "1"})
    a.refresh_from_db()
    assert a.progress == 100
    f = io.BytesIO(png_bytes())
    f.name = "p.png"
    client.post(reverse("voice:photo-add", args=[a.pk]), {"image": f, "caption": "新的"})
    assert a.photos.count() == 1
    page = client.get(edit).content.decode()
    assert "选址" in page and "新的" in page
    # Another department's user cannot reach it; an unadopted suggestion has no page.
    client.force_login(w["u_parks"])
    assert client.get(url).status_code == 404
    assert (
        client.post(reverse("voice:milestone-add", args=[a.pk]), {"title": "x"}).status_code == 404
    )


def test_link_from_the_page(w, client):
    s1, s2 = _adopted(w), _adopted(w)
    a = svc.action_create(actor=w["u_edu"], suggestion=s1, title="饮水机")
    client.force_login(w["u_edu"])
    url = reverse("voice:action-new") + f"?suggestion={s2.pk}"
    assert "饮水机" in client.get(url).content.decode()
    r = client.post(url, {"suggestion": s2.pk, "link": a.pk})
    assert r.status_code == 302 and a.suggestions.count() == 2
