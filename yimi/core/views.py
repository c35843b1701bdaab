"""Core pages: log-in (with lockout), log-out, the audit log browser, JSON 404s for the API."""

from __future__ import annotations

from django.apps import apps
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
    codes = (
        AuditLog.objects.visible_to(user)
        .values_list("object_type", flat=True)
        .distinct()
        .order_by("object_type")
    )
    types = sorted(((c, object_type_label(c)) for c in codes), key=lambda t: t[1])
    labels = dict(types)
    for entry in page:
        entry.type_label = labels.get(entry.object_type) or object_type_label(entry.object_type)
    return render(
        request,
        "core/audit_list.html",
        {"page": page, "types": types, "actions": AuditLog.Action.choices, "q": request.GET},
    )


def object_type_label(object_type: str) -> str:
    """A readable name for an audit row's object type: the model's verbose name ("儿童档案") for
    "app.model" labels, the type itself for the few rows that are not about a model."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)


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
