"""The care part of ``yimi demo``: departments, an aid menu, ~60 FICTITIOUS children and their
work (visits, consents, orders in every state, a volunteer pairing). Safe to run twice.

Every child is invented: names are 示例童01 … and ID numbers come from
:func:`yimi.care.identity.generate_id_number` (check-digit valid, sequence codes 99x). The
children enter through the ledger import of a generated workbook (the path a district takes on
its first day); everything after that goes through the services of the records, work, orders
and volunteers parts, so the demo obeys the same rules (consent before referral, a passed
background check before a pairing …) and is encrypted and audited like real data.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import secrets
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core import keys
from yimi.core.models import Area, Department, User
from yimi.core.roles import Role
from yimi.core.services import department_create

from . import ledger_format as fmt
from .identity import generate_id_number
from .models import Child, Consent, Domain, Order, Policy, Purpose, Section, Volunteer

DISTRICT = "110108"
COMMUNITIES = ("110108900001", "110108900002")
N_CHILDREN = 60
SEED = 20260401

DEPARTMENTS = [
    ("civil-110108", "海淀区民政局"),
    ("edu-110108", "海淀区教育委员会"),
    ("health-110108", "海淀区卫生健康委员会"),
    ("medins-110108", "海淀区医疗保障局"),
    ("dpf-110108", "海淀区残疾人联合会"),
    ("justice-110108", "海淀区司法局"),
    ("youth-110108", "共青团北京市海淀区委员会"),
]


def _cats(*codes: str) -> dict:
    return {"field": "categories", "op": "in", "value": list(codes)}


def _age(lo: int, hi: int) -> dict:
    return {"field": "age", "op": "between", "value": [lo, hi]}


# (code, name, domain, lead, cooperating, rule, sections, what it gives)
MENU = [
    (
        "DEMO-L01",
        "孤儿基本生活保障",
        Domain.LIFE,
        "civil-110108",
        [],
        {"all": [_cats("orphan"), _age(0, 17)]},
        [Section.WELFARE],
        "按月发放孤儿基本生活费（演示）",
    ),
    (
        "DEMO-L02",
        "事实无人抚养儿童基本生活补贴",
        Domain.LIFE,
        "civil-110108",
        [],
        {"all": [_cats("unsupported"), _age(0, 17)]},
        [Section.WELFARE, Section.FAMILY],
        "参照孤儿标准发放基本生活补贴（演示）",
    ),
    (
        "DEMO-L03",
        "困境儿童分类保障",
        Domain.LIFE,
        "civil-110108",
        ["youth-110108"],
        {
            "any": [
                _cats("serious_illness", "severe_disability", "low_income", "other_difficulty"),
            ]
        },
        [Section.WELFARE],
        "按困境类型分类施保（演示）",
    ),
    (
        "DEMO-E01",
        "低保家庭子女教育资助",
        Domain.EDUCATION,
        "edu-110108",
        ["civil-110108"],
        {
            "all": [
                {"field": "low_income", "op": "=", "value": True},
                {
                    "field": "school_stage",
                    "op": "in",
                    "value": ["preschool", "primary", "junior", "senior", "vocational"],
                },
            ]
        },
        [Section.EDUCATION, Section.WELFARE],
        "学前至高中阶段资助、免除相关费用（演示）",
    ),
    (
        "DEMO-E02",
        "留守儿童学业辅导",
        Domain.EDUCATION,
        "edu-110108",
        ["youth-110108"],
        {
            "all": [
                _cats("left_behind"),
                {"field": "school_stage", "op": "in", "value": ["primary", "junior"]},
            ]
        },
        [Section.EDUCATION],
        "学校结对辅导、课后服务优先（演示）",
    ),
    (
        "DEMO-M01",
        "残疾儿童康复救助",
        Domain.MEDICAL,
        "dpf-110108",
        ["health-110108"],
        {"all": [{"field": "disability_grade", "op": "<=", "value": 2}, _age(0, 17)]},
        [Section.DISABILITY, Section.HEALTH],
        "0–17 岁重度残疾儿童康复训练、辅具适配（演示）",
    ),
    (
        "DEMO-M02",
        "重病儿童医疗救助",
        Domain.MEDICAL,
        "medins-110108",
        ["health-110108"],
        {"all": [_cats("serious_illness")]},
        [Section.HEALTH],
        "医保报销后个人负担部分按比例救助（演示）",
    ),
    (
        "DEMO-M03",
        "困境儿童健康体检",
        Domain.MEDICAL,
        "health-110108",
        [],
        {"any": [_cats("orphan", "unsupported", "serious_illness", "severe_disability")]},
        [Section.HEALTH],
        "每年一次免费健康体检（演示）",
    ),
    (
        "DEMO-G01",
        "法律援助",
        Domain.LEGAL,
        "justice-110108",
        [],
        {"any": [_cats("unsupported", "orphan")]},
        [Section.FAMILY],
        "监护、抚养等事项免费法律援助（演示）",
    ),
    (
        "DEMO-G02",
        "监护缺失儿童临时监护协调",
        Domain.LEGAL,
        "civil-110108",
        ["justice-110108"],
        {"all": [_cats("unsupported"), {"field": "risk_level", "op": "=", "value": "high"}]},
        [Section.FAMILY],
        "协调临时监护、委托照护（演示）",
    ),
    (
        "DEMO-P01",
        "心理疏导",
        Domain.PSYCHOLOGICAL,
        "health-110108",
        ["edu-110108"],
        {"any": [{"field": "risk_level", "op": "=", "value": "high"}, _cats("orphan")]},
        [Section.HEALTH],
        "专业心理咨询师一对一疏导（演示）",
    ),
    (
        "DEMO-P02",
        "留守儿童关爱探访",
        Domain.PSYCHOLOGICAL,
        "youth-110108",
        ["edu-110108"],
        {"all": [_cats("left_behind")]},
        [Section.BASIC],
        "志愿者定期探访、亲情连线（演示）",
    ),
]

CATEGORY_MIX = [
    ["left_behind"],
    ["left_behind"],
    ["migrant"],
    ["low_income"],
    ["orphan"],
    ["unsupported"],
    ["serious_illness"],
    ["severe_disability"],
    ["left_behind", "low_income"],
    ["other_minor"],
]


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def demo_ledger_rows(n: int = N_CHILDREN, *, today: dt.date | None = None) -> list[dict[str, str]]:
    """The FICTITIOUS children of the demo as ledger rows (Chinese headers)."""
    rng = random.Random(SEED)
    today = today or timezone.localdate()
    rows = []
    seen: set[str] = set()
    while len(rows) < n:
        i = len(rows) + 1
        born = today - dt.timedelta(days=rng.randrange(2 * 365, 16 * 365))
        number = generate_id_number(rng, region=DISTRICT, birth_date=born, today=today)
        if number in seen:
            continue
        seen.add(number)
        cats = CATEGORY_MIX[i % len(CATEGORY_MIX)]
        age = (today - born).days // 365
        stage = (
            "preschool"
            if age < 6
            else "primary"
            if age < 12
            else "junior"
            if age < 15
            else "senior"
        )
        disabled = "severe_disability" in cats
        rows.append(
            {
                "姓名": f"示例童{i:02d}",
                "身份证号": number,
                "类别": "、".join(fmt.CATEGORY_LABELS[c] for c in cats),
                "风险等级": "高" if i % 7 == 0 else "中" if i % 3 == 0 else "低",
                "状态": "在册",
                "社区代码": COMMUNITIES[i % 2],
                "住址": f"演示路{i}号",
                "联系电话": f"1390000{i:04d}",
                "学校": "演示小学"
                if stage == "primary"
                else "演示中学"
                if stage != "preschool"
                else "演示幼儿园",
                "学段": fmt.STAGE_LABELS[stage],
                "低保/特困家庭": "是" if "low_income" in cats else "否",
                "残疾类别": "肢体" if disabled else "",
                "残疾等级": "二级" if disabled else "",
                "健康状况": "白血病（演示）" if "serious_illness" in cats else "",
                "监护人姓名": f"示例监护人{i:02d}",
                "监护人关系": "祖母" if "left_behind" in cats else "母亲",
                "监护人电话": f"1370000{i:04d}",
                "备注": "演示数据",
            }
        )
    return rows


def _workbook(rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    header = [zh for _k, zh, _a, _r in fmt.COLUMNS]
    ws.append(header)
    for r in rows:
        ws.append([r.get(h, "") for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build_care_demo(out: Callable[[str], None]) -> None:
    from .services.ledger import ledger_import
    from .services.work import policy_create

    district = Area.objects.filter(code=DISTRICT).first()
    communities = list(Area.objects.filter(code__in=COMMUNITIES))
    wcco, supervisor = _user("demo-wcco"), _user("demo-supervisor")
    if district is None or len(communities) != len(COMMUNITIES) or not (wcco and supervisor):
        out(_("Care demo: the demo city or its users are missing; skipped."))
        return
    for code, name in DEPARTMENTS:
        if not Department.objects.filter(code=code).exists():
            department_create(actor=None, code=code, name=name, area=district)

    created = 0
    for code, name, domain, lead, coop, rule, sections, benefit in MENU:
        if Policy.objects.filter(code=code).exists():
            continue
        item = policy_create(
            actor=wcco,
            area=district,
            code=code,
            name=name,
            domain=domain,
            benefit=benefit,
            basis="演示数据：政策依据从略",
            lead_department=Department.objects.get(code=lead),
            cooperating=[Department.objects.get(code=c) for c in coop],
            step_days={"confirm": 3, "handle": 15, "follow_up": 30},
            eligibility=rule,
            sections=[str(s) for s in sections],
        )
        Policy.objects.filter(pk=item.pk).update(is_demo=True)
        created += 1
    out(_("Care menu: %(n)s policies (%(c)s new)") % {"n": len(MENU), "c": created})

    rows = demo_ledger_rows()
    hashes = [keys.match_hash(r["身份证号"], purpose="id_number") for r in rows]
    if Child.objects.filter(id_hash__in=hashes).exists():
        out(_("Care demo children exist; nothing more to add."))
        return
    plan = ledger_import(actor=supervisor, file=_workbook(rows), filename="演示台账.xlsx")
    if not plan.written:
        out(_("Care demo: the demo ledger did not import: %(e)s") % {"e": plan.errors[:3]})
        return
    Child.objects.filter(id_hash__in=hashes).update(is_demo=True)
    children = list(Child.objects.filter(id_hash__in=hashes).select_related("area"))
    out(
        _("Care demo: %(n)s FICTITIOUS children imported from a generated ledger")
        % {"n": len(children)}
    )
    _work(children, supervisor, out)
    _volunteer(children, supervisor, out)


def _work(children: list[Child], supervisor: User, out: Callable[[str], None]) -> None:
    """Family members, consents, visits (some overdue) and orders in different states."""
    from .services import orders as order_services
    from .services.records import consent_grant, family_member_add
    from .services.work import visit_record

    today = timezone.localdate()
    rng = random.Random(SEED + 1)
    findings = {
        "living": "生活照料基本到位（演示）",
        "medical": "按时就医（演示）",
        "schooling": "正常上学（演示）",
        "guardianship": "祖母照料（演示）",
        "psychological": "情绪稳定（演示）",
        "safety": "居住环境安全（演示）",
        "family": "父母外出务工，每周视频（演示）",
        "other": "无",
    }
    visits = 0
    for i, child in enumerate(children):
        if i % 4 == 0:
            family_member_add(
                actor=supervisor,
                child=child,
                relation="father",
                situation="away",
                name=f"示例家长{i + 1:02d}",
                phone="",
            )
        if i % 3 == 0:
            continue  # never visited: due since registration
        # Older visits for some: their next visit is overdue.
        back = rng.choice((10, 20, 200)) if i % 5 else 120
        visit_record(
            actor=supervisor,
            child=child,
            visited_on=today - dt.timedelta(days=back),
            findings=findings,
            concerns=["psychological"] if child.risk_level == "high" else [],
            follow_ups=[
                {"action": "联系学校了解学习情况（演示）", "due": str(today + dt.timedelta(days=7))}
            ]
            if i % 6 == 1
            else [],
        )
        visits += 1
    overdue = Child.objects.filter(pk__in=[c.pk for c in children], next_visit_due__lt=today)
    out(
        _("Care demo: %(v)s visits, %(o)s children overdue for a visit")
        % {"v": visits, "o": overdue.count()}
    )

    dept = _user("demo-dept")  # 教委 staff
    edu = Department.objects.get(code="edu-110108")
    orders = {}
    # Children who qualify for the education aid (low income, at school): orders in each state.
    candidates = [
        c
        for c in Child.objects.filter(pk__in=[c.pk for c in children]).select_related("area")
        if c.low_income and c.school_stage in ("preschool", "primary", "junior", "senior")
    ]
    policy_e01 = Policy.objects.get(code="DEMO-E01")
    civil = Department.objects.get(code="civil-110108")
    states = ["applied", "confirmed", "handling", "done", "followed_up"]
    for child, state in zip(candidates, states, strict=False):
        for d in (edu, civil):
            consent_grant(
                actor=supervisor,
                child=child,
                purpose=Purpose.REFERRAL,
                given_by=f"示例监护人（{child.file_no}）",
                relation="mother",
                department=d,
                evidence="书面同意书（演示）",
            )
        order = order_services.order_create(
            actor=supervisor,
            child=child,
            policy=policy_e01,
            request="申请教育资助（演示）",
        )
        if state != "applied":
            order_services.order_confirm(actor=supervisor, order=order, note="已核实（演示）")
        task = order.tasks.filter(department=edu).first()
        if state in ("handling", "done", "followed_up") and dept is not None and task:
            order_services.task_accept(actor=dept, task=task, note="已受理（演示）")
        if state in ("done", "followed_up") and dept is not None and task:
            task.refresh_from_db()
            order_services.task_complete(actor=dept, task=task, result="资助已发放（演示）")
            coop = order.tasks.exclude(department=edu).first()
            if coop is not None:
                civil_user = _civil_user()
                coop.refresh_from_db()
                if coop.state == "waiting" or coop.state == "open":
                    order_services.task_accept(actor=civil_user, task=coop)
                    coop.refresh_from_db()
                    order_services.task_complete(
                        actor=civil_user, task=coop, result="低保身份已核实（演示）"
                    )
        order.refresh_from_db()
        if state == "followed_up" and order.state == Order.State.DONE:
            order_services.order_follow_up(
                actor=supervisor, order=order, note="家长满意（演示）", satisfied=True
            )
        order.refresh_from_db()
        orders[order.number] = order.state
        Order.objects.filter(pk=order.pk).update(is_demo=True)
    out(
        _("Care demo: %(n)s orders (%(s)s)")
        % {
            "n": len(orders),
            "s": "、".join(str(Order.State(v).label) for v in sorted(set(orders.values()))),
        }
    )


def _civil_user() -> User:
    """A 民政局 staff account for the demo's cooperating tasks (no password: not for log-in)."""
    from yimi.core.services import user_create

    user = _user("demo-civil")
    if user is None:
        user = user_create(
            actor=None,
            username="demo-civil",
            password=secrets.token_urlsafe(16),
            role=Role.DEPARTMENT,
            area=Area.objects.get(code=DISTRICT),
            department=Department.objects.get(code="civil-110108"),
            display_name="区民政局工作人员（演示）",
        )
    return user


def _volunteer(children: list[Child], supervisor: User, out: Callable[[str], None]) -> None:
    """A volunteer with a passed background check, an account (demo-volunteer) and a pairing."""
    from .services.records import consent_grant
    from .services.volunteers import (
        pairing_start,
        volunteer_account_create,
        volunteer_check_record,
        volunteer_register,
    )

    if Volunteer.objects.filter(is_demo=True).exists():
        return
    today = timezone.localdate()
    street = supervisor.area
    number = generate_id_number(
        random.Random(SEED + 2), region=DISTRICT, birth_date=dt.date(1980, 5, 1), sex="female"
    )
    volunteer = volunteer_register(
        actor=supervisor,
        area=street,
        name="示例志愿者01",
        phone="13600000001",
        id_number=number,
        organisation="演示爱心妈妈志愿队",
    )
    Volunteer.objects.filter(pk=volunteer.pk).update(is_demo=True)
    volunteer_check_record(
        actor=supervisor,
        volunteer=volunteer,
        state=Volunteer.Check.PASSED,
        checked_on=today - dt.timedelta(days=30),
        reference="演示-入职查询-0001",
        valid_until=today + dt.timedelta(days=335),
    )
    volunteer.refresh_from_db()
    password = None
    if _user("demo-volunteer") is None:
        password = secrets.token_urlsafe(12)
        volunteer_account_create(
            actor=supervisor, volunteer=volunteer, username="demo-volunteer", password=password
        )
    child = next(c for c in children if "left_behind" in c.categories)
    if not Consent.objects.filter(child=child, purpose=Purpose.VOLUNTEER).exists():
        consent_grant(
            actor=supervisor,
            child=child,
            purpose=Purpose.VOLUNTEER,
            given_by=f"示例监护人（{child.file_no}）",
            relation="grandparent",
            evidence="书面同意书（演示）",
        )
    pairing_start(
        actor=supervisor,
        volunteer=volunteer,
        child=child,
        started_on=today - dt.timedelta(days=20),
    )
    out(
        _("Care demo: a volunteer with a passed check, paired with child %(f)s")
        % {"f": child.file_no}
    )
    if password:
        out(f"  {'demo-volunteer':<16} {password}  {Role.VOLUNTEER.label}")
