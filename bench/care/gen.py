"""A GENERATED ledger (台账) of fictitious children for the care benchmark: check-digit-valid ID
numbers from ``identity.generate_id_number``, names like 示例童000123, nothing real."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

CATEGORIES = [
    "留守儿童",
    "流动儿童",
    "孤儿",
    "事实无人抚养儿童",
    "困境儿童（重病）",
    "困境儿童（重残）",
    "困境儿童（低保/特困家庭）",
    "其他未成年人",
]
REGIONS = ["110108", "110105", "110102", "110101", "110106", "110107", "110109", "110111"]


def ledger_rows(n: int, area_codes: list[str], *, seed: int = 7, today: date | None = None):
    """``n`` rows (dicts keyed by the Chinese headers) with unique ID numbers."""
    from yimi.care.identity import generate_id_number

    rng = random.Random(seed)
    today = today or date.today()
    seen: set[str] = set()
    rows = []
    i = 0
    while len(rows) < n:
        i += 1
        born = today - timedelta(days=rng.randrange(30, 17 * 365))
        number = generate_id_number(rng, region=rng.choice(REGIONS), birth_date=born, today=today)
        if number in seen:
            continue
        seen.add(number)
        cats = rng.sample(CATEGORIES, k=rng.choice((1, 1, 2)))
        disabled = "困境儿童（重残）" in cats
        rows.append(
            {
                "姓名": f"示例童{len(rows):06d}",
                "身份证号": number,
                "类别": "、".join(cats),
                "风险等级": rng.choice("高中低低低"),
                "状态": "在册",
                "社区代码": rng.choice(area_codes),
                "住址": f"演示路{rng.randrange(1, 300)}号",
                "联系电话": f"139{rng.randrange(10**8):08d}",
                "学校": "演示小学",
                "学段": rng.choice(["小学", "初中", "幼儿园", "未入学"]),
                "低保/特困家庭": rng.choice("是否否否"),
                "残疾类别": "肢体" if disabled else "",
                "残疾等级": str(rng.randrange(1, 5)) if disabled else "",
                "健康状况": "",
                "监护人姓名": f"示例监护人{len(rows):06d}",
                "监护人关系": rng.choice(["母亲", "父亲", "祖母", "祖父"]),
                "监护人电话": f"137{rng.randrange(10**8):08d}",
                "备注": "",
            }
        )
    return rows


def ledger_xlsx(rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    from yimi.care.ledger_format import COLUMNS

    header = [zh for _k, zh, _a, _r in COLUMNS]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(header)
    for r in rows:
        ws.append([r.get(h, "") for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger_csv(rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> bytes:
    import csv

    from yimi.care.ledger_format import COLUMNS

    header = [zh for _k, zh, _a, _r in COLUMNS]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    return buf.getvalue().encode(encoding)


def policy_rules(n: int, *, seed: int = 11) -> list[tuple[str, dict]]:
    """``n`` GENERATED menu items (domain, eligibility rule) like a real district's menu: most
    name a category, many add an age band, low income, a school stage or a disability grade."""
    rng = random.Random(seed)
    codes = [
        "orphan",
        "unsupported",
        "serious_illness",
        "severe_disability",
        "low_income",
        "other_difficulty",
        "left_behind",
        "migrant",
    ]
    domains = ["life", "education", "medical", "legal", "psychological"]
    out = []
    for i in range(n):
        parts: list[dict] = [
            {"field": "categories", "op": "in", "value": rng.sample(codes, k=rng.choice((1, 2, 3)))}
        ]
        lo = rng.choice((0, 3, 6, 12))
        parts.append({"field": "age", "op": "between", "value": [lo, rng.choice((14, 16, 17))]})
        extra = rng.random()
        if extra < 0.25:
            parts.append({"field": "low_income", "op": "=", "value": True})
        elif extra < 0.45:
            parts.append({"field": "school_stage", "op": "in", "value": ["primary", "junior"]})
        elif extra < 0.6:
            parts.append({"field": "disability_grade", "op": "<=", "value": rng.choice((2, 3))})
        elif extra < 0.7:
            parts.append({"field": "risk_level", "op": "in", "value": ["high", "medium"]})
        out.append((domains[i % len(domains)], {"all": parts}))
    return out
