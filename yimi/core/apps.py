from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yimi.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Log-ins and failed log-ins are written to the audit log. Django announces them only
        # through these signals, so listening is the one way to see them.
        from django.contrib.auth import signals

        from yimi.core import auth_audit

        signals.user_logged_in.connect(auth_audit.on_login, dispatch_uid="yimi-login")
        signals.user_login_failed.connect(auth_audit.on_login_failed, dispatch_uid="yimi-fail")
        signals.user_logged_out.connect(auth_audit.on_logout, dispatch_uid="yimi-logout")
