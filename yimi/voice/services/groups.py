"""Observer groups (观察团): groups, child members with a guardian's consent to the terms, and the
group's activities (site visits, training, deliberations) with the suggestions raised in them.

Who may write: the 妇儿工委办 (wcco), street supervisors and community directors of the group's
area (and administrators). Every service is keyword-only, atomic and writes its own audit row;
the members' names and guardians' data are encrypted and never written to the log."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record, snapshot
from yimi.places.models import Place

from ..models import Activity, AgeGroup, GroupMember, ObserverGroup, Suggestion, Topic
from .mailbox import redacted_snapshot, suggestion_submit

# The staff of an area who run observer groups and co-building (not departments, not experts).
COMMUNITY_ROLES = frozenset({Role.ADMIN, Role.WCCO, Role.SUPERVISOR, Role.DIRECTOR})
MAX_NAME = 60
MAX_CONTACT = 100


def can_manage_area(user: User | None, area: Area | None) -> bool:
    """True for community staff whose area contains ``area`` (administrators everywhere)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role not in COMMUNITY_ROLES or user.area_id is None or area is None:
        return False
    return area.path.startswith(user.area.path)


def require_area(user: User | None, area: Area | None) -> None:
    if not can_manage_area(user, area):
        raise PermissionDenied(_("You may not manage observer groups or co-building in this area."))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (31 January + 1 month = 28/29 February)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _clean_text(value: str | None, *, limit: int | None = None) -> str:
    value = (value or "").strip()
    return value[:limit] if limit else value


# Groups ----------------------------------------------------------------------------------------


def _check_group(name: str, term_months: int, terms_version: str) -> None:
    if not name:
        raise ServiceError(_("Please give the group a name."))
    if len(name) > 100:
        raise ServiceError(_("The name is too long (at most 100 characters)."))
    if not 1 <= int(term_months) <= 60:
        raise ServiceError(_("The term of membership must be 1 to 60 months."))
    if not terms_version or len(terms_version) > 40:
        raise ServiceError(_("Please give the version of the terms (at most 40 characters)."))


@transaction.atomic
def group_create(
    *,
    actor: User,
    name: str,
    area: Area,
    description: str = "",
    terms: str = "",
    terms_version: str = "1",
    term_months: int = 12,
    ip: str | None = None,
) -> ObserverGroup:
    require_area(actor, area)
    name, terms_version = _clean_text(name), _clean_text(terms_version)
    _check_group(name, term_months, terms_version)
    group = ObserverGroup.objects.create(
        name=name,
        area=area,
        description=_clean_text(description),
        terms=_clean_text(terms),
        terms_version=terms_version,
        term_months=int(term_months),
    )
    audit_record(
        actor=actor, action=AuditLog.Action.CREATE, obj=group, after=snapshot(group), ip=ip
    )
    return group


@transaction.atomic
def group_update(
    *,
    actor: User,
    group: ObserverGroup,
    name: str,
    description: str,
    terms: str,
    terms_version: str,
    term_months: int,
    is_active: bool = True,
    ip: str | None = None,
) -> ObserverGroup:
    """Edit a group. New terms need a new version: members keep the version they agreed to."""
    group = ObserverGroup.objects.select_for_update().get(pk=group.pk)
    require_area(actor, group.area)
    before = snapshot(group)
    name, terms_version, terms = (
        _clean_text(name),
        _clean_text(terms_version),
        _clean_text(terms),
    )
    _check_group(name, term_months, terms_version)
    if terms != group.terms and terms_version == group.terms_version:
        raise ServiceError(_("The terms changed: please give them a new version."))
    group.name, group.description, group.terms = name, _clean_text(description), terms
    group.terms_version, group.term_months, group.is_active = (
        terms_version,
        int(term_months),
        bool(is_active),
    )
    group.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=group,
        before=before,
        after=snapshot(group),
        ip=ip,
    )
    return group


# Members ---------------------------------------------------------------------------------------


@transaction.atomic
def member_add(
    *,
    actor: User,
    group: ObserverGroup,
    name: str,
    age_group: str,
    guardian_name: str,
    guardian_contact: str,
    guardian_consent: bool,
    consent_on: dt.date | None,
    terms_version: str,
    term_start: dt.date | None = None,
    ip: str | None = None,
) -> GroupMember:
    """Add a child, only with a guardian's consent to the group's current terms (章程)."""
    require_area(actor, group.area)
    name, guardian_name = _clean_text(name), _clean_text(guardian_name)
    guardian_contact, terms_version = _clean_text(guardian_contact), _clean_text(terms_version)
    errors: list[dict[str, str]] = []
    if not group.is_active:
        errors.append({"field": "", "message": _("This group is no longer active.")})
    if not name:
        errors.append({"field": "name", "message": _("Please give the child's name.")})
    elif len(name) > MAX_NAME:
        errors.append({"field": "name", "message": _("The name is too long.")})
    if age_group not in AgeGroup.values:
        errors.append({"field": "age_group", "message": _("Please choose the age group.")})
    if not guardian_name:
        errors.append({"field": "guardian_name", "message": _("Please give the guardian's name.")})
    elif len(guardian_name) > MAX_NAME:
        errors.append({"field": "guardian_name", "message": _("The name is too long.")})
    if not guardian_contact:
        errors.append(
            {"field": "guardian_contact", "message": _("Please give the guardian's contact.")}
        )
    elif len(guardian_contact) > MAX_CONTACT:
        errors.append({"field": "guardian_contact", "message": _("The contact is too long.")})
    if not guardian_consent:
        errors.append(
            {
                "field": "guardian_consent",
                "message": _("A child joins only with the guardian's consent to the terms."),
            }
        )
    today = timezone.localdate()
    if consent_on is None:
        errors.append(
            {"field": "consent_on", "message": _("Please give the date the guardian consented.")}
        )
    elif consent_on > today:
        errors.append(
            {"field": "consent_on", "message": _("The date of consent cannot be in the future.")}
        )
    if terms_version != group.terms_version:
        errors.append(
            {
                "field": "terms_version",
                "message": _("The guardian must consent to the current terms (version %(v)s).")
                % {"v": group.terms_version},
            }
        )
    start = term_start or today
    if consent_on is not None and start < consent_on:
        errors.append(
            {"field": "term_start", "message": _("The term cannot start before the consent.")}
        )
    if errors:
        raise ServiceError(errors[0]["message"], details=errors)
    member = GroupMember.objects.create(
        group=group,
        name=name,
        age_group=age_group,
        guardian_name=guardian_name,
        guardian_contact=guardian_contact,
        guardian_consent_on=consent_on,
        terms_version=terms_version,
        term_start=start,
        term_end=add_months(start, group.term_months),
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=member,
        object_repr=f"{group.name} · #{member.pk}",
        after=redacted_snapshot(member),
        area_path=group.area.path,
        ip=ip,
    )
    return member


@transaction.atomic
def member_end(
    *,
    actor: User,
    member: GroupMember,
    ended_on: dt.date | None = None,
    reason: str = "",
    ip: str | None = None,
) -> GroupMember:
    """End a membership before (or at) its term's end; the record stays for the activities."""
    member = GroupMember.objects.select_for_update().select_related("group__area").get(pk=member.pk)
    require_area(actor, member.group.area)
    if member.status == GroupMember.Status.ENDED:
        raise ServiceError(_("This membership has already ended."))
    ended_on = ended_on or timezone.localdate()
    if ended_on < member.term_start:
        raise ServiceError(_("A membership cannot end before its term starts."))
    before = redacted_snapshot(member)
    member.status = GroupMember.Status.ENDED
    member.term_end = min(member.term_end, ended_on)
    member.save(update_fields=["status", "term_end"])
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=member,
        object_repr=f"{member.group.name} · #{member.pk}",
        before=before,
        after=redacted_snapshot(member),
        note=_clean_text(reason, limit=500) or "membership ended",
        area_path=member.group.area.path,
        ip=ip,
    )
    return member


@transaction.atomic
def member_renew(
    *,
    actor: User,
    member: GroupMember,
    guardian_consent: bool,
    consent_on: dt.date | None,
    terms_version: str,
    ip: str | None = None,
) -> GroupMember:
    """A new term for a member whose term ended (or is about to): again only with the
    guardian's consent to the current terms. The new term starts when the old one ends (or
    today, if later) and lasts the group's term length."""
    member = GroupMember.objects.select_for_update().select_related("group__area").get(pk=member.pk)
    group = member.group
    require_area(actor, group.area)
    today = timezone.localdate()
    if not group.is_active:
        raise ServiceError(_("This group is no longer active."))
    if not guardian_consent:
        raise ServiceError(_("A child joins only with the guardian's consent to the terms."))
    if consent_on is None or consent_on > today:
        raise ServiceError(_("Please give the date the guardian consented."))
    if (terms_version or "").strip() != group.terms_version:
        raise ServiceError(
            _("The guardian must consent to the current terms (version %(v)s).")
            % {"v": group.terms_version}
        )
    if member.status == GroupMember.Status.ACTIVE and member.term_end > add_months(today, 1):
        raise ServiceError(_("The term is renewed in its last month or after it ends."))
    before = redacted_snapshot(member)
    start = max(member.term_end, today) if member.status == GroupMember.Status.ACTIVE else today
    member.term_start, member.term_end = start, add_months(start, group.term_months)
    member.guardian_consent_on, member.terms_version = consent_on, group.terms_version
    member.status = GroupMember.Status.ACTIVE
    member.save(
        update_fields=["term_start", "term_end", "guardian_consent_on", "terms_version", "status"]
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=member,
        object_repr=f"{group.name} · #{member.pk}",
        before=before,
        after=redacted_snapshot(member),
        note="membership renewed with the guardian's consent",
        area_path=group.area.path,
        ip=ip,
    )
    return member


@transaction.atomic
def member_reveal(*, actor: User, member: GroupMember, ip: str | None = None) -> dict[str, str]:
    """The member's full name and guardian's data, for one staff member, recorded as a read."""
    require_area(actor, member.group.area)
    audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        obj=member,
        object_repr=f"{member.group.name} · #{member.pk}",
        after={"fields": ["name", "guardian_name", "guardian_contact"]},
        note="observer group member: full name and guardian shown",
        area_path=member.group.area.path,
        ip=ip,
    )
    return {
        "name": member.name,
        "guardian_name": member.guardian_name,
        "guardian_contact": member.guardian_contact,
    }


def audit_member_list(
    *, actor: User, group: ObserverGroup, count: int, export: bool = False, ip: str | None = None
) -> None:
    """A (masked) member list shown or exported: who looked at which group's members."""
    audit_record(
        actor=actor,
        action=AuditLog.Action.EXPORT if export else AuditLog.Action.READ,
        obj=group,
        after={"members": count, "masked": True},
        note="observer group member list (masked)" + (" exported" if export else ""),
        ip=ip,
    )


# Activities ------------------------------------------------------------------------------------


def _activity_fields(
    group: ObserverGroup,
    *,
    kind: str,
    title: str,
    held_on: dt.date | None,
    place: Place | None,
    minutes: str,
    accompanying_adults: str,
    outcomes: str,
    attendees: list[GroupMember],
) -> dict[str, Any]:
    errors = []
    title = _clean_text(title)
    if kind not in Activity.Kind.values:
        errors.append({"field": "kind", "message": _("Please choose the kind of activity.")})
    if not title:
        errors.append({"field": "title", "message": _("Please give the activity a title.")})
    elif len(title) > 120:
        errors.append({"field": "title", "message": _("The title is too long.")})
    if held_on is None:
        errors.append({"field": "held_on", "message": _("Please give the date.")})
    if any(m.group_id != group.pk for m in attendees):
        errors.append(
            {"field": "attendees", "message": _("Attendees must be members of the group.")}
        )
    if errors:
        raise ServiceError(errors[0]["message"], details=errors)
    return {
        "kind": kind,
        "title": title,
        "held_on": held_on,
        "place": place,
        "minutes": _clean_text(minutes),
        "accompanying_adults": _clean_text(accompanying_adults),
        "outcomes": _clean_text(outcomes),
    }


@transaction.atomic
def activity_create(
    *,
    actor: User,
    group: ObserverGroup,
    kind: str,
    title: str,
    held_on: dt.date | None,
    place: Place | None = None,
    minutes: str = "",
    accompanying_adults: str = "",
    outcomes: str = "",
    attendees: list[GroupMember] | None = None,
    ip: str | None = None,
) -> Activity:
    require_area(actor, group.area)
    attendees = list(attendees or [])
    fields = _activity_fields(
        group,
        kind=kind,
        title=title,
        held_on=held_on,
        place=place,
        minutes=minutes,
        accompanying_adults=accompanying_adults,
        outcomes=outcomes,
        attendees=attendees,
    )
    activity = Activity.objects.create(group=group, **fields)
    activity.attendees.set(attendees)
    after = snapshot(activity) | {"attendees": sorted(m.pk for m in attendees)}
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        obj=activity,
        after=after,
        area_path=group.area.path,
        ip=ip,
    )
    return activity


@transaction.atomic
def activity_update(
    *,
    actor: User,
    activity: Activity,
    kind: str,
    title: str,
    held_on: dt.date | None,
    place: Place | None = None,
    minutes: str = "",
    accompanying_adults: str = "",
    outcomes: str = "",
    attendees: list[GroupMember] | None = None,
    ip: str | None = None,
) -> Activity:
    activity = (
        Activity.objects.select_for_update().select_related("group__area").get(pk=activity.pk)
    )
    group = activity.group
    require_area(actor, group.area)
    attendees = list(attendees or [])
    before = snapshot(activity) | {
        "attendees": sorted(activity.attendees.values_list("pk", flat=True))
    }
    fields = _activity_fields(
        group,
        kind=kind,
        title=title,
        held_on=held_on,
        place=place,
        minutes=minutes,
        accompanying_adults=accompanying_adults,
        outcomes=outcomes,
        attendees=attendees,
    )
    for key, value in fields.items():
        setattr(activity, key, value)
    activity.save()
    activity.attendees.set(attendees)
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=activity,
        before=before,
        after=snapshot(activity) | {"attendees": sorted(m.pk for m in attendees)},
        area_path=group.area.path,
        ip=ip,
    )
    return activity


def activity_suggestion_add(
    *,
    actor: User,
    activity: Activity,
    text: str,
    topic: str,
    member: GroupMember | None = None,
    age_group: str = "",
    ip: str | None = None,
) -> Suggestion:
    """A suggestion raised in an activity, entered by staff through the mailbox service.

    It is about the activity's place (or the group's area). Raised by one member, it carries
    that member's age group and guardian's contact; raised by the group as a whole, the staff
    member who enters it is the contact. The guardians consented to the terms, which include
    taking part in activities and raising suggestions."""
    require_area(actor, activity.group.area)
    if member is not None:
        if member.group_id != activity.group_id:
            raise ServiceError(_("The child must be a member of the group."))
        age_group, contact = member.age_group, member.guardian_contact
    else:
        contact = f"{activity.group.name} · {actor.get_username()}"
    if topic not in Topic.values:
        raise ServiceError(_("Please choose what it is about."))
    return suggestion_submit(
        text=text,
        age_group=age_group,
        topic=topic,
        guardian_consent=True,
        guardian_contact=contact,
        place=activity.place,
        area=None if activity.place else activity.group.area,
        actor=actor,
        source=Suggestion.Source.ACTIVITY,
        activity=activity,
        ip=ip,
    )
