"""``yimi care-escalate``: 督办 — escalate every order with a step past its deadline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from yimi.care.services.orders import orders_escalate


class Command(BaseCommand):
    help = (
        "督办: find orders whose confirmation, department task or follow-up visit is past its "
        "deadline (the policy's step_days), escalate them to the 妇儿工委办 of their area and "
        "log each escalation (order step and audit row). An order is escalated once per late "
        "deadline and again each week while it stays late. A deployment runs this daily, e.g. "
        "from cron ('15 6 * * * yimi care-escalate') or a systemd timer (OnCalendar=daily); "
        "the orders page can also queue it as a background task."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="pretend it is this time (ISO 8601, e.g. 2026-12-01T08:00:00+08:00); for tests",
        )

    def handle(self, *args, now=None, **options):
        at = None
        if now:
            at = parse_datetime(now)
            if at is None:
                raise CommandError(f"--now: not an ISO 8601 time: {now}")
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        summary = orders_escalate(now=at)
        self.stdout.write(
            f"checked {summary.checked} open order(s); escalated {summary.escalated} "
            f"({summary.late_steps} late step(s))"
        )
        for number in summary.orders:
            self.stdout.write(f"  escalated {number}")
