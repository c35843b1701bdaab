"""Reads for observer groups and co-building: staff lists scoped by area (names masked), and the
public views (groups' activity outcomes, the alliance, events) with nothing personal in them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from yimi.care.masking import mask_name, mask_phone
from yimi.core.models import Area, User
from yimi.places.models import Place

from ..models import (
    Activity,
    AllianceMember,
    Event,
    GroupMember,
    ObserverGroup,
    Registration,
    ServiceItem,
    Suggestion,
)
from ..services import groups
from ..services.cobuilding import HOLDING, code_display, places_taken
from ..services.groups import can_manage_area

# Staff views use a non-"view" action: public rows of other areas are not theirs to manage.
MANAGE = "manage"


def _held() -> Coalesce:
    return Coalesce(
        Sum("registrations__children", filter=Q(registrations__status__in=HOLDING)),
        Value(0),
        output_field=IntegerField(),
    )


# Scoping ---------------------------------------------------------------------------------------


def groups_for(user: User) -> QuerySet[ObserverGroup]:
    return (
        ObserverGroup.objects.visible_to(user, MANAGE)
        .select_related("area")
        .annotate(
            n_active=Count(
                "members", filter=Q(members__status=GroupMember.Status.ACTIVE), distinct=True
            ),
            n_activities=Count("activities", distinct=True),
        )
    )


def group_get(user: User, pk: int) -> ObserverGroup:
    group = ObserverGroup.objects.visible_to(user, MANAGE).select_related("area").filter(pk=pk)
    group = group.first()
    if group is None or not can_manage_area(user, group.area):
        raise Http404
    return group


def member_get(user: User, group: ObserverGroup, pk: int) -> GroupMember:
    member = GroupMember.objects.filter(group=group, pk=pk).select_related("group__area").first()
    if member is None:
        raise Http404
    return member


def activity_get(user: User, group: ObserverGroup, pk: int) -> Activity:
    activity = (
        Activity.objects.filter(group=group, pk=pk).select_related("group__area", "place").first()
    )
    if activity is None:
        raise Http404
    return activity


def alliance_for(user: User) -> QuerySet[AllianceMember]:
    return (
        AllianceMember.objects.visible_to(user, MANAGE)
        .select_related("area")
        .annotate(n_services=Count("services", filter=Q(services__is_active=True)))
    )


def alliance_member_get(user: User, pk: int) -> AllianceMember:
    member = AllianceMember.objects.visible_to(user, MANAGE).filter(pk=pk).first()
    if member is None or not can_manage_area(user, member.area):
        raise Http404
    return member


def service_item_get(user: User, pk: int) -> ServiceItem:
    item = ServiceItem.objects.filter(pk=pk).select_related("member__area", "place").first()
    if item is None or not can_manage_area(user, item.member.area):
        raise Http404
    return item


def events_for(user: User) -> QuerySet[Event]:
    return (
        Event.objects.visible_to(user, MANAGE)
        .select_related("area", "place", "organiser")
        .annotate(taken=_held())
    )


def event_get(user: User, pk: int) -> Event:
    event = Event.objects.visible_to(user, MANAGE).select_related("area", "place").filter(pk=pk)
    event = event.first()
    if event is None or not can_manage_area(user, event.area):
        raise Http404
    return event


def registration_get(user: User, event: Event, pk: int) -> Registration:
    registration = Registration.objects.filter(event=event, pk=pk).first()
    if registration is None:
        raise Http404
    return registration


# Members ---------------------------------------------------------------------------------------


@dataclass
class MemberRow:
    pk: int
    name: str  # masked
    guardian_name: str  # masked
    guardian_contact: str  # masked
    age_group: str
    consent_on: object
    terms_version: str
    term_start: object
    term_end: object
    status: str
    status_label: str
    expired: bool
    renewable: bool = False  # in the term's last month


def member_rows(group: ObserverGroup) -> list[MemberRow]:
    """The members with names and contacts masked (王**, 138****5678); expired terms flagged."""
    today = timezone.localdate()
    rows = []
    for m in group.members.order_by("status", "term_end", "id"):
        rows.append(
            MemberRow(
                pk=m.pk,
                name=mask_name(m.name),
                guardian_name=mask_name(m.guardian_name),
                guardian_contact=mask_phone(m.guardian_contact),
                age_group=m.get_age_group_display(),
                consent_on=m.guardian_consent_on,
                terms_version=m.terms_version,
                term_start=m.term_start,
                term_end=m.term_end,
                status=m.status,
                status_label=m.get_status_display(),
                expired=m.status == GroupMember.Status.ACTIVE and m.term_end < today,
                renewable=m.status == GroupMember.Status.ACTIVE
                and m.term_end <= groups.add_months(today, 1),
            )
        )
    return rows


def member_choices(group: ObserverGroup, *, include: set[int] | None = None) -> list[tuple]:
    """Active members (and any already chosen) as (pk, masked name, age group) for forms."""
    include = include or set()
    today = timezone.localdate()
    out = []
    for m in group.members.order_by("id"):
        current = m.status == GroupMember.Status.ACTIVE and m.term_end >= today
        if current or m.pk in include:
            out.append((m.pk, f"{mask_name(m.name)} · #{m.pk}", m.get_age_group_display()))
    return out


def place_choices(area: Area, *, limit: int = 400) -> list[Place]:
    """Places in the area (and current choices) for a simple picker, by name."""
    return list(
        Place.objects.exclude(verification=Place.Verification.RETIRED)
        .filter(area__path__startswith=area.path)
        .order_by("name")
        .only("id", "name", "lon", "lat")[:limit]
    )


def activity_suggestions(activity: Activity) -> list[dict]:
    """The suggestions raised in an activity with where each is (handling and publication)."""
    rows = []
    for s in activity.suggestions.select_related("department").order_by("created_at"):
        rows.append(
            {
                "pk": s.pk,
                "topic": s.get_topic_display(),
                "status": s.status,
                "status_label": s.get_status_display(),
                "visibility_label": s.get_visibility_display(),
                "department": s.department.name if s.department else "",
                "adoption": s.get_adoption_display() if s.adoption else "",
                "published_text": s.published_text
                if s.visibility == Suggestion.Visibility.PUBLISHED
                else "",
                "created_at": s.created_at,
            }
        )
    return rows


# Participation ---------------------------------------------------------------------------------


@dataclass
class Participation:
    families: int
    registered: int  # children in registrations that hold places
    checked_in: int  # children checked in
    walk_ins: int
    capacity: int
    # Children registered for events that have started: the base of the attendance rate (an
    # event still to come has had no chance to be attended).
    registered_started: int = 0

    @property
    def participants(self) -> int:
        return self.checked_in + self.walk_ins

    @property
    def attendance_rate(self) -> float | None:
        """Checked-in children per child registered for an event that has started (None when
        there is none)."""
        if not self.registered_started:
            return None
        return self.checked_in / self.registered_started

    @property
    def attendance_percent(self) -> str:
        rate = self.attendance_rate
        return "—" if rate is None else f"{rate * 100:.0f}%"


def participation(events) -> Participation:
    """Counts over one event or many (a queryset or list of events)."""
    if isinstance(events, Event):
        events = [events]
    ids = [e.pk for e in events]
    regs = Registration.objects.filter(event_id__in=ids)
    agg = regs.aggregate(
        families=Count("id", filter=Q(status__in=HOLDING)),
        registered=Sum("children", filter=Q(status__in=HOLDING)),
        checked_in=Sum("children", filter=Q(status=Registration.Status.CHECKED_IN)),
        started=Sum("children", filter=Q(status__in=HOLDING, event__starts_at__lte=timezone.now())),
    )
    ev = Event.objects.filter(pk__in=ids).aggregate(w=Sum("walk_ins"), c=Sum("capacity"))
    return Participation(
        families=agg["families"] or 0,
        registered=agg["registered"] or 0,
        checked_in=agg["checked_in"] or 0,
        walk_ins=ev["w"] or 0,
        capacity=ev["c"] or 0,
        registered_started=agg["started"] or 0,
    )


def registration_rows(event: Event) -> list[dict]:
    """The event's registrations for staff, names and contacts masked."""
    return [
        {
            "pk": r.pk,
            "guardian_name": mask_name(r.guardian_name),
            "guardian_contact": mask_phone(r.guardian_contact),
            "children": r.children,
            "age_group": r.get_age_group_display(),
            "code": code_display(r.code),
            "status": r.status,
            "status_label": r.get_status_display(),
            "checked_in_at": r.checked_in_at,
            "created_at": r.created_at,
        }
        for r in event.registrations.order_by("created_at", "id")
    ]


# Public ----------------------------------------------------------------------------------------


def public_groups() -> list[dict]:
    """Active groups with their activities' outcomes: no member is named, only counted."""
    groups = (
        ObserverGroup.objects.filter(is_active=True)
        .select_related("area")
        .annotate(n_members=Count("members", filter=Q(members__status=GroupMember.Status.ACTIVE)))
        .prefetch_related(
            Prefetch(
                "activities",
                queryset=Activity.objects.select_related("place")
                .annotate(
                    n_att=Count("attendees", distinct=True),
                    n_sug=Count("suggestions", distinct=True),
                )
                .order_by("-held_on", "-id"),
            )
        )
        .order_by("name")
    )
    out = []
    for g in groups:
        activities = [
            {
                "title": a.title,
                "kind": a.get_kind_display(),
                "held_on": a.held_on,
                "place": a.place.name if a.place else "",
                "outcomes": a.outcomes,
                "n_attendees": a.n_att,
                "n_suggestions": a.n_sug,
            }
            for a in g.activities.all()
        ]
        out.append(
            {
                "name": g.name,
                "area": g.area.name,
                "description": g.description,
                "n_members": g.n_members,
                "activities": activities,
            }
        )
    return out


def _point(item: ServiceItem) -> tuple[float, float] | None:
    if item.place is not None:
        return item.place.lon, item.place.lat
    if item.lon is not None and item.lat is not None:
        return item.lon, item.lat
    return None


def public_alliance() -> dict:
    """Active members, their active service items (with a map point where known) and totals."""
    members = list(
        AllianceMember.objects.filter(is_active=True)
        .select_related("area")
        .order_by("joined_on", "name")
    )
    items = list(
        ServiceItem.objects.filter(is_active=True, member__is_active=True)
        .select_related("member", "place")
        .order_by("member__name", "title")
    )
    by_member: dict[int, list] = {}
    points = []
    for item in items:
        point = _point(item)
        row = {
            "id": item.pk,
            "title": item.title,
            "description": item.description,
            "member": item.member.name,
            "member_id": item.member_id,
            "place": item.place.name if item.place else "",
            "place_id": item.place_id,
            "lon": point[0] if point else None,
            "lat": point[1] if point else None,
            "age_from": item.age_from,
            "age_to": item.age_to,
            "is_free": item.is_free,
            "schedule": item.schedule,
        }
        by_member.setdefault(item.member_id, []).append(row)
        if point:
            points.append(row)
    return {
        "members": [
            {
                "id": m.pk,
                "name": m.name,
                "kind": m.kind,
                "kind_label": m.get_kind_display(),
                "area": m.area.name,
                "joined_on": m.joined_on,
                "open_space_m2": m.open_space_m2,
                "contact": m.contact,
                "description": m.description,
                "services": by_member.get(m.pk, []),
            }
            for m in members
        ],
        "totals": {
            "members": len(members),
            "open_space_m2": sum(m.open_space_m2 for m in members),
            "service_items": len(items),
        },
        "points": points,
    }


def public_events(*, upcoming: bool = True) -> QuerySet[Event]:
    """Public events with places taken (annotated ``taken``); upcoming = not yet ended."""
    qs = (
        Event.objects.filter(is_public=True)
        .select_related("area", "place", "organiser")
        .annotate(taken=_held())
    )
    now = timezone.now()
    if upcoming:
        return qs.filter(ends_at__gte=now).order_by("starts_at")
    return qs.filter(ends_at__lt=now).order_by("-starts_at")


def public_event_get(pk: int) -> Event:
    event = (
        Event.objects.filter(is_public=True, pk=pk)
        .select_related("area", "place", "organiser")
        .annotate(taken=_held())
        .first()
    )
    if event is None:
        raise Http404
    return event


def remaining(event: Event) -> int:
    taken = getattr(event, "taken", None)
    if taken is None:
        taken = places_taken(event)
    return max(event.capacity - taken, 0)


def registration_open_now(event: Event) -> bool:
    return event.registration_open and event.starts_at > timezone.now() and remaining(event) > 0
