"""Voice pages for everybody (no account): the published suggestions, "what changed because
children spoke" (因为孩子们的建议而改变) with progress, milestones and photos; and for staff:
actions (create from an adopted suggestion, edit, milestones, photos) and the statistics."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimi.core.http import client_ip
from yimi.core.models import Department
from yimi.core.services import ServiceError

from ..images import MAX_BYTES
from ..models import Action, ActionPhoto, Milestone, Topic
from ..selectors import public as selectors
from ..selectors import stats as stats_selectors
from ..services import actions as services
from .mailbox import TOPIC_EMOJI

# A stored picture never changes (a new photo is a new id), but it can be taken down (a letter
# hidden, a photo removed, an action made private): shared caches keep it at most an hour.
IMAGE_MAX_AGE = 3600


def _image_response(data: bytes, content_type: str, *, public: bool) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = (
        f"public, max-age={IMAGE_MAX_AGE}" if public else "private, no-store"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Content-Length"] = str(len(data))
    return response


# ---- public ---------------------------------------------------------------------------------


def suggestions(request: HttpRequest) -> HttpResponse:
    """Published suggestions, filtered by topic and area, 20 to a page."""
    topic = request.GET.get("topic", "")
    area = request.GET.get("area", "")
    data = selectors.published_suggestions(topic=topic, area_id=area, page=request.GET.get("page"))
    return render(
        request,
        "voice/public_suggestions.html",
        {
            "data": data,
            "topics": [(v, label, TOPIC_EMOJI.get(v, "💡")) for v, label in Topic.choices],
            "topic": topic if topic in Topic.values else "",
            "areas": selectors.filter_areas(),
            "area": data["area"].pk if data["area"] else "",
        },
    )


def suggestion_picture(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.published_picture(pk)
    if found is None:
        raise Http404
    data, content_type = found
    return _image_response(data, content_type, public=True)


def changes(request: HttpRequest) -> HttpResponse:
    """因为孩子们的建议而改变: public actions with progress bars, milestones and photos."""
    status = request.GET.get("status", "")
    data = selectors.public_actions(status=status, page=request.GET.get("page"))
    return render(
        request,
        "voice/public_changes.html",
        {"data": data, "status": status, "statuses": Action.Status.choices},
    )


def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = selectors.public_action(pk)
    if action is None:
        raise Http404
    return render(request, "voice/public_change_detail.html", {"action": action})


def action_photo(request: HttpRequest, pk: int) -> HttpResponse:
    photo = selectors.action_photo(pk)
    public = photo is not None
    if photo is None and request.user.is_authenticated:
        photo = selectors.staff_photo(pk, request.user)
    if photo is None:
        raise Http404
    response = _image_response(bytes(photo.image), photo.image_type, public=public)
    response["Last-Modified"] = http_date(photo.created_at.timestamp())
    return response


# ---- staff: actions -------------------------------------------------------------------------


def _require_action_staff(request: HttpRequest) -> None:
    if not services.may_work_on_actions(request.user):
        raise DjangoPermissionDenied(
            _("Only the Women and Children Working Committee Office or a department may do this.")
        )


def _staff_action(request: HttpRequest, pk: int) -> Action:
    _require_action_staff(request)
    return get_object_or_404(selectors.actions_for_staff(request.user), pk=pk)


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    _require_action_staff(request)
    return render(
        request,
        "voice/action_list.html",
        {"actions": selectors.actions_for_staff(request.user)[:200]},
    )


@login_required
def action_new(request: HttpRequest) -> HttpResponse:
    """From an adopted suggestion: a new action, or the suggestion linked to an existing one."""
    _require_action_staff(request)
    suggestion = selectors.actionable_suggestion(
        request.user, request.GET.get("suggestion") or request.POST.get("suggestion")
    )
    if suggestion is None:
        raise Http404(_("No adopted suggestion of yours has this number."))
    departments = (
        []
        if suggestion.department_id
        else list(
            Department.objects.filter(area__path__startswith=request.user.area.path)
            if request.user.area_id
            else Department.objects.all()
        )
    )
    error = ""
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            if request.POST.get("link"):
                action = get_object_or_404(
                    selectors.actions_for_staff(request.user), pk=request.POST.get("link")
                )
                services.action_link_suggestion(
                    actor=request.user, action=action, suggestion=suggestion
                )
                messages.success(request, _("The suggestion is linked to the action."))
            else:
                dept = None
                if not suggestion.department_id and request.POST.get("department", "").isdigit():
                    dept = Department.objects.filter(pk=request.POST["department"]).first()
                action = services.action_create(
                    actor=request.user,
                    suggestion=suggestion,
                    title=request.POST.get("title", ""),
                    description=request.POST.get("description", ""),
                    due_on=request.POST.get("due_on", ""),
                    project_ref=request.POST.get("project_ref", ""),
                    department=dept,
                    is_public=request.POST.get("is_public") in ("1", "on"),
                )
                messages.success(request, _("The action is created."))
            return redirect("voice:action-edit", pk=action.pk)
        except ServiceError as exc:
            error = exc.message
    return render(
        request,
        "voice/action_new.html",
        {
            "suggestion": suggestion,
            "linkable": selectors.linkable_actions(request.user, suggestion),
            "departments": departments,
            "form": form,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = _staff_action(request, pk)
    error = ""
    if request.method == "POST":
        fields = {
            "title": request.POST.get("title", ""),
            "description": request.POST.get("description", ""),
            "status": request.POST.get("status", ""),
            "due_on": request.POST.get("due_on", ""),
            "project_ref": request.POST.get("project_ref", ""),
            "is_public": request.POST.get("is_public") in ("1", "on"),
        }
        if "progress" in request.POST:
            fields["progress"] = request.POST.get("progress", "")
        try:
            services.action_update(actor=request.user, action=action, **fields)
            messages.success(request, _("Saved."))
            return redirect("voice:action-edit", pk=action.pk)
        except ServiceError as exc:
            error = exc.message
    action.refresh_from_db()
    return render(
        request,
        "voice/action_edit.html",
        {
            "action": action,
            "milestones": list(action.milestones.all()),
            "photos": list(action.photos.only("id", "caption", "taken_on", "action_id")),
            "linked": list(action.suggestions.select_related("area").order_by("-created_at")),
            "statuses": Action.Status.choices,
            "has_milestones": action.milestones.exists(),
            "error": error,
            "today": timezone.localdate(),
            "max_mb": MAX_BYTES // (1024 * 1024),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = _staff_action(request, pk)
    try:
        services.milestone_add(
            actor=request.user,
            action=action,
            title=request.POST.get("title", ""),
            due_on=request.POST.get("due_on", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Milestone added."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("voice:action-edit", pk=action.pk)


@login_required
@require_POST
def milestone_edit(request: HttpRequest, pk: int, mid: int) -> HttpResponse:
    action = _staff_action(request, pk)
    milestone = get_object_or_404(Milestone, pk=mid, action=action)
    done = {"1": True, "0": False}.get(request.POST.get("done", ""))
    try:
        services.milestone_update(
            actor=request.user,
            milestone=milestone,
            title=request.POST.get("title"),
            due_on=request.POST.get("due_on"),
            note=request.POST.get("note"),
            done=done,
        )
        messages.success(request, _("Milestone saved."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("voice:action-edit", pk=action.pk)


@login_required
@require_POST
def photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = _staff_action(request, pk)
    upload = request.FILES.get("image")
    try:
        if upload is None or not upload.size:
            raise ServiceError(_("Please choose a photo."))
        if upload.size > MAX_BYTES:
            raise ServiceError(_("The picture is too big. Please use one under 8 MB."))
        services.action_photo_add(
            actor=request.user,
            action=action,
            image=upload.read(),
            caption=request.POST.get("caption", ""),
            taken_on=request.POST.get("taken_on", ""),
        )
        messages.success(request, _("Photo added."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("voice:action-edit", pk=action.pk)


@login_required
@require_POST
def photo_delete(request: HttpRequest, pk: int, photo_id: int) -> HttpResponse:
    action = _staff_action(request, pk)
    photo = get_object_or_404(ActionPhoto, pk=photo_id, action=action)
    try:
        services.action_photo_delete(actor=request.user, photo=photo)
        messages.success(request, _("Photo removed."))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("voice:action-edit", pk=action.pk)


# ---- staff: statistics ----------------------------------------------------------------------


def _require_stats(request: HttpRequest) -> None:
    if not stats_selectors.may_see_stats(request.user):
        raise DjangoPermissionDenied(_("Only staff may see the statistics."))


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    _require_stats(request)
    return render(
        request, "voice/stats.html", {"data": stats_selectors.voice_stats(user=request.user)}
    )


@login_required
def stats_export(request: HttpRequest) -> HttpResponse:
    _require_stats(request)
    body = stats_selectors.stats_export(user=request.user, ip=client_ip(request))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="voice-stats-{stamp}.xlsx"'
    return response


urlpatterns = [
    path("suggestions/", suggestions, name="public-suggestions"),
    path("suggestions/<int:pk>/picture/", suggestion_picture, name="suggestion-picture"),
    path("changes/", changes, name="changes"),
    path("changes/<int:pk>/", change_detail, name="change-detail"),
    path("photos/<int:pk>/", action_photo, name="action-photo"),
    path("staff/actions/", action_list, name="actions"),
    path("staff/actions/new/", action_new, name="action-new"),
    path("staff/actions/<int:pk>/", action_edit, name="action-edit"),
    path("staff/actions/<int:pk>/milestones/", milestone_add, name="milestone-add"),
    path("staff/actions/<int:pk>/milestones/<int:mid>/", milestone_edit, name="milestone-edit"),
    path("staff/actions/<int:pk>/photos/", photo_add, name="photo-add"),
    path("staff/actions/<int:pk>/photos/<int:photo_id>/delete/", photo_delete, name="photo-delete"),
    path("staff/stats/", stats, name="stats"),
    path("staff/stats/export.xlsx", stats_export, name="stats-export"),
]
