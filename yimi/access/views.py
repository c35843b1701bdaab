"""Pages of the life-circle analysis (staff only): the analyses list and one analysis.

The pages are drawn by their templates and scripts from the JSON API; the views pass the
configuration they need.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yimi.places import selectors as places_selectors
from yimi.places.models import Category
from yimi.places.views import _basemap_config

from . import selectors, services


def _staff(request) -> None:
    if not services.is_staff(request.user):
        raise PermissionDenied(_("Only staff may use the accessibility analysis."))


def page_config(request, *, run_id: int | None = None) -> dict:
    """What the pages' scripts need: API base, basemap, rules, the user's rights and areas."""
    user = request.user
    return {
        "api": "/api/v1",
        "accessApi": "/api/v1/access",
        "basemap": _basemap_config(),
        "extent": places_selectors.map_extent(),
        "center": settings.YIMI_MAP_CENTER or None,
        "categories": [{"code": c, "label": str(label)} for c, label in Category.choices],
        "rules": selectors.rules_payload(),
        "ageGroups": selectors.age_groups_payload(),
        "walkSpeed": settings.YIMI_WALK_SPEED_M_PER_MIN,
        "isStaff": services.is_staff(user),
        "canEditPopulation": services.can_edit_population(user),
        "userArea": user.area.code if getattr(user, "area_id", None) else None,
        "areas": selectors.area_choices(user=user),
        "runId": run_id,
        "urls": {
            "index": reverse("access:index"),
            "run": reverse("access:run", kwargs={"pk": 0}).replace("/0/", "/{id}/"),
        },
    }


def _render(request, template: str, config: dict, **context):
    return render(
        request,
        template,
        {"config_json": json.dumps(config, ensure_ascii=False), **context},
    )


@login_required
def index(request):
    _staff(request)
    return _render(request, "access/index.html", page_config(request))


@login_required
def run_view(request, pk: int):
    _staff(request)
    run = selectors.run_get(user=request.user, pk=pk)  # 404 outside the user's area
    return _render(request, "access/run.html", page_config(request, run_id=run.pk), run=run)
