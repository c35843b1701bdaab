"""Care pages: dynamic monitoring (动态监测) — totals with CSS bar charts and an Excel export.

Above the community the page shows de-identified totals with small cells suppressed
(see :mod:`yimi.care.selectors.monitor`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.http import client_ip

from ..selectors import monitor as selectors


def _allowed(request) -> None:
    if not selectors.may_monitor(request.user):
        raise PermissionDenied(_("You may not see the monitoring."))


@login_required
def monitor(request):
    _allowed(request)
    data = selectors.monitor_summary(user=request.user)
    cats = data["categories"]
    areas = data["areas"]
    largest = max([a["active"] for a in areas if isinstance(a["active"], int)] or [0])
    area_rows = [
        {
            **a,
            "bar": selectors.bar_percent(a["active"], largest),
            "cells": [a["categories"][c["code"]] for c in cats],
        }
        for a in areas
    ]
    context = {
        "data": data,
        "by_category": selectors.with_bars(data["by_category"]),
        "by_risk": selectors.with_bars(data["by_risk"]),
        "by_status": selectors.with_bars(data["by_status"]),
        "order_states": selectors.with_bars(data["orders"]["by_state"]),
        "unserved": selectors.with_bars(data["unserved"], key="children"),
        "area_rows": area_rows,
        "cats": cats,
    }
    return render(request, "care/monitor/index.html", context)


@login_required
def monitor_export(request):
    _allowed(request)
    body = selectors.monitor_export(user=request.user, ip=client_ip(request))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="care-monitor-{stamp}.xlsx"'
    return response


urlpatterns = [
    path("monitor/", monitor, name="monitor"),
    path("monitor/export.xlsx", monitor_export, name="monitor_export"),
]
