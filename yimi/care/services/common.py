"""Helpers every care service uses: audit rows without personal data, timeline entries, reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, models
from django.utils import timezone

from yimi.core.fields import EncryptedBinaryField, EncryptedJSONField, EncryptedTextField
from yimi.core.models import AuditLog, User
from yimi.core.services import audit_record, redacted_snapshot

from ..models import Child, ChildEvent

_ENCRYPTED = (EncryptedTextField, EncryptedJSONField, EncryptedBinaryField)


def encrypted_field_names(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if isinstance(f, _ENCRYPTED))


def care_snapshot(obj: models.Model) -> dict[str, Any]:
    """:func:`yimi.core.services.redacted_snapshot`: encrypted fields redacted, hashes left out."""
    return redacted_snapshot(obj)


def actor_name(actor: User | None) -> str:
    if actor is None or not actor.is_authenticated:
        return "system"
    return (str(actor) or actor.get_username())[:150]


def event_add(
    *,
    child: Child,
    kind: str,
    summary: str,
    actor: User | None,
    section: str = "basic",
    obj: models.Model | None = None,
) -> ChildEvent:
    """Append an entry to the child's timeline. ``summary`` must carry no name or ID number."""
    real = actor if actor is not None and actor.is_authenticated else None
    return ChildEvent.objects.create(
        child=child,
        kind=kind,
        summary=summary[:500],
        actor=real,
        actor_name=actor_name(actor),
        section=section,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )


def audit_child_read(
    *,
    actor: User | None,
    child: Child,
    sections: Iterable[str],
    what: str = "record",
    ip: str | None = None,
) -> AuditLog:
    """Audit one read of a child's record: who, which child, which sections, when.

    The row carries the child's area path, so the area's administrator finds it on /audit/.
    """
    names = sorted(set(sections))
    return audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        object_type="care.child",
        object_id=str(child.pk),
        object_repr=child.file_no,
        after={"sections": names, "what": what},
        note=f"{what}: {', '.join(names)}",
        area_path=child.area.path,
        ip=ip,
    )


def bulk_insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    batch: int = 2000,
    prepared: frozenset[str] = frozenset(),
) -> None:
    """INSERT ``rows`` ({attname: value}) with one prepared statement per batch (executemany).

    For imports and re-matches of 100,000s of rows, where ``bulk_create`` spends most of its time
    building model instances and SQL: values are still prepared by their field (encryption, JSON,
    dates); missing ones take the field's default, ``auto_now``/``auto_now_add`` ones the current
    time. ``prepared``: attnames whose values are already in database form (e.g. JSON text
    serialised once for many rows). Primary keys are not returned; read them back by a unique
    column when needed.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    getters = []
    for f in fields:
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        default = f.get_db_prep_save(now if auto else f.get_default(), connection)
        # The database driver takes these Python values as they are.
        as_is = isinstance(
            f, models.CharField | models.BooleanField | models.IntegerField | models.ForeignKey
        ) and not isinstance(f, _ENCRYPTED)
        as_is = as_is or f.attname in prepared
        getters.append((f.attname, as_is, f.get_db_prep_save, default))
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the model)
    with connection.cursor() as cur:
        for i in range(0, len(rows), batch):
            cur.executemany(
                sql,
                [
                    tuple(
                        default
                        if name not in row
                        else row[name]
                        if as_is
                        else prep(row[name], connection)
                        for name, as_is, prep, default in getters
                    )
                    for row in rows[i : i + batch]
                ],
            )


def audit_list_read(
    *,
    actor: User | None,
    children: Iterable[Child],
    what: str = "list",
    ip: str | None = None,
) -> AuditLog | None:
    """Audit one page of a list of children: who saw which files (by file number), when.

    One row per page shown, in the reader's area (which holds every child the list can show).
    """
    file_nos = [c.file_no for c in children]
    if not file_nos:
        return None
    area = getattr(actor, "area", None)
    return audit_record(
        actor=actor,
        action=AuditLog.Action.READ,
        object_type="care.child",
        object_repr=f"{len(file_nos)} children"[:255],
        after={"file_nos": file_nos, "sections": ["basic"], "what": what},
        note=f"{what}: {', '.join(file_nos)}"[:2000],
        area_path=area.path if area is not None else "",
        ip=ip,
    )
