"""Care pages: children's records (一人一档) — the list, the file, registering and editing,
family, consent, documents, assessments, closing, revealing an ID number.

A child the user may not see answers 404, never 403: the page must not tell that it exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yimi.core.http import client_ip
from yimi.core.models import Area, Department
from yimi.core.services import ServiceError

from .. import policy
from ..identity import mask_id_number
from ..models import (
    Category,
    Child,
    Consent,
    Document,
    FamilyMember,
    Purpose,
    Risk,
    SchoolStage,
    Section,
    Sex,
    Status,
)
from ..selectors import records as sel
from ..services import records as svc
from ..services.common import audit_child_read, audit_list_read


def _care_user(request) -> None:
    if not policy.may_use_care(request.user):
        raise DjangoPermissionDenied(_("The care pages are for child welfare staff."))


def _editor(request) -> None:
    if not policy.can_edit_records(request.user):
        raise DjangoPermissionDenied(
            _("Only community child directors and street supervisors may change records.")
        )


def _child(request, pk: int) -> Child:
    """The child, or 404 for anyone who may not see it (whatever their role)."""
    return sel.child_get(request.user, pk)


def _apply_errors(form: forms.Form, exc: ServiceError, aliases: dict[str, str] | None = None):
    aliases = aliases or {}
    placed = False
    for d in exc.details:
        field = aliases.get(d.get("field"), d.get("field"))
        if field in form.fields:
            form.add_error(field, d.get("message", ""))
            placed = True
    if not placed or not exc.details:
        form.add_error(None, exc.message)


def _render_form(request, *, title: str, form, child: Child | None, back: str, **extra):
    return render(
        request,
        "care/records/form.html",
        {"title": title, "form": form, "child": child, "back": back, **extra},
    )


# ------------------------------------------------------------------------------ the list


@login_required
def children(request):
    _care_user(request)
    if policy.is_volunteer(request.user):
        # A volunteer's paired child has its own minimal view; the register is not for them.
        return redirect("care:my_children")
    user = request.user
    g = request.GET
    qs = sel.child_list(
        user,
        q=g.get("q", ""),
        category=g.get("category", ""),
        risk=g.get("risk", ""),
        status=g.get("status", ""),
        area=g.get("area", ""),
        due=g.get("due", "") if g.get("due", "") in sel.DUE_CHOICES else "",
    )
    page = Paginator(qs, 50).get_page(g.get("page"))
    rows = [sel.child_row(user, c) for c in page]
    audit_list_read(actor=user, children=page, what="register", ip=client_ip(request))
    areas = (
        Area.objects.filter(path__startswith=user.area.path, level__gte=Area.Level.STREET)
        if user.area_id
        else Area.objects.filter(level__gte=Area.Level.STREET)
    )
    params = g.copy()
    params.pop("page", None)
    return render(
        request,
        "care/records/list.html",
        {
            "page": page,
            "rows": rows,
            "q": g,
            "query": params.urlencode(),
            "identified": policy.identified(user),
            "can_edit": policy.can_edit_records(user),
            "categories": Category.choices,
            "risks": Risk.choices,
            "statuses": Status.choices,
            "areas": areas.order_by("path")[:300],
            "dues": [("overdue", _("Visit overdue")), ("soon", _("Visit due within 14 days"))],
        },
    )


# ------------------------------------------------------------------------------ the record form


class ChildForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=svc.MAX_NAME)
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=24,
        required=False,
        help_text=gettext_lazy("18 characters; the date of birth and sex are read from it."),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Only when there is no ID number."),
    )
    sex = forms.ChoiceField(
        label=gettext_lazy("Sex"), required=False, choices=[("", "—"), *Sex.choices]
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Categories"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_level = forms.ChoiceField(label=gettext_lazy("Risk level"), choices=Risk.choices)
    area = forms.ModelChoiceField(label=gettext_lazy("Community or grid"), queryset=Area.objects)
    address = forms.CharField(label=gettext_lazy("Address"), required=False, max_length=300)
    phone = forms.CharField(label=gettext_lazy("Contact phone"), required=False, max_length=40)
    school_stage = forms.ChoiceField(
        label=gettext_lazy("School stage"), choices=SchoolStage.choices
    )
    school = forms.CharField(label=gettext_lazy("School"), required=False, max_length=200)
    grade = forms.CharField(label=gettext_lazy("Grade"), required=False, max_length=40)
    health_conditions = forms.CharField(
        label=gettext_lazy("Health conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    disability_type = forms.CharField(
        label=gettext_lazy("Type of disability"), required=False, max_length=40
    )
    disability_grade = forms.TypedChoiceField(
        label=gettext_lazy("Disability grade"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (1, "1"), (2, "2"), (3, "3"), (4, "4")],
    )
    low_income = forms.BooleanField(
        label=gettext_lazy("Subsistence or extreme-poverty household"), required=False
    )
    welfare_notes = forms.CharField(
        label=gettext_lazy("Subsidies received"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, child: Child | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.filter(
            path__startswith=user.area.path, level__gte=Area.Level.COMMUNITY
        ).order_by("path")
        if child is not None:
            self.fields["id_number"].help_text = _(
                "Current: %(masked)s. Leave empty to keep it."
            ) % {"masked": mask_id_number(child.id_number) or "—"}

    @staticmethod
    def initial_for(child: Child) -> dict[str, Any]:
        return {
            "name": child.name,
            "birth_date": child.birth_date,
            "sex": child.sex,
            "categories": child.categories,
            "risk_level": child.risk_level,
            "area": child.area,
            "address": child.address,
            "phone": child.phone,
            "school_stage": child.school_stage,
            "school": child.school,
            "grade": (child.education or {}).get("grade", ""),
            "health_conditions": (child.health or {}).get("conditions", ""),
            "disability_type": (child.disability or {}).get("type", ""),
            "disability_grade": (child.disability or {}).get("grade"),
            "low_income": child.low_income,
            "welfare_notes": (child.welfare or {}).get("notes", ""),
            "notes": child.notes,
        }

    def record(self, child: Child | None = None) -> dict[str, Any]:
        """The cleaned form as the services' keyword arguments (JSON details merged)."""
        d = self.cleaned_data

        def merge(old: dict | None, **new) -> dict | None:
            out = dict(old or {})
            for k, v in new.items():
                if v in (None, ""):
                    out.pop(k, None)
                else:
                    out[k] = v
            return out or None

        data = {
            k: d[k]
            for k in (
                "name",
                "categories",
                "risk_level",
                "area",
                "address",
                "phone",
                "school_stage",
                "school",
                "low_income",
                "notes",
            )
        }
        data["education"] = merge(child.education if child else None, grade=d["grade"])
        data["health"] = merge(child.health if child else None, conditions=d["health_conditions"])
        data["disability"] = merge(
            child.disability if child else None,
            type=d["disability_type"],
            grade=d["disability_grade"],
        )
        data["welfare"] = merge(child.welfare if child else None, notes=d["welfare_notes"])
        if d["id_number"].strip():
            data["id_number"] = d["id_number"]
        if child is None or not d["id_number"].strip():
            # Without a (new) ID number the birth date and sex come from the form.
            if d["birth_date"]:
                data["birth_date"] = d["birth_date"]
            if d["sex"]:
                data["sex"] = d["sex"]
        return data


FORM_ALIASES = {
    "education": "grade",
    "health": "health_conditions",
    "disability": "disability_grade",
    "welfare": "welfare_notes",
}


@login_required
def child_new(request):
    _care_user(request)
    _editor(request)
    form = ChildForm(request.POST or None, user=request.user, initial={"risk_level": "low"})
    if request.method == "POST" and form.is_valid():
        try:
            child = svc.child_create(actor=request.user, **form.record())
        except ServiceError as exc:
            _apply_errors(form, exc, FORM_ALIASES)
        else:
            messages.success(request, _("Registered file %(no)s.") % {"no": child.file_no})
            return redirect("care:child", pk=child.pk)
    return _render_form(
        request,
        title=_("Register a child"),
        form=form,
        child=None,
        back=reverse("care:children"),
    )


@login_required
def child_edit(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    if child.anonymised_at is not None:
        raise Http404
    form = ChildForm(
        request.POST or None, user=request.user, child=child, initial=ChildForm.initial_for(child)
    )
    if request.method == "GET":
        # The form shows the record's values: a read like any other.
        audit_child_read(
            actor=request.user,
            child=child,
            sections=[s for s in Section.values if s not in (Section.IDENTITY,)],
            what="edit",
            ip=client_ip(request),
        )
    if request.method == "POST" and form.is_valid():
        data = form.record(child)
        changes = {k: v for k, v in data.items() if getattr(child, k) != v}
        try:
            svc.child_update(actor=request.user, child=child, **changes)
        except ServiceError as exc:
            _apply_errors(form, exc, FORM_ALIASES)
        else:
            messages.success(request, _("Saved."))
            return redirect("care:child", pk=child.pk)
    return _render_form(
        request,
        title=_("Edit file %(no)s") % {"no": child.file_no},
        form=form,
        child=child,
        back=reverse("care:child", args=[child.pk]),
    )


# ------------------------------------------------------------------------------ the file


DETAIL_LABELS = {
    "grade": gettext_lazy("Grade"),
    "conditions": gettext_lazy("Health conditions"),
    "insurance": gettext_lazy("Medical insurance"),
    "type": gettext_lazy("Type of disability"),
    "certificate": gettext_lazy("Disability certificate"),
    "subsidies": gettext_lazy("Subsidies received"),
    "notes": gettext_lazy("Notes"),
}


DISABILITY_GRADE = gettext_lazy("Disability grade")


def _detail_cards(sections: dict) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The sections kept as JSON details, as (key, title, [(label, value)]) for the page."""
    cards = []
    for key in (Section.EDUCATION, Section.HEALTH, Section.DISABILITY, Section.WELFARE):
        values = sections.get(key)
        if values is None:
            continue
        rows: list[tuple[str, str]] = []
        if key == Section.EDUCATION:
            rows.append((_("School stage"), values["school_stage"]))
            if values["school"]:
                rows.append((_("School"), values["school"]))
        if key == Section.WELFARE:
            rows.append(
                (
                    _("Subsistence or extreme-poverty household"),
                    _("yes") if values["low_income"] else _("no"),
                )
            )
        for k, v in (values.get("details") or {}).items():
            if v in (None, "", []):
                continue
            text = "、".join(map(str, v)) if isinstance(v, list) else str(v)
            label = DISABILITY_GRADE if (key, k) == (Section.DISABILITY, "grade") else None
            rows.append((str(label or DETAIL_LABELS.get(k, k)), text))
        cards.append((key, str(Section(key).label), rows))
    return cards


@login_required
def child_view(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    detail = sel.child_detail(request.user, child, ip=client_ip(request))
    can_edit = policy.can_edit_records(request.user) and child.anonymised_at is None
    ctx = {
        "c": child,
        "d": detail,
        "identified": policy.identified(request.user),
        "can_edit": can_edit,
        "can_reveal": policy.can_reveal_id(request.user)
        and bool(detail["sections"].get("identity", {}).get("has_id_number")),
        "section_labels": dict(Section.choices),
        "detail_cards": _detail_cards(detail["sections"]),
    }
    if can_edit:
        ctx["close_form"] = CloseForm()
    return render(request, "care/records/detail.html", ctx)


@login_required
@require_POST
def child_reveal_id(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    try:
        number = sel.child_reveal_id(request.user, child, ip=client_ip(request))
    except ServiceError as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    response = render(request, "care/records/reveal.html", {"c": child, "number": number})
    response["Cache-Control"] = "no-store"
    return response


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Close as"),
        choices=[
            (Status.CLOSED, Status.CLOSED.label),
            (Status.TRANSFERRED, Status.TRANSFERRED.label),
        ],
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


@login_required
@require_POST
def child_close(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            svc.child_close(actor=request.user, child=child, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The record is closed."))
    else:
        messages.error(request, _("Give the reason."))
    return redirect("care:child", pk=child.pk)


@login_required
@require_POST
def child_reopen(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    return _child_action(
        request,
        child,
        lambda: svc.child_reopen(
            actor=request.user, child=child, reason=request.POST.get("reason", "")
        ),
        _("The record is back on the register."),
    )


# ------------------------------------------------------------------------------ family


class FamilyForm(forms.Form):
    relation = forms.ChoiceField(
        label=gettext_lazy("Relation"), choices=FamilyMember.Relation.choices
    )
    is_guardian = forms.BooleanField(label=gettext_lazy("Guardian"), required=False)
    situation = forms.ChoiceField(
        label=gettext_lazy("Situation"), choices=FamilyMember.Situation.choices
    )
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=50)
    phone = forms.CharField(label=gettext_lazy("Phone"), required=False, max_length=40)
    id_number = forms.CharField(label=gettext_lazy("ID number"), required=False, max_length=24)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _of_child(model, child: Child, pk: int):
    """A family member, consent or document of ``child`` — 404 for anything else."""
    try:
        return model.objects.get(child=child, pk=pk)
    except model.DoesNotExist:
        raise Http404 from None


def _family_member(child: Child, member: int) -> FamilyMember:
    return _of_child(FamilyMember, child, member)


def _child_action(request, child: Child, run, done: str, anchor: str = ""):
    """A POST-only action on a child's file: a refusal becomes an error message, success
    ``done``; either way back to the file (at ``anchor``)."""
    try:
        run()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(reverse("care:child", args=[child.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
def family_add(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    form = FamilyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.family_member_add(actor=request.user, child=child, **form.cleaned_data)
        except ServiceError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Family member added."))
            return redirect(reverse("care:child", args=[child.pk]) + "#family")
    return _render_form(
        request,
        title=_("Add a family member"),
        form=form,
        child=child,
        back=reverse("care:child", args=[child.pk]),
    )


@login_required
def family_edit(request, pk: int, member: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    m = _family_member(child, member)
    initial = {f: getattr(m, f) for f in svc.FAMILY_FIELDS}
    initial["id_number"] = ""
    form = FamilyForm(request.POST or None, initial=initial)
    form.fields["id_number"].help_text = _("Current: %(masked)s. Leave empty to keep it.") % {
        "masked": mask_id_number(m.id_number) or "—"
    }
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not data["id_number"].strip():
            data.pop("id_number")
        try:
            svc.family_member_update(actor=request.user, member=m, **data)
        except ServiceError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("care:child", args=[child.pk]) + "#family")
    return _render_form(
        request,
        title=_("Edit a family member"),
        form=form,
        child=child,
        back=reverse("care:child", args=[child.pk]),
    )


@login_required
@require_POST
def family_remove(request, pk: int, member: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    item = _family_member(child, member)
    return _child_action(
        request,
        child,
        lambda: svc.family_member_remove(actor=request.user, member=item),
        _("Family member removed."),
        "family",
    )


# ------------------------------------------------------------------------------ consent


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=Purpose.choices)
    department = forms.ModelChoiceField(
        label=gettext_lazy("Receiving department"), queryset=Department.objects, required=False
    )
    given_by = forms.CharField(label=gettext_lazy("Given by (guardian)"), max_length=50)
    relation = forms.ChoiceField(
        label=gettext_lazy("Relation"), choices=FamilyMember.Relation.choices
    )
    given_on = forms.DateField(
        label=gettext_lazy("Given on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("e.g. the signed form's number"),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"given_on": dt.date.today()})
        super().__init__(*args, **kwargs)
        # Departments of the user's district and city (those that handle the area's orders).
        paths = []
        if user.area_id:
            parts = [c for c in user.area.path.split("/") if c]
            paths = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
        self.fields["department"].queryset = Department.objects.filter(
            area__path__in=paths
        ).order_by("name")


@login_required
def consent_add(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    form = ConsentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            svc.consent_grant(actor=request.user, child=child, **form.cleaned_data)
        except ServiceError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect(reverse("care:child", args=[child.pk]) + "#consents")
    return _render_form(
        request,
        title=_("Record a guardian's consent"),
        form=form,
        child=child,
        back=reverse("care:child", args=[child.pk]),
    )


@login_required
@require_POST
def consent_withdraw(request, pk: int, consent: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    item = _of_child(Consent, child, consent)
    return _child_action(
        request,
        child,
        lambda: svc.consent_withdraw(actor=request.user, consent=item),
        _("Consent withdrawn: the department no longer sees the record."),
        "consents",
    )


# ------------------------------------------------------------------------------ documents


class DocumentForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    section = forms.ChoiceField(
        label=gettext_lazy("Section"),
        choices=[(v, label) for v, label in Section.choices if v != Section.IDENTITY],
        initial=Section.DOCUMENTS,
    )
    file = forms.FileField(label=gettext_lazy("File (at most 10 MB)"))


@login_required
def document_upload(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > Document.MAX_BYTES:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            try:
                svc.document_upload(
                    actor=request.user,
                    child=child,
                    title=form.cleaned_data["title"],
                    filename=upload.name,
                    content=upload.read(),
                    content_type=upload.content_type or "application/octet-stream",
                    section=form.cleaned_data["section"],
                )
            except ServiceError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Document added."))
                return redirect(reverse("care:child", args=[child.pk]) + "#documents")
    return _render_form(
        request,
        title=_("Add a document"),
        form=form,
        child=child,
        back=reverse("care:child", args=[child.pk]),
        multipart=True,
    )


@login_required
def document_download(request, pk: int, doc: int):
    _care_user(request)
    child = _child(request, pk)
    document = sel.document_get(request.user, child, doc, ip=client_ip(request))
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    safe = "".join(ch for ch in document.filename if ch not in '"\\\r\n') or "document"
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(safe)}"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def document_delete(request, pk: int, doc: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    document = _of_child(Document, child, doc)
    return _child_action(
        request,
        child,
        lambda: svc.document_delete(actor=request.user, document=document),
        _("Document removed."),
        "documents",
    )


# ------------------------------------------------------------------------------ assessments


class AssessmentForm(forms.Form):
    assessed_on = forms.DateField(
        label=gettext_lazy("Assessed on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=dt.date.today,
    )
    risk_level = forms.ChoiceField(label=gettext_lazy("Risk level"), choices=Risk.choices)
    summary = forms.CharField(
        label=gettext_lazy("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


@login_required
def assessment_new(request, pk: int):
    _care_user(request)
    child = _child(request, pk)
    _editor(request)
    form = AssessmentForm(request.POST or None, initial={"risk_level": child.risk_level})
    if request.method == "POST" and form.is_valid():
        try:
            svc.assessment_add(actor=request.user, child=child, **form.cleaned_data)
        except ServiceError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Assessment recorded."))
            return redirect(reverse("care:child", args=[child.pk]) + "#assessments")
    return _render_form(
        request,
        title=_("New assessment"),
        form=form,
        child=child,
        back=reverse("care:child", args=[child.pk]),
    )


urlpatterns = [
    path("children/", children, name="children"),
    path("children/new/", child_new, name="child_new"),
    path("children/<int:pk>/", child_view, name="child"),
    path("children/<int:pk>/edit/", child_edit, name="child_edit"),
    path("children/<int:pk>/reveal-id/", child_reveal_id, name="child_reveal_id"),
    path("children/<int:pk>/close/", child_close, name="child_close"),
    path("children/<int:pk>/reopen/", child_reopen, name="child_reopen"),
    path("children/<int:pk>/family/new/", family_add, name="family_add"),
    path("children/<int:pk>/family/<int:member>/edit/", family_edit, name="family_edit"),
    path("children/<int:pk>/family/<int:member>/remove/", family_remove, name="family_remove"),
    path("children/<int:pk>/consents/new/", consent_add, name="consent_add"),
    path(
        "children/<int:pk>/consents/<int:consent>/withdraw/",
        consent_withdraw,
        name="consent_withdraw",
    ),
    path("children/<int:pk>/documents/new/", document_upload, name="document_upload"),
    path("children/<int:pk>/documents/<int:doc>/", document_download, name="document_download"),
    path("children/<int:pk>/documents/<int:doc>/delete/", document_delete, name="document_delete"),
    path("children/<int:pk>/assessments/new/", assessment_new, name="assessment_new"),
]
