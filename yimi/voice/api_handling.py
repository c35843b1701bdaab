"""Voice API: handling, for a department's own client. Mounted on the voice router in
yimi/voice/api.py. Session log-in; only department staff, only their department's letters
(``visible_to``), with personal data masked; another department's letter answers 404."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import Field

from yimi.core.http import client_ip

from .models import Adoption
from .selectors import handling as sel
from .services import handling as svc

router = Router(tags=["voice"], auth=django_auth)


class InboxLetterSchema(Schema):
    id: int
    topic: str = Field(description="topic code")
    topic_label: str
    age_group: str
    area: str
    text: str = Field(description="the letter with personal data masked")
    status: str = Field(description="assigned / answered")
    due_on: date | None
    days_overdue: int
    escalation_level: int = Field(description="0 none, 1 催办, 2 督办")
    received_on: date
    adoption: str
    public_reply: str
    answered_at: datetime | None
    has_picture: bool = Field(description="a published picture (never an unpublished one)")


class AnswerIn(Schema):
    adoption: str = Field(description=" / ".join(Adoption.values))
    adoption_reason: str = Field("", description="required for partly and not_now")
    public_reply: str = Field(
        description=f"for the child, {svc.REPLY_MIN}–{svc.REPLY_MAX} characters, public"
    )


def _out(s) -> dict:
    r = sel.inbox_row(s)
    return {
        "id": r["id"],
        "topic": r["topic_code"],
        "topic_label": str(r["topic"]),
        "age_group": s.age_group,
        "area": r["area"],
        "text": r["text"],
        "status": r["status"],
        "due_on": r["due_on"],
        "days_overdue": r["days_overdue"],
        "escalation_level": r["escalation_level"],
        "received_on": r["received_on"],
        "adoption": r["adoption"],
        "public_reply": r["public_reply"],
        "answered_at": r["answered_at"],
        "has_picture": r["picture"],
    }


def _department(request: HttpRequest) -> None:
    if not svc.is_department_user(request.user):
        raise HttpError(403, _("The inbox is for department staff."))


@router.get(
    "/inbox",
    response=list[InboxLetterSchema],
    summary="The department's letters (masked), open first by deadline",
)
def inbox(request: HttpRequest, status: str = "open"):
    _department(request)
    qs = sel.inbox(request.user, "answered" if status == "answered" else "open")
    return [_out(s) for s in qs[:500]]


@router.post(
    "/suggestions/{int:suggestion_id}/answer",
    response=InboxLetterSchema,
    summary="Answer a letter on the adoption scale with a public reply for the child",
)
def answer(request: HttpRequest, suggestion_id: int, payload: AnswerIn):
    _department(request)
    s = svc.inbox_queryset(request.user).filter(pk=suggestion_id).first()
    if s is None:
        raise HttpError(404, _("Not found."))
    s = svc.suggestion_answer(
        actor=request.user,
        suggestion=s,
        adoption=payload.adoption,
        adoption_reason=payload.adoption_reason,
        public_reply=payload.public_reply,
        ip=client_ip(request),
    )
    return _out(s)
