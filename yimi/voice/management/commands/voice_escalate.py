"""``yimi voice-escalate``: 催办 and 督办 of letters past their handling deadline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from yimi.voice.services.handling import suggestions_escalate, supervise_days


class Command(BaseCommand):
    help = (
        "催办/督办: a letter one day past its handling deadline is reminded (催办, level 1: the "
        "department sees it in its inbox); one YIMI_VOICE_SUPERVISE_DAYS (default 7) days late "
        "is supervised (督办, level 2: listed for the 妇儿工委办 with the days late). Idempotent: "
        "a letter reaches each level once. Run daily, e.g. from cron "
        "('20 6 * * * yimi voice-escalate') or a systemd timer; the staff pages can also queue it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="pretend today is this date (YYYY-MM-DD); for tests")

    def handle(self, *args, today=None, **options):
        day = None
        if today:
            day = parse_date(today)
            if day is None:
                raise CommandError(f"--today: not a date (YYYY-MM-DD): {today}")
        summary = suggestions_escalate(today=day)
        self.stdout.write(
            f"checked {summary.checked} late letter(s): {summary.reminded} reminded (催办), "
            f"{summary.supervised} supervised (督办; after {supervise_days()} days)"
        )
        for pk in summary.letters:
            self.stdout.write(f"  escalated letter #{pk}")
