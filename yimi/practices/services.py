"""Writes of the practice library: syncing the catalogue from the data files and the city's
self-assessment. Every write is atomic and audited (yimi.core.services.audit_record)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from yimi.core.models import AuditLog, Department, User
from yimi.core.services import PermissionDenied, ServiceError, audit_record, snapshot

from . import catalog as cat
from . import policy
from .models import Case, EvidenceKind, Item, Measure, MeasureProgress, PolicyArea, ProgressStatus

# ------------------------------------------------------------------------------ catalogue sync


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    retired: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return _(
            "%(c)s new, %(u)s updated, %(d)s removed, %(r)s measures retired, %(n)s unchanged"
        ) % {
            "c": self.created,
            "u": self.updated,
            "d": self.deleted,
            "r": self.retired,
            "n": self.unchanged,
        }


def _upsert(model, existing: dict, lookup: dict, values: dict, result: SyncResult):
    """Create or update the row of ``model`` matched by ``lookup`` (a single field); ``existing``
    holds the current rows by that field, read once per model, so a sync with nothing to change
    costs a handful of queries, not one per row."""
    obj = existing.get(next(iter(lookup.values())))
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        result.created += 1
        return obj
    changed = [
        k
        for k, v in values.items()
        if getattr(obj, k if not hasattr(v, "pk") else f"{k}_id")
        != (v.pk if hasattr(v, "pk") else v)
    ]
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        result.updated += 1
    else:
        result.unchanged += 1
    return obj


@transaction.atomic
def catalog_sync(*, catalog: cat.Catalog, actor: User | None = None) -> SyncResult:
    """Bring the tables up to ``catalog``, matched by stable codes and ids; idempotent.

    Cases and items no longer in the data are deleted; measures are only marked retired, so a
    city's progress on them is kept. Progress rows are never written here.
    """
    result = SyncResult()
    keep_measures: set[str] = set()
    keep_items: set[str] = set()
    keep_cases: set[str] = set()
    areas = {o.number: o for o in PolicyArea.objects.all()}
    measures = {o.code: o for o in Measure.objects.all()}
    items = {o.code: o for o in Item.objects.all()}
    cases = {o.key: o for o in Case.objects.all()}
    for a in catalog.areas:
        area = _upsert(
            PolicyArea,
            areas,
            {"number": a.number},
            {"numeral": a.numeral, "title": a.title},
            result,
        )
        for m in a.measures:
            keep_measures.add(m.code)
            measure = _upsert(
                Measure,
                measures,
                {"code": m.code},
                {
                    "slug": f"{a.number}-{m.number}",
                    "area": area,
                    "number": m.number,
                    "title": m.title,
                    "tags": m.tags,
                    "yimi_parts": m.yimi_parts,
                    "planned_parts": m.planned_parts,
                    "retired": False,
                },
                result,
            )
            for it in m.items:
                keep_items.add(it.code)
                item = _upsert(
                    Item,
                    items,
                    {"code": it.code},
                    {"measure": measure, "number": it.number, "title": it.title},
                    result,
                )
                for pos, c in enumerate(it.cases):
                    keep_cases.add(c.id)
                    city = catalog.gazetteer[c.city]
                    _upsert(
                        Case,
                        cases,
                        {"key": c.id},
                        {
                            "item": item,
                            "position": pos,
                            "province": c.province,
                            "city": c.city,
                            "district": c.district,
                            "lon": city.lon,
                            "lat": city.lat,
                            "title": c.title,
                            "summary": c.summary,
                            "years": c.years,
                            "figures": [
                                {"label": f.label, "value": f.value, "unit": f.unit}
                                for f in c.figures
                            ],
                            "documents": c.documents,
                            "tags": c.tags,
                            "source": c.source,
                            "documents_text": "\n".join(c.documents),
                            "tags_text": "|" + "|".join(c.tags) + "|" if c.tags else "",
                        },
                        result,
                    )
    gone_cases = Case.objects.exclude(key__in=keep_cases)
    gone_items = Item.objects.exclude(code__in=keep_items)
    result.deleted += gone_cases.count() + gone_items.count()
    gone_cases.delete()
    gone_items.delete()
    result.retired = (
        Measure.objects.exclude(code__in=keep_measures).filter(retired=False).update(retired=True)
    )
    numbers = {a.number for a in catalog.areas}
    if result.created or result.updated or result.deleted or result.retired:
        audit_record(
            actor=actor,
            action=AuditLog.Action.IMPORT,
            object_type="practices.catalog",
            object_repr=_("Practice library"),
            after={
                "areas": sorted(numbers),
                "measures": len(keep_measures),
                "items": len(keep_items),
                "cases": len(keep_cases),
                "created": result.created,
                "updated": result.updated,
                "deleted": result.deleted,
                "retired": result.retired,
            },
        )
    return result


def catalog_load_and_sync(
    *, directory: Path | str | None = None, actor: User | None = None
) -> SyncResult:
    catalog = cat.load(directory or cat.DATA_DIR)
    return catalog_sync(catalog=catalog, actor=actor)


def catalog_sync_after_migrate(sender, using="default", verbosity=1, **kwargs) -> None:
    """post_migrate: load the shipped catalogue. Broken or missing data never blocks a migrate;
    `yimi practices-load` reports the problems."""
    import logging

    from django.db import connections

    log = logging.getLogger(__name__)
    if not any(cat.DATA_DIR.glob("area_*.yaml")):
        return
    if "practices_case" not in connections[using].introspection.table_names():
        return
    try:
        result = catalog_load_and_sync()
    except cat.CatalogError as exc:
        log.warning("practice library not loaded: %s", exc)
        return
    if verbosity >= 2:
        print(f"practices: {result}")  # noqa: T201


# ------------------------------------------------------------------------------ self-assessment

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Extension → (MIME type, test of the file's first bytes). Office files are ZIP containers.
EVIDENCE_TYPES: dict[str, tuple[str, bytes]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
}

_SNAPSHOT_EXCLUDE = ("updated_by", "evidence_file_type")


def _progress_snapshot(p: MeasureProgress) -> dict:
    data = snapshot(p, exclude=(*_SNAPSHOT_EXCLUDE, "evidence_file"))
    data["evidence_file"] = p.evidence_file.name or ""
    return data


def evidence_check_file(*, name: str, data: bytes) -> tuple[str, str]:
    """Return (safe extension, MIME type) or raise ServiceError in Chinese."""
    ext = Path(name or "").suffix.lower()
    if ext not in EVIDENCE_TYPES:
        raise ServiceError(
            _("This file type is not accepted. Use PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx).")
        )
    if not data:
        raise ServiceError(_("The file is empty."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ServiceError(
            _("The file is too big (%(n)s MB). The limit is %(max)s MB.")
            % {"n": round(len(data) / 1024 / 1024, 1), "max": MAX_EVIDENCE_BYTES // 1024 // 1024}
        )
    mime, magic = EVIDENCE_TYPES[ext]
    if not data.startswith(magic):
        raise ServiceError(
            _("The file's content does not match its name (%(ext)s).") % {"ext": ext}
        )
    return ext, mime


def evidence_resolve(*, user: User, kind: str, object_id: int | None) -> str:
    """The label of the linked Yimi object, checked to exist and to be visible to ``user``."""
    from . import selectors

    if kind in ("", EvidenceKind.FILE):
        return ""
    if kind not in EvidenceKind.values:
        raise ServiceError(_("Unknown kind of evidence “%(k)s”.") % {"k": kind})
    if not object_id:
        raise ServiceError(_("Choose the object that shows the evidence."))
    obj = selectors.evidence_choices_qs(user, kind).filter(pk=object_id).first()
    if obj is None:
        raise ServiceError(
            _("The linked %(kind)s #%(id)s does not exist or you cannot see it.")
            % {"kind": EvidenceKind(kind).label, "id": object_id}
        )
    return str(obj)[:255]


@transaction.atomic
def progress_update(
    *,
    actor: User,
    measure: Measure,
    status: str,
    note: str = "",
    department: Department | None = None,
    target_date: dt.date | None = None,
    evidence_kind: str = "",
    evidence_object_id: int | None = None,
    evidence_upload: tuple[str, bytes] | None = None,
    keep_file: bool = True,
    ip: str | None = None,
) -> MeasureProgress:
    """Set the city's self-assessment of ``measure`` (WCCO and administrators only).

    ``evidence_upload`` is (file name, bytes); with evidence_kind "file" and no upload the
    file already stored is kept when ``keep_file``.
    """
    if not policy.can_edit_progress(actor):
        raise PermissionDenied(
            _(
                "Only the Women and Children Working Committee Office and administrators may change the self-assessment."
            )
        )
    if status not in ProgressStatus.values:
        raise ServiceError(_("Unknown status “%(s)s”.") % {"s": status})
    note = (note or "").strip()
    if len(note) > 2000:
        raise ServiceError(_("The note is too long (at most 2000 characters)."))
    if measure.retired:
        raise ServiceError(_("This measure is no longer in the list."))
    progress = MeasureProgress.objects.select_for_update().filter(measure=measure).first()
    created = progress is None
    if created:
        progress = MeasureProgress(measure=measure)
    before = None if created else _progress_snapshot(progress)

    label = evidence_resolve(user=actor, kind=evidence_kind, object_id=evidence_object_id)
    upload = None
    if evidence_upload is not None:
        name, data = evidence_upload
        ext, mime = evidence_check_file(name=name, data=data)
        upload = (Path(name).name[-200:], ext, mime, data)
        evidence_kind = EvidenceKind.FILE
    if (
        evidence_kind == EvidenceKind.FILE
        and upload is None
        and not (keep_file and progress.evidence_file)
    ):
        raise ServiceError(_("Choose a file to upload as evidence."))

    progress.status = status
    progress.note = note
    progress.department = department
    progress.target_date = target_date
    progress.evidence_kind = evidence_kind
    progress.evidence_object_id = (
        evidence_object_id if evidence_kind not in ("", EvidenceKind.FILE) else None
    )
    progress.evidence_label = label
    old_file = progress.evidence_file.name if progress.evidence_file else ""
    if upload is not None:
        fname, ext, mime, data = upload
        progress.evidence_file.save(f"{uuid.uuid4().hex}{ext}", ContentFile(data), save=False)
        progress.evidence_file_name = fname
        progress.evidence_file_type = mime
        progress.evidence_label = fname
    elif evidence_kind == EvidenceKind.FILE:
        progress.evidence_label = progress.evidence_file_name
    else:
        progress.evidence_file = ""
        progress.evidence_file_name = ""
        progress.evidence_file_type = ""
    progress.updated_by = actor
    progress.save()
    after = _progress_snapshot(progress)
    if created or before != after:
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE,
            obj=progress,
            object_repr=f"{measure.code} {measure.title}"[:255],
            before=before,
            after=after,
            area_path=actor.area.path if actor.area_id else "",
            ip=ip,
        )
    new_file = progress.evidence_file.name if progress.evidence_file else ""
    if old_file and old_file != new_file:
        storage = MeasureProgress._meta.get_field("evidence_file").storage
        transaction.on_commit(lambda: storage.delete(old_file))
    return progress


def progress_export_audit(*, actor: User, fmt: str, rows: int, ip: str | None = None) -> None:
    audit_record(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        object_type="practices.measureprogress",
        object_repr=_("Self-assessment export (%(fmt)s)") % {"fmt": fmt},
        after={"format": fmt, "rows": rows},
        area_path=actor.area.path if actor.area_id else "",
        ip=ip,
    )
