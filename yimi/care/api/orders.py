"""Care API: orders (点单) and department tasks, scoped by :mod:`yimi.care.policy`.

Anything outside the caller's scope answers 404; a refused step answers the one error shape
(403 for the wrong role or department, 409 for the wrong state, 400 for missing consent).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from yimi.core.http import client_ip

from .. import policy
from ..models import Order, Policy
from ..selectors import orders as sel
from ..services import orders as svc

router = Router(tags=["care"], auth=django_auth)


def _staff(request: HttpRequest) -> None:
    if not policy.may_use_care(request.user) or policy.is_volunteer(request.user):
        raise PermissionDenied(_("The order pages are for child welfare staff."))


# ---------------------------------------------------------------------- schemas


class LateStepSchema(Schema):
    step: str = Field(description="'confirm', 'handle' or 'follow_up'")
    step_label: str
    department: str
    department_id: int | None
    due: datetime
    days_late: int


class OrderTaskSchema(Schema):
    id: int
    order_id: int
    department_id: int
    department: str
    role: str
    role_label: str
    state: str
    state_label: str
    due: datetime | None
    overdue_days: int
    accepted: bool
    done_at: datetime | None


class OrderStepSchema(Schema):
    id: int
    step: str
    step_label: str
    at: datetime
    actor: str
    department: str
    note: str
    evidence_id: int | None


class OrderSchema(Schema):
    id: int
    number: str
    state: str
    state_label: str
    channel: str
    child_id: int
    file_no: str
    child: str = Field(description="the name, or a masked name for de-identified users")
    name_masked: bool
    area: str
    policy_id: int
    policy: str
    lead_department: str
    created_at: datetime
    step_due: datetime | None
    escalated_at: datetime | None
    escalations: int
    late: list[LateStepSchema]
    tasks: list[OrderTaskSchema]


class OrderDetailSchema(OrderSchema):
    request: str
    applicant: str
    channel_label: str
    closed_at: datetime | None
    steps: list[OrderStepSchema]


class OrderFilter(Schema):
    state: str = ""
    department: int | None = None
    overdue: bool = False
    escalated: bool = False


class OrderIn(Schema):
    child: int
    policy: int
    channel: str = Order.Channel.DIRECTOR
    applicant: str = ""
    request: str = ""


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class FollowUpIn(Schema):
    note: str
    satisfied: bool


class SectionRowSchema(Schema):
    label: str
    value: str


class TaskSectionSchema(Schema):
    code: str
    label: str
    rows: list[SectionRowSchema]


class TaskCardSchema(OrderTaskSchema):
    order_number: str
    order_state: str
    policy: str
    benefit: str
    request: str
    file_no: str
    child: str
    result: str
    sections: list[TaskSectionSchema] = Field(
        description="only the record sections the policy shares with the department"
    )


# ---------------------------------------------------------------------- orders


@router.get("/orders", response=list[OrderSchema], summary="Orders in scope")
def orders_list(request: HttpRequest, filters: Query[OrderFilter]):
    _staff(request)
    qs = sel.order_list(
        request.user,
        state=filters.state,
        department=filters.department,
        overdue=filters.overdue,
        escalated=filters.escalated,
    )
    return [sel.order_row(request.user, o) for o in qs[:500]]


@router.post("/orders", response={201: OrderDetailSchema}, summary="Place an order (申请)")
def orders_create(request: HttpRequest, payload: OrderIn):
    child = get_object_or_404(policy.children_visible_to(request.user), pk=payload.child)
    pol = get_object_or_404(Policy.objects.filter(active=True), pk=payload.policy)
    order = svc.order_create(
        actor=request.user,
        child=child,
        policy=pol,
        channel=payload.channel,
        applicant=payload.applicant,
        request=payload.request,
    )
    return Status(201, _detail(request, order.pk))


def _detail(request: HttpRequest, pk: int) -> dict:
    return sel.order_detail(request.user, sel.order_get(request.user, pk), ip=client_ip(request))


@router.get("/orders/{order_id}", response=OrderDetailSchema, summary="One order with its steps")
def orders_get(request: HttpRequest, order_id: int):
    _staff(request)
    return _detail(request, order_id)


@router.post("/orders/{order_id}/confirm", response=OrderDetailSchema, summary="确认 and dispatch")
def orders_confirm(request: HttpRequest, order_id: int, payload: NoteIn):
    order = sel.order_get(request.user, order_id)
    svc.order_confirm(actor=request.user, order=order, note=payload.note)
    return _detail(request, order_id)


@router.post("/orders/{order_id}/reject", response=OrderDetailSchema, summary="Reject")
def orders_reject(request: HttpRequest, order_id: int, payload: ReasonIn):
    order = sel.order_get(request.user, order_id)
    svc.order_reject(actor=request.user, order=order, reason=payload.reason)
    return _detail(request, order_id)


@router.post("/orders/{order_id}/follow-up", response=OrderDetailSchema, summary="回访")
def orders_follow_up(request: HttpRequest, order_id: int, payload: FollowUpIn):
    order = sel.order_get(request.user, order_id)
    svc.order_follow_up(
        actor=request.user, order=order, note=payload.note, satisfied=payload.satisfied
    )
    return _detail(request, order_id)


@router.post("/orders/{order_id}/withdraw", response=OrderDetailSchema, summary="Withdraw")
def orders_withdraw(request: HttpRequest, order_id: int, payload: ReasonIn):
    order = sel.order_get(request.user, order_id)
    svc.order_withdraw(actor=request.user, order=order, reason=payload.reason)
    return _detail(request, order_id)


@router.post("/orders/{order_id}/supervise", response=OrderDetailSchema, summary="督办 note")
def orders_supervise(request: HttpRequest, order_id: int, payload: NoteIn):
    order = sel.order_get(request.user, order_id)
    svc.order_supervise(actor=request.user, order=order, note=payload.note)
    return _detail(request, order_id)


# ---------------------------------------------------------------------- department tasks


@router.get("/tasks", response=list[TaskCardSchema], summary="The department's own tasks")
def tasks_list(request: HttpRequest, state: str = ""):
    if not policy.is_department(request.user):
        raise PermissionDenied(_("The task inbox is for department staff."))
    tasks = sel.task_list(request.user, state=state)[:200]
    return [sel.task_card(request.user, t, ip=client_ip(request)) for t in tasks]


def _card(request: HttpRequest, task_id: int) -> dict:
    return sel.task_card(request.user, sel.task_get(request.user, task_id), ip=client_ip(request))


@router.post("/tasks/{task_id}/accept", response=TaskCardSchema, summary="Accept (受理)")
def tasks_accept(request: HttpRequest, task_id: int, payload: NoteIn):
    task = sel.task_get(request.user, task_id)
    svc.task_accept(actor=request.user, task=task, note=payload.note)
    return _card(request, task_id)


@router.post("/tasks/{task_id}/complete", response=TaskCardSchema, summary="Report done")
def tasks_complete(
    request: HttpRequest,
    task_id: int,
    result: Form[str],
    evidence: File[UploadedFile] = None,
):
    task = sel.task_get(request.user, task_id)
    svc.task_complete(actor=request.user, task=task, result=result, evidence=evidence)
    return _card(request, task_id)


@router.post("/tasks/{task_id}/decline", response=TaskCardSchema, summary="Decline")
def tasks_decline(request: HttpRequest, task_id: int, payload: ReasonIn):
    task = sel.task_get(request.user, task_id)
    svc.task_decline(actor=request.user, task=task, reason=payload.reason)
    return _card(request, task_id)
