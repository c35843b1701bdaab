"""The JSON API under /api/v1/: one NinjaAPI, every app's router, one error shape.

Every failure answers ``{"error": {"status": …, "code": …, "message": …, "details": […]}}``.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from yimi.core.services import ServiceError

log = logging.getLogger(__name__)


class ErrorBody(Schema):
    status: int
    code: str
    message: str
    details: list = []


class ErrorSchema(Schema):
    error: ErrorBody


api = NinjaAPI(
    title="Yimi API",
    version="1",
    description="一米 Yimi: child-friendly city platform. Reading public data needs no account; "
    "writing needs a staff role (session log-in with a CSRF token).",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: list | None = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"status": status, "code": code, "message": message, "details": details or []}},
        status=status,
    )


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    details = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body")),
            "message": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    return error_response(request, 422, "invalid", _("The request is not valid."), details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(request, 401, "unauthenticated", _("Please log in."))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        429: "rate_limited",
    }
    return error_response(
        request, exc.status_code, codes.get(exc.status_code, "error"), str(exc.message)
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request, exc):
    return error_response(
        request, 403, "forbidden", str(exc) or _("You do not have permission to do this.")
    )


@api.exception_handler(ServiceError)
def _service_error(request, exc: ServiceError):
    status = {"forbidden": 403, "not_found": 404, "conflict": 409}.get(exc.code, 400)
    return error_response(request, status, exc.code, exc.message, exc.details)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("unexpected API error")
    return error_response(request, 500, "server_error", _("Something went wrong on the server."))


def _register_routers() -> None:
    from yimi.access.api import router as access_router
    from yimi.care.api import router as care_router
    from yimi.core.api import router as core_router
    from yimi.places.api import router as places_router
    from yimi.practices.api import router as practices_router
    from yimi.voice.api import router as voice_router

    api.add_router("/", core_router)
    api.add_router("/", places_router)
    api.add_router("/access", access_router)
    api.add_router("/care", care_router)
    api.add_router("/voice", voice_router)
    api.add_router("/practices", practices_router)


_register_routers()
