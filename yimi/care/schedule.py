"""The visit schedule: when a child is next due a visit, from the risk level (a setting)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Child, Status, Visit


def visit_interval_days(risk_level: str) -> int:
    """Days between visits for a risk level (``YIMI_CARE_VISIT_DAYS``; unknown levels: lowest)."""
    days = settings.YIMI_CARE_VISIT_DAYS
    return int(days.get(risk_level) or max(days.values()))


def next_visit_due(risk_level: str, last_visit: date | None, registered: date) -> date:
    """Due ``interval`` days after the last visit; a child never visited is due on registration."""
    if last_visit is None:
        return registered
    return last_visit + timedelta(days=visit_interval_days(risk_level))


def child_schedule_refresh(*, child: Child, save: bool = True) -> date | None:
    """Recompute ``child.next_visit_due`` (None when the case is closed or transferred)."""
    if child.status != Status.ACTIVE or child.anonymised_at is not None:
        due = None
    else:
        last = (
            Visit.objects.filter(child=child)
            .order_by("-visited_on")
            .values_list("visited_on", flat=True)
            .first()
        )
        registered = (
            timezone.localtime(child.created_at).date()
            if child.created_at
            else (timezone.localdate())
        )
        due = next_visit_due(child.risk_level, last, registered)
    if child.next_visit_due != due:
        child.next_visit_due = due
        if save and child.pk:
            Child.objects.filter(pk=child.pk).update(next_visit_due=due)
    return due
