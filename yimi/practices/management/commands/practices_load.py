"""``yimi practices-load``: check the practice library's data files and sync them into the
database (also done on every ``migrate``). Progress rows are never touched."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.practices import catalog
from yimi.practices.services import catalog_sync


class Command(BaseCommand):
    help = "Check the practice library's YAML files and load them (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", default=str(catalog.DATA_DIR), help="folder of area_N.yaml and gazetteer.yaml"
        )
        parser.add_argument("--check", action="store_true", help="only check the files")

    def handle(self, *args, dir: str, check: bool, **options):
        try:
            cat = catalog.load(dir)
        except catalog.CatalogError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _(
                "%(a)s policy areas, %(m)s measures, %(i)s items, %(c)s cases, %(g)s cities: the files are valid."
            )
            % {
                "a": len(cat.areas),
                "m": len(cat.measures()),
                "i": len(cat.items()),
                "c": len(cat.cases()),
                "g": len(cat.gazetteer),
            }
        )
        if check:
            return
        result = catalog_sync(catalog=cat)
        self.stdout.write(_("Loaded: %(r)s") % {"r": result})
