"""Reads for the ledger page and export: the children a user may see, filtered."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yimi.core.models import AuditLog, User

from .. import policy
from ..models import Child

FILTERS = ("area", "status", "category", "risk_level")


def ledger_children(*, actor: User, filters: dict[str, Any] | None = None) -> QuerySet[Child]:
    """The children ``actor`` may see (:func:`policy.children_visible_to`), with the filters
    ``area`` (a division code: that area and below), ``status``, ``category``, ``risk_level``."""
    qs = policy.children_visible_to(actor)
    filters = filters or {}
    if filters.get("area"):
        qs = qs.filter(area__path__contains=f"/{filters['area']}/")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("risk_level"):
        qs = qs.filter(risk_level=filters["risk_level"])
    if filters.get("category"):
        # JSON list membership, portable across SQLite and PostgreSQL.
        qs = qs.filter(categories__icontains=f'"{filters["category"]}"')
    return qs.order_by("file_no")


def ledger_history(*, actor: User, limit: int = 20) -> QuerySet[AuditLog]:
    """The latest ledger imports and exports within the actor's area."""
    return (
        AuditLog.objects.visible_to(actor)
        .filter(object_type="care.ledger")
        .order_by("-created_at")[:limit]
    )
