"""Batch entry of paper letters (纸质来信批量录入): an .xlsx or .csv (UTF-8 or GBK) with Chinese
columns, every row checked before anything is written, one transaction for all of them, and a
receipt code per letter to write on the reply slip.

Reading reuses the care ledger's readers (python-calamine for .xlsx, ``yimi.core.tables`` for
the header and CSV) and its date parser; each letter is created through ``suggestion_submit``,
so the text rules, the audit row and a disclosure's flag are exactly those of a letter sent
online. The column names are data (the template is a Chinese document), documented in
docs/voice.md.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimi.care.ledger_format import parse_date, xlsx_rows
from yimi.core.models import Area, AuditLog, User
from yimi.core.roles import Role
from yimi.core.services import PermissionDenied, ServiceError, audit_record
from yimi.core.tables import ImportFileError, RowError, read_table

from ..models import CONSENT_AGE_GROUPS, AgeGroup, Suggestion, Topic
from .mailbox import MAX_CONTACT, MAX_TEXT, receipt_code_display, suggestion_submit
from .moderation import ROUTING_TOPICS

MAX_ROWS = 1000
MAX_ERRORS = 200

# (key, Chinese header, other accepted spellings, required)
COLUMNS: list[tuple[str, str, tuple[str, ...], bool]] = [
    ("text", "建议内容", ("text", "建议", "内容", "来信内容"), True),
    ("age_group", "年龄段", ("age_group", "年龄"), True),
    ("topic", "主题", ("topic",), False),
    ("area", "地点/区域", ("area", "地点", "区域", "区域代码", "行政区划代码"), False),
    ("guardian_consent", "监护人同意", ("guardian_consent",), False),
    ("guardian_contact", "监护人联系方式", ("guardian_contact", "监护人电话", "联系方式"), False),
    ("letter_date", "来信日期", ("letter_date", "日期"), False),
]
HEADERS = {key: zh for key, zh, _a, _r in COLUMNS}

NOTES = {
    "text": "必填。孩子写的建议，照原文录入（至多 2000 字）。个人信息由系统在发布前遮盖。",
    "age_group": "必填。可选：6岁以下、6–9岁、9–12岁、12–15岁、15–18岁（也可写 6-9 等）。",
    "topic": "可不填，由系统按内容推荐。可选：游乐场和公园、上学路上、交通和安全、学校和学习、"
    "健康和运动、自然和环境、阅读和文化、我的社区、其他想法。",
    "area": "可不填。写区、街道或社区的行政区划代码（如 110108001），或其准确名称。"
    "须在您的辖区内；不填时为市级。",
    "guardian_consent": "6岁以下至12–15岁各组必填“是”（与网上信箱相同）。可写：是、否。",
    "guardian_contact": "6岁以下至12–15岁各组必填：监护人的电话（加密保存，不会公开）。",
    "letter_date": "可不填（为录入日期）。例：2026-06-01。不能晚于今天。",
}

_YES = {"是", "同意", "已同意", "有", "y", "yes", "true", "1", "√", "✓", "✔"}
_NO = {"否", "不同意", "未同意", "无", "n", "no", "false", "0", "×", "✗"}


@dataclass
class BatchLetter:
    row: int
    receipt_code: str
    age_group: str
    topic: str
    area: str
    hidden: bool


@dataclass
class BatchResult:
    filename: str
    rows: int = 0
    letters: list[BatchLetter] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and bool(self.letters)


def can_batch(user: User | None) -> bool:
    """Staff with an area (or administrators) enter paper letters collected in their area."""
    if user is None or not user.is_authenticated or not user.is_yimi_staff:
        return False
    return user.is_superuser or user.role == Role.ADMIN or user.area_id is not None


def _norm(text: str) -> str:
    return (
        text.strip()
        .lower()
        .replace(" ", "")
        .replace("-", "–")
        .replace("~", "–")
        .replace("～", "–")
        .replace("至", "–")
        .replace("到", "–")
    )


def _lookups() -> tuple[dict[str, str], dict[str, str]]:
    ages: dict[str, str] = {}
    topics: dict[str, str] = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            for value, label in AgeGroup.choices:
                ages[_norm(str(label))] = value
                ages[_norm(str(label)).removesuffix("岁")] = value
            for value, label in Topic.choices:
                topics[_norm(str(label))] = value
    for value in AgeGroup.values:
        ages[_norm(value)] = value
        ages[_norm(value) + "岁"] = value
    ages.update({"6岁以下": AgeGroup.UNDER_6, "6岁及以下": AgeGroup.UNDER_6, "学龄前": "u6"})
    for value in Topic.values:
        topics[value] = value
    for name, value in ROUTING_TOPICS.items():
        topics[_norm(name)] = value
    return ages, topics


def _read(file: Any) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if hasattr(file, "read"):
        data = file.read()
        return data if isinstance(data, bytes) else data.encode("utf-8")
    raise ServiceError(_("No file was uploaded."))


def _areas(actor: User, values: set[str]) -> dict[str, Area | str]:
    """Each cell value → the area, or an error message."""
    out: dict[str, Area | str] = {}
    codes = {v for v in values if v.isdigit()}
    names = values - codes
    by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
    by_name: dict[str, list[Area]] = {}
    for a in Area.objects.filter(name__in=names):
        by_name.setdefault(a.name, []).append(a)
    scope = None if (actor.is_superuser or actor.role == Role.ADMIN) else actor.area.path
    for v in values:
        found = by_code.get(v) if v in codes else None
        if v not in codes:
            matches = by_name.get(v, [])
            if len(matches) > 1:
                out[v] = _("several areas are called “%(name)s”: please use the division code") % {
                    "name": v
                }
                continue
            found = matches[0] if matches else None
        if found is None:
            out[v] = _("no area has the code or name “%(v)s”") % {"v": v}
        elif scope and not found.path.startswith(scope):
            out[v] = _("%(area)s is outside your area") % {"area": found.name}
        else:
            out[v] = found
    return out


def _check_rows(
    actor: User, table: list[tuple[int, dict[str, str]]], today: date
) -> tuple[list[dict[str, Any]], list[RowError]]:
    ages, topics = _lookups()
    areas = _areas(actor, {c.get("area", "") for _r, c in table if c.get("area")})
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []

    def err(row: int, key: str, message: str) -> None:
        errors.append(RowError(row=row, column=HEADERS[key], message=message))

    for row, cells in table:
        text = cells.get("text", "").strip()
        if not text:
            err(row, "text", _("the suggestion is empty"))
        elif len(text) > MAX_TEXT:
            err(row, "text", _("longer than 2000 characters"))
        age_cell = cells.get("age_group", "")
        age = ages.get(_norm(age_cell)) if age_cell else None
        if not age_cell:
            err(row, "age_group", _("the age group is empty"))
        elif age is None:
            err(
                row,
                "age_group",
                _("“%(v)s” is not an age group (6岁以下, 6–9岁, 9–12岁, 12–15岁, 15–18岁)")
                % {"v": age_cell},
            )
        topic_cell = cells.get("topic", "")
        topic = topics.get(_norm(topic_cell)) if topic_cell else ""
        if topic_cell and topic is None:
            err(row, "topic", _("“%(v)s” is not a topic (see the template)") % {"v": topic_cell})
        area = None
        area_cell = cells.get("area", "")
        if area_cell:
            found = areas.get(area_cell)
            if isinstance(found, str):
                err(row, "area", found)
            else:
                area = found
        consent_cell = cells.get("guardian_consent", "").strip().lower()
        consent = False
        if consent_cell in _YES:
            consent = True
        elif consent_cell and consent_cell not in _NO:
            err(
                row,
                "guardian_consent",
                _("“%(v)s” is not 是 or 否") % {"v": cells.get("guardian_consent", "")},
            )
        contact = cells.get("guardian_contact", "").strip()
        if len(contact) > MAX_CONTACT:
            err(row, "guardian_contact", _("longer than 100 characters"))
        if age in CONSENT_AGE_GROUPS:
            if not consent:
                err(row, "guardian_consent", _("this age group needs a guardian's consent (是)"))
            if not contact:
                err(row, "guardian_contact", _("this age group needs a guardian's contact"))
        letter_date = None
        date_cell = cells.get("letter_date", "")
        if date_cell:
            letter_date = parse_date(date_cell)
            if letter_date is None:
                err(
                    row,
                    "letter_date",
                    _("“%(v)s” is not a date (e.g. 2026-06-01)") % {"v": date_cell},
                )
            elif letter_date > today:
                err(row, "letter_date", _("the date is in the future"))
        rows.append(
            {
                "row": row,
                "text": text,
                "age_group": age,
                "topic": topic,
                "area": area,
                "guardian_consent": consent,
                "guardian_contact": contact,
                "letter_date": letter_date,
            }
        )
    return rows, errors


def letters_import(*, actor: User, file: Any, filename: str, ip: str | None = None) -> BatchResult:
    """Check every row; if all are good, create every letter in one transaction.

    A file that cannot be read raises :class:`ServiceError`; row errors come back in the result
    (by row and Chinese column) and nothing is written.
    """
    if not can_batch(actor):
        raise PermissionDenied(_("Only staff may enter paper letters."))
    content = _read(file)
    try:
        raw = xlsx_rows(content, filename) if filename.lower().endswith(".xlsx") else None
        table, _used = read_table(content, filename, COLUMNS, rows=raw, max_rows=MAX_ROWS)
    except ImportFileError as exc:
        raise ServiceError(str(exc)) from exc
    result = BatchResult(filename=filename, rows=len(table))
    if not table:
        raise ServiceError(_("%(file)s has no letters in it.") % {"file": filename})
    today = timezone.localdate()
    rows, errors = _check_rows(actor, table, today)
    if errors:
        result.errors = errors[:MAX_ERRORS]
        result.error_count = len(errors)
        return result
    with transaction.atomic():
        for r in rows:
            try:
                s = suggestion_submit(
                    text=r["text"],
                    age_group=r["age_group"],
                    # The topic is confirmed when routing; the rules suggest one when empty.
                    topic=r["topic"] or "",
                    guardian_consent=r["guardian_consent"],
                    guardian_contact=r["guardian_contact"],
                    area=r["area"],
                    actor=actor,
                    source=Suggestion.Source.PAPER,
                    ip=ip,
                )
            except ServiceError as exc:  # checked above; a rule added later must still stop all
                raise ServiceError(
                    str(RowError(row=r["row"], column=HEADERS["text"], message=exc.message))
                ) from exc
            if r["letter_date"]:
                at = timezone.make_aware(datetime.combine(r["letter_date"], time(12, 0)))
                Suggestion.objects.filter(pk=s.pk).update(created_at=at)
            result.letters.append(
                BatchLetter(
                    row=r["row"],
                    receipt_code=receipt_code_display(s.receipt_code),
                    age_group=s.get_age_group_display(),
                    topic=s.get_topic_display(),
                    area=r["area"].name if r["area"] else "",
                    hidden=s.visibility == Suggestion.Visibility.HIDDEN,
                )
            )
        audit_record(
            actor=actor,
            action=AuditLog.Action.IMPORT,
            object_type="voice.suggestion",
            object_repr=f"{filename} · {len(rows)}",
            after={"letters": len(rows), "file": filename},
            note="paper letters entered in a batch",
            area_path=actor.area.path if actor.area_id else "",
            ip=ip,
        )
    return result


def letters_template() -> bytes:
    """The empty workbook: the columns (required ones marked *), one example row, a 说明 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "纸质来信"
    ws.append([f"{zh}*" if req else zh for _k, zh, _a, req in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = 18
    ws.column_dimensions["A"].width = 60
    ws.append(
        ["希望小区门口的路口有红绿灯，过马路太危险了。", "9–12岁", "", "", "是", "13800000000", ""]
    )
    notes = wb.create_sheet("说明")
    for a, b in [
        ("纸质来信批量录入模板", "每行一封信；带 * 的列必填。示例行请删除。"),
        ("导入规则", "先检查全部行，任何一行有错则全部不导入，并按行号和列名列出错误。"),
        ("", "每封信得到一个回执码，请抄在回执单上交给孩子。也可保存为 CSV（UTF-8 或 GBK）。"),
        ("列名", "说明"),
        *[(zh, NOTES.get(key, "")) for key, zh, _a, _r in COLUMNS],
    ]:
        notes.append([a, b])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
