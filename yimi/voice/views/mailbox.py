"""Children's mailbox pages under /voice/: the public form (no account), the receipt, the status
lookup by receipt code, and staff entry of paper letters on a child's behalf."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yimi.core.http import client_ip
from yimi.core.models import Area
from yimi.core.services import ServiceError

from .. import ratelimit
from ..images import MAX_BYTES
from ..models import CONSENT_AGE_GROUPS, AgeGroup, Suggestion, Topic
from ..selectors import mailbox as selectors
from ..services.mailbox import receipt_code_display, suggestion_submit
from .community_common import _checked, _place

TOPIC_EMOJI = {
    "play": "🛝",
    "school_way": "🎒",
    "traffic": "🚦",
    "school": "📚",
    "health": "⚽",
    "nature": "🌳",
    "culture": "🎨",
    "community": "🏘️",
    "other": "💡",
}
SESSION_RECEIPT = "voice_receipt"


def _area(value: str) -> Area | None:
    if not value or not value.isdigit():
        return None
    return Area.objects.filter(pk=value).first()


def _too_many(request: HttpRequest, message: str | None = None) -> HttpResponse:
    """The 429 page of the public forms (rate limit reached)."""
    if message is None:
        message = _("You have sent many letters just now. Please wait ten minutes and try again.")
    return render(request, "voice/too_many.html", {"message": message}, status=429)


def _body_too_big(request: HttpRequest) -> bool:
    # Refuse before Django reads the body: the picture plus a generous margin for the fields.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > MAX_BYTES + 256 * 1024


def _too_big(request: HttpRequest) -> HttpResponse:
    msg = _("The picture is too big. Please use one under 8 MB.")
    ctx = _form_context(request, {}, [{"field": "image", "message": msg}], staff=False)
    return render(request, "voice/mailbox.html", ctx, status=413)


def _form_context(request: HttpRequest, data, errors: list[dict], *, staff: bool) -> dict:
    place = _place(data.get("place", ""))
    return {
        "form": data,
        "errors": {e["field"]: e["message"] for e in errors},
        "error_list": [e["message"] for e in errors],
        "topics": [(v, label, TOPIC_EMOJI.get(v, "💡")) for v, label in Topic.choices],
        "age_groups": AgeGroup.choices,
        "consent_groups": sorted(CONSENT_AGE_GROUPS),
        "areas": selectors.area_choices(),
        "place": place,
        "max_mb": MAX_BYTES // (1024 * 1024),
        "staff": staff,
    }


def _submit(request: HttpRequest, *, staff: bool):
    data = request.POST
    upload = request.FILES.get("image")
    image = None
    if upload is not None and upload.size:
        if upload.size > MAX_BYTES:
            msg = _("The picture is too big. Please use one under 8 MB.")
            raise ServiceError(msg, details=[{"field": "image", "message": msg}])
        image = upload.read()
    return suggestion_submit(
        text=data.get("text", ""),
        age_group=data.get("age_group", ""),
        topic=data.get("topic", ""),
        guardian_consent=_checked(data, "guardian_consent"),
        guardian_contact=data.get("guardian_contact", ""),
        place=_place(data.get("place", "")),
        area=_area(data.get("area", "")),
        image=image,
        honeypot=data.get("website", ""),
        actor=request.user if staff else None,
        source=Suggestion.Source.PAPER if staff else Suggestion.Source.ONLINE,
        ip=client_ip(request) if staff else None,
    )


def mailbox(request: HttpRequest) -> HttpResponse:
    """The public form: no account, simple words, big buttons."""
    if request.method == "POST":
        if not ratelimit.hit(request, "submit"):
            return _too_many(request)
        if _body_too_big(request):
            return _too_big(request)
        try:
            suggestion = _submit(request, staff=False)
        except ServiceError as exc:
            ctx = _form_context(
                request,
                request.POST,
                exc.details or [{"field": "", "message": exc.message}],
                staff=False,
            )
            return render(request, "voice/mailbox.html", ctx, status=400)
        request.session[SESSION_RECEIPT] = suggestion.receipt_code
        return redirect("voice:thanks")
    return render(
        request, "voice/mailbox.html", _form_context(request, request.GET, [], staff=False)
    )


def thanks(request: HttpRequest) -> HttpResponse:
    code = request.session.pop(SESSION_RECEIPT, None)
    if not code:
        return redirect("voice:mailbox")
    return render(
        request, "voice/thanks.html", {"code": receipt_code_display(code), "staff": False}
    )


def receipt(request: HttpRequest) -> HttpResponse:
    """Follow a letter by its receipt code."""
    code = request.GET.get("code", "").strip()
    result = None
    if code:
        if not ratelimit.hit(request, "lookup"):
            return _too_many(request)
        result = selectors.receipt_lookup(code)
    return render(
        request,
        "voice/receipt.html",
        {"code": code, "result": result, "asked": bool(code)},
        status=404 if code and result is None else 200,
    )


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_yimi_staff:
        raise DjangoPermissionDenied(_("Only staff may enter paper letters."))


@login_required
def staff_new(request: HttpRequest) -> HttpResponse:
    """Staff type in one paper letter on a child's behalf; the receipt code goes back on paper."""
    _staff_only(request)
    if request.method == "POST":
        try:
            suggestion = _submit(request, staff=True)
        except ServiceError as exc:
            ctx = _form_context(
                request,
                request.POST,
                exc.details or [{"field": "", "message": exc.message}],
                staff=True,
            )
            return render(request, "voice/mailbox.html", ctx, status=400)
        return render(
            request,
            "voice/thanks.html",
            {"code": receipt_code_display(suggestion.receipt_code), "staff": True},
        )
    return render(
        request, "voice/mailbox.html", _form_context(request, request.GET, [], staff=True)
    )
