"""Reading volunteers, pairings and the volunteer's minimal view of the paired child.

Volunteers are scoped by area (managers: caseworkers and the 妇儿工委办); a volunteer user reads
only the children of their own active pairing, through :func:`yimi.care.policy.children_visible_to`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from yimi.core.models import Area, User
from yimi.core.roles import Role

from .. import policy
from ..models import Child, Consent, Pairing, Purpose, Section, Status, Volunteer, VolunteerLog
from ..services.common import audit_child_read

# Two-character surnames (复姓) common enough to matter when masking a family name.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "独孤",
        "南宫",
        "西门",
        "端木",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "赫连",
        "万俟",
        "闻人",
        "拓跋",
        "百里",
        "东郭",
        "宗政",
        "濮阳",
    ]
)


def _surname_len(name: str) -> int:
    return 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1


def given_name_only(name: str) -> str:
    """The given name with the family name masked: "王小明" → "*小明", "欧阳娜娜" → "**娜娜".

    A Latin name ("Anna Li") keeps the first word. An empty or one-character name is fully masked.
    """
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name:
        first, rest = name.split(" ", 1)
        return first + " " + "*" * len(rest.replace(" ", ""))
    if len(name) == 1:
        return "*"
    n = _surname_len(name)
    return "*" * n + name[n:]


def mask_person_name(name: str) -> str:
    """The first character and stars: "王丽华" → "王**" (for readers who may not see names)."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


# ------------------------------------------------------------------------------ volunteers


def volunteers_visible_to(user: User | None) -> QuerySet[Volunteer]:
    """Volunteers of the user's area (managers only)."""
    if not policy.can_manage_volunteers(user):
        return Volunteer.objects.none()
    qs = Volunteer.objects.select_related("area", "user")
    if policy.role(user) == Role.ADMIN and user.area_id is None:
        return qs
    return qs.filter(area__path__startswith=user.area.path)


def volunteer_list(
    *, user: User | None, check: str | None = None, active: bool | None = True
) -> QuerySet[Volunteer]:
    qs = volunteers_visible_to(user)
    if check:
        qs = qs.filter(check_state=check)
    if active is not None:
        qs = qs.filter(active=active)
    paired = Pairing.objects.filter(volunteer=OuterRef("pk"), ended_on__isnull=True)
    return qs.annotate(paired=Exists(paired)).order_by("-active", "area__path", "id")


def volunteer_get(*, user: User | None, pk: int) -> Volunteer:
    try:
        return volunteers_visible_to(user).get(pk=pk)
    except Volunteer.DoesNotExist:
        raise Http404 from None


def volunteer_name_for(user: User | None, volunteer: Volunteer) -> str:
    """Caseworkers see the volunteer's name; the 妇儿工委办 sees it masked."""
    return volunteer.name if policy.is_caseworker(user) else mask_person_name(volunteer.name)


def volunteer_area_choices(user: User | None) -> QuerySet[Area]:
    """Areas a manager may register volunteers in: street, community or grid in their area."""
    qs = Area.objects.filter(level__gte=Area.Level.STREET)
    if policy.role(user) == Role.ADMIN and user.area_id is None:
        return qs
    if not policy.can_manage_volunteers(user):
        return qs.none()
    return qs.filter(path__startswith=user.area.path)


def eligible_volunteers(user: User | None) -> QuerySet[Volunteer]:
    """Active volunteers with a passed, unexpired check and no active pairing."""
    today = timezone.localdate()
    return volunteer_list(user=user, check=Volunteer.Check.PASSED).filter(
        paired=False, check_valid_until__gte=today
    )


def pairable_children(user: User | None) -> QuerySet[Child]:
    """Children on the register with an active volunteer consent and no active pairing."""
    consent = Consent.objects.filter(
        child=OuterRef("pk"), purpose=Purpose.VOLUNTEER, withdrawn_on__isnull=True
    )
    paired = Pairing.objects.filter(child=OuterRef("pk"), ended_on__isnull=True)
    return (
        policy.children_visible_to(user)
        .filter(status=Status.ACTIVE)
        .filter(Exists(consent))
        .exclude(Exists(paired))
        .select_related("area")
    )


def child_label(user: User | None, child: Child) -> str:
    """How a child is named in volunteer pages: file number, plus the name where identified."""
    if policy.is_caseworker(user):
        return f"{child.file_no} {child.name}"
    return child.file_no


def pairings_of(user: User | None, volunteer: Volunteer) -> QuerySet[Pairing]:
    """The volunteer's pairings (the volunteer must be visible to the user)."""
    return (
        Pairing.objects.filter(volunteer=volunteer)
        .filter(child__in=policy.children_visible_to(user))
        .select_related("child__area", "volunteer")
        .prefetch_related("logs")
        .order_by("-started_on", "-id")
    )


def pairing_get(*, user: User | None, pk: int) -> Pairing:
    """A pairing a manager may act on: both the volunteer and the child visible to them."""
    try:
        return (
            Pairing.objects.select_related("child__area", "volunteer__area")
            .filter(volunteer__in=volunteers_visible_to(user))
            .filter(child__in=policy.children_visible_to(user))
            .get(pk=pk)
        )
    except Pairing.DoesNotExist:
        raise Http404 from None


# ------------------------------------------------------------------------------ my children


@dataclass
class MyChild:
    """What a volunteer sees of the paired child: nothing that identifies the child beyond this."""

    pairing_id: int
    given_name: str
    age: int
    school_stage: str
    school_stage_label: str
    community: str
    started_on: dt.date
    logs: list[VolunteerLog] = field(default_factory=list)


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _community(area: Area) -> str:
    # A grid (网格) is too fine to show; name its community.
    if area.level > Area.Level.COMMUNITY and area.parent_id:
        return area.parent.name
    return area.name


def _my_pairings(user: User | None) -> QuerySet[Pairing]:
    """The volunteer's active pairings, only while the background check is passed and valid.

    A lapsed check takes the child out of the volunteer's view until a new check is recorded
    (the pairing itself stays, for the caseworker to renew the check or end it).
    """
    if not policy.is_volunteer(user):
        return Pairing.objects.none()
    return (
        Pairing.objects.filter(
            volunteer__user=user,
            ended_on__isnull=True,
            volunteer__active=True,
            volunteer__check_state=Volunteer.Check.PASSED,
            volunteer__check_valid_until__gte=timezone.localdate(),
        )
        .filter(child__in=policy.children_visible_to(user))
        .select_related("child__area__parent")
        .order_by("-started_on")
    )


def my_check_lapsed(user: User | None) -> bool:
    """Whether the volunteer has an active pairing hidden because the check is not valid."""
    if not policy.is_volunteer(user):
        return False
    return (
        Pairing.objects.filter(volunteer__user=user, ended_on__isnull=True)
        .exclude(pk__in=_my_pairings(user).values("pk"))
        .exists()
    )


def _minimal(pairing: Pairing, today: dt.date) -> MyChild:
    child = pairing.child
    return MyChild(
        pairing_id=pairing.pk,
        given_name=given_name_only(child.name),
        age=_age(child.birth_date, today),
        school_stage=child.school_stage,
        school_stage_label=str(child.get_school_stage_display()),
        community=_community(child.area),
        started_on=pairing.started_on,
        logs=list(pairing.logs.all()[:50]),
    )


def my_children(
    *, user: User | None, ip: str | None = None, pk: int | None = None
) -> list[MyChild]:
    """The volunteer's paired children, minimal view; each read is audited (section basic).

    With ``pk``, only that pairing, which must be the volunteer's own and active (else 404).
    """
    today = timezone.localdate()
    pairings = _my_pairings(user)
    if pk is not None:
        pairings = [my_pairing_get(user=user, pk=pk)]
    out = []
    for pairing in pairings:
        audit_child_read(
            actor=user, child=pairing.child, sections=[Section.BASIC], what="volunteer", ip=ip
        )
        out.append(_minimal(pairing, today))
    return out


def my_pairing_get(*, user: User | None, pk: int) -> Pairing:
    """The volunteer's own active pairing ``pk``; any other answers 404."""
    try:
        return _my_pairings(user).get(pk=pk)
    except Pairing.DoesNotExist:
        raise Http404 from None
