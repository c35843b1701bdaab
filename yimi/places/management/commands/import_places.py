"""``yimi import-places FILE``: places from Excel (.xlsx), CSV or GeoJSON; all rows or none."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.core.console import StageProgress
from yimi.core.services import ServiceError
from yimi.places import tabular
from yimi.places.models import Place
from yimi.places.services import places_import_rows


class Command(BaseCommand):
    help = "Import places from .xlsx, .csv or .geojson (a file with any error imports nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--crs", default="wgs84", help="coordinates: wgs84, gcj02 (高德/腾讯) or bd09 (百度)"
        )

    def handle(self, *args, path: str, crs: str, **options):
        file = Path(path)
        if not file.exists():
            raise CommandError(_("%(p)s: no such file.") % {"p": file})
        content = file.read_bytes()
        try:
            if file.suffix.lower() in (".geojson", ".json"):
                parsed = tabular.parse_geojson(content, file.name, default_crs=crs)
                source = Place.Source.GEOJSON
            else:
                parsed = tabular.parse_table(content, file.name, default_crs=crs)
                source = Place.Source.TABLE
        except tabular.ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        errors = parsed.errors
        if not errors:
            try:
                with StageProgress({"save": _("Saving places")}) as progress:
                    counts = places_import_rows(
                        actor=None,
                        rows=parsed.rows,
                        source=source,
                        file_name=file.name,
                        progress=lambda d, t: progress("save", d, t),
                    )
            except ServiceError as exc:
                errors = [tabular.RowError(**d) for d in exc.details]
        if errors:
            for e in errors:
                self.stderr.write(f"{file.name}: {e}")
            raise CommandError(_("The file has errors; nothing was imported."))
        self.stdout.write(
            _("Imported %(file)s: %(c)s new, %(u)s updated, %(n)s unchanged")
            % {
                "file": file.name,
                "c": counts["created"],
                "u": counts["updated"],
                "n": counts["unchanged"],
            }
        )
