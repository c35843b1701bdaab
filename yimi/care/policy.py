"""Who may see and do what in the care part: the one place where it is decided.

Every care selector, service, view, API endpoint and export asks these functions; the
authorisation matrix test (tests/test_authorisation.py) checks them end to end.

- 社区儿童主任 (director) and 街道儿童督导员 (supervisor): the children of their own area, by
  name, every section; they may reveal an ID number (audited).
- 妇儿工委办 (wcco) and system administrators: de-identified — file numbers, masked names,
  categories, risk, area, orders and totals; no record sections. They handle escalations and
  browse the audit of their area. An unmasked ledger export needs the separate
  ``care.export_unmasked`` permission.
- department staff: only the children for whom their department has a task in an order, only
  while the guardian's consent to refer to that department is active, and only the sections
  the policy names.
- volunteers (爱心妈妈): only the children they are paired with, minimal view.
- experts and the public: nothing.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from yimi.core.models import User
from yimi.core.roles import Role

from .models import Child, Consent, Order, OrderTask, Pairing, Purpose, Section

CASEWORKER_ROLES = frozenset({Role.DIRECTOR, Role.SUPERVISOR})
OVERSIGHT_ROLES = frozenset({Role.WCCO, Role.ADMIN})

# What a volunteer sees of the paired child: no identity numbers, no health details.
VOLUNTEER_SECTIONS = frozenset({Section.BASIC})
ALL_SECTIONS = frozenset(Section.values)


def _authenticated(user: User | None) -> bool:
    return user is not None and user.is_authenticated


def role(user: User | None) -> str | None:
    if not _authenticated(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role


def is_caseworker(user: User | None) -> bool:
    return role(user) in CASEWORKER_ROLES and user.area_id is not None


def is_oversight(user: User | None) -> bool:
    return role(user) in OVERSIGHT_ROLES and (role(user) == Role.ADMIN or user.area_id is not None)


def is_department(user: User | None) -> bool:
    return role(user) == Role.DEPARTMENT and user.department_id is not None


def is_volunteer(user: User | None) -> bool:
    return role(user) == Role.VOLUNTEER


def may_use_care(user: User | None) -> bool:
    """Whether the user sees the care part at all."""
    return is_caseworker(user) or is_oversight(user) or is_department(user) or is_volunteer(user)


def identified(user: User | None) -> bool:
    """Whether lists show names (caseworkers, departments, volunteers) or only file numbers."""
    return is_caseworker(user) or is_department(user) or is_volunteer(user)


def can_reveal_id(user: User | None) -> bool:
    """Whether the user may reveal a full ID number (each reveal is audited)."""
    return is_caseworker(user)


def can_edit_records(user: User | None) -> bool:
    return is_caseworker(user)


def can_export_unmasked(user: User | None) -> bool:
    """A separate permission, granted per person, on top of being allowed to export."""
    return (is_caseworker(user) or is_oversight(user)) and user.has_perm("care.export_unmasked")


def can_manage_menu(user: User | None) -> bool:
    """The aid menu and its eligibility rules are kept by the 妇儿工委办."""
    return is_oversight(user)


def can_manage_volunteers(user: User | None) -> bool:
    return is_caseworker(user) or is_oversight(user)


# ------------------------------------------------------------------------------ children


def _area_q(user: User, prefix: str = "area") -> Q:
    if role(user) == Role.ADMIN and user.area_id is None:
        return Q()
    return Q(**{f"{prefix}__path__startswith": user.area.path})


def referral_q(department_id: int, prefix: str = "") -> Q:
    """Children with an active referral consent for ``department_id`` (``prefix``: path to child)."""
    consents = Consent.objects.filter(
        child=OuterRef(f"{prefix}pk" if prefix else "pk"),
        purpose=Purpose.REFERRAL,
        department_id=department_id,
        withdrawn_on__isnull=True,
    )
    return Q(Exists(consents))


def children_visible_to(user: User | None) -> QuerySet[Child]:
    """Every child the user may see at all (identified or not, by :func:`identified`)."""
    qs = Child.objects.all()
    if is_caseworker(user) or is_oversight(user):
        return qs.filter(_area_q(user))
    if is_department(user):
        tasks = OrderTask.objects.filter(
            order__child=OuterRef("pk"), department_id=user.department_id
        ).exclude(state=OrderTask.State.CANCELLED)
        return (
            qs.filter(Exists(tasks))
            .filter(referral_q(user.department_id))
            .filter(_area_q(user) if user.area_id else Q())
        )
    if is_volunteer(user):
        # Only while the background check is passed and valid: a lapsed check hides the child
        # until a new check is recorded (the pairing stays for the caseworker to renew or end).
        pairs = Pairing.objects.filter(
            child=OuterRef("pk"),
            volunteer__user=user,
            volunteer__active=True,
            volunteer__check_state="passed",
            volunteer__check_valid_until__gte=timezone.localdate(),
            ended_on__isnull=True,
        )
        return qs.filter(Exists(pairs))
    return qs.none()


def sections_for(user: User | None, child: Child) -> frozenset[str]:
    """The record sections ``user`` may read of ``child`` (empty: none, not even that it exists)."""
    if not children_visible_to(user).filter(pk=child.pk).exists():
        return frozenset()
    if is_caseworker(user):
        return ALL_SECTIONS
    if is_oversight(user):
        # De-identified: the file number, categories, risk and area; orders for 督办.
        return frozenset({Section.ORDERS})
    if is_department(user):
        sections: set[str] = {Section.BASIC, Section.ORDERS}
        policies = Order.objects.filter(
            child=child, tasks__department_id=user.department_id
        ).values_list("policy__sections", flat=True)
        for names in policies:
            sections.update(s for s in names or () if s in ALL_SECTIONS)
        # The identity number is never shared beyond caseworkers.
        sections.discard(Section.IDENTITY)
        return frozenset(sections)
    if is_volunteer(user):
        return VOLUNTEER_SECTIONS
    return frozenset()


def orders_visible_to(user: User | None) -> QuerySet[Order]:
    qs = Order.objects.all()
    if is_caseworker(user) or is_oversight(user):
        return qs.filter(_area_q(user))
    if is_department(user):
        return qs.filter(
            Exists(OrderTask.objects.filter(order=OuterRef("pk"), department_id=user.department_id))
        ).filter(referral_q(user.department_id, prefix="child__"))
    return qs.none()


def tasks_visible_to(user: User | None) -> QuerySet[OrderTask]:
    qs = OrderTask.objects.all()
    if is_caseworker(user) or is_oversight(user):
        return qs.filter(_area_q(user, "order__area"))
    if is_department(user):
        return qs.filter(department_id=user.department_id).filter(
            referral_q(user.department_id, prefix="order__child__")
        )
    return qs.none()
