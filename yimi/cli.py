"""The ``yimi`` command: Django's management commands under one name (``yimi demo``, …)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yimi.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    # Commands are spelled with hyphens on the command line (import-osm) and with underscores
    # in Python (import_osm).
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["yimi", *args])


if __name__ == "__main__":
    main()
