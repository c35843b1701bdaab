"""``yimi demo``: a demo city on the real sample OSM data, then the web app on port 8000."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Set up a demo city on the real sample data and serve it (safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="stop before serving")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="give the demo users new passwords and print them",
        )

    def handle(self, *args, no_serve: bool, port: int, host: str, reset_passwords: bool, **options):
        from yimi.core.demo import build_city, build_users
        from yimi.places.demo import build_themes_and_routes, fetch_sample
        from yimi.places.management.commands.import_osm import print_import_summary
        from yimi.places.osm_import import osm_import
        from yimi.sample_data import DataFileError

        out = self.stdout.write
        out(_("Migrating the database …"))
        call_command("migrate", interactive=False, verbosity=0)
        areas = build_city(out)
        build_users(areas, out, reset_passwords=reset_passwords)
        try:
            path = fetch_sample(out)
        except DataFileError as exc:
            raise CommandError(str(exc)) from exc
        from yimi.core.console import StageProgress

        with StageProgress(
            {
                "read": _("Reading OSM"),
                "places": _("Finding places"),
                "network": _("Building the walking network"),
                "store-places": _("Saving places"),
                "store-network": _("Saving the walking network"),
            }
        ) as progress:
            run = osm_import(actor=None, path=path, progress=progress)
        print_import_summary(self.stdout, run)
        build_themes_and_routes(actor=None, out=out)
        from yimi.access.demo import build_access_demo

        build_access_demo(out)
        from yimi.care.demo import build_care_demo

        build_care_demo(out)
        from yimi.voice.demo import build_voice_demo

        build_voice_demo(out)
        from yimi.practices.demo import build_practices_demo

        build_practices_demo(out)
        out(
            _("Done. Map: http://%(h)s:%(p)s/map/  Log in: http://%(h)s:%(p)s/login/")
            % {"h": host, "p": port}
        )
        if not no_serve:
            from yimi.core.management.commands.serve import serve

            serve(self.stdout, host=host, port=port)
