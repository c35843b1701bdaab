"""Log-in, lockout after repeated failures, audit of log-ins; the admin is in Chinese."""

import pytest
from django.urls import reverse

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.tests.factories import make_city, make_user

pytestmark = pytest.mark.django_db


def test_login_succeeds_and_is_audited(client):
    user = make_user(Role.DIRECTOR, make_city()["CA1"], password="Correct-Horse-9")
    resp = client.post(
        reverse("core:login"), {"username": user.username, "password": "Correct-Horse-9"}
    )
    assert resp.status_code == 302
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN, actor=user).exists()


def test_lockout_after_repeated_failures_even_with_the_right_password(client, settings):
    user = make_user(Role.DIRECTOR, make_city()["CA1"], password="Correct-Horse-9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        resp = client.post(reverse("core:login"), {"username": user.username, "password": "x"})
    assert (
        AuditLog.objects.filter(
            action=AuditLog.Action.LOGIN_FAILED, object_repr=user.username
        ).count()
        >= settings.AXES_FAILURE_LIMIT - 1
    )
    resp = client.post(
        reverse("core:login"), {"username": user.username, "password": "Correct-Horse-9"}
    )
    assert resp.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    other = make_user(Role.DIRECTOR, user.area, password="Other-Horse-9")
    resp = client.post(
        reverse("core:login"), {"username": other.username, "password": "Other-Horse-9"}
    )
    assert resp.status_code == 302


def test_django_admin_speaks_chinese(client):
    resp = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "登录" in resp.content.decode()


def test_logout_is_post_only_and_audited(client):
    user = make_user(Role.DIRECTOR, make_city()["CA1"])
    client.force_login(user)
    assert client.get(reverse("core:logout")).status_code == 405
    assert client.post(reverse("core:logout")).status_code == 302
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGOUT, actor=user).exists()
