"""``yimi care-rematch``: rebuild the 政策找人 worklist (every active policy × every child)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Re-check every active policy against every child on the register (政策找人)."

    def handle(self, *args, **options):
        from yimi.care.services.work import worklist_rematch

        started = time.perf_counter()
        outcome = worklist_rematch(actor=None)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"政策找人: {outcome.added} new, {outcome.lapsed} no longer qualify, "
            f"{outcome.kept} unchanged ({seconds:.2f} s)"
        )
