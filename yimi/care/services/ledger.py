"""The 台账 (ledger): importing a whole register of children at once, and exporting it.

Import checks every row before anything is written; one bad row and nothing is written, with
every error reported by row and Chinese column. Children already on the register (found through
the keyed hash of the ID number, never by decrypting) are updated, and the plan shows each change
field by field (personal values masked). The write is one transaction of bulk inserts and
updates, one timeline entry per child, one audit row, then one re-match of 政策找人 — so a
100,000-row ledger imports in well under a minute.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core import keys
from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record
from yimi.core.tables import ImportFileError, RowError, read_table

from .. import ledger_format as fmt
from .. import masking, matching, policy
from ..identity import mask_id_number
from ..models import Child, ChildEvent, FamilyMember, Risk, Status, Visit
from ..schedule import next_visit_due
from .common import actor_name, bulk_insert

Progress = Callable[[str, int, int | None], None]

MAX_ERRORS = 500  # errors reported (the count is always complete)
MAX_PREVIEW = 200  # rows listed per kind in a plan (the counts are always complete)
BATCH = 500
_CHUNK = 900  # ids per IN (…) query (SQLite's variable limit)

# The fields of a child a ledger row sets, with the column they come from.
_PLAIN = ("categories", "risk_level", "status", "school_stage", "low_income")
_SECRET = ("name", "address", "phone", "school", "notes")


@dataclass
class ImportPlan:
    """What an import would do (``dry_run``) or did: counts, previews, errors."""

    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_rows: list[dict] = field(default_factory=list)
    updated_rows: list[dict] = field(default_factory=list)
    unchanged_rows: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    written: bool = False
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "new_rows": self.new_rows,
            "updated_rows": self.updated_rows,
            "unchanged_rows": self.unchanged_rows,
            "errors": [e.as_dict() for e in self.errors],
            "error_count": self.error_count,
            "written": self.written,
            "dry_run": self.dry_run,
        }


def can_import(user: User | None) -> bool:
    """Caseworkers and the 妇儿工委办 of an area import ledgers for that area."""
    return policy.is_caseworker(user) or (
        policy.role(user) == Role.WCCO and user.area_id is not None
    )


def can_export(user: User | None) -> bool:
    return policy.is_caseworker(user) or policy.is_oversight(user)


# ------------------------------------------------------------------------------ import


def _display(key: str, value: Any) -> str:
    """A value as the diff shows it: vocabularies in Chinese, personal text masked."""
    if value in (None, "", []):
        return ""
    if key == "categories":
        return "、".join(fmt.CATEGORY_LABELS.get(c, c) for c in value)
    if key == "risk_level":
        return fmt.RISK_LABELS.get(value, value)
    if key == "status":
        return fmt.STATUS_LABELS.get(value, value)
    if key == "school_stage":
        return fmt.STAGE_LABELS.get(value, value)
    if key == "low_income":
        return "是" if value else "否"
    if key == "guardian_relation":
        return fmt.RELATION_LABELS.get(value, value)
    if key in ("name", "guardian_name"):
        return masking.mask_name(value)
    if key in ("phone", "guardian_phone"):
        return masking.mask_phone(value)
    if key in ("address", "school", "notes", "health", "disability_type"):
        return masking.mask_text(value)
    return str(value)


def _current(child: Child, guardian: FamilyMember | None) -> dict[str, Any]:
    """A stored child as ledger values (for the diff)."""
    return {
        "name": child.name,
        "categories": list(child.categories or []),
        "risk_level": child.risk_level,
        "status": child.status,
        "school_stage": child.school_stage,
        "low_income": child.low_income,
        "area_code": child.area.code,
        "address": child.address or None,
        "phone": child.phone or None,
        "school": child.school or None,
        "notes": child.notes or None,
        "health": (child.health or {}).get("conditions") or None,
        "disability_type": (child.disability or {}).get("type") or None,
        "disability_grade": child.disability_grade,
        "guardian_name": guardian.name if guardian else None,
        "guardian_relation": guardian.relation if guardian else None,
        "guardian_phone": (guardian.phone or None) if guardian else None,
    }


_DIFF_KEYS = (
    "name",
    "categories",
    "risk_level",
    "status",
    "area_code",
    "address",
    "phone",
    "school",
    "school_stage",
    "low_income",
    "disability_type",
    "disability_grade",
    "health",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "notes",
)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """Changed fields; an empty cell in the ledger leaves the stored value as it is."""
    out = []
    for key in _DIFF_KEYS:
        value = new.get(key)
        if value is None or value == []:
            continue
        if key == "categories":
            if sorted(value) == sorted(old.get(key) or []):
                continue
        elif value == old.get(key):
            continue
        out.append(
            {
                "key": key,
                "column": fmt.HEADERS[key],
                "old": _display(key, old.get(key)),
                "new": _display(key, value),
            }
        )
    return out


def _read(file: Any, filename: str) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if hasattr(file, "read"):
        data = file.read()
        return data if isinstance(data, bytes) else data.encode("utf-8")
    raise ServiceError(_("No file was uploaded."))


def _in_chunks(values: list, size: int = _CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _file_numbers(areas: dict[str, Area], wanted: dict[str, int]) -> dict[str, list[str]]:
    """``wanted[code]`` new file numbers per area code: ``<code>-00001`` onwards, unused ones."""
    out: dict[str, list[str]] = {}
    for code, n in wanted.items():
        prefix = f"{code}-"
        used = set(
            Child.objects.filter(file_no__startswith=prefix).values_list("file_no", flat=True)
        )
        numbers, i = [], len(used)
        while len(numbers) < n:
            i += 1
            candidate = f"{prefix}{i:05d}"
            if candidate not in used:
                numbers.append(candidate)
        out[code] = numbers
    return out


def ledger_import(
    *,
    actor: User,
    file: Any,
    filename: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportPlan:
    """Check a ledger and, unless ``dry_run`` or a row has an error, write it atomically.

    Returns the plan (new, updated with field diffs, unchanged, errors). A file that cannot be
    read at all raises :class:`ServiceError`; row errors are returned in the plan, nothing written.
    """
    if not can_import(actor):
        raise PermissionDenied(
            _("Only child directors, supervisors and the WCCO of an area may import a ledger.")
        )
    content = _read(file, filename)
    try:
        raw = fmt.xlsx_rows(content, filename) if filename.lower().endswith(".xlsx") else None
        if progress:
            progress("read", 1, 1)
        table, _used = read_table(content, filename, fmt.COLUMNS, rows=raw)
    except ImportFileError as exc:
        raise ServiceError(str(exc)) from exc
    plan = ImportPlan(filename=filename, rows=len(table), dry_run=dry_run)
    errors: list[RowError] = []
    today = timezone.localdate()
    total = len(table)

    # 1. Each row on its own: formats and vocabularies.
    parsed: list[fmt.LedgerRow] = []
    for i, (row, cells) in enumerate(table, start=1):
        lrow, errs = fmt.parse_row(row, cells, today=today)
        errors.extend(errs)
        parsed.append(lrow)
        if progress and (i % 5000 == 0 or i == total):
            progress("check", i, total)

    # 2. Areas: must exist, be a community or grid, and lie within the actor's area.
    codes = {r.data["area_code"] for r in parsed if r.data["area_code"]}
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    scope = actor.area.path
    for r in parsed:
        code = r.data["area_code"]
        if not code or not code.isdigit():
            continue
        area = areas.get(code)
        if area is None:
            msg = _("no area has the division code %(code)s") % {"code": code}
        elif area.level not in (Area.Level.COMMUNITY, Area.Level.GRID):
            msg = _("%(area)s is not a community or grid") % {"area": area}
        elif not area.path.startswith(scope):
            msg = _("%(area)s is outside your area") % {"area": area}
        else:
            continue
        errors.append(RowError(row=r.row, column=fmt.HEADERS["area_code"], message=msg))

    # 3. Duplicates within the file and against the register, through keyed hashes.
    by_hash: dict[str, fmt.LedgerRow] = {}
    by_file_no: dict[str, int] = {}
    for r in parsed:
        number = r.data["id_number"]
        if number:
            h = keys.match_hash(number, purpose="id_number")
            r.data["id_hash"] = h
            first = by_hash.get(h)
            if first is not None:
                errors.append(
                    RowError(
                        row=r.row,
                        column=fmt.HEADERS["id_number"],
                        message=_("the same ID number as row %(row)s") % {"row": first.row},
                    )
                )
            else:
                by_hash[h] = r
        file_no = r.data["file_no"]
        if file_no:
            if file_no in by_file_no:
                errors.append(
                    RowError(
                        row=r.row,
                        column=fmt.HEADERS["file_no"],
                        message=_("the same file number as row %(row)s")
                        % {"row": by_file_no[file_no]},
                    )
                )
            else:
                by_file_no[file_no] = r.row
    existing_ids: dict[str, int] = {}
    for chunk in _in_chunks(list(by_hash)):
        existing_ids.update(Child.objects.filter(id_hash__in=chunk).values_list("id_hash", "pk"))
    visible = set()
    for chunk in _in_chunks(list(existing_ids.values())):
        visible.update(
            policy.children_visible_to(actor).filter(pk__in=chunk).values_list("pk", flat=True)
        )
    existing: dict[int, Child] = {}
    guardians: dict[int, FamilyMember] = {}
    ids = [pk for pk in existing_ids.values() if pk in visible]
    for chunk in _in_chunks(ids):
        for child in Child.objects.filter(pk__in=chunk).select_related("area"):
            existing[child.pk] = child
        for member in FamilyMember.objects.filter(child_id__in=chunk, is_guardian=True).order_by(
            "-id"
        ):
            guardians[member.child_id] = member  # the first guardian wins (ordered last)
    file_nos_taken: dict[str, int] = {}
    for chunk in _in_chunks(list(by_file_no)):
        file_nos_taken.update(Child.objects.filter(file_no__in=chunk).values_list("file_no", "pk"))

    creates: list[fmt.LedgerRow] = []
    updates: list[tuple[fmt.LedgerRow, Child, list[dict]]] = []
    for r in parsed:
        h = r.data.get("id_hash")
        if not h or by_hash.get(h) is not r:
            continue
        pk = existing_ids.get(h)
        file_no = r.data["file_no"]
        if pk is not None and pk not in existing:
            errors.append(
                RowError(
                    row=r.row,
                    column=fmt.HEADERS["id_number"],
                    message=_(
                        "this child is on the register of another area; ask that area to "
                        "transfer the record"
                    ),
                )
            )
            continue
        if file_no and file_nos_taken.get(file_no) not in (None, pk):
            errors.append(
                RowError(
                    row=r.row,
                    column=fmt.HEADERS["file_no"],
                    message=_("file number %(no)s belongs to another child") % {"no": file_no},
                )
            )
            continue
        if pk is None:
            creates.append(r)
        else:
            child = existing[pk]
            if file_no and file_no != child.file_no:
                errors.append(
                    RowError(
                        row=r.row,
                        column=fmt.HEADERS["file_no"],
                        message=_("the child's file number is %(no)s") % {"no": child.file_no},
                    )
                )
                continue
            changes = _diff(_current(child, guardians.get(pk)), r.data)
            updates.append((r, child, changes))

    errors.sort(key=lambda e: (e.row if isinstance(e.row, int) else 0, e.column))
    plan.error_count = len(errors)
    plan.errors = errors[:MAX_ERRORS]
    changed = [(r, c, ch) for r, c, ch in updates if ch]
    plan.created, plan.updated = len(creates), len(changed)
    plan.unchanged = len(updates) - len(changed)
    plan.new_rows = [
        {
            "row": r.row,
            "file_no": r.data["file_no"] or "",
            "name": masking.mask_name(r.data["name"]),
            "id_number": mask_id_number(r.data["id_number"]),
            "area_code": r.data["area_code"],
        }
        for r in creates[:MAX_PREVIEW]
    ]
    plan.updated_rows = [
        {
            "row": r.row,
            "file_no": c.file_no,
            "name": masking.mask_name(c.name),
            "changes": [{k: v for k, v in ch.items() if k != "key"} for ch in chs],
        }
        for r, c, chs in changed[:MAX_PREVIEW]
    ]
    plan.unchanged_rows = [r.row for r, _c, ch in updates if not ch][:MAX_PREVIEW]
    if errors or dry_run:
        return plan
    try:
        _write(
            actor=actor, plan=plan, creates=creates, changed=changed, areas=areas, progress=progress
        )
    except IntegrityError as exc:
        # Someone registered one of these children (or took a file number) since the check.
        raise ServiceError(
            _("The register changed while the ledger was being imported; import it again."),
            code="conflict",
        ) from exc
    plan.written = True
    return plan


def _child_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in _PLAIN + _SECRET:
        if data.get(key) is not None:
            values[key] = data[key]
    return values


@transaction.atomic
def _write(
    *,
    actor: User,
    plan: ImportPlan,
    creates: list[fmt.LedgerRow],
    changed: list[tuple[fmt.LedgerRow, Child, list[dict]]],
    areas: dict[str, Area],
    progress: Progress | None,
) -> None:
    today = timezone.localdate()
    total = len(creates) + len(changed)
    done = 0
    by = actor_name(actor)
    real_actor = actor if actor.is_authenticated else None

    # New children.
    need: dict[str, int] = {}
    for r in creates:
        if not r.data["file_no"]:
            need[r.data["area_code"]] = need.get(r.data["area_code"], 0) + 1
    numbers = _file_numbers(areas, need)
    new_children: list[dict[str, Any]] = []
    new_guardians: list[tuple[int, dict]] = []
    for r in creates:
        d = r.data
        risk = d["risk_level"] or Risk.LOW
        status = d["status"] or Status.ACTIVE
        disability = (
            {"type": d["disability_type"] or "", "grade": d["disability_grade"]}
            if d["disability_type"] or d["disability_grade"]
            else None
        )
        child = {
            "file_no": d["file_no"] or numbers[d["area_code"]].pop(0),
            "area_id": areas[d["area_code"]].pk,
            "name": d["name"],
            "name_hash": keys.match_hash(d["name"], purpose="child_name"),
            "id_number": d["id_number"],
            "id_hash": d["id_hash"],
            "birth_date": d["birth_date"],
            "sex": d["sex"],
            "categories": d["categories"],
            "risk_level": risk,
            "status": status,
            "closed_on": today if status != Status.ACTIVE else None,
            "low_income": bool(d["low_income"]),
            "school_stage": d["school_stage"] or "none",
            "address": d["address"] or "",
            "phone": d["phone"] or "",
            "school": d["school"] or "",
            "health": {"conditions": d["health"]} if d["health"] else None,
            "disability": disability,
            "notes": d["notes"] or "",
            "next_visit_due": next_visit_due(risk, None, today)
            if status == Status.ACTIVE
            else None,
        }
        new_children.append(child)
        if d["guardian_name"]:
            new_guardians.append((len(new_children) - 1, d))
    written = [0]

    def step(n: int) -> None:
        written[0] += n
        if progress:
            progress("write", written[0], total)

    # Inserted in the order of the ID-number hash, whose unique index is then filled front to
    # back (file numbers were given in the ledger's row order above).
    ordered = sorted(new_children, key=lambda c: c["id_hash"])
    for i in range(0, len(ordered), 10_000):
        bulk_insert(Child, ordered[i : i + 10_000])
        step(len(ordered[i : i + 10_000]))
    pks: dict[str, int] = {}
    for chunk in _in_chunks([c["id_hash"] for c in new_children]):
        pks.update(Child.objects.filter(id_hash__in=chunk).values_list("id_hash", "pk"))
    done = written[0]
    members = [
        {
            "child_id": pks[new_children[i]["id_hash"]],
            "relation": d["guardian_relation"] or FamilyMember.Relation.OTHER,
            "is_guardian": True,
            "name": d["guardian_name"],
            "phone": d["guardian_phone"] or "",
        }
        for i, d in new_guardians
    ]
    actor_id = real_actor.pk if real_actor else None
    created_summary = _("Registered from the ledger %(file)s") % {"file": plan.filename[:200]}
    events = [
        {
            "child_id": pks[c["id_hash"]],
            "kind": ChildEvent.Kind.IMPORT,
            "summary": created_summary,
            "actor_id": actor_id,
            "actor_name": by,
        }
        for c in new_children
    ]

    # Updated children.
    to_update: list[Child] = []
    fields: set[str] = set()
    schedule_ids: list[int] = []
    guardian_updates: list[FamilyMember] = []
    guardian_fields: set[str] = set()
    for r, child, changes in changed:
        d = r.data
        keys_changed = {c["key"] for c in changes}
        for key in _PLAIN + _SECRET:
            if key in keys_changed:
                setattr(child, key, d[key])
                fields.add(key)
        if "name" in keys_changed:
            child.name_hash = keys.match_hash(d["name"], purpose="child_name")
            fields.add("name_hash")
        if "area_code" in keys_changed:
            child.area = areas[d["area_code"]]
            fields.add("area")
        if "health" in keys_changed:
            child.health = {**(child.health or {}), "conditions": d["health"]}
            fields.add("health")
        if keys_changed & {"disability_type", "disability_grade"}:
            dis = dict(child.disability or {})
            if d["disability_type"] is not None:
                dis["type"] = d["disability_type"]
            if d["disability_grade"] is not None:
                dis["grade"] = d["disability_grade"]
            child.disability = dis
            fields.add("disability")
        if "status" in keys_changed:
            child.closed_on = today if child.status != Status.ACTIVE else None
            fields.add("closed_on")
        if keys_changed & {"risk_level", "status"}:
            schedule_ids.append(child.pk)
        if keys_changed & {"guardian_name", "guardian_relation", "guardian_phone"}:
            member = (
                FamilyMember.objects.filter(child=child, is_guardian=True).order_by("id").first()
            )
            if member is None:
                members.append(
                    {
                        "child_id": child.pk,
                        "relation": d["guardian_relation"] or FamilyMember.Relation.OTHER,
                        "is_guardian": True,
                        "name": d["guardian_name"] or "",
                        "phone": d["guardian_phone"] or "",
                    }
                )
            else:
                for key, attr in (
                    ("guardian_name", "name"),
                    ("guardian_relation", "relation"),
                    ("guardian_phone", "phone"),
                ):
                    if d[key] is not None:
                        setattr(member, attr, d[key])
                        guardian_fields.add(attr)
                guardian_updates.append(member)
        child.updated_at = timezone.now()
        fields.add("updated_at")
        to_update.append(child)
        events.append(
            {
                "child_id": child.pk,
                "kind": ChildEvent.Kind.IMPORT,
                # Column names, and values only where they identify no one.
                "summary": (
                    _("Changed by the ledger %(file)s: %(changes)s")
                    % {
                        "file": plan.filename[:100],
                        "changes": "；".join(
                            f"{c['column']} {c['old'] or '—'} → {c['new']}"
                            if c["key"]
                            in ("categories", "risk_level", "status", "school_stage", "low_income")
                            else c["column"]
                            for c in changes
                        ),
                    }
                )[:500],
                "actor_id": actor_id,
                "actor_name": by,
            }
        )
    if to_update:
        for i in range(0, len(to_update), BATCH):
            Child.objects.bulk_update(to_update[i : i + BATCH], sorted(fields))
            done += len(to_update[i : i + BATCH])
            if progress:
                progress("write", done, total)
    if guardian_updates:
        FamilyMember.objects.bulk_update(
            guardian_updates, sorted(guardian_fields), batch_size=BATCH
        )
    bulk_insert(FamilyMember, members)
    bulk_insert(ChildEvent, events)

    # The visit schedule of children whose risk or status changed (new ones are due today).
    if schedule_ids:
        last: dict[int, date] = {}
        for chunk in _in_chunks(schedule_ids):
            last.update(
                Visit.objects.filter(child_id__in=chunk)
                .values("child_id")
                .annotate(last=Max("visited_on"))
                .values_list("child_id", "last")
            )
        refreshed = []
        for child in to_update:
            if child.pk not in set(schedule_ids):
                continue
            child.next_visit_due = (
                next_visit_due(
                    child.risk_level,
                    last.get(child.pk),
                    timezone.localtime(child.created_at).date(),
                )
                if child.status == Status.ACTIVE and child.anonymised_at is None
                else None
            )
            refreshed.append(child)
        Child.objects.bulk_update(refreshed, ["next_visit_due"], batch_size=BATCH)

    if progress:
        progress("match", 0, 1)
    outcome = matching.rematch_all(actor=actor)
    if progress:
        progress("match", 1, 1)
    audit_record(
        actor=actor,
        action=AuditLog.Action.IMPORT,
        object_type="care.ledger",
        object_repr=plan.filename[:255],
        after={
            "file": plan.filename,
            "rows": plan.rows,
            "created": plan.created,
            "updated": plan.updated,
            "unchanged": plan.unchanged,
            "worklist_added": outcome.added,
            "worklist_lapsed": outcome.lapsed,
        },
        note=_("Ledger import: %(c)s new, %(u)s updated, %(n)s unchanged")
        % {"c": plan.created, "u": plan.updated, "n": plan.unchanged},
        area_path=actor.area.path if actor.area_id else "",
    )


# ------------------------------------------------------------------------------ template


def _explanation_sheet(wb, lines: list[tuple[str, str]]) -> None:
    ws = wb.create_sheet("说明")
    for a, b in lines:
        ws.append([a, b])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100


COLUMN_NOTES = {
    "file_no": "可不填；新儿童自动编号（社区代码-序号）。已登记儿童填写时须与系统中的编号一致。",
    "name": "必填。",
    "id_number": "必填，18 位居民身份证号（校验码检查）；以此识别已登记儿童：已登记的为更新，否则为新建。",
    "sex": "可不填，由身份证号得出；填写时须一致。可选：男、女。",
    "birth_date": "可不填，由身份证号得出；填写时须一致。例：2015-03-07。",
    "categories": "必填，可多选，用“、”或“，”分隔。可选：" + fmt.options(fmt.CATEGORY_LABELS),
    "risk_level": "可选：高、中、低；新建时不填为“低”。",
    "status": "可选：在册、结案、转出；新建时不填为“在册”。",
    "area_code": "必填，所在社区或网格的行政区划代码，须在您的管辖范围内。",
    "address": "",
    "phone": "11 位手机号或带区号的座机号。",
    "school": "",
    "school_stage": "可选：" + fmt.options(fmt.STAGE_LABELS),
    "low_income": "是 / 否。",
    "disability_type": "如：肢体、视力、听力、言语、智力、精神、多重。",
    "disability_grade": "1–4 或 一级–四级。",
    "health": "重病、慢病等情况。",
    "guardian_name": "",
    "guardian_relation": "填写监护人姓名时必填。可选：" + fmt.options(fmt.RELATION_LABELS),
    "guardian_phone": "",
    "notes": "",
}


def ledger_template() -> bytes:
    """The empty ledger workbook: the columns (required ones marked *) and a 说明 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append([f"{zh}*" if req else zh for _k, zh, _a, req in fmt.COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = 16
    lines = [
        ("困境儿童台账模板", "每行一名儿童；带 * 的列必填。表中含个人信息，请妥善保管、勿外传。"),
        ("导入规则", "先检查全部行，任何一行有错则全部不导入，并按行号和列名列出错误。"),
        ("", "已登记的儿童（按身份证号识别）为更新：空白单元格表示保持原值不变。"),
        ("", "也可保存为 CSV（UTF-8 或 GBK 编码）导入。"),
        ("列名", "说明"),
    ]
    lines += [(zh, COLUMN_NOTES.get(key, "")) for key, zh, _a, _r in fmt.COLUMNS]
    _explanation_sheet(wb, lines)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------ export


@dataclass
class LedgerExport:
    content: bytes
    filename: str
    count: int
    masked: bool


def ledger_export(
    *, actor: User, unmasked: bool = False, filters: dict[str, Any] | None = None
) -> LedgerExport:
    """The ledger of the children ``actor`` may see, as .xlsx; masked unless ``unmasked``.

    Caseworkers' masked export shows masked names, ID numbers, phones and text; the 妇儿工委办's
    is de-identified (file number, masked name, birth year, categories, risk, status, area). An
    unmasked export needs the ``care.export_unmasked`` permission. Every export is audited.
    """
    from openpyxl import Workbook

    from ..selectors.ledger import ledger_children

    if not can_export(actor):
        raise PermissionDenied(_("You may not export the ledger."))
    if unmasked and not policy.can_export_unmasked(actor):
        raise PermissionDenied(
            _("An unmasked export needs the permission to export names and ID numbers.")
        )
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    children = ledger_children(actor=actor, filters=filters)
    deidentified = not unmasked and not policy.identified(actor)
    now = timezone.localtime()
    who = actor_name(actor)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    stamp = _("Exported by %(who)s at %(when)s. Contains personal information: keep it safe.") % {
        "who": who,
        "when": f"{now:%Y-%m-%d %H:%M}",
    }
    mode = "未脱敏" if unmasked else ("去标识" if deidentified else "已脱敏")
    ws.append([f"导出人：{who}　导出时间：{now:%Y-%m-%d %H:%M}　（{mode}）　{stamp}"])
    ws.append([zh for _k, zh, _a, _r in fmt.COLUMNS])
    count = 0
    ids = list(children.values_list("pk", flat=True))
    for chunk in _in_chunks(ids):
        batch = list(Child.objects.filter(pk__in=chunk).select_related("area").order_by("file_no"))
        guardians: dict[int, FamilyMember] = {}
        if not deidentified:
            for m in FamilyMember.objects.filter(child_id__in=chunk, is_guardian=True).order_by(
                "-id"
            ):
                guardians[m.child_id] = m
        for child in batch:
            ws.append(_export_row(child, guardians.get(child.pk), unmasked, deidentified))
            count += 1
    _explanation_sheet_write_only(
        wb,
        [
            ("说明", "本表含儿童个人信息，仅限工作使用，请妥善保管，不得外传；用后请删除。"),
            ("导出人", who),
            ("导出时间", f"{now:%Y-%m-%d %H:%M:%S}"),
            ("脱敏", mode),
            ("人数", str(count)),
            ("筛选条件", "；".join(f"{k}={v}" for k, v in sorted(filters.items())) or "无"),
        ],
    )
    wb.properties.creator = who
    wb.properties.lastModifiedBy = who
    wb.properties.title = "困境儿童台账"
    wb.properties.description = f"{stamp} ({mode})"
    wb.properties.created = now.replace(tzinfo=None)
    wb.properties.keywords = "含个人信息"
    buf = io.BytesIO()
    wb.save(buf)
    audit_record(
        actor=actor,
        action=AuditLog.Action.EXPORT,
        object_type="care.ledger",
        object_repr="ledger.xlsx",
        after={
            "count": count,
            "masked": not unmasked,
            "deidentified": deidentified,
            "filters": filters,
        },
        note=_("Ledger export: %(n)s children, %(mode)s") % {"n": count, "mode": mode},
        area_path=actor.area.path if actor.area_id else "",
    )
    return LedgerExport(
        content=buf.getvalue(),
        filename=f"ledger-{now:%Y%m%d-%H%M}{'' if unmasked else '-masked'}.xlsx",
        count=count,
        masked=not unmasked,
    )


def _explanation_sheet_write_only(wb, lines: list[tuple[str, str]]) -> None:
    ws = wb.create_sheet("说明")
    for a, b in lines:
        ws.append([a, b])


def _export_row(
    child: Child, guardian: FamilyMember | None, unmasked: bool, deidentified: bool
) -> list[Any]:
    def secret(value: str | None, mask=masking.mask_text) -> str:
        if deidentified:
            return ""
        return (value or "") if unmasked else mask(value)

    health = (child.health or {}).get("conditions") or ""
    dis = child.disability or {}
    return [
        child.file_no,
        child.name if unmasked else masking.mask_name(child.name),
        child.id_number if unmasked else "" if deidentified else mask_id_number(child.id_number),
        fmt.SEX_LABELS.get(child.sex, child.sex),
        child.birth_date.isoformat() if unmasked else f"{child.birth_date:%Y}",
        "、".join(fmt.CATEGORY_LABELS.get(c, c) for c in child.categories or []),
        fmt.RISK_LABELS.get(child.risk_level, child.risk_level),
        fmt.STATUS_LABELS.get(child.status, child.status),
        child.area.code,
        secret(child.address),
        secret(child.phone, masking.mask_phone),
        secret(child.school),
        fmt.STAGE_LABELS.get(child.school_stage, child.school_stage),
        "是" if child.low_income else "否",
        "" if deidentified else (dis.get("type") or ""),
        "" if deidentified else (dis.get("grade") or ""),
        secret(health),
        secret(guardian.name if guardian else "", masking.mask_name),
        "" if deidentified or guardian is None else fmt.RELATION_LABELS.get(guardian.relation, ""),
        secret(guardian.phone if guardian else "", masking.mask_phone),
        secret(child.notes),
    ]
