"""``yimi export-places OUT``: every public place as GeoJSON, Excel or CSV, in a chosen CRS."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.places.exports import audit_export, export_places
from yimi.places.selectors import place_list


class Command(BaseCommand):
    help = "Export places to .geojson, .xlsx or .csv (the format follows the file name)."

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--crs", default="wgs84", help="wgs84, gcj02 or bd09")
        parser.add_argument("--category", default=None, help="category code(s), comma-separated")

    def handle(self, *args, out: str, crs: str, category: str | None, **options):
        path = Path(out)
        fmt = path.suffix.lower().lstrip(".")
        places = list(place_list(user=None, category=category).prefetch_related("themes"))
        try:
            content, _ctype, _ext = export_places(places, fmt=fmt, crs=crs)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        path.write_bytes(content)
        audit_export(actor=None, fmt=fmt, crs=crs, count=len(places))
        self.stdout.write(_("Wrote %(n)s places to %(p)s") % {"n": len(places), "p": path})
