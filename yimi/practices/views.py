"""Pages of the practice library under /practices/: the searchable list with its map, cases,
measures with "How Yimi helps", and the city's self-assessment (staff)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yimi.core.http import client_ip
from yimi.core.services import ServiceError

from . import exports, policy, selectors, services
from .forms import ProgressForm
from .models import EvidenceKind, MeasureProgress


def _basemap() -> dict:
    # The same basemap choice as the map (YIMI_BASEMAP); without a tile server the cities are
    # drawn on a plain background — the city's own streets say nothing at national scale.
    from yimi.places.views import _basemap_config

    return _basemap_config()


def _filter_from(request) -> selectors.CaseFilter:
    g = request.GET
    area = g.get("area", "")
    return selectors.CaseFilter(
        q=g.get("q", "")[: selectors.MAX_QUERY],
        area=int(area) if area.isdigit() else None,
        province=g.get("province", "")[:20],
        city=g.get("city", "")[:20],
        tag=g.get("tag", "")[:20],
    )


def library(request):
    f = _filter_from(request)
    hits = selectors.case_search(f)
    config = {
        "basemap": _basemap(),
        "points": selectors.city_points(hits),
        "city": f.city,
    }
    params = request.GET.copy()
    params.pop("city", None)
    return render(
        request,
        "practices/library.html",
        {
            "f": f,
            "hits": hits,
            "options": selectors.filter_options(),
            "config": config,
            "base_query": params.urlencode(),
            "can_view_progress": policy.can_view_progress(request.user),
        },
    )


def case_detail(request, key: str):
    case = selectors.case_get(key)
    if case is None:
        raise Http404
    measure = case.item.measure
    terms = selectors.search_terms(request.GET.get("q", ""))
    others = [c for c in case.item.cases.all() if c.pk != case.pk]
    return render(
        request,
        "practices/case.html",
        {
            "case": case,
            "measure": measure,
            "help": selectors.yimi_help(measure),
            "others": others,
            "summary_html": selectors.highlight(case.summary, terms),
            "config": {
                "basemap": _basemap(),
                "points": [
                    {
                        "city": case.city,
                        "province": case.province,
                        "lon": case.lon,
                        "lat": case.lat,
                        "count": 1,
                    }
                ],
                "city": case.city,
                "static": True,
            },
        },
    )


def measures(request):
    # Staff: the measures with their progress, read once (progress_rows lists every measure).
    rows = (
        selectors.progress_rows(request.user)
        if policy.can_view_progress(request.user)
        else [(m, None) for m in selectors.measure_list()]
    )
    areas: list[dict] = []
    for m, p in rows:
        if not areas or areas[-1]["area"].pk != m.area_id:
            areas.append({"area": m.area, "measures": []})
        areas[-1]["measures"].append({"m": m, "help": selectors.yimi_help(m), "progress": p})
    return render(
        request,
        "practices/measures.html",
        {"areas": areas, "can_view_progress": policy.can_view_progress(request.user)},
    )


def measure_detail(request, slug: str):
    m = selectors.measure_get(slug)
    if m is None:
        raise Http404
    p = None
    history = []
    if policy.can_view_progress(request.user):
        p = MeasureProgress.objects.select_related("department").filter(measure=m).first()
        history = list(selectors.progress_history(p)[:20])
    return render(
        request,
        "practices/measure.html",
        {
            "m": m,
            "items": m.items.prefetch_related("cases"),
            "help": selectors.yimi_help(m),
            "p": p,
            "evidence_url": selectors.evidence_url(p) if p else "",
            "overdue": selectors.is_overdue(p),
            "history": history,
            "can_view_progress": policy.can_view_progress(request.user),
            "can_edit": policy.can_edit_progress(request.user),
        },
    )


def _need_view(request) -> None:
    if not policy.can_view_progress(request.user):
        raise PermissionDenied(_("The self-assessment is for staff."))


@login_required
def progress(request):
    _need_view(request)
    summary = selectors.progress_summary(request.user)
    rows = [{"m": m, "p": p, "overdue": selectors.is_overdue(p)} for m, p in summary["rows"]]
    return render(
        request,
        "practices/progress.html",
        {"s": summary, "rows": rows, "can_edit": policy.can_edit_progress(request.user)},
    )


@login_required
def progress_edit(request, slug: str):
    if not policy.can_edit_progress(request.user):
        raise PermissionDenied(
            _(
                "Only the Women and Children Working Committee Office and administrators may change the self-assessment."
            )
        )
    m = selectors.measure_get(slug)
    if m is None:
        raise Http404
    p = MeasureProgress.objects.filter(measure=m).first()
    choices = selectors.evidence_choices(request.user)
    has_file = bool(p and p.evidence_file)
    if request.method == "POST":
        form = ProgressForm(
            request.POST, request.FILES, evidence_choices=choices, has_file=has_file
        )
        if form.is_valid():
            d = form.cleaned_data
            kind, oid = form.evidence_parts()
            upload = None
            if d.get("evidence_file"):
                f = d["evidence_file"]
                if f.size > services.MAX_EVIDENCE_BYTES:
                    form.add_error("evidence_file", _("The file is too big."))
                else:
                    upload = (f.name, f.read())
            if not form.errors:
                try:
                    services.progress_update(
                        actor=request.user,
                        measure=m,
                        status=d["status"],
                        note=d["note"],
                        department=d["department"],
                        target_date=d["target_date"],
                        evidence_kind=kind,
                        evidence_object_id=oid,
                        evidence_upload=upload,
                        ip=client_ip(request),
                    )
                except ServiceError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, _("Saved: %(code)s") % {"code": m.code})
                    return redirect("practices:measure", slug=m.slug)
    else:
        initial = {"status": p.status if p else "not_started"}
        if p:
            initial.update(
                note=p.note,
                department=p.department_id,
                target_date=p.target_date,
                evidence=(
                    "file"
                    if p.evidence_kind == EvidenceKind.FILE
                    else (f"{p.evidence_kind}:{p.evidence_object_id}" if p.evidence_kind else "")
                ),
            )
        form = ProgressForm(initial=initial, evidence_choices=choices, has_file=has_file)
    return render(request, "practices/progress_edit.html", {"m": m, "p": p, "form": form})


@login_required
def evidence_download(request, slug: str):
    _need_view(request)
    m = selectors.measure_get(slug)
    p = MeasureProgress.objects.filter(measure=m).first() if m else None
    if p is None or not p.evidence_file:
        raise Http404
    return FileResponse(
        p.evidence_file.open("rb"),
        as_attachment=True,
        filename=p.evidence_file_name or p.evidence_file.name.rsplit("/", 1)[-1],
        content_type=p.evidence_file_type or "application/octet-stream",
    )


@login_required
def export_xlsx(request):
    _need_view(request)
    rows = selectors.progress_rows(request.user)
    data = exports.progress_xlsx(rows)
    services.progress_export_audit(
        actor=request.user, fmt="xlsx", rows=len(rows), ip=client_ip(request)
    )
    resp = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = 'attachment; filename="yimi-self-assessment.xlsx"'
    return resp


@login_required
def export_pdf(request):
    _need_view(request)
    summary = selectors.progress_summary(request.user)
    city = request.user.area.name if getattr(request.user, "area_id", None) else ""
    try:
        data = exports.progress_pdf(summary["rows"], summary, city=city)
    except exports.FontNotFound as exc:
        messages.error(request, str(exc))
        return redirect("practices:progress")
    services.progress_export_audit(
        actor=request.user, fmt="pdf", rows=len(summary["rows"]), ip=client_ip(request)
    )
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = 'inline; filename="yimi-self-assessment.pdf"'
    return resp
