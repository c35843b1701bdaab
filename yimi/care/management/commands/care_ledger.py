"""``yimi care-ledger import FILE [--dry-run]`` and ``yimi care-ledger export OUT [--unmasked]``:
the 台账 from the command line, as a named user (their area, their permissions, their audit)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.core.console import StageProgress
from yimi.core.models import User
from yimi.core.services import ServiceError


class Command(BaseCommand):
    help = "Import a ledger (every row checked first; all rows or none) or export the ledger."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a ledger (.xlsx or .csv)")
        imp.add_argument("file")
        imp.add_argument(
            "--user", required=True, help="the user importing (director, supervisor or WCCO)"
        )
        imp.add_argument("--dry-run", action="store_true", help="check and show the plan only")
        imp.add_argument("--no-progress", action="store_true")
        exp = sub.add_parser("export", help="export the ledger as .xlsx (masked by default)")
        exp.add_argument("out")
        exp.add_argument("--user", required=True, help="the user exporting")
        exp.add_argument("--unmasked", action="store_true", help="needs care.export_unmasked")
        for key in ("area", "status", "category", "risk-level"):
            exp.add_argument(f"--{key}", default="")

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(u)s.") % {"u": username})
        return user

    def handle(self, *args, action: str, **options):
        from yimi.care.services.ledger import ledger_export, ledger_import

        user = self._user(options["user"])
        out = self.stdout.write
        if action == "export":
            filters = {
                "area": options["area"],
                "status": options["status"],
                "category": options["category"],
                "risk_level": options["risk_level"],
            }
            try:
                result = ledger_export(actor=user, unmasked=options["unmasked"], filters=filters)
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
            Path(options["out"]).write_bytes(result.content)
            out(
                _("%(n)s children exported to %(f)s (%(m)s).")
                % {
                    "n": result.count,
                    "f": options["out"],
                    "m": _("masked") if result.masked else _("unmasked"),
                }
            )
            return
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(_("%(p)s: no such file.") % {"p": path})
        labels = {
            "read": _("Reading"),
            "check": _("Checking rows"),
            "write": _("Saving"),
            "match": _("Policy finds the child"),
        }
        with StageProgress(labels, enabled=not options["no_progress"]) as progress:
            try:
                plan = ledger_import(
                    actor=user,
                    file=path.read_bytes(),
                    filename=path.name,
                    dry_run=options["dry_run"],
                    progress=progress,
                )
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
        if plan.error_count:
            for e in plan.errors:
                out(str(e))
            raise CommandError(_("%(n)s errors: nothing was imported.") % {"n": plan.error_count})
        for r in plan.updated_rows:
            changes = "; ".join(
                f"{c['column']}: {c['old'] or '—'} → {c['new']}" for c in r["changes"]
            )
            out(f"  {r['row']:>6}  {r['file_no']}  {changes}")
        summary = _("%(c)s new, %(u)s updated, %(n)s unchanged") % {
            "c": plan.created,
            "u": plan.updated,
            "n": plan.unchanged,
        }
        out(
            (_("Dry run, nothing written: %(s)s") if plan.dry_run else _("Imported: %(s)s"))
            % {"s": summary}
        )
