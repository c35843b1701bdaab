"""Core pages: log-in (with lockout), log-out, the audit log browser, JSON 404s for the API."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimi.core.models import AuditLog
from yimi.core.roles import Role
from yimi.core.selectors import audit_list


class YimiLoginView(LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("places:map")


def audit_list_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect(f"/login/?next={request.path}")
    if not (user.is_superuser or user.role in (Role.ADMIN, Role.WCCO)):
        raise PermissionDenied(_("Only administrators may browse the audit log."))
    qs = audit_list(
        user=user,
        object_type=request.GET.get("type") or None,
        actor=request.GET.get("actor") or None,
        action=request.GET.get("action") or None,
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    types = (
        AuditLog.objects.visible_to(user)
        .values_list("object_type", flat=True)
        .distinct()
        .order_by("object_type")
    )
    return render(
        request,
        "core/audit_list.html",
        {"page": page, "types": types, "actions": AuditLog.Action.choices, "q": request.GET},
    )


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": {
                    "status": 404,
                    "code": "not_found",
                    "message": _("Not found."),
                    "details": [],
                }
            },
            status=404,
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": {
                    "status": 500,
                    "code": "server_error",
                    "message": _("Something went wrong on the server."),
                    "details": [],
                }
            },
            status=500,
        )
    return render(request, "500.html", status=500)
