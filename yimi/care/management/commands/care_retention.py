"""``yimi care-retention [--dry-run]``: anonymise records closed longer than the retention period.

Closed and transferred records are kept ``YIMI_CARE_RETENTION_DAYS`` after closing; then names,
ID numbers, contact, health and other details, family names, documents and visit notes are
cleared and the keyed hashes dropped. File number, area, categories and counts stay for
statistics.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yimi.care.services.records import retention_run
from yimi.core.console import StageProgress


class Command(BaseCommand):
    help = "Anonymise closed or transferred children's records past the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the records that are due"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, dry_run: bool = False, no_progress: bool = False, **options):
        labels = {"anonymise": _("Anonymising records")}
        with StageProgress(labels, enabled=not no_progress) as progress:
            totals = retention_run(actor=None, dry_run=dry_run, progress=progress)
        days = settings.YIMI_CARE_RETENTION_DAYS
        if dry_run:
            self.stdout.write(
                _("%(n)s records closed more than %(days)s days ago would be anonymised.")
                % {"n": totals["children"], "days": days}
            )
            return
        self.stdout.write(
            _("Anonymised %(n)s records closed more than %(days)s days ago.")
            % {"n": totals["children"], "days": days}
        )
        if totals["children"]:
            self.stdout.write(
                _(
                    "  cleared: %(family)s family members, %(visits)s visits, "
                    "%(assessments)s assessments, %(consents)s consents, %(orders)s orders; "
                    "%(documents)s documents deleted"
                )
                % {
                    k: totals.get(k, 0)
                    for k in ("family", "visits", "assessments", "consents", "orders", "documents")
                }
            )
