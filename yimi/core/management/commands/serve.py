"""``yimi serve``: serve Yimi with waitress, with a background-task worker beside it."""

from __future__ import annotations

import atexit
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Serve Yimi on http://HOST:PORT (waitress) and run a background-task worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start a background-task worker"
        )

    def handle(self, *args, host: str, port: int, threads: int, no_worker: bool, **options):
        serve(self.stdout, host=host, port=port, threads=threads, worker=not no_worker)


def start_worker(out) -> subprocess.Popen | None:
    """A ``yimi db_worker`` process for analyses and imports started from the web pages."""
    backend = settings.TASKS["default"]["BACKEND"]
    if not backend.startswith("django_tasks_db."):
        return None
    proc = subprocess.Popen(  # the same interpreter and settings as this process
        [sys.executable, "-m", "yimi", "db_worker", "--no-reload", "--interval", "1"],
    )
    atexit.register(proc.terminate)
    out.write(_("Background worker started (pid %(pid)s).") % {"pid": proc.pid})
    return proc


def _require_migrated() -> None:
    from django.core.management.base import CommandError
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(_("The database is not up to date: run `yimi migrate` first."))


def serve(
    out, *, host: str = "127.0.0.1", port: int = 8000, threads: int = 8, worker: bool = True
) -> None:
    from waitress import serve as waitress_serve

    from yimi.wsgi import application

    call_command("check", deploy=False, verbosity=0)
    _require_migrated()
    proc = start_worker(out) if worker else None
    out.write(f"一米 Yimi: http://{host}:{port}/  (Ctrl+C)")
    try:
        waitress_serve(application, host=host, port=port, threads=threads, ident="yimi")
    finally:
        if proc is not None:
            proc.terminate()
