"""``yimi serve``: serve Yimi with waitress (a production WSGI server, pure Python)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Yimi on http://HOST:PORT (waitress)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host: str, port: int, threads: int, **options):
        serve(self.stdout, host=host, port=port, threads=threads)


def serve(out, *, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from yimi.wsgi import application

    call_command("check", deploy=False, verbosity=0)
    out.write(f"一米 Yimi: http://{host}:{port}/  (Ctrl+C)")
    waitress_serve(application, host=host, port=port, threads=threads, ident="yimi")
