"""Care pages: the 台账 — download the template, upload a ledger, see the plan (errors by row and
column, new children, changes field by field), confirm; export the ledger (masked by default).

Between the preview and the confirmation the uploaded file waits ENCRYPTED in the data directory
(it holds names and ID numbers), bound to the uploading user's session, and is deleted once
imported or after a day.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimi.core import keys
from yimi.core.services import ServiceError

from .. import ledger_format as fmt
from .. import policy
from ..models import Category, Risk, Status
from ..selectors.ledger import ledger_history
from ..services import ledger as svc

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PENDING_MAX_AGE_S = 24 * 3600
SESSION_KEY = "care_ledger_pending"


def _pending_dir() -> Path:
    d = Path(settings.DATA_DIR) / "care-ledger-pending"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def _clean_pending() -> None:
    cutoff = time.time() - PENDING_MAX_AGE_S
    for p in _pending_dir().glob("*.bin"):
        if p.stat().st_mtime < cutoff:
            p.unlink(missing_ok=True)


def _keep(request, content: bytes, filename: str) -> str:
    """Store the upload encrypted until it is confirmed; returns its token."""
    _clean_pending()
    token = secrets.token_urlsafe(18)
    (_pending_dir() / f"{token}.bin").write_bytes(keys.cipher().encrypt_bytes(content))
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {"filename": filename, "user": request.user.pk}
    request.session[SESSION_KEY] = pending
    return token


def _take(request, token: str) -> tuple[bytes, str] | None:
    info = request.session.get(SESSION_KEY, {}).get(token)
    path = _pending_dir() / f"{token}.bin"
    if not info or info.get("user") != request.user.pk or not path.exists():
        return None
    return keys.cipher().decrypt_bytes(path.read_bytes()), info["filename"]


def _drop(request, token: str) -> None:
    (_pending_dir() / f"{token}.bin").unlink(missing_ok=True)
    pending = request.session.get(SESSION_KEY, {})
    pending.pop(token, None)
    request.session[SESSION_KEY] = pending


def _allowed(request) -> None:
    if not (svc.can_import(request.user) or svc.can_export(request.user)):
        raise DjangoPermissionDenied(
            _("The ledger is kept by child directors, supervisors and the WCCO.")
        )


def _context(request, **extra):
    user = request.user
    return {
        "can_import": svc.can_import(user),
        "can_export": svc.can_export(user),
        "can_unmask": policy.can_export_unmasked(user),
        "identified": policy.identified(user),
        "categories": [(c, fmt.CATEGORY_LABELS[c]) for c in Category.values],
        "risks": Risk.choices,
        "statuses": Status.choices,
        "columns": [
            {"header": zh, "required": req, "note": svc.COLUMN_NOTES.get(key, "")}
            for key, zh, _a, req in fmt.COLUMNS
        ],
        "history": list(ledger_history(actor=user)),
        "max_preview": svc.MAX_PREVIEW,
        "max_errors": svc.MAX_ERRORS,
        **extra,
    }


@login_required
def ledger(request):
    _allowed(request)
    return render(request, "care/ledger/index.html", _context(request))


@login_required
def ledger_template(request):
    _allowed(request)
    resp = HttpResponse(svc.ledger_template(), content_type=XLSX)
    resp["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E5%8F%B0%E8%B4%A6%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return resp


@login_required
@require_POST
def ledger_preview(request):
    """Upload → check every row (a dry run) → the plan, with the confirm button when clean."""
    _allowed(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a ledger file (.xlsx or .csv)."))
        return redirect("care:ledger")
    if upload.size > MAX_UPLOAD_BYTES:
        messages.error(request, _("The file is larger than 50 MB."))
        return redirect("care:ledger")
    content = upload.read()
    name = Path(upload.name or "ledger").name
    try:
        plan = svc.ledger_import(actor=request.user, file=content, filename=name, dry_run=True)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("care:ledger")
    token = _keep(request, content, name) if plan.ok else None
    return render(request, "care/ledger/preview.html", _context(request, plan=plan, token=token))


@login_required
@require_POST
def ledger_confirm(request):
    """Write the previewed ledger (checked again: the register may have changed meanwhile)."""
    _allowed(request)
    token = request.POST.get("token", "")
    taken = _take(request, token)
    if taken is None:
        messages.error(request, _("That upload has expired; upload the ledger again."))
        return redirect("care:ledger")
    content, name = taken
    try:
        plan = svc.ledger_import(actor=request.user, file=content, filename=name)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("care:ledger")
    if not plan.written:
        return render(request, "care/ledger/preview.html", _context(request, plan=plan, token=None))
    _drop(request, token)
    messages.success(
        request,
        _("Ledger imported: %(c)s new, %(u)s updated, %(n)s unchanged.")
        % {"c": plan.created, "u": plan.updated, "n": plan.unchanged},
    )
    return redirect("care:ledger")


@login_required
@require_POST
def ledger_export(request):
    _allowed(request)
    filters = {k: request.POST.get(k, "") for k in ("area", "status", "category", "risk_level")}
    unmasked = request.POST.get("unmasked") == "1"
    try:
        out = svc.ledger_export(actor=request.user, unmasked=unmasked, filters=filters)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("care:ledger")
    resp = HttpResponse(out.content, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{out.filename}"
    return resp


urlpatterns = [
    path("ledger/", ledger, name="ledger"),
    path("ledger/template.xlsx", ledger_template, name="ledger_template"),
    path("ledger/preview", ledger_preview, name="ledger_preview"),
    path("ledger/confirm", ledger_confirm, name="ledger_confirm"),
    path("ledger/export", ledger_export, name="ledger_export"),
]
