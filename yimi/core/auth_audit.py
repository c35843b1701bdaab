"""Audit rows for log-in, failed log-in and log-out."""

from __future__ import annotations

from yimi.core.http import client_ip
from yimi.core.models import AuditLog
from yimi.core.services import audit_record


def on_login(sender, request, user, **kwargs) -> None:
    audit_record(
        actor=user,
        action=AuditLog.Action.LOGIN,
        obj=user,
        area_path=user.area.path if user.area_id else "",
        ip=client_ip(request),
    )


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(
            actor=user,
            action=AuditLog.Action.LOGOUT,
            obj=user,
            area_path=user.area.path if user.area_id else "",
            ip=client_ip(request),
        )


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None,
        action=AuditLog.Action.LOGIN_FAILED,
        object_type="core.user",
        object_repr=username,
        ip=client_ip(request),
    )
