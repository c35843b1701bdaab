"""Reads of children's records: the scoped, masked list; the file by section, audited; reveals.

Scope is :func:`yimi.care.policy.children_visible_to`, sections :func:`~yimi.care.policy.sections_for`;
every read of a record writes an audit row (:func:`~yimi.care.services.common.audit_child_read`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core import keys
from yimi.core.crypto import normalise
from yimi.core.models import Area, User
from yimi.core.services import PermissionDenied

from .. import policy
from ..identity import mask_id_number
from ..masking import mask_name
from ..matching import age_on
from ..models import (
    Category,
    Child,
    ChildEvent,
    Consent,
    Document,
    Order,
    Risk,
    Section,
    Status,
    Visit,
)
from ..services.common import audit_child_read


def _records_scope(user: User | None) -> QuerySet[Child]:
    """The children whose file ``user`` may open. Volunteers have none: their paired child's
    minimal view is the volunteers' page (care:my_children), never the file."""
    if policy.is_volunteer(user):
        return Child.objects.none()
    return policy.children_visible_to(user)


def child_get(user: User | None, pk: int | str) -> Child:
    """A child the user may see, or 404 (never 403: existence is not disclosed)."""
    try:
        return _records_scope(user).select_related("area").get(pk=int(pk))
    except (Child.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


DUE_CHOICES = ("overdue", "soon")


def child_list(
    user: User | None,
    *,
    q: str = "",
    category: str = "",
    risk: str = "",
    status: str = "",
    area: str = "",
    due: str = "",
    today: dt.date | None = None,
) -> QuerySet[Child]:
    """The children the user may see, filtered.

    ``q`` finds a file number (or part of one); identified users also find a child by the full
    ID number or the exact full name, through the keyed hashes (nothing is decrypted). The
    妇儿工委办 sees de-identified lists, so a name or ID number finds nothing for them.
    """
    today = today or timezone.localdate()
    qs = _records_scope(user).select_related("area")
    q = (q or "").strip()
    if q:
        cond = Q(file_no__icontains=q)
        if policy.identified(user):
            cond |= Q(name_hash=keys.match_hash(q, purpose="child_name"))
            if len(normalise(q)) == 18:
                cond |= Q(id_hash=keys.match_hash(q, purpose="id_number"))
        qs = qs.filter(cond)
    if category:
        # JSON containment is not on every backend: match the code inside the JSON text.
        qs = qs.filter(categories__icontains=f'"{category}"')
    if risk:
        qs = qs.filter(risk_level=risk)
    if status:
        qs = qs.filter(status=status)
    if area:
        a = Area.objects.filter(code=area).first()
        qs = qs.filter(area__path__startswith=a.path) if a else qs.none()
    if due == "overdue":
        qs = qs.filter(next_visit_due__lt=today)
    elif due == "soon":
        qs = qs.filter(next_visit_due__gte=today, next_visit_due__lte=today + dt.timedelta(14))
    return qs.order_by("file_no")


def child_row(user: User | None, child: Child, *, today: dt.date | None = None) -> dict[str, Any]:
    """One row of a list: the name masked unless the user is identified; the ID number masked."""
    today = today or timezone.localdate()
    named = policy.identified(user)
    return {
        "id": child.pk,
        "file_no": child.file_no,
        "name": child.name if named else mask_name(child.name),
        "name_masked": not named,
        # Volunteers see no identity number at all, not even masked.
        "id_number": "" if policy.is_volunteer(user) else mask_id_number(child.id_number),
        "sex": child.sex,
        "sex_label": str(child.get_sex_display()),
        "age": age_on(child.birth_date, today) if child.birth_date else None,
        "categories": list(child.categories or []),
        "category_labels": [str(Category(c).label) for c in child.categories or []],
        "risk_level": child.risk_level,
        "risk_label": str(Risk(child.risk_level).label),
        "status": child.status,
        "status_label": str(Status(child.status).label),
        "area": child.area.code,
        "area_name": child.area.name,
        "next_visit_due": child.next_visit_due,
        "overdue": bool(child.next_visit_due and child.next_visit_due < today),
        "anonymised": child.anonymised_at is not None,
    }


# ------------------------------------------------------------------------------ the file


def _choice_label(model, field: str, value) -> str:
    choices = dict(model._meta.get_field(field).choices or ())
    return str(choices.get(value, value or ""))


def _header(user: User | None, child: Child, today: dt.date) -> dict[str, Any]:
    row = child_row(user, child, today=today)
    row["closed_on"] = child.closed_on
    return row


def _section_values(child: Child, section: str, today: dt.date) -> dict[str, Any] | None:
    if section == Section.BASIC:
        return {
            "name": child.name,
            "sex": str(child.get_sex_display()),
            "birth_date": child.birth_date,
            "age": age_on(child.birth_date, today) if child.birth_date else None,
            "categories": [str(Category(c).label) for c in child.categories or []],
            "risk_level": str(Risk(child.risk_level).label),
            "status": str(Status(child.status).label),
            "close_reason": child.close_reason,
            "notes": child.notes,
        }
    if section == Section.IDENTITY:
        return {
            "id_number": mask_id_number(child.id_number),
            "has_id_number": bool(child.id_number),
        }
    if section == Section.CONTACT:
        return {
            "area": child.area.name,
            "address": child.address,
            "phone": child.phone,
        }
    if section == Section.EDUCATION:
        return {
            "school_stage": str(child.get_school_stage_display()),
            "school": child.school,
            "details": child.education or {},
        }
    if section == Section.HEALTH:
        return {"details": child.health or {}}
    if section == Section.DISABILITY:
        return {"details": child.disability or {}, "grade": child.disability_grade}
    if section == Section.WELFARE:
        return {"low_income": child.low_income, "details": child.welfare or {}}
    return None


def _family(child: Child) -> list[dict[str, Any]]:
    return [
        {
            "id": m.pk,
            "relation": m.relation,
            "relation_label": str(m.get_relation_display()),
            "is_guardian": m.is_guardian,
            "situation": m.situation,
            "situation_label": str(m.get_situation_display()),
            "name": m.name,
            "phone": m.phone,
            "id_number": mask_id_number(m.id_number),
            "notes": m.notes,
        }
        for m in child.family.all()
    ]


def _consents(child: Child) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "purpose": c.purpose,
            "purpose_label": str(c.get_purpose_display()),
            "department": c.department.name if c.department_id else "",
            "department_id": c.department_id,
            "given_by": c.given_by,
            "relation_label": _choice_label(Consent, "relation", c.relation),
            "given_on": c.given_on,
            "evidence": c.evidence,
            "withdrawn_on": c.withdrawn_on,
            "active": c.active,
        }
        for c in Consent.objects.filter(child=child).select_related("department")
    ]


def child_detail(
    user: User | None, child: Child, *, ip: str | None = None, audit: bool = True
) -> dict[str, Any]:
    """The file of ``child`` as ``user`` may read it; the read is audited with its sections.

    Only the sections of :func:`~yimi.care.policy.sections_for` are present, decrypted; the
    timeline holds only entries of those sections.
    Raises :class:`~django.http.Http404` when the user may not see the child at all.
    """
    sections = policy.sections_for(user, child) if not policy.is_volunteer(user) else frozenset()
    if not sections:
        raise Http404
    today = timezone.localdate()
    out: dict[str, Any] = {
        "child": _header(user, child, today),
        "sections": {},
        "section_list": sorted(sections),
    }
    for s in Section.values:
        if s in sections:
            values = _section_values(child, s, today)
            if values is not None:
                out["sections"][s] = values
    if Section.BASIC in out["sections"] and not policy.is_caseworker(user):
        # Caseworkers' free-text notes stay with the caseworkers.
        out["sections"][Section.BASIC].pop("notes")
        out["sections"][Section.BASIC].pop("close_reason")
    if Section.FAMILY in sections:
        out["family"] = _family(child)
        out["consents"] = _consents(child)
    if Section.VISITS in sections:
        out["assessments"] = [
            {
                "id": a.pk,
                "assessed_on": a.assessed_on,
                "risk_level": a.risk_level,
                "risk_label": str(Risk(a.risk_level).label),
                "summary": a.summary,
                "aspects": a.aspects or {},
            }
            for a in child.assessments.all()
        ]
        out["visits"] = [
            {
                "id": v.pk,
                "visited_on": v.visited_on,
                "kind_label": str(v.get_kind_display()),
                "concerns": list(v.concerns or []),
            }
            for v in Visit.objects.filter(child=child).defer("findings", "follow_ups")[:50]
        ]
    if Section.ORDERS in sections:
        orders = Order.objects.filter(child=child).select_related("policy")
        if policy.is_department(user):
            orders = orders.filter(tasks__department_id=user.department_id).distinct()
        out["orders"] = [
            {
                "id": o.pk,
                "number": o.number,
                "policy": o.policy.name,
                "state": o.state,
                "state_label": str(o.get_state_display()),
                "created_at": o.created_at,
            }
            for o in orders.defer("applicant", "request")
        ]
    if Section.DOCUMENTS in sections:
        out["documents"] = [
            {
                "id": d["pk"],
                "title": d["title"],
                "section": d["section"],
                "section_label": str(Section(d["section"]).label),
                "size": d["size"],
                "content_type": d["content_type"],
                "uploaded_at": d["uploaded_at"],
            }
            for d in Document.objects.filter(child=child, section__in=sorted(sections)).values(
                "pk", "title", "section", "size", "content_type", "uploaded_at"
            )
        ]
    out["timeline"] = [
        {
            "at": e.at,
            "kind": e.kind,
            "kind_label": str(e.get_kind_display()),
            "summary": e.summary,
            "actor": e.actor_name,
            "section": e.section,
        }
        for e in ChildEvent.objects.filter(child=child, section__in=sorted(sections))[:200]
    ]
    if audit:
        audit_child_read(actor=user, child=child, sections=sections, ip=ip)
    return out


def child_reveal_id(user: User | None, child: Child, *, ip: str | None = None) -> str:
    """The full ID number, for caseworkers only; each reveal is audited as its own read."""
    if not policy.children_visible_to(user).filter(pk=child.pk).exists():
        raise Http404
    if not policy.can_reveal_id(user):
        raise PermissionDenied(_("You may not see full ID numbers."))
    audit_child_read(actor=user, child=child, sections=[Section.IDENTITY], what="reveal_id", ip=ip)
    return child.id_number


def document_get(
    user: User | None, child: Child, pk: int | str, *, ip: str | None = None
) -> Document:
    """A document of the child's file, if its section is readable by ``user``; audited."""
    sections = policy.sections_for(user, child)
    if Section.DOCUMENTS not in sections:
        raise Http404
    try:
        doc = Document.objects.get(child=child, pk=int(pk), section__in=sorted(sections))
    except (Document.DoesNotExist, ValueError):
        raise Http404 from None
    audit_child_read(
        actor=user, child=child, sections=[doc.section], what=f"document {doc.pk}", ip=ip
    )
    return doc
