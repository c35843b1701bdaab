"""Reads for the public pages and API: published suggestions and the actions that followed.

What the public sees of a suggestion is only what moderation published: the published text
(never the child's own text), the topic, the area's name, the month it was sent, the handling
status, the decision and the public reply; the picture only when a moderator chose to publish
it. Never the age group, the place's coordinates, the receipt code or anything about the child
or the guardian. Actions are public when ``is_public``; the suggestions shown with them are the
published ones only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from yimi.core.models import Area

from ..models import Action, ActionPhoto, Adoption, Milestone, Suggestion, Topic
from ..services.actions import ACTIONABLE, may_work_on_actions

PAGE_SIZE = 20
# Exactly what a published suggestion shows (the public API checks these keys).
SUGGESTION_FIELDS = (
    "id",
    "published_text",
    "topic",
    "area__name",
    "created_at",
    "status",
    "adoption",
    "public_reply",
    "publish_image",
    "image_type",
)


def _published() -> QuerySet[Suggestion]:
    return Suggestion.objects.filter(visibility=Suggestion.Visibility.PUBLISHED)


def _suggestion_row(row: dict[str, Any]) -> dict[str, Any]:
    topic = row["topic"]
    return {
        "id": row["id"],
        "text": row["published_text"],
        "topic": topic,
        "topic_label": str(Topic(topic).label) if topic in Topic.values else "",
        "area": row["area__name"] or "",
        "month": timezone.localtime(row["created_at"]).strftime("%Y-%m"),
        "status": row["status"],
        "status_label": str(Suggestion.Status(row["status"]).label),
        "adoption": row["adoption"],
        "adoption_label": str(Adoption(row["adoption"]).label) if row["adoption"] else "",
        "public_reply": row["public_reply"],
        "has_picture": bool(row["publish_image"] and row["image_type"]),
    }


def published_suggestions(
    *, topic: str = "", area_id: int | str | None = None, page: int | str | None = 1
) -> dict[str, Any]:
    """A page of published suggestions, newest first, filtered by topic and by area (the area
    and everything under it)."""
    qs = _published()
    if topic in Topic.values:
        qs = qs.filter(topic=topic)
    area = None
    if area_id not in (None, "") and str(area_id).isdigit():
        area = Area.objects.filter(pk=area_id).only("pk", "path", "name").first()
        if area is not None:
            qs = qs.filter(area__path__startswith=area.path)
    rows = qs.order_by("-created_at", "-id").values(*SUGGESTION_FIELDS)
    return _page(rows, page, _suggestion_row) | {"area": area}


def _page(qs, page: int | str | None, row: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page of ``qs`` (each item passed through ``row``) with what a pager needs."""
    paginator = Paginator(qs, PAGE_SIZE)
    page_obj = paginator.get_page(page)
    return {
        "items": [row(r) for r in page_obj.object_list],
        "page": page_obj.number,
        "pages": paginator.num_pages,
        "count": paginator.count,
        "has_next": page_obj.has_next(),
        "has_previous": page_obj.has_previous(),
    }


def published_picture(suggestion_id: int) -> tuple[bytes, str] | None:
    """The picture of a published suggestion whose picture moderation chose to publish."""
    row = (
        _published()
        .filter(pk=suggestion_id, publish_image=True)
        .exclude(image_type="")
        .only("image", "image_type")
        .first()
    )
    if row is None or not row.image:
        return None
    return bytes(row.image), row.image_type


def filter_areas() -> list[tuple[int, str]]:
    """Areas that have published suggestions, for the filter (districts, streets, communities)."""
    return list(
        Area.objects.filter(level__gte=Area.Level.DISTRICT, level__lte=Area.Level.COMMUNITY)
        .filter(
            Q(suggestions__visibility=Suggestion.Visibility.PUBLISHED)
            | Q(children__suggestions__visibility=Suggestion.Visibility.PUBLISHED)
            | Q(children__children__suggestions__visibility=Suggestion.Visibility.PUBLISHED)
        )
        .distinct()
        .order_by("path")
        .values_list("pk", "name")[:300]
    )


def _public_actions() -> QuerySet[Action]:
    return Action.objects.filter(is_public=True)


def _photo_rows(action: Action) -> list[dict[str, Any]]:
    return [{"id": p.pk, "caption": p.caption, "taken_on": p.taken_on} for p in action.photos.all()]


def _action_row(action: Action, *, detail: bool) -> dict[str, Any]:
    milestones = list(action.milestones.all())
    row: dict[str, Any] = {
        "id": action.pk,
        "title": action.title,
        "description": action.description,
        "department": action.department.name,
        "area": action.area.name if action.area_id else "",
        "status": action.status,
        "status_label": str(Action.Status(action.status).label),
        "progress": action.progress,
        "due_on": action.due_on,
        "project_ref": action.project_ref,
        "updated_on": action.updated_at.date(),
        "milestones": [
            {"title": m.title, "due_on": m.due_on, "done_on": m.done_on} for m in milestones
        ],
        "photos": _photo_rows(action),
        "suggestion_count": len(action.public_suggestions),
    }
    if detail:
        row["suggestions"] = [
            _suggestion_row({f: getattr_path(s, f) for f in SUGGESTION_FIELDS})
            for s in action.public_suggestions
        ]
    return row


def getattr_path(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part) if obj is not None else None
    return obj


def _with_related(qs: QuerySet[Action]) -> QuerySet[Action]:
    return qs.select_related("department", "area").prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("order", "id")),
        Prefetch(
            "photos",
            queryset=ActionPhoto.objects.only(
                "id", "action_id", "caption", "taken_on", "created_at"
            ),
        ),
        Prefetch(
            "suggestions",
            queryset=_published().select_related("area").order_by("-created_at"),
            to_attr="public_suggestions",
        ),
    )


def public_actions(*, status: str = "", page: int | str | None = 1) -> dict[str, Any]:
    """A page of public actions, the most recently changed first, with their milestones and
    photos; a fixed number of queries whatever the page holds."""
    qs = _public_actions()
    if status in Action.Status.values:
        qs = qs.filter(status=status)
    qs = _with_related(qs.order_by("-updated_at", "-id"))
    return _page(qs, page, lambda a: _action_row(a, detail=False)) | {"totals": _public_totals()}


def _public_totals() -> dict[str, int]:
    totals = _public_actions().aggregate(
        actions=Count("id"),
        done=Count("id", filter=Q(status=Action.Status.DONE)),
        in_progress=Count("id", filter=Q(status=Action.Status.IN_PROGRESS)),
    )
    totals["suggestions"] = (
        _published().filter(actions__is_public=True).values("pk").distinct().count()
    )
    return totals


def public_action(action_id: int) -> dict[str, Any] | None:
    action = _with_related(_public_actions().filter(pk=action_id)).first()
    return None if action is None else _action_row(action, detail=True)


def action_photo(photo_id: int) -> ActionPhoto | None:
    """A photo of a public action (staff of the action's department also see non-public ones
    through :func:`staff_photo`)."""
    return (
        ActionPhoto.objects.filter(pk=photo_id, action__is_public=True)
        .only("image", "image_type", "created_at")
        .first()
    )


def staff_photo(photo_id: int, user) -> ActionPhoto | None:
    if not may_work_on_actions(user):
        return None
    visible = Action.objects.visible_to(user, "change").values("pk")
    return (
        ActionPhoto.objects.filter(pk=photo_id, action__in=visible)
        .only("image", "image_type", "created_at")
        .first()
    )


# ---- staff reads of actions -------------------------------------------------------------------


def actions_for_staff(user) -> QuerySet[Action]:
    """The actions the user may edit: a department only its own, the 妇儿工委办 its area's."""
    if not may_work_on_actions(user):
        return Action.objects.none()
    return (
        Action.objects.visible_to(user, "change")
        .select_related("department", "area")
        .annotate(
            n_suggestions=Count("suggestions", distinct=True),
            n_milestones=Count("milestones", distinct=True),
        )
        .order_by("-updated_at", "-id")
    )


def actionable_suggestion(user, suggestion_id: int | str | None) -> Suggestion | None:
    """An adopted suggestion the user may turn into an action, or None."""
    if not may_work_on_actions(user) or not str(suggestion_id or "").isdigit():
        return None
    return (
        Suggestion.objects.visible_to(user, "change")
        .filter(pk=suggestion_id, adoption__in=ACTIONABLE)
        .select_related("department", "area")
        .first()
    )


def linkable_actions(user, suggestion: Suggestion) -> QuerySet[Action]:
    """Existing actions the suggestion may be linked to (same department when it has one)."""
    qs = actions_for_staff(user).exclude(suggestions=suggestion)
    if suggestion.department_id:
        qs = qs.filter(department_id=suggestion.department_id)
    return qs[:100]
