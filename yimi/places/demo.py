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
    # A short route: from a playground (or any place), the nearest named place of each of a
    # few other kinds, visited in the best order.
    from yimi.analysis.geo import haversine_m

    named = list(
        Place.objects.exclude(verification=Place.Verification.RETIRED)
        .exclude(name__startswith="未命名")
        .exclude(name__startswith="Unnamed")
        .order_by("osm_id")
    )
    anchor = next((p for p in named if p.category == Category.PLAYGROUND), None) or (
        named[0] if named else None
    )
    picks = [anchor] if anchor else []
    for cat in (
        Category.PARK,
        Category.LIBRARY,
        Category.KINDERGARTEN,
        Category.SPORTS,
        Category.MUSEUM,
    ):
        cands = [p for p in named if p.category == cat and p not in picks]
        if anchor and cands:
            picks.append(
                min(cands, key=lambda p: float(haversine_m(anchor.lon, anchor.lat, p.lon, p.lat)))
            )
    if len(picks) < 2:
        out(_("Too few places for a demo route."))
        return
    plan = trip_plan(user=actor, place_ids=[p.pk for p in picks[:5]])
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
