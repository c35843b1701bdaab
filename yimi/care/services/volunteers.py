"""Volunteers (爱心妈妈): the registry, the background check (入职查询), 1+1 pairings and logs.

A volunteer is paired with a child only after a passed, unexpired check — the 性侵害等违法犯罪
记录查询 that 未成年人保护法 art. 62 requires before anyone works closely with minors — and
only with the guardian's consent to a volunteer pairing. One volunteer, one child (1+1).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core import keys
from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record, user_create

from .. import policy
from ..identity import IdNumberError, validate_id_number
from ..models import Child, ChildEvent, Consent, Pairing, Purpose, Status, Volunteer, VolunteerLog
from .common import care_snapshot, event_add

ID_PURPOSE = "volunteer_id"


def _in_area(user: User, area: Area) -> bool:
    if policy.role(user) == Role.ADMIN and user.area_id is None:
        return True
    return user.area_id is not None and area.path.startswith(user.area.path)


def _require_manager(actor: User | None, area: Area) -> None:
    if not policy.can_manage_volunteers(actor) or not _in_area(actor, area):
        raise PermissionDenied(_("You may not manage volunteers of this area."))


def _audit(
    *, actor: User | None, action: str, obj, area_path: str, before=None, note: str = ""
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        before=before,
        after=care_snapshot(obj) if action != AuditLog.Action.DELETE else None,
        area_path=area_path,
        note=note,
    )


# ------------------------------------------------------------------------------ registry


@transaction.atomic
def volunteer_register(
    *,
    actor: User | None,
    area: Area,
    name: str,
    phone: str = "",
    id_number: str,
    organisation: str = "",
) -> Volunteer:
    """Add a volunteer to the registry; the check starts as pending."""
    _require_manager(actor, area)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("The volunteer's name is required."))
    try:
        parsed = validate_id_number(id_number or "")
    except IdNumberError as exc:
        raise ServiceError(
            _("The identity number is not valid: %(reason)s") % {"reason": exc}
        ) from None
    id_hash = keys.match_hash(parsed.number, purpose=ID_PURPOSE)
    if Volunteer.objects.filter(id_hash=id_hash).exists():
        raise ServiceError(
            _("A volunteer with this identity number is already registered."), code="conflict"
        )
    volunteer = Volunteer(
        area=area,
        name=name,
        phone=(phone or "").strip(),
        id_number=parsed.number,
        organisation=(organisation or "").strip(),
    )
    volunteer.id_hash = id_hash
    volunteer.save()
    _audit(actor=actor, action=AuditLog.Action.CREATE, obj=volunteer, area_path=area.path)
    return volunteer


def check_is_valid(volunteer: Volunteer, *, on: dt.date | None = None) -> bool:
    """Whether the background check passed and has not expired on ``on`` (default today)."""
    on = on or timezone.localdate()
    return (
        volunteer.check_state == Volunteer.Check.PASSED
        and volunteer.check_valid_until is not None
        and volunteer.check_valid_until >= on
    )


@transaction.atomic
def volunteer_check_record(
    *,
    actor: User | None,
    volunteer: Volunteer,
    state: str,
    checked_on: dt.date | None,
    reference: str = "",
    valid_until: dt.date | None = None,
) -> Volunteer:
    """Record the result of the background check (入职查询).

    A failed or expired check ends the volunteer's active pairing at once.
    """
    _require_manager(actor, volunteer.area)
    if state not in Volunteer.Check.values:
        raise ServiceError(_("Unknown background check state."))
    reference = (reference or "").strip()
    today = timezone.localdate()
    if state != Volunteer.Check.PENDING:
        if checked_on is None:
            raise ServiceError(_("Give the date of the background check."))
        if checked_on > today:
            raise ServiceError(_("The date of the check cannot be in the future."))
    if state == Volunteer.Check.PASSED:
        if not reference:
            raise ServiceError(_("A passed check needs the reference of the check."))
        if valid_until is None or valid_until < checked_on:
            raise ServiceError(_("A passed check needs a validity date after the check date."))
    before = care_snapshot(volunteer)
    volunteer.check_state = state
    volunteer.checked_on = checked_on
    volunteer.check_reference = reference
    volunteer.check_valid_until = valid_until if state == Volunteer.Check.PASSED else None
    volunteer.save(
        update_fields=["check_state", "checked_on", "check_reference", "check_valid_until"]
    )
    _audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=volunteer,
        before=before,
        area_path=volunteer.area.path,
        note="background check",
    )
    if state in (Volunteer.Check.FAILED, Volunteer.Check.EXPIRED):
        for pairing in _active_pairings(volunteer):
            _end(actor=actor, pairing=pairing, ended_on=today, reason=_("Background check failed"))
    return volunteer


@transaction.atomic
def volunteer_deactivate(
    *, actor: User | None, volunteer: Volunteer, reason: str = ""
) -> Volunteer:
    """Take a volunteer off the registry: the active pairing ends and the account is disabled."""
    _require_manager(actor, volunteer.area)
    if not volunteer.active:
        raise ServiceError(_("The volunteer is already inactive."))
    today = timezone.localdate()
    for pairing in _active_pairings(volunteer):
        _end(
            actor=actor,
            pairing=pairing,
            ended_on=max(today, pairing.started_on),
            reason=reason or _("Volunteer left"),
        )
    before = care_snapshot(volunteer)
    volunteer.active = False
    volunteer.save(update_fields=["active"])
    if volunteer.user_id is not None and volunteer.user.is_active:
        volunteer.user.is_active = False
        volunteer.user.save(update_fields=["is_active"])
    _audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=volunteer,
        before=before,
        area_path=volunteer.area.path,
        note=f"deactivated: {reason}"[:200],
    )
    return volunteer


@transaction.atomic
def volunteer_account_create(
    *, actor: User | None, volunteer: Volunteer, username: str, password: str | None
) -> User:
    """Give a volunteer an account (role VOLUNTEER, the volunteer's area) to see the paired child.

    The account's display name stays empty so the volunteer's name is never stored in the clear.
    """
    _require_manager(actor, volunteer.area)
    if not volunteer.active:
        raise ServiceError(_("The volunteer is inactive."))
    if volunteer.user_id is not None:
        raise ServiceError(_("The volunteer already has an account."), code="conflict")
    username = (username or "").strip()
    if not username:
        raise ServiceError(_("Give a user name for the account."))
    if User.objects.filter(username=username).exists():
        raise ServiceError(_("The user name is taken."), code="conflict")
    user = user_create(
        actor=actor,
        username=username,
        password=password,
        role=Role.VOLUNTEER,
        area=volunteer.area,
    )
    before = care_snapshot(volunteer)
    volunteer.user = user
    volunteer.save(update_fields=["user"])
    _audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=volunteer,
        before=before,
        area_path=volunteer.area.path,
        note="account linked",
    )
    return user


# ------------------------------------------------------------------------------ pairings


def _active_pairings(volunteer: Volunteer):
    return Pairing.objects.select_for_update().filter(volunteer=volunteer, ended_on__isnull=True)


def _require_child(actor: User | None, child: Child) -> None:
    if not policy.children_visible_to(actor).filter(pk=child.pk).exists():
        raise ServiceError(_("Child not found."), code="not_found")


@transaction.atomic
def pairing_start(
    *, actor: User | None, volunteer: Volunteer, child: Child, started_on: dt.date
) -> Pairing:
    """Pair a volunteer with a child (1+1), refusing every condition that is not met."""
    _require_manager(actor, volunteer.area)
    _require_child(actor, child)
    # Lock both sides so two concurrent pairings cannot both pass the checks below.
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    child = Child.objects.select_for_update().get(pk=child.pk)
    today = timezone.localdate()
    if started_on is None or started_on > today:
        raise ServiceError(_("The start date cannot be in the future."))
    if not volunteer.active:
        raise ServiceError(_("The volunteer is inactive."))
    if volunteer.check_state != Volunteer.Check.PASSED:
        raise ServiceError(
            _("The volunteer's background check has not passed (state: %(state)s).")
            % {"state": volunteer.get_check_state_display()}
        )
    if not check_is_valid(volunteer, on=today):
        raise ServiceError(_("The volunteer's background check has expired; record a new check."))
    if child.status != Status.ACTIVE:
        raise ServiceError(_("Only a child on the register can be paired."))
    if not child.area.path.startswith(volunteer.area.path):
        raise ServiceError(_("The child does not live in the volunteer's area."))
    if not Consent.objects.filter(
        child=child, purpose=Purpose.VOLUNTEER, withdrawn_on__isnull=True
    ).exists():
        raise ServiceError(
            _("The guardian has not consented to a volunteer pairing; record the consent first.")
        )
    if Pairing.objects.filter(volunteer=volunteer, ended_on__isnull=True).exists():
        raise ServiceError(
            _("The volunteer is already paired with a child; end that pairing first."),
            code="conflict",
        )
    if Pairing.objects.filter(child=child, ended_on__isnull=True).exists():
        raise ServiceError(
            _("The child is already paired with a volunteer; end or rotate that pairing."),
            code="conflict",
        )
    try:
        with transaction.atomic():
            pairing = Pairing.objects.create(
                volunteer=volunteer,
                child=child,
                started_on=started_on,
                created_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        raise ServiceError(_("Either side is already paired."), code="conflict") from None
    event_add(
        child=child,
        kind=ChildEvent.Kind.PAIRING,
        summary=_("Paired with volunteer %(code)s") % {"code": str(volunteer)},
        actor=actor,
        obj=pairing,
    )
    _audit(actor=actor, action=AuditLog.Action.CREATE, obj=pairing, area_path=child.area.path)
    return pairing


def _end(*, actor: User | None, pairing: Pairing, ended_on: dt.date, reason: str) -> Pairing:
    before = care_snapshot(pairing)
    pairing.ended_on = ended_on
    pairing.end_reason = reason[:200]
    pairing.save(update_fields=["ended_on", "end_reason"])
    event_add(
        child=pairing.child,
        kind=ChildEvent.Kind.PAIRING,
        summary=_("Pairing with volunteer %(code)s ended") % {"code": str(pairing.volunteer)},
        actor=actor,
        obj=pairing,
    )
    _audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        obj=pairing,
        before=before,
        area_path=pairing.child.area.path,
        note="pairing ended",
    )
    return pairing


@transaction.atomic
def pairing_end(*, actor: User | None, pairing: Pairing, ended_on: dt.date, reason: str) -> Pairing:
    """End an active pairing, with the date and the reason."""
    _require_manager(actor, pairing.volunteer.area)
    _require_child(actor, pairing.child)
    pairing = Pairing.objects.select_for_update().select_related("child__area").get(pk=pairing.pk)
    if pairing.ended_on is not None:
        raise ServiceError(_("The pairing has already ended."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for ending the pairing."))
    if ended_on is None or ended_on < pairing.started_on:
        raise ServiceError(_("The end date cannot be before the start date."))
    if ended_on > timezone.localdate():
        raise ServiceError(_("The end date cannot be in the future."))
    return _end(actor=actor, pairing=pairing, ended_on=ended_on, reason=reason)


@transaction.atomic
def pairing_rotate(
    *, actor: User | None, pairing: Pairing, volunteer: Volunteer, on: dt.date, reason: str
) -> Pairing:
    """End ``pairing`` and pair the child with ``volunteer`` from ``on``: both or neither."""
    if volunteer.pk == pairing.volunteer_id:
        raise ServiceError(_("Choose another volunteer to rotate to."))
    pairing_end(actor=actor, pairing=pairing, ended_on=on, reason=reason)
    return pairing_start(actor=actor, volunteer=volunteer, child=pairing.child, started_on=on)


# ------------------------------------------------------------------------------ log


@transaction.atomic
def volunteer_log_add(
    *,
    actor: User | None,
    pairing: Pairing,
    date: dt.date,
    activity: str,
    notes: str = "",
) -> VolunteerLog:
    """Log time the volunteer spent with the child: by the volunteer (own pairing) or a caseworker."""
    own = (
        policy.is_volunteer(actor)
        and pairing.volunteer.user_id is not None
        and pairing.volunteer.user_id == actor.pk
    )
    caseworker = (
        policy.is_caseworker(actor)
        and policy.children_visible_to(actor).filter(pk=pairing.child_id).exists()
    )
    if not (own or caseworker):
        raise PermissionDenied(_("You may not add to this pairing's log."))
    if own and not check_is_valid(pairing.volunteer):
        raise PermissionDenied(_("Your background check is not valid; ask for a new check."))
    if pairing.ended_on is not None:
        raise ServiceError(_("The pairing has ended."))
    activity = (activity or "").strip()
    if not activity:
        raise ServiceError(_("Say what the activity was."))
    if date is None or date > timezone.localdate():
        raise ServiceError(_("The date cannot be in the future."))
    if date < pairing.started_on:
        raise ServiceError(_("The date cannot be before the pairing started."))
    entry = VolunteerLog.objects.create(
        pairing=pairing,
        date=date,
        activity=activity[:200],
        notes=(notes or "").strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    event_add(
        child=pairing.child,
        kind=ChildEvent.Kind.SERVICE,
        summary=_("Volunteer activity logged (%(code)s)") % {"code": str(pairing.volunteer)},
        actor=actor,
        obj=entry,
    )
    _audit(actor=actor, action=AuditLog.Action.CREATE, obj=entry, area_path=pairing.child.area.path)
    return entry
