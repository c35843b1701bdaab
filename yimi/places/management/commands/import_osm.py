"""``yimi import-osm PATH``: places, walking network and basemap from an .osm or .osm.pbf file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.core.console import StageProgress
from yimi.core.services import ServiceError
from yimi.places.models import Category


class Command(BaseCommand):
    help = "Import places, the walking network and basemap layers from an OSM file."

    def add_arguments(self, parser):
        parser.add_argument("path", help=".osm or .osm.pbf file")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, path: str, no_progress: bool = False, **options):
        from yimi.analysis.osm import OsmReadError
        from yimi.places.osm_import import osm_import

        labels = {
            "read": _("Reading OSM"),
            "places": _("Finding places"),
            "network": _("Building the walking network"),
            "store-places": _("Saving places"),
            "store-network": _("Saving the walking network"),
        }
        try:
            with StageProgress(labels, enabled=not no_progress) as progress:
                run = osm_import(actor=None, path=path, progress=progress)
        except (ServiceError, OsmReadError, FileNotFoundError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        print_import_summary(self.stdout, run)


def print_import_summary(out, run) -> None:
    c = run.counts
    out.write(
        _("Imported %(file)s: %(status)s")
        % {"file": run.file_name, "status": run.get_status_display()}
    )
    out.write(
        _("  places: %(c)s new, %(u)s updated, %(n)s unchanged, %(r)s retired")
        % {
            "c": c["places_created"],
            "u": c["places_updated"],
            "n": c["places_unchanged"],
            "r": c["places_retired"],
        }
    )
    for code, n in c.get("per_category", {}).items():
        out.write("    " + _("%(category)s: %(n)s") % {"category": Category(code).label, "n": n})
    out.write(
        _("  walking network: %(n)s nodes, %(e)s edges, %(w)s ways changed")
        % {"n": c["network_nodes"], "e": c["network_edges"], "w": c["network_ways_changed"]}
    )
    out.write(_("  basemap features changed: %(n)s") % {"n": c["basemap_changed"]})
    out.write(_("  residential buildings changed: %(n)s") % {"n": c.get("buildings_changed", 0)})
