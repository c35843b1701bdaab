"""Writes of actions: what a department does because children spoke (an adopted suggestion
becomes a public action with milestones, progress and photos). Keyword-only, atomic, audited.

Who may act: administrators, the 妇儿工委办 (wcco) of the area, and the department the action
(or the suggestion) belongs to — each through ``visible_to(user, "change")``, so a department
reaches only its own rows.

Progress: while an action has milestones its progress is derived from them (the share of
milestones done, rounded down to whole per cent); an action without milestones has its
progress set by hand. An action can be marked done only when all its milestones are done; done
means 100 %.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yimi.core.models import AuditLog, Department, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record, snapshot

from ..images import ImageRejected, clean_image
from ..models import Action, ActionPhoto, Adoption, Milestone, Suggestion

# An answer on these steps of the adoption scale can become an action.
ACTIONABLE = frozenset({Adoption.ADOPTED, Adoption.PARTLY, Adoption.PLANNED})
ACTION_ROLES = frozenset({Role.ADMIN, Role.WCCO, Role.DEPARTMENT})
MAX_TITLE = 120
MAX_DESCRIPTION = 4000
MAX_PROJECT = 60
MAX_CAPTION = 120
MAX_NOTE = 2000


def may_work_on_actions(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or getattr(user, "role", None) in ACTION_ROLES)
    )


def _require_role(actor: User | None) -> None:
    if not may_work_on_actions(actor):
        raise PermissionDenied(
            _("Only the Women and Children Working Committee Office or a department may do this.")
        )


def _editable_action(actor: User, action: Action) -> Action:
    _require_role(actor)
    if not Action.objects.visible_to(actor, "change").filter(pk=action.pk).exists():
        raise PermissionDenied(_("This action belongs to another area or department."))
    return action


def _editable_suggestion(actor: User, suggestion: Suggestion) -> Suggestion:
    _require_role(actor)
    if not Suggestion.objects.visible_to(actor, "change").filter(pk=suggestion.pk).exists():
        raise PermissionDenied(_("This suggestion belongs to another area or department."))
    if suggestion.adoption not in ACTIONABLE:
        raise ServiceError(
            _(
                "Only a suggestion answered 采纳, 部分采纳 or 列入计划 can become an action "
                "(this one is not answered that way)."
            ),
            code="not_adopted",
        )
    return suggestion


def _audit(actor: User | None, verb: str, obj, *, before=None, after=None, note: str = ""):
    # Milestones and photos have no area of their own: their action's area scopes the row.
    owner = obj if isinstance(obj, Action) else obj.action
    area_path = owner.area.path if owner.area_id else ""
    audit_record(
        actor=actor,
        action=verb,
        obj=obj,
        before=before,
        after=after,
        note=note,
        area_path=area_path,
    )


def _parse_date(value: Any, field: str, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ServiceError(
            _("%(field)s: please give a date as YYYY-MM-DD.") % {"field": label},
            details=[{"field": field, "message": _("Please give a date as YYYY-MM-DD.")}],
        ) from exc


def _text(value: Any, field: str, label: str, limit: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ServiceError(
            _("%(field)s is required.") % {"field": label},
            details=[{"field": field, "message": _("This is required.")}],
        )
    if len(text) > limit:
        raise ServiceError(
            _("%(field)s is too long (at most %(n)s characters).") % {"field": label, "n": limit},
            details=[{"field": field, "message": _("Too long.")}],
        )
    return text


def _link_check(action: Action, suggestion: Suggestion) -> None:
    if suggestion.department_id and suggestion.department_id != action.department_id:
        raise ServiceError(
            _("This suggestion is assigned to another department than the action's."),
            code="other_department",
        )


@transaction.atomic
def action_create(
    *,
    actor: User,
    suggestion: Suggestion,
    title: str,
    description: str = "",
    due_on: Any = None,
    project_ref: str = "",
    department: Department | None = None,
    is_public: bool = True,
) -> Action:
    """Turn an adopted suggestion into an action of the department it is assigned to (or, for
    a suggestion not yet assigned, of the department the 妇儿工委办 names)."""
    _editable_suggestion(actor, suggestion)
    dept = suggestion.department or department
    if dept is None:
        raise ServiceError(
            _("Please choose the department responsible for the action."),
            details=[{"field": "department", "message": _("This is required.")}],
        )
    if actor.role == Role.DEPARTMENT and not actor.is_superuser and dept.pk != actor.department_id:
        raise PermissionDenied(_("A department may create actions only for itself."))
    action = Action.objects.create(
        title=_text(title, "title", _("Title"), MAX_TITLE, required=True),
        description=_text(description, "description", _("What will change"), MAX_DESCRIPTION),
        due_on=_parse_date(due_on, "due_on", _("Planned completion")),
        project_ref=_text(project_ref, "project_ref", _("民生实事 project"), MAX_PROJECT),
        department=dept,
        area=suggestion.area,
        place=suggestion.place,
        is_public=bool(is_public),
        created_by=actor,
    )
    action.suggestions.add(suggestion)
    after = snapshot(action)
    after["suggestions"] = [suggestion.pk]
    _audit(
        actor, AuditLog.Action.CREATE, action, after=after, note=f"from suggestion #{suggestion.pk}"
    )
    return action


@transaction.atomic
def action_link_suggestion(*, actor: User, action: Action, suggestion: Suggestion) -> Action:
    """Link one more adopted suggestion to an existing action (several children, one change)."""
    _editable_action(actor, action)
    _editable_suggestion(actor, suggestion)
    _link_check(action, suggestion)
    before = sorted(action.suggestions.values_list("pk", flat=True))
    if suggestion.pk in before:
        raise ServiceError(_("This suggestion is already linked to the action."), code="duplicate")
    action.suggestions.add(suggestion)
    action.save(update_fields=["updated_at"])
    _audit(
        actor,
        AuditLog.Action.UPDATE,
        action,
        before={"suggestions": before},
        after={"suggestions": sorted([*before, suggestion.pk])},
        note=f"suggestion #{suggestion.pk} linked",
    )
    return action


def progress_from_milestones(done: int, total: int) -> int:
    """The share of milestones done, in whole per cent rounded down (1 of 3 → 33)."""
    return (100 * done) // total if total else 0


def _derive_progress(action: Action) -> None:
    milestones = list(action.milestones.values_list("done_on", flat=True))
    if milestones:
        action.progress = progress_from_milestones(
            sum(1 for d in milestones if d is not None), len(milestones)
        )
        # A milestone opened again takes a done action back to work; the first one done starts it.
        reopened = action.progress < 100 and action.status == Action.Status.DONE
        started = action.progress > 0 and action.status == Action.Status.PLANNED
        if reopened or started:
            action.status = Action.Status.IN_PROGRESS


@transaction.atomic
def action_update(*, actor: User, action: Action, **fields: Any) -> Action:
    """Change status, progress (only without milestones), planned completion, title, the
    description written for children, the 民生实事 project reference and whether it is public."""
    _editable_action(actor, action)
    action = Action.objects.select_for_update().get(pk=action.pk)
    before = snapshot(action)
    allowed = {"title", "description", "status", "progress", "due_on", "project_ref", "is_public"}
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    has_milestones = action.milestones.exists()
    if "title" in fields:
        action.title = _text(fields["title"], "title", _("Title"), MAX_TITLE, required=True)
    if "description" in fields:
        action.description = _text(
            fields["description"], "description", _("What will change"), MAX_DESCRIPTION
        )
    if "project_ref" in fields:
        action.project_ref = _text(
            fields["project_ref"], "project_ref", _("民生实事 project"), MAX_PROJECT
        )
    if "due_on" in fields:
        action.due_on = _parse_date(fields["due_on"], "due_on", _("Planned completion"))
    if "is_public" in fields:
        action.is_public = bool(fields["is_public"])
    if "progress" in fields and fields["progress"] not in (None, ""):
        try:
            progress = int(fields["progress"])
        except (TypeError, ValueError) as exc:
            raise ServiceError(_("Progress must be a whole number from 0 to 100.")) from exc
        if not 0 <= progress <= 100:
            raise ServiceError(_("Progress must be a whole number from 0 to 100."))
        if has_milestones:
            if progress != action.progress:
                raise ServiceError(
                    _("This action has milestones: its progress follows the milestones done."),
                    code="derived",
                )
        else:
            action.progress = progress
    if "status" in fields and fields["status"]:
        status = fields["status"]
        if status not in Action.Status.values:
            raise ServiceError(_("Unknown status."))
        if status == Action.Status.DONE and action.milestones.filter(done_on__isnull=True).exists():
            raise ServiceError(
                _("Mark every milestone done before marking the action done."), code="open"
            )
        action.status = status
        if status == Action.Status.DONE:
            action.progress = 100
    action.save()
    after = snapshot(action)
    _audit(actor, AuditLog.Action.UPDATE, action, before=before, after=after)
    return action


def _milestone_fields(title: Any, due_on: Any, note: Any) -> dict[str, Any]:
    return {
        "title": _text(title, "title", _("Milestone"), MAX_TITLE, required=True),
        "due_on": _parse_date(due_on, "due_on", _("Due")),
        "note": _text(note, "note", _("Note"), MAX_NOTE),
    }


@transaction.atomic
def milestone_add(
    *, actor: User, action: Action, title: str, due_on: Any = None, note: str = ""
) -> Milestone:
    _editable_action(actor, action)
    fields = _milestone_fields(title, due_on, note)
    order = action.milestones.count()
    milestone = Milestone.objects.create(action=action, order=order, **fields)
    _derive_progress(action)
    action.save()
    _audit(
        actor,
        AuditLog.Action.CREATE,
        milestone,
        after=snapshot(milestone),
        note=f"action #{action.pk}",
    )
    return milestone


@transaction.atomic
def milestone_update(
    *,
    actor: User,
    milestone: Milestone,
    title: Any = None,
    due_on: Any = None,
    note: Any = None,
    done: bool | None = None,
    done_on: Any = None,
) -> Milestone:
    """Edit a milestone; ``done=True`` marks it done (today, or ``done_on``), ``done=False``
    opens it again. The action's progress follows."""
    action = milestone.action
    _editable_action(actor, action)
    before = snapshot(milestone)
    fields = _milestone_fields(
        milestone.title if title is None else title,
        milestone.due_on if due_on is None else due_on,
        milestone.note if note is None else note,
    )
    for key, value in fields.items():
        setattr(milestone, key, value)
    if done is True:
        milestone.done_on = _parse_date(done_on, "done_on", _("Done")) or dt.date.today()
    elif done is False:
        milestone.done_on = None
    milestone.save()
    _derive_progress(action)
    action.save()
    _audit(
        actor,
        AuditLog.Action.UPDATE,
        milestone,
        before=before,
        after=snapshot(milestone),
        note=f"action #{action.pk}; progress {action.progress}%",
    )
    return milestone


def action_photo_add(
    *,
    actor: User,
    action: Action,
    image: bytes,
    caption: str = "",
    taken_on: Any = None,
) -> ActionPhoto:
    """A public photo of what changed: checked and re-encoded by ``clean_image`` (no EXIF, no
    GPS position) before it is stored. Decoding happens outside the transaction."""
    _editable_action(actor, action)
    caption = _text(caption, "caption", _("Caption"), MAX_CAPTION)
    taken = _parse_date(taken_on, "taken_on", _("Taken on"))
    try:
        clean = clean_image(image or b"")
    except ImageRejected as exc:
        raise ServiceError(str(exc), details=[{"field": "image", "message": str(exc)}]) from exc
    with transaction.atomic():
        photo = ActionPhoto.objects.create(
            action=action,
            image=clean.data,
            image_type=clean.content_type,
            caption=caption,
            taken_on=taken,
        )
        Action.objects.filter(pk=action.pk).update(updated_at=photo.created_at)
        _audit(
            actor, AuditLog.Action.CREATE, photo, after=snapshot(photo), note=f"action #{action.pk}"
        )
    return photo


@transaction.atomic
def action_photo_delete(*, actor: User, photo: ActionPhoto) -> None:
    _editable_action(actor, photo.action)
    before = snapshot(photo)
    _audit(actor, AuditLog.Action.DELETE, photo, before=before, note=f"action #{photo.action_id}")
    photo.delete()
