"""Care pages: the day's work — "my day" (/care/), visits, the visit form, the menu, the worklist."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yimi.core.http import client_ip
from yimi.core.models import Area, Department
from yimi.core.services import ServiceError

from .. import matching, policy
from ..eligibility import OPS
from ..models import Aspect, Child, Domain, Policy, Risk, Section, Visit, WorklistItem
from ..selectors import work as sel
from ..services import work as svc
from ..services.common import audit_child_read

MAX_CONDITION_ROWS = 30


def url_or_none(name: str, *args, query: dict | None = None) -> str | None:
    """The URL of another slice's page, or None while that page does not exist yet."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _care_user(request) -> None:
    if not policy.may_use_care(request.user):
        raise DjangoPermissionDenied(_("The care pages are for child welfare staff."))


def _caseworker(request) -> None:
    if not policy.is_caseworker(request.user):
        raise DjangoPermissionDenied(
            _("This page is for community child directors and street supervisors.")
        )


# ------------------------------------------------------------------------------ my day


@login_required
def home(request):
    _care_user(request)
    summary = sel.home_summary(request.user)
    links = {
        "orders": url_or_none("care:orders"),
        "tasks": url_or_none("care:tasks"),
        "my_children": url_or_none("care:my_children"),
        "monitor": url_or_none("care:monitor"),
    }
    return render(
        request,
        "care/work/home.html",
        {"s": summary, "links": links, "today": timezone.localdate()},
    )


# ------------------------------------------------------------------------------ visits


@login_required
def visits(request):
    _caseworker(request)
    user = request.user
    lists = []
    grouped = policy.role(user) == "supervisor"
    for key, title in (
        ("overdue", _("Overdue")),
        ("due", _("Due within a week")),
        ("upcoming", _("Due in the week after")),
    ):
        children = list(sel.visit_schedule(user, due=key))
        lists.append(
            {
                "key": key,
                "title": title,
                "children": children,
                "groups": sel.group_by_community(children) if grouped else None,
            }
        )
    return render(
        request,
        "care/work/visits.html",
        {
            "lists": lists,
            "follow_ups": sel.follow_ups_due(user),
            "today": timezone.localdate(),
            "grouped": grouped,
        },
    )


class VisitForm(forms.Form):
    visited_on = forms.DateField(
        label=gettext_lazy("Visited on"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Visit.Kind.choices)
    risk_after = forms.ChoiceField(
        label=gettext_lazy("Risk level after the visit"),
        choices=[("", gettext_lazy("Unchanged"))] + list(Risk.choices),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in Aspect.choices:
            self.fields[f"finding_{code}"] = forms.CharField(
                label=label,
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=svc.MAX_FINDING,
                required=False,
            )
            self.fields[f"concern_{code}"] = forms.BooleanField(
                label=gettext_lazy("Needs attention"), required=False
            )
        for i in range(3):
            self.fields[f"action_{i}"] = forms.CharField(
                label=gettext_lazy("Follow-up action"), max_length=500, required=False
            )
            self.fields[f"due_{i}"] = forms.DateField(
                label=gettext_lazy("Due"),
                required=False,
                widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            )

    def aspects(self):
        return [
            (code, label, self[f"finding_{code}"], self[f"concern_{code}"])
            for code, label in Aspect.choices
        ]

    def actions(self):
        return [(self[f"action_{i}"], self[f"due_{i}"]) for i in range(3)]


def _visible_child(request, pk: int) -> Child:
    try:
        return policy.children_visible_to(request.user).select_related("area").get(pk=pk)
    except Child.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def visit_new(request, pk: int):
    child = _visible_child(request, pk)
    if not policy.can_edit_records(request.user):
        raise DjangoPermissionDenied(_("Only child directors and supervisors may record visits."))
    form = VisitForm(request.POST or None, initial={"visited_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.visit_record(
                actor=request.user,
                child=child,
                visited_on=d["visited_on"],
                kind=d["kind"],
                findings={a: d[f"finding_{a}"] for a in Aspect.values},
                concerns=[a for a in Aspect.values if d[f"concern_{a}"]],
                follow_ups=[
                    {"action": d[f"action_{i}"], "due": d[f"due_{i}"]}
                    for i in range(3)
                    if d[f"action_{i}"]
                ],
                risk_after=d["risk_after"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            for detail in exc.details:
                name = str(detail.get("field", "")).replace("findings.", "finding_")
                if name in form.fields:
                    form.add_error(name, detail.get("message", ""))
        else:
            messages.success(request, _("The visit is recorded; the next one is scheduled."))
            return redirect(_safe_next(request, request.POST.get("next")) or reverse("care:visits"))
    # The form shows the child's name, risk and the last visits (the visits section).
    audit_child_read(
        actor=request.user,
        child=child,
        sections=[Section.BASIC, Section.VISITS],
        what="visit form",
        ip=client_ip(request),
    )
    return render(
        request,
        "care/work/visit_form.html",
        {
            "child": child,
            "form": form,
            "last_visits": sel.last_visits(child),
            "child_url": url_or_none("care:child", child.pk),
            "next": _safe_next(request, request.POST.get("next") or request.GET.get("next")),
        },
    )


def _safe_next(request, value: str | None) -> str:
    """A local URL to return to (``?next=``), or ""."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


@login_required
@require_POST
def follow_up_done(request, pk: int, index: int):
    try:
        visit = sel.visit_get(request.user, pk)
    except Visit.DoesNotExist as exc:
        raise Http404 from exc
    try:
        svc.visit_follow_up_done(actor=request.user, visit=visit, index=index)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Follow-up marked done."))
    return redirect("care:visits")


# ------------------------------------------------------------------------------ the menu


def _departments_for(area: Area):
    ancestors = sel._ancestor_paths(area.path)
    return Department.objects.filter(
        Q(area__path__in=ancestors) | Q(area__path__startswith=area.path)
    ).order_by("area__path", "name")


class PolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Left blank, one is made up; it cannot be changed later."),
    )
    domain = forms.ChoiceField(label=gettext_lazy("Domain"), choices=Domain.choices)
    benefit = forms.CharField(
        label=gettext_lazy("What it gives"), widget=forms.Textarea(attrs={"rows": 3})
    )
    basis = forms.CharField(label=gettext_lazy("Policy basis"), max_length=300, required=False)
    lead_department = forms.ModelChoiceField(
        label=gettext_lazy("Lead department"), queryset=Department.objects.none()
    )
    cooperating = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Cooperating units"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_days = forms.IntegerField(
        label=gettext_lazy("Days to confirm"), min_value=1, max_value=365, initial=3
    )
    handle_days = forms.IntegerField(
        label=gettext_lazy("Days to handle"), min_value=1, max_value=365, initial=15
    )
    follow_up_days = forms.IntegerField(
        label=gettext_lazy("Days to follow up"), min_value=1, max_value=365, initial=30
    )
    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Record sections shared with the departments"),
        choices=[c for c in Section.choices if c[0] != Section.IDENTITY],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    active = forms.BooleanField(label=gettext_lazy("On the menu (active)"), required=False)
    rule_mode = forms.ChoiceField(
        choices=[
            ("builder", gettext_lazy("Conditions")),
            ("json", gettext_lazy("Advanced (JSON)")),
        ],
        widget=forms.RadioSelect,
        initial="builder",
    )
    combine = forms.ChoiceField(
        choices=[
            ("all", gettext_lazy("All conditions hold")),
            ("any", gettext_lazy("Any condition holds")),
        ],
        widget=forms.RadioSelect,
        initial="all",
    )
    rule_json = forms.CharField(
        label=gettext_lazy("Rule (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args, area: Area, editing: Policy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        depts = _departments_for(area)
        self.fields["lead_department"].queryset = depts
        self.fields["cooperating"].queryset = depts
        if editing is not None:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = ""


def _condition_rows(data, rule: dict | None) -> tuple[str, list[dict]]:
    """Builder rows from the POST, or from the stored rule when it is flat; blank rows are
    dropped and two empty ones added (a phone screen has no room for more)."""
    if data is not None:
        combine = data.get("combine", "all")
        rows = [
            {
                "field": data.get(f"cond-{i}-field", ""),
                "op": data.get(f"cond-{i}-op", ""),
                "value": data.get(f"cond-{i}-value", ""),
            }
            for i in range(MAX_CONDITION_ROWS)
        ]
        rows = [r for r in rows if r["field"] or r["op"] or r["value"]]
    else:
        flat = sel.conditions_from_rule(rule)
        combine, rows = flat if flat else ("all", [])
    blank = {"field": "", "op": "", "value": ""}
    rows = rows + [blank] * max(2, 3 - len(rows))
    return combine, rows[:MAX_CONDITION_ROWS]


def _choice_hints() -> dict[str, str]:
    return {
        name: "、".join(str(label) for _code, label in choices.choices)
        for name, choices in sel.FIELD_CHOICES.items()
    }


@login_required
def menu(request):
    if not (policy.may_use_care(request.user) or request.user.is_yimi_staff):
        raise DjangoPermissionDenied(_("The aid menu is for staff."))
    manager = policy.can_manage_menu(request.user)
    items = list(sel.policy_list(request.user, include_inactive=manager))
    by_domain = []
    for code, label in Domain.choices:
        rows = [
            {"p": p, "editable": manager and svc.policy_editable(request.user, p)}
            for p in items
            if p.domain == code
        ]
        if rows:
            by_domain.append({"code": code, "label": label, "rows": rows})
    return render(request, "care/work/menu.html", {"by_domain": by_domain, "manager": manager})


def _policy_form_page(request, item: Policy | None):
    user = request.user
    if not policy.can_manage_menu(user):
        raise DjangoPermissionDenied(
            _("Only the Women and Children Working Committee Office keeps the menu.")
        )
    area = item.area if item else user.area
    if area is None:
        area_code = request.POST.get("area") or request.GET.get("area")
        area = Area.objects.filter(code=area_code).first() if area_code else None
        if area is None:
            area = Area.objects.filter(parent__isnull=True).order_by("path").first()
        if area is None:
            raise Http404
    initial = {}
    if item is not None:
        flat = sel.conditions_from_rule(item.eligibility)
        initial = {
            "name": item.name,
            "code": item.code,
            "domain": item.domain,
            "benefit": item.benefit,
            "basis": item.basis,
            "lead_department": item.lead_department_id,
            "cooperating": [d.pk for d in item.cooperating.all()],
            "confirm_days": (item.step_days or {}).get("confirm", 3),
            "handle_days": (item.step_days or {}).get("handle", 15),
            "follow_up_days": (item.step_days or {}).get("follow_up", 30),
            "sections": item.sections,
            "active": item.active,
            "rule_mode": "builder" if flat else "json",
            "combine": flat[0] if flat else "all",
            "rule_json": json.dumps(item.eligibility, ensure_ascii=False, indent=2),
        }
    else:
        initial = {"active": True, "sections": [Section.BASIC]}
    data = request.POST if request.method == "POST" else None
    form = PolicyForm(data, initial=initial, area=area, editing=item)
    combine, rows = _condition_rows(data, item.eligibility if item else None)
    rule_problems: list[dict] = []
    preview = None
    if data is not None and form.is_valid():
        d = form.cleaned_data
        if d["rule_mode"] == "json":
            try:
                rule = json.loads(d["rule_json"] or "{}")
            except json.JSONDecodeError as exc:
                rule = None
                rule_problems = [{"path": "", "message": str(exc)}]
        else:
            rule = sel.rule_from_conditions(rows, combine)
        if rule is not None and not rule_problems:
            rule_problems = svc.rule_errors(rule)
        if not rule_problems and "preview" in request.POST:
            preview = sel.policy_count_qualifying(user, rule, area=area)
        elif not rule_problems:
            fields = {
                "name": d["name"],
                "domain": d["domain"],
                "benefit": d["benefit"],
                "basis": d["basis"],
                "lead_department": d["lead_department"],
                "cooperating": list(d["cooperating"]),
                "step_days": {
                    "confirm": d["confirm_days"],
                    "handle": d["handle_days"],
                    "follow_up": d["follow_up_days"],
                },
                "sections": d["sections"],
                "eligibility": rule,
                "active": d["active"],
            }
            try:
                if item is None:
                    saved = svc.policy_create(actor=user, area=area, code=d["code"], **fields)
                else:
                    saved = svc.policy_update(actor=user, policy_obj=item, **fields)
            except ServiceError as exc:
                form.add_error(None, exc.message)
                rule_problems = [x for x in exc.details if "path" in x]
            else:
                open_items = saved.worklist.filter(state=WorklistItem.State.OPEN).count()
                messages.success(
                    request,
                    _("Saved “%(name)s”; %(n)d children qualify and do not receive it yet.")
                    % {"name": saved.name, "n": open_items},
                )
                return redirect("care:menu")
    return render(
        request,
        "care/work/policy_form.html",
        {
            "form": form,
            "item": item,
            "area": area,
            "combine": combine,
            "rows": rows,
            "fields": [(name, sel.FIELD_LABELS[name]) for name in matching.FIELDS],
            "ops": [(op, sel.OP_LABELS[op]) for op in OPS],
            "hints": _choice_hints(),
            "rule_problems": rule_problems,
            "preview": preview,
        },
    )


@login_required
def policy_new(request):
    return _policy_form_page(request, None)


@login_required
def policy_edit(request, pk: int):
    try:
        item = sel.policy_get(request.user, pk)
    except Policy.DoesNotExist as exc:
        raise Http404 from exc
    if not svc.policy_editable(request.user, item):
        raise DjangoPermissionDenied(
            _(
                "Only the Women and Children Working Committee Office of this area may change this policy."
            )
        )
    return _policy_form_page(request, item)


# ------------------------------------------------------------------------------ the worklist


@login_required
def worklist(request):
    _caseworker(request)
    items = list(sel.worklist_open(request.user)[:500])
    rows = [
        {
            "item": i,
            "order_url": url_or_none(
                "care:order_new", query={"child": i.child_id, "policy": i.policy_id}
            ),
            "child_url": url_or_none("care:child", i.child_id),
            "reasons": [sel.reason_display(r) for r in i.reasons],
        }
        for i in items
    ]
    return render(request, "care/work/worklist.html", {"rows": rows})


@login_required
@require_POST
def worklist_dismiss(request, pk: int):
    _caseworker(request)
    try:
        item = sel.worklist_item_get(request.user, pk)
    except WorklistItem.DoesNotExist as exc:
        raise Http404 from exc
    try:
        svc.worklist_dismiss(actor=request.user, item=item, note=request.POST.get("note", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Taken off the worklist."))
    return redirect("care:worklist")


urlpatterns = [
    path("", home, name="home"),
    path("visits/", visits, name="visits"),
    path("visits/<int:pk>/follow-ups/<int:index>/done/", follow_up_done, name="follow_up_done"),
    path("children/<int:pk>/visit/", visit_new, name="visit_new"),
    path("menu/", menu, name="menu"),
    path("menu/new/", policy_new, name="policy_new"),
    path("menu/<int:pk>/edit/", policy_edit, name="policy_edit"),
    path("worklist/", worklist, name="worklist"),
    path("worklist/<int:pk>/dismiss/", worklist_dismiss, name="worklist_dismiss"),
]
