"""催办 and 督办 by days late, with a fixed ``today``: idempotent, the department's banner, the
committee office's list, supervision by hand, the command and the task."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from yimi.core.models import AuditLog
from yimi.core.services import ServiceError
from yimi.voice.models import Escalation, Suggestion
from yimi.voice.services import handling as svc

from .test_handling_support import letter, login, world

pytestmark = pytest.mark.django_db
ROUTED = date(2026, 6, 1)  # parks_a: 10 days → due 2026-06-11


def _routed(w, area_key="CA1"):
    s = letter(area=w[area_key])
    svc.suggestion_route(
        actor=w["wcco_a"], suggestion=s, topic="play", department=w["parks_a"], today=ROUTED
    )
    s.refresh_from_db()
    assert s.due_on == date(2026, 6, 11)
    return s


def test_levels_by_days_late():
    w = world()
    s = _routed(w)
    due = s.due_on
    assert svc.suggestions_escalate(today=due).checked == 0  # due today: not late
    s.refresh_from_db()
    assert s.escalation_level == 0
    one = svc.suggestions_escalate(today=due + timedelta(days=1))
    assert (one.reminded, one.supervised) == (1, 0)
    s.refresh_from_db()
    assert s.escalation_level == 1
    # the same day again, and the next days: nothing new until the supervision threshold
    for d in (1, 2, 6):
        again = svc.suggestions_escalate(today=due + timedelta(days=d))
        assert again.reminded == again.supervised == 0
    seven = svc.suggestions_escalate(today=due + timedelta(days=7))
    assert seven.supervised == 1
    s.refresh_from_db()
    assert s.escalation_level == 2
    assert svc.suggestions_escalate(today=due + timedelta(days=30)).checked == 0
    levels = list(Escalation.objects.filter(suggestion=s).values_list("level", "days_overdue"))
    assert levels == [(1, 1), (2, 7)]
    assert all(e.department == w["parks_a"] for e in Escalation.objects.all())
    assert AuditLog.objects.filter(object_id=str(s.pk), note__startswith="督办").count() == 1


def test_late_straight_to_supervision_and_answered_letters_are_left(settings):
    w = world()
    s = _routed(w)
    done = _routed(w)
    svc.suggestion_answer(
        actor=w["dept_parks_a"],
        suggestion=done,
        adoption="adopted",
        public_reply="谢谢你，我们会修好的！",
    )
    settings.YIMI_VOICE_SUPERVISE_DAYS = 3
    out = svc.suggestions_escalate(today=s.due_on + timedelta(days=4))
    assert out.letters == [s.pk] and out.supervised == 1
    assert not Escalation.objects.filter(suggestion=done).exists()


def test_supervision_by_hand_and_what_each_side_sees(client):
    w = world()
    s = _routed(w)
    with pytest.raises(ServiceError):
        svc.suggestion_supervise(actor=w["wcco_a"], suggestion=s, note=" ")
    svc.suggestion_supervise(
        actor=w["wcco_a"], suggestion=s, note="请本周内答复", today=s.due_on + timedelta(days=2)
    )
    s.refresh_from_db()
    assert s.escalation_level == 2
    e = Escalation.objects.get(suggestion=s)
    assert e.actor == w["wcco_a"] and e.days_overdue == 2 and e.level == 2
    login(client, w["dept_parks_a"])
    inbox = client.get("/voice/dept/").content.decode()
    assert 'id="escalations"' in inbox and "请本周内答复" in inbox
    login(client, w["dept_transport_a"])
    assert "请本周内答复" not in client.get("/voice/dept/").content.decode()
    login(client, w["wcco_a"])
    page = client.get("/voice/staff/letters/?view=supervised").content.decode()
    assert f'data-letter="{s.pk}"' in page
    login(client, w["wcco_b"])
    assert (
        f'data-letter="{s.pk}"'
        not in client.get("/voice/staff/letters/?view=supervised").content.decode()
    )


def test_overdue_list_shows_days_late(client):
    w = world()
    s = _routed(w)
    Suggestion.objects.filter(pk=s.pk).update(due_on=date.today() - timedelta(days=3))
    login(client, w["wcco_a"])
    page = client.get("/voice/staff/letters/?view=overdue").content.decode()
    assert f'data-letter="{s.pk}"' in page and "vs-overdue" in page
    login(client, w["dept_parks_a"])
    assert 'class="vs-overdue"' in client.get("/voice/dept/").content.decode()


def test_command_and_task(client):
    w = world()
    s = _routed(w)
    out = StringIO()
    call_command("voice_escalate", today="2026-06-12", stdout=out)
    assert "1 reminded" in out.getvalue()
    call_command("voice_escalate", today="2026-06-12", stdout=out)
    assert Escalation.objects.filter(suggestion=s).count() == 1
    # the page queues the same task (run at once in tests): today is long after the deadline
    login(client, w["wcco_a"])
    r = client.post("/voice/staff/escalate/")
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.escalation_level == 2
    login(client, w["dept_parks_a"])
    assert client.post("/voice/staff/escalate/").status_code == 403
