"""The 台账 (ledger) template: its Chinese columns, the words allowed in them, and masking.

Parsing only: a row of text cells becomes the values of a child's record, or errors that name
the Chinese column. Nothing here touches the database (``services.ledger`` does, atomically).
The vocabularies are data, not UI text: a ledger reads the same whatever language the person
importing it has chosen. Documented in docs/care-ledger.md.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from yimi.core.tables import ImportFileError, RowError

from .identity import IdNumberError, validate_id_number
from .masking import mask_phone
from .models import Category, FamilyMember, Risk, SchoolStage, Sex, Status

# (key, Chinese header, other accepted spellings, required)
COLUMNS: list[tuple[str, str, tuple[str, ...], bool]] = [
    ("file_no", "档案编号", ("file_no", "file number"), False),
    ("name", "姓名", ("name", "儿童姓名"), True),
    ("id_number", "身份证号", ("id_number", "身份证号码", "公民身份号码"), True),
    ("sex", "性别", ("sex",), False),
    ("birth_date", "出生日期", ("birth_date",), False),
    ("categories", "类别", ("categories", "儿童类别"), True),
    ("risk_level", "风险等级", ("risk_level", "风险"), False),
    ("status", "状态", ("status",), False),
    ("area_code", "社区代码", ("area_code", "行政区划代码", "网格代码"), True),
    ("address", "住址", ("address", "家庭住址"), False),
    ("phone", "联系电话", ("phone",), False),
    ("school", "学校", ("school", "就读学校"), False),
    ("school_stage", "学段", ("school_stage",), False),
    ("low_income", "低保/特困家庭", ("low_income", "低保特困家庭", "低保"), False),
    ("disability_type", "残疾类别", ("disability_type",), False),
    ("disability_grade", "残疾等级", ("disability_grade",), False),
    ("health", "健康状况", ("health",), False),
    ("guardian_name", "监护人姓名", ("guardian_name", "监护人"), False),
    ("guardian_relation", "监护人关系", ("guardian_relation", "与儿童关系"), False),
    ("guardian_phone", "监护人电话", ("guardian_phone",), False),
    ("notes", "备注", ("notes",), False),
]
HEADERS = {key: zh for key, zh, _alts, _req in COLUMNS}

# Chinese labels of the categories as the 台账 writes them (data, not translations).
CATEGORY_LABELS: dict[str, str] = {
    Category.ORPHAN: "孤儿",
    Category.UNSUPPORTED: "事实无人抚养儿童",
    Category.SERIOUS_ILLNESS: "困境儿童（重病）",
    Category.SEVERE_DISABILITY: "困境儿童（重残）",
    Category.LOW_INCOME: "困境儿童（低保/特困家庭）",
    Category.OTHER_DIFFICULTY: "困境儿童（其他）",
    Category.LEFT_BEHIND: "留守儿童",
    Category.MIGRANT: "流动儿童",
    Category.OTHER_MINOR: "其他未成年人",
}
CATEGORY_ALIASES = {
    "重病儿童": Category.SERIOUS_ILLNESS,
    "困境儿童(重病)": Category.SERIOUS_ILLNESS,
    "重残儿童": Category.SEVERE_DISABILITY,
    "困境儿童(重残)": Category.SEVERE_DISABILITY,
    "低保家庭儿童": Category.LOW_INCOME,
    "特困家庭儿童": Category.LOW_INCOME,
    "困境儿童(低保/特困家庭)": Category.LOW_INCOME,
    "困境儿童（低保）": Category.LOW_INCOME,
    "困境儿童(其他)": Category.OTHER_DIFFICULTY,
    "困境儿童": Category.OTHER_DIFFICULTY,
    "事实无人抚养": Category.UNSUPPORTED,
}
RISK_LABELS = {Risk.HIGH: "高", Risk.MEDIUM: "中", Risk.LOW: "低"}
STATUS_LABELS = {Status.ACTIVE: "在册", Status.CLOSED: "结案", Status.TRANSFERRED: "转出"}
SEX_LABELS = {Sex.MALE: "男", Sex.FEMALE: "女"}
STAGE_LABELS = {
    SchoolStage.NONE: "未入学",
    SchoolStage.NURSERY: "托育",
    SchoolStage.PRESCHOOL: "幼儿园",
    SchoolStage.PRIMARY: "小学",
    SchoolStage.JUNIOR: "初中",
    SchoolStage.SENIOR: "高中",
    SchoolStage.VOCATIONAL: "职业学校",
    SchoolStage.OUT_OF_SCHOOL: "失学辍学",
}
RELATION_LABELS = {
    FamilyMember.Relation.FATHER: "父亲",
    FamilyMember.Relation.MOTHER: "母亲",
    FamilyMember.Relation.GRANDPARENT: "祖父母/外祖父母",
    FamilyMember.Relation.SIBLING: "兄弟姐妹",
    FamilyMember.Relation.RELATIVE: "其他亲属",
    FamilyMember.Relation.FOSTER: "寄养家庭",
    FamilyMember.Relation.INSTITUTION: "福利机构",
    FamilyMember.Relation.OTHER: "其他",
}
RELATION_ALIASES = {
    "父": "father",
    "爸爸": "father",
    "母": "mother",
    "妈妈": "mother",
    "祖父": "grandparent",
    "祖母": "grandparent",
    "外祖父": "grandparent",
    "外祖母": "grandparent",
    "爷爷": "grandparent",
    "奶奶": "grandparent",
    "外公": "grandparent",
    "外婆": "grandparent",
    "祖父母": "grandparent",
    "哥哥": "sibling",
    "姐姐": "sibling",
    "叔叔": "relative",
    "姑姑": "relative",
    "舅舅": "relative",
    "阿姨": "relative",
    "亲属": "relative",
}
YES = {"是", "有", "y", "yes", "true", "1", "✓"}
NO = {"否", "无", "n", "no", "false", "0"}
DISABILITY_GRADES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}

_SEPARATORS = re.compile(r"[、，,;；\s]+")
# 11-digit mobile numbers, or landlines with an area code (010-12345678, 0731-1234567).
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def _lookup(labels: dict[str, str], aliases: dict[str, str] | None = None) -> dict[str, str]:
    table = {code: code for code in labels}
    table.update({label: code for code, label in labels.items()})
    table.update(aliases or {})
    return {k.lower(): v for k, v in table.items()}


CATEGORY_LOOKUP = _lookup(CATEGORY_LABELS, CATEGORY_ALIASES)
RISK_LOOKUP = _lookup(RISK_LABELS, {"高风险": "high", "中风险": "medium", "低风险": "low"})
STATUS_LOOKUP = _lookup(
    STATUS_LABELS, {"在档": "active", "已结案": "closed", "已转出": "transferred"}
)
SEX_LOOKUP = _lookup(SEX_LABELS, {"男性": "male", "女性": "female"})
STAGE_LOOKUP = _lookup(
    STAGE_LABELS, {"学前": "preschool", "中职": "vocational", "辍学": "out_of_school"}
)
RELATION_LOOKUP = _lookup(RELATION_LABELS, RELATION_ALIASES)


def options(labels: dict[str, str]) -> str:
    return "、".join(labels.values())


# ------------------------------------------------------------------------------ parsing


@dataclass
class LedgerRow:
    """One valid row: ``data`` holds model values (``None``: the cell was left empty)."""

    row: int
    data: dict[str, Any] = field(default_factory=dict)


def _err(errors: list[RowError], row: int, key: str, message: str) -> None:
    errors.append(RowError(row=row, column=HEADERS[key], message=message))


def parse_date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        # An Excel date cell read as its serial number (days since 1899-12-30).
        return date(1899, 12, 30) + timedelta(days=int(float(text)))
    # openpyxl gives datetimes; cell_text turns them into "2015-03-07 00:00:00".
    text = text.split(" ")[0].replace("/", "-").replace(".", "-")
    text = text.replace("年", "-").replace("月", "-").replace("日", "")
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


def _choice(
    value: str, lookup: dict[str, str], row: int, key: str, labels: dict, errors: list[RowError]
) -> str | None:
    if not value:
        return None
    code = lookup.get(value.strip().lower())
    if code is None:
        _err(errors, row, key, f"“{value}”不是可选值（可选：{options(labels)}）")
    return code


def _phone(value: str, row: int, key: str, errors: list[RowError]) -> str | None:
    if not value:
        return None
    clean = re.sub(r"[\s()（）]", "", value).replace("+86", "")
    if not _PHONE.match(clean):
        _err(
            errors,
            row,
            key,
            f"电话号码格式不正确（应为 11 位手机号或带区号的座机号）：{mask_phone(clean)}",
        )
        return None
    return clean


def parse_row(row: int, cells: dict[str, str], *, today: date) -> tuple[LedgerRow, list[RowError]]:
    """Check one row's cells (formats and vocabularies; not the area or duplicates)."""
    errors: list[RowError] = []
    get = lambda key: (cells.get(key) or "").strip()  # noqa: E731
    out: dict[str, Any] = {}

    name = re.sub(r"\s+", "", get("name"))
    if not name:
        _err(errors, row, "name", "姓名不能为空")
    elif len(name) > 50:
        _err(errors, row, "name", "姓名过长（最多 50 个字）")
    out["name"] = name

    decoded = None
    raw_id = get("id_number")
    if not raw_id:
        _err(errors, row, "id_number", "身份证号不能为空")
    else:
        try:
            decoded = validate_id_number(raw_id, today=today)
        except IdNumberError as exc:
            _err(errors, row, "id_number", str(exc))
    out["id_number"] = decoded.number if decoded else None

    sex = _choice(get("sex"), SEX_LOOKUP, row, "sex", SEX_LABELS, errors)
    if decoded and sex and sex != decoded.sex:
        _err(errors, row, "sex", "性别与身份证号不一致")
    out["sex"] = decoded.sex if decoded else sex

    birth_text = get("birth_date")
    birth = parse_date(birth_text)
    if birth_text and birth is None:
        _err(errors, row, "birth_date", f"“{birth_text}”不是有效日期（例：2015-03-07）")
    elif decoded and birth and birth != decoded.birth_date:
        _err(errors, row, "birth_date", "出生日期与身份证号不一致")
    out["birth_date"] = decoded.birth_date if decoded else birth

    cats_text = get("categories")
    cats: list[str] = []
    for part in _SEPARATORS.split(cats_text):
        if not part:
            continue
        code = CATEGORY_LOOKUP.get(part.lower())
        if code is None:
            _err(
                errors,
                row,
                "categories",
                f"“{part}”不是儿童类别（可选：{options(CATEGORY_LABELS)}）",
            )
        elif code not in cats:
            cats.append(str(code))
    if not cats_text:
        _err(errors, row, "categories", "类别不能为空")
    out["categories"] = cats

    out["risk_level"] = _choice(
        get("risk_level"), RISK_LOOKUP, row, "risk_level", RISK_LABELS, errors
    )
    out["status"] = _choice(get("status"), STATUS_LOOKUP, row, "status", STATUS_LABELS, errors)
    out["school_stage"] = _choice(
        get("school_stage"), STAGE_LOOKUP, row, "school_stage", STAGE_LABELS, errors
    )
    low = get("low_income").lower()
    if not low:
        out["low_income"] = None
    elif low in YES:
        out["low_income"] = True
    elif low in NO:
        out["low_income"] = False
    else:
        _err(errors, row, "low_income", f"“{get('low_income')}”应为“是”或“否”")
        out["low_income"] = None

    code = get("area_code")
    if not code:
        _err(errors, row, "area_code", "社区代码不能为空")
    elif not code.isdigit():
        _err(errors, row, "area_code", f"“{code}”不是行政区划代码（应为数字）")
    out["area_code"] = code

    out["phone"] = _phone(get("phone"), row, "phone", errors)
    out["guardian_phone"] = _phone(get("guardian_phone"), row, "guardian_phone", errors)
    out["guardian_relation"] = _choice(
        get("guardian_relation"),
        RELATION_LOOKUP,
        row,
        "guardian_relation",
        RELATION_LABELS,
        errors,
    )
    grade_text = get("disability_grade")
    grade = None
    if grade_text:
        grade = DISABILITY_GRADES.get(grade_text)
        if grade is None and grade_text.isdigit() and 1 <= int(grade_text) <= 4:
            grade = int(grade_text)
        if grade is None:
            _err(errors, row, "disability_grade", f"“{grade_text}”不是残疾等级（1–4 或 一级–四级）")
    out["disability_grade"] = grade
    for key in (
        "file_no",
        "address",
        "school",
        "disability_type",
        "health",
        "guardian_name",
        "notes",
    ):
        value = get(key)
        limit = 40 if key == "file_no" else 500
        if len(value) > limit:
            _err(errors, row, key, f"内容过长（最多 {limit} 个字）")
        out[key] = value or None
    if out["guardian_name"] and not out["guardian_relation"]:
        _err(errors, row, "guardian_relation", "填写了监护人姓名时需填写监护人关系")
    return LedgerRow(row=row, data=out), errors


# ------------------------------------------------------------------------------ reading

# An .xlsx is a zip: refuse archives whose parts would inflate past this (decompression bombs).
MAX_UNCOMPRESSED = 512 * 1024 * 1024


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # An ID number typed as a number has lost its last digits already (float precision);
        # its check digit then fails and the row is reported. Whole numbers read without ".0".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def xlsx_rows(content: bytes, file_name: str) -> list[list[str | None]]:
    """The first sheet's cells as text, read with python-calamine (Rust's calamine).

    About 20× faster than openpyxl's read-only mode on a 100,000-row ledger (docs/benchmarks.md).
    Date cells come back as ISO dates, empty cells as ``None``.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_UNCOMPRESSED:
                raise ValueError("the archive inflates past 512 MiB")
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (zipfile.BadZipFile, CalamineError, ValueError, IndexError) as exc:
        raise ImportFileError(
            f"{file_name} 不是可读的 Excel (.xlsx) 文件 / is not a readable .xlsx file: {exc}"
        ) from exc
    return [[_cell(v) for v in row] for row in rows]
