"""The practice library (经验举措清单) as data files: read and check ``data/area_N.yaml`` and
``data/gazetteer.yaml``. No Django here; the app syncs a :class:`Catalog` into its tables.

Every problem found names the file, the path inside it and the field, in Chinese, so the person
editing the data knows what to fix (see docs/practices.md for the format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

NUMERALS = "一二三四五六七八九十"
TAGS = (
    "法规",
    "规划",
    "空间",
    "出行",
    "自然",
    "服务",
    "教育",
    "健康",
    "托育",
    "安全",
    "困境儿童",
    "参与",
    "共建",
    "数字化",
    "评价",
    "宣传",
    "文化",
    "标准",
    "民生实事",
    "家庭",
    "交流",
)
# What Yimi implements, and what is planned but not built (shown as "not supported yet").
YIMI_PARTS = ("map", "access", "care", "voice", "practices")
PLANNED_PARTS = ("design_review", "impact", "projects", "service")

# Folded YAML (">-") joins lines with a space; between Chinese characters it is not wanted.
_CJK_SPACE = re.compile(
    r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])"
)
_CASE_ID = re.compile(r"^[1-7]-\d{1,2}-\d{1,2}-[a-z]+(?:-\d+)?$")
MAX_TITLE = 30


@dataclass(frozen=True)
class Figure:
    label: str
    value: float
    unit: str = ""


@dataclass
class Case:
    id: str
    province: str
    city: str
    district: str
    title: str
    summary: str
    years: list[int]
    figures: list[Figure]
    documents: list[str]
    tags: list[str]
    source: str


@dataclass
class Item:
    code: str
    number: int
    title: str
    cases: list[Case] = field(default_factory=list)


@dataclass
class Measure:
    code: str
    number: int
    title: str
    tags: list[str]
    yimi_parts: list[str]
    planned_parts: list[str]
    items: list[Item] = field(default_factory=list)


@dataclass
class Area:
    number: int
    numeral: str
    title: str
    measures: list[Measure] = field(default_factory=list)


@dataclass(frozen=True)
class City:
    name: str
    province: str
    lon: float
    lat: float


@dataclass
class Catalog:
    areas: list[Area]
    gazetteer: dict[str, City]

    def measures(self) -> list[Measure]:
        return [m for a in self.areas for m in a.measures]

    def items(self) -> list[Item]:
        return [i for m in self.measures() for i in m.items]

    def cases(self) -> list[Case]:
        return [c for i in self.items() for c in i.cases]


class CatalogError(ValueError):
    """The data files have problems; ``problems`` lists each as 'file: path.field: what'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = f"经验举措清单数据有 {len(problems)} 处错误："
        super().__init__("\n".join([head, *problems[:50]]))


class _Checker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[str] = []

    def err(self, path: str, msg: str) -> None:
        self.problems.append(f"{self.file}: {path}: {msg}")

    def text(self, obj: dict, key: str, path: str, *, required: bool = True, max_len: int = 0):
        value = obj.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.err(f"{path}.{key}", f"应为文字，实际是 {type(value).__name__}")
            return ""
        value = _CJK_SPACE.sub("", value.strip())
        if required and not value:
            self.err(f"{path}.{key}", "不能为空")
        if max_len and len(value) > max_len:
            self.err(f"{path}.{key}", f"不能超过 {max_len} 个字（现有 {len(value)} 个）")
        return value

    def str_list(self, obj: dict, key: str, path: str, allowed=None) -> list[str]:
        value = obj.get(key) or []
        if not isinstance(value, list):
            self.err(f"{path}.{key}", "应为列表")
            return []
        out = []
        for i, v in enumerate(value):
            if not isinstance(v, str) or not v.strip():
                self.err(f"{path}.{key}[{i}]", "应为非空文字")
                continue
            if allowed is not None and v not in allowed:
                self.err(f"{path}.{key}[{i}]", f"“{v}”不在允许的取值中（{'、'.join(allowed)}）")
                continue
            out.append(v.strip())
        return out


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path.name}: 文件不存在")
    except UnicodeDecodeError:
        problems.append(f"{path.name}: 不是 UTF-8 编码")
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: YAML 格式错误：{exc}")
    return None


def _gazetteer(data: Any, problems: list[str]) -> dict[str, City]:
    c = _Checker("gazetteer.yaml")
    out: dict[str, City] = {}
    if not isinstance(data, dict):
        c.err("(根)", "应为“城市名: {province, lon, lat}”的映射")
        problems.extend(c.problems)
        return out
    for name, entry in data.items():
        path = str(name)
        if not isinstance(entry, dict):
            c.err(path, "应为 {province, lon, lat}")
            continue
        province = c.text(entry, "province", path)
        try:
            lon, lat = float(entry.get("lon")), float(entry.get("lat"))
        except (TypeError, ValueError):
            c.err(path, "lon/lat 应为数字（WGS-84 经纬度）")
            continue
        # Mainland China with its islands: a generous box catches swapped or mistyped coordinates.
        if not (73 <= lon <= 135 and 18 <= lat <= 54):
            c.err(path, f"坐标 ({lon}, {lat}) 不在中国范围内（经度 73–135，纬度 18–54）")
            continue
        out[str(name)] = City(name=str(name), province=province, lon=lon, lat=lat)
    problems.extend(c.problems)
    return out


def _figures(c: _Checker, raw: Any, path: str) -> list[Figure]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.err(f"{path}.figures", "应为列表")
        return []
    out = []
    for i, f in enumerate(raw):
        p = f"{path}.figures[{i}]"
        if not isinstance(f, dict):
            c.err(p, "应为 {label, value, unit}")
            continue
        label = c.text(f, "label", p)
        value = f.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            c.err(f"{p}.value", f"应为数字，实际是 {value!r}")
            continue
        unit = f.get("unit") or ""
        if not isinstance(unit, str):
            c.err(f"{p}.unit", "应为文字")
            unit = ""
        out.append(Figure(label=label, value=value, unit=unit))
    return out


def _case(c: _Checker, raw: Any, path: str, item_code: str, gaz: dict[str, City]) -> Case | None:
    if not isinstance(raw, dict):
        c.err(path, "应为一个案例（映射）")
        return None
    cid = c.text(raw, "id", path)
    if cid and not _CASE_ID.match(cid):
        c.err(f"{path}.id", f"“{cid}”不符合“区域-举措-条目-城市拼音”格式（如 3-1-1-suzhou）")
    city = c.text(raw, "city", path)
    if city and city not in gaz:
        c.err(f"{path}.city", f"“{city}”不在 gazetteer.yaml 中")
    province = c.text(raw, "province", path)
    if city in gaz and province and gaz[city].province and province != gaz[city].province:
        c.err(f"{path}.province", f"“{province}”与 gazetteer.yaml 中的“{gaz[city].province}”不一致")
    source = c.text(raw, "source", path)
    if source and source != item_code:
        c.err(f"{path}.source", f"应为所属条目编号“{item_code}”，实际是“{source}”")
    years_raw = raw.get("years") or []
    years: list[int] = []
    if not isinstance(years_raw, list):
        c.err(f"{path}.years", "应为年份列表")
    else:
        for i, y in enumerate(years_raw):
            if isinstance(y, bool) or not isinstance(y, int) or not 1990 <= y <= 2100:
                c.err(f"{path}.years[{i}]", f"“{y}”不是有效年份")
            else:
                years.append(y)
    docs = c.str_list(raw, "documents", path)
    for i, d in enumerate(docs):
        if "《" in d or "》" in d:
            c.err(f"{path}.documents[{i}]", "文件名不要带书名号《》")
    return Case(
        id=cid,
        province=province,
        city=city,
        district=c.text(raw, "district", path, required=False),
        title=c.text(raw, "title", path, max_len=MAX_TITLE),
        summary=c.text(raw, "summary", path),
        years=years,
        figures=_figures(c, raw.get("figures"), path),
        documents=[d.strip("《》") for d in docs],
        tags=c.str_list(raw, "tags", path, TAGS),
        source=source,
    )


def _area(
    data: Any, file: str, expect_number: int, gaz: dict[str, City]
) -> tuple[Area | None, list[str]]:
    c = _Checker(file)
    if not isinstance(data, dict):
        c.err("(根)", "应为映射（number, numeral, title, measures）")
        return None, c.problems
    number = data.get("number")
    if number != expect_number:
        c.err("number", f"应为 {expect_number}（与文件名一致），实际是 {number!r}")
    numeral = c.text(data, "numeral", "(根)")
    if numeral and numeral != NUMERALS[expect_number - 1]:
        c.err("numeral", f"应为“{NUMERALS[expect_number - 1]}”，实际是“{numeral}”")
    numeral = NUMERALS[expect_number - 1]
    area = Area(number=expect_number, numeral=numeral, title=c.text(data, "title", "(根)"))
    measures = data.get("measures")
    if not isinstance(measures, list) or not measures:
        c.err("measures", "应为非空列表")
        return area, c.problems
    for mi, m in enumerate(measures):
        mp = f"measures[{mi}]"
        if not isinstance(m, dict):
            c.err(mp, "应为一个举措（映射）")
            continue
        code = c.text(m, "code", mp)
        expect_code = f"{numeral}({NUMERALS[mi]})"
        if code and code != expect_code:
            c.err(f"{mp}.code", f"应为“{expect_code}”，实际是“{code}”")
        tags = c.str_list(m, "tags", mp, TAGS)
        if not 1 <= len(tags) <= 4:
            c.err(f"{mp}.tags", "应有 1–4 个标签")
        measure = Measure(
            code=expect_code,
            number=mi + 1,
            title=c.text(m, "title", mp),
            tags=tags,
            yimi_parts=c.str_list(m, "yimi_parts", mp, YIMI_PARTS),
            planned_parts=c.str_list(m, "planned_parts", mp, PLANNED_PARTS),
        )
        items = m.get("items")
        if not isinstance(items, list) or not items:
            c.err(f"{mp}.items", "应为非空列表")
            items = []
        for ii, it in enumerate(items):
            ip = f"{mp}.items[{ii}]"
            if not isinstance(it, dict):
                c.err(ip, "应为一个条目（映射）")
                continue
            icode = c.text(it, "code", ip)
            expect_icode = f"{expect_code}{ii + 1}"
            if icode and icode != expect_icode:
                c.err(f"{ip}.code", f"应为“{expect_icode}”，实际是“{icode}”")
            item = Item(code=expect_icode, number=ii + 1, title=c.text(it, "title", ip))
            cases = it.get("cases")
            if not isinstance(cases, list) or not cases:
                c.err(f"{ip}.cases", "每个条目至少有一个案例")
                cases = []
            for ci, raw in enumerate(cases):
                case = _case(c, raw, f"{ip}.cases[{ci}]", expect_icode, gaz)
                if case is not None:
                    item.cases.append(case)
            measure.items.append(item)
        area.measures.append(measure)
    return area, c.problems


def load(directory: Path | str = DATA_DIR) -> Catalog:
    """Read and check the catalogue in ``directory``; raise :class:`CatalogError` listing every
    problem (not just the first)."""
    directory = Path(directory)
    problems: list[str] = []
    gaz = _gazetteer(_load_yaml(directory / "gazetteer.yaml", problems), problems)
    areas: list[Area] = []
    numbers = sorted(
        int(m.group(1))
        for p in directory.glob("area_*.yaml")
        if (m := re.fullmatch(r"area_([1-9])\.yaml", p.name))
    )
    if not numbers:
        problems.append(f"{directory}: 没有 area_N.yaml 文件")
    for n in numbers:
        name = f"area_{n}.yaml"
        data = _load_yaml(directory / name, problems)
        if data is None:
            continue
        area, errs = _area(data, name, n, gaz)
        problems.extend(errs)
        if area is not None:
            areas.append(area)
    seen: dict[str, str] = {}
    for area in areas:
        for case in (c for m in area.measures for i in m.items for c in i.cases):
            if case.id in seen:
                problems.append(
                    f"area_{area.number}.yaml: {case.source}: 案例 id “{case.id}”重复"
                    f"（已用于 {seen[case.id]}）"
                )
            seen[case.id] = case.source
    if problems:
        raise CatalogError(problems)
    return Catalog(areas=areas, gazetteer=gaz)
