"""Reads of the children's mailbox. The receipt lookup answers only what the public may know."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from yimi.core.models import Area

from ..models import Suggestion, Topic
from ..services.mailbox import RECEIPT_LENGTH, receipt_code_display, receipt_code_normalise


def receipt_lookup(code: str) -> dict[str, Any] | None:
    """The public status of the suggestion with this receipt code, or None.

    Only the status, topic, date, public reply and adoption decision: never the text, the
    picture, the age group, the place or anything about the child or the guardian.
    """
    code = receipt_code_normalise(code)
    if len(code) != RECEIPT_LENGTH:
        return None
    row = (
        Suggestion.objects.filter(receipt_code=code)
        .values("receipt_code", "status", "topic", "created_at", "public_reply", "adoption")
        .first()
    )
    if row is None:
        return None
    return {
        "receipt_code": receipt_code_display(row["receipt_code"]),
        "status": row["status"],
        "status_label": str(Suggestion.Status(row["status"]).label),
        "topic": row["topic"],
        "topic_label": str(Topic(row["topic"]).label) if row["topic"] in Topic.values else "",
        "submitted_on": timezone.localdate(row["created_at"]),
        "public_reply": row["public_reply"],
        "adoption": row["adoption"],
    }


def area_choices() -> list[tuple[int, str]]:
    """Districts, streets and communities a child may pick when no place on the map fits."""
    qs = Area.objects.filter(
        level__in=(Area.Level.DISTRICT, Area.Level.STREET, Area.Level.COMMUNITY)
    )
    return [(a.pk, a.name) for a in qs.only("pk", "name")[:500]]
