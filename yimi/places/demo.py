"""The child-friendly map's part of ``yimi demo``: the sample OSM extract, themes and a route."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from yimi.places.models import Category, Place, Route, Theme

# Themes the demo builds from whatever the import found, by category.
DEMO_THEMES = [
    (
        "reading",
        "图书文化",
        "Books and culture",
        "#7b2cbf",
        [Category.LIBRARY, Category.MUSEUM, Category.STUDY_BASE],
    ),
    ("nature", "生态探索", "Nature", "#2d6a4f", [Category.PARK, Category.POCKET_PARK]),
    ("sport", "运动", "Sport and play", "#e85d04", [Category.SPORTS, Category.PLAYGROUND]),
    (
        "growing-up",
        "成长守护",
        "Growing up",
        "#1d4ed8",
        [
            Category.KINDERGARTEN,
            Category.CHILDCARE,
            Category.SCHOOL,
            Category.HOSPITAL,
            Category.NURSING_ROOM,
            Category.CHILDREN_HOME,
            Category.PROTECTION_STATION,
        ],
    ),
]


def fetch_sample(out: Callable[[str], None]) -> Path:
    from yimi.core.console import StageProgress
    from yimi.sample_data import SAMPLE_OSM, fetch

    cache = Path(settings.CACHE_DIR)
    target = cache / SAMPLE_OSM.name
    had = target.exists()
    with StageProgress({"download": _("Downloading")}) as progress:
        path = fetch(SAMPLE_OSM, cache, progress=lambda d, t: progress("download", d, t))
    out(
        _("Sample OSM extract: %(p)s (%(how)s, sha256 checked)")
        % {"p": path, "how": _("already in the cache") if had else _("downloaded")}
    )
    return path


def build_themes_and_routes(*, actor, out: Callable[[str], None]) -> None:
    from yimi.places.selectors import trip_plan
    from yimi.places.services import route_create, theme_create, theme_update

    for slug, name, name_en, color, cats in DEMO_THEMES:
        places = list(
            Place.objects.filter(category__in=cats).exclude(verification=Place.Verification.RETIRED)
        )
        if not places:
            continue
        theme = Theme.objects.filter(slug=slug).first()
        if theme is None:
            theme_create(
                actor=actor, slug=slug, name=name, name_en=name_en, color=color, places=places
            )
        else:
            theme_update(actor=actor, theme=theme, places=places)
        out(_("Theme %(name)s: %(n)s places") % {"name": name, "n": len(places)})
    if Route.objects.filter(slug="family-walk").exists():
        out(_("Route 亲子漫步线 exists; kept as it is."))
        return
    # A short family walk: around the place with the most named neighbours within 800 m (in
    # the demo street), the nearest named place of each of a few kinds, in the best order.
    import numpy as np

    from yimi.analysis.geo import haversine_m

    named = list(
        Place.objects.exclude(verification=Place.Verification.RETIRED)
        .exclude(name__startswith="未命名")
        .filter(area__isnull=False)
        .order_by("osm_id", "pk")
    )
    picks: list[Place] = []
    if named:
        lon = np.array([p.lon for p in named])
        lat = np.array([p.lat for p in named])
        d = haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
        anchor_i = int(np.argmax((d <= 800).sum(axis=1)))
        picks.append(named[anchor_i])
        for cat in (
            Category.PLAYGROUND,
            Category.PARK,
            Category.POCKET_PARK,
            Category.LIBRARY,
            Category.KINDERGARTEN,
            Category.MUSEUM,
            Category.SPORTS,
        ):
            cands = [
                i
                for i, p in enumerate(named)
                if p.category == cat and named[i] not in picks and d[anchor_i, i] <= 1000
            ]
            if cands and len(picks) < 5:
                picks.append(named[min(cands, key=lambda i: d[anchor_i, i])])
    if len(picks) < 2:
        out(_("Too few places for a demo route."))
        return
    plan = trip_plan(user=actor, place_ids=[p.pk for p in picks])
    route = route_create(
        actor=actor,
        slug="family-walk",
        name="亲子漫步线",
        description="演示线路：游乐场、公园、图书馆与幼儿园之间的步行线路，"
        "顺序由一米的行程规划求得最短。",
        places=plan["stops"],
        theme=Theme.objects.filter(slug="nature").first(),
    )
    out(
        _("Route %(name)s: %(n)s stops, %(m).0f m, %(t).0f min on foot")
        % {
            "name": route.name,
            "n": len(plan["stops"]),
            "m": route.length_m,
            "t": route.duration_min,
        }
    )
