"""Care pages: volunteers (爱心妈妈) — registry, background check, 1+1 pairings, logs, and the
volunteer's own page (/care/my-children/) with the minimal view of the paired child."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yimi.core.http import client_ip
from yimi.core.services import ServiceError

from .. import policy
from ..models import Volunteer
from ..selectors import volunteers as selectors
from ..services import volunteers as services


def _date() -> forms.DateInput:
    # <input type="date"> needs ISO dates whatever the language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _manager(request) -> None:
    if not policy.can_manage_volunteers(request.user):
        raise PermissionDenied(_("Only caseworkers and the WCCO office manage volunteers."))


# ------------------------------------------------------------------------------ forms


class VolunteerForm(forms.Form):
    area = forms.ModelChoiceField(label=gettext_lazy("Area"), queryset=None)
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=50)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    id_number = forms.CharField(label=gettext_lazy("Identity number"), max_length=20)
    organisation = forms.CharField(
        label=gettext_lazy("Organisation"), max_length=200, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = selectors.volunteer_area_choices(user)
        if user.area_id:
            self.fields["area"].initial = user.area_id


class CheckForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("Result"), choices=Volunteer.Check.choices)
    checked_on = forms.DateField(label=gettext_lazy("Checked on"), widget=_date(), required=False)
    reference = forms.CharField(label=gettext_lazy("Check reference"), required=False)
    valid_until = forms.DateField(label=gettext_lazy("Valid until"), widget=_date(), required=False)


class AccountForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    password = forms.CharField(
        label=gettext_lazy("Initial password"), widget=forms.PasswordInput, min_length=10
    )


class PairingForm(forms.Form):
    volunteer = forms.ModelChoiceField(label=gettext_lazy("Volunteer"), queryset=None)
    child = forms.ModelChoiceField(label=gettext_lazy("Child"), queryset=None)
    started_on = forms.DateField(label=gettext_lazy("Started on"), widget=_date())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = selectors.eligible_volunteers(user)
        self.fields["volunteer"].label_from_instance = lambda v: (
            f"{v} {selectors.volunteer_name_for(user, v)}"
        )
        self.fields["child"].queryset = selectors.pairable_children(user)
        self.fields["child"].label_from_instance = lambda c: selectors.child_label(user, c)
        self.fields["started_on"].initial = timezone.localdate()


class EndForm(forms.Form):
    ended_on = forms.DateField(label=gettext_lazy("Ended on"), widget=_date())
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    # Optional: pair the child with another volunteer from the same day (rotation).
    volunteer = forms.ModelChoiceField(
        label=gettext_lazy("Rotate to volunteer (optional)"), queryset=None, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ended_on"].initial = timezone.localdate()
        self.fields["volunteer"].queryset = selectors.eligible_volunteers(user)
        self.fields["volunteer"].label_from_instance = lambda v: (
            f"{v} {selectors.volunteer_name_for(user, v)}"
        )


class LogForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=_date())
    activity = forms.CharField(label=gettext_lazy("Activity"), max_length=200)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()


# ------------------------------------------------------------------------------ manager pages


@login_required
def volunteer_list(request):
    _manager(request)
    check = request.GET.get("check") or None
    show = request.GET.get("active", "1")
    active = {"1": True, "0": False}.get(show)
    rows = [
        {"v": v, "name": selectors.volunteer_name_for(request.user, v)}
        for v in selectors.volunteer_list(user=request.user, check=check, active=active)[:500]
    ]
    return render(
        request,
        "care/volunteers/list.html",
        {"rows": rows, "checks": Volunteer.Check.choices, "check": check, "show": show},
    )


@login_required
def volunteer_new(request):
    _manager(request)
    form = VolunteerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            v = services.volunteer_register(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Volunteer %(code)s registered.") % {"code": v})
            return redirect("care:volunteer", pk=v.pk)
    return render(request, "care/volunteers/new.html", {"form": form})


@login_required
def volunteer_detail(request, pk: int):
    _manager(request)
    v = selectors.volunteer_get(user=request.user, pk=pk)
    return _detail(request, v)


def _detail(request, v: Volunteer, **forms_):
    from ..identity import mask_id_number

    user = request.user
    pairings = [
        {"p": p, "child": selectors.child_label(user, p.child)}
        for p in selectors.pairings_of(user, v)
    ]
    context = {
        "v": v,
        "name": selectors.volunteer_name_for(user, v),
        "id_masked": mask_id_number(v.id_number) if policy.is_caseworker(user) else "",
        "phone": v.phone if policy.is_caseworker(user) else "",
        "pairings": pairings,
        "check_valid": services.check_is_valid(v),
        "check_form": forms_.get("check_form") or CheckForm(initial={"state": v.check_state}),
        "account_form": forms_.get("account_form") or AccountForm(),
        "log_form": LogForm(),
        "can_log": policy.is_caseworker(user),
    }
    return render(request, "care/volunteers/detail.html", context)


@login_required
@require_POST
def volunteer_check(request, pk: int):
    _manager(request)
    v = selectors.volunteer_get(user=request.user, pk=pk)
    form = CheckForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_check_record(
                actor=request.user,
                volunteer=v,
                state=form.cleaned_data["state"],
                checked_on=form.cleaned_data["checked_on"],
                reference=form.cleaned_data["reference"],
                valid_until=form.cleaned_data["valid_until"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Background check recorded."))
            return redirect("care:volunteer", pk=v.pk)
    return _detail(request, v, check_form=form)


@login_required
@require_POST
def volunteer_account(request, pk: int):
    _manager(request)
    v = selectors.volunteer_get(user=request.user, pk=pk)
    form = AccountForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_account_create(actor=request.user, volunteer=v, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Account created."))
            return redirect("care:volunteer", pk=v.pk)
    return _detail(request, v, account_form=form)


@login_required
@require_POST
def volunteer_deactivate(request, pk: int):
    _manager(request)
    v = selectors.volunteer_get(user=request.user, pk=pk)
    try:
        services.volunteer_deactivate(
            actor=request.user, volunteer=v, reason=request.POST.get("reason", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Volunteer deactivated."))
    return redirect("care:volunteer", pk=v.pk)


@login_required
def pairing_new(request):
    _manager(request)
    initial = {}
    if request.GET.get("volunteer"):
        initial["volunteer"] = request.GET["volunteer"]
    form = PairingForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            p = services.pairing_start(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Pairing started."))
            return redirect("care:volunteer", pk=p.volunteer_id)
    return render(request, "care/volunteers/pairing_new.html", {"form": form})


@login_required
def pairing_end(request, pk: int):
    _manager(request)
    p = selectors.pairing_get(user=request.user, pk=pk)
    form = EndForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["volunteer"] is not None:
                services.pairing_rotate(
                    actor=request.user,
                    pairing=p,
                    volunteer=data["volunteer"],
                    on=data["ended_on"],
                    reason=data["reason"],
                )
                messages.success(request, _("The child is now paired with another volunteer."))
            else:
                services.pairing_end(
                    actor=request.user, pairing=p, ended_on=data["ended_on"], reason=data["reason"]
                )
                messages.success(request, _("Pairing ended."))
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("care:volunteer", pk=p.volunteer_id)
    return render(
        request,
        "care/volunteers/pairing_end.html",
        {"form": form, "p": p, "child": selectors.child_label(request.user, p.child)},
    )


@login_required
@require_POST
def pairing_log(request, pk: int):
    """Add to a pairing's log: a caseworker (from the volunteer page) or the volunteer."""
    if policy.is_volunteer(request.user):
        p = selectors.my_pairing_get(user=request.user, pk=pk)
        back = redirect("care:my_children")
    else:
        _manager(request)
        p = selectors.pairing_get(user=request.user, pk=pk)
        back = redirect("care:volunteer", pk=p.volunteer_id)
    form = LogForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_log_add(actor=request.user, pairing=p, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Added to the log."))
    else:
        messages.error(request, _("Please give the date and the activity."))
    return back


# ------------------------------------------------------------------------------ the volunteer


@login_required
def my_children(request):
    if not policy.is_volunteer(request.user):
        raise PermissionDenied(_("This page is for volunteers."))
    children = selectors.my_children(user=request.user, ip=client_ip(request))
    return render(
        request,
        "care/volunteers/my_children.html",
        {
            "children": children,
            "log_form": LogForm(),
            "check_lapsed": selectors.my_check_lapsed(request.user),
        },
    )


@login_required
def my_child(request, pk: int):
    """One paired child (by pairing); any pairing not the volunteer's own answers 404."""
    if not policy.is_volunteer(request.user):
        raise PermissionDenied(_("This page is for volunteers."))
    children = selectors.my_children(user=request.user, ip=client_ip(request), pk=pk)
    return render(
        request, "care/volunteers/my_children.html", {"children": children, "log_form": LogForm()}
    )


urlpatterns = [
    path("volunteers/", volunteer_list, name="volunteers"),
    path("volunteers/new/", volunteer_new, name="volunteer_new"),
    path("volunteers/<int:pk>/", volunteer_detail, name="volunteer"),
    path("volunteers/<int:pk>/check/", volunteer_check, name="volunteer_check"),
    path("volunteers/<int:pk>/account/", volunteer_account, name="volunteer_account"),
    path("volunteers/<int:pk>/deactivate/", volunteer_deactivate, name="volunteer_deactivate"),
    path("pairings/new/", pairing_new, name="pairing_new"),
    path("pairings/<int:pk>/end/", pairing_end, name="pairing_end"),
    path("pairings/<int:pk>/log/", pairing_log, name="pairing_log"),
    path("my-children/", my_children, name="my_children"),
    path("my-children/<int:pk>/", my_child, name="my_child"),
]
