"""The authorisation matrix of the care part: every page and endpoint × every role × own / other.

The world has two districts, A and B, each with a child who has a family member, a document,
consents, a visit, a confirmed order with a department task, a worklist match, a paired
volunteer. Users of every role sit in A (and a few in B).

1. Every care URL and every care API path is enumerated from the URL conf and the OpenAPI
   schema; a new one without an entry in :data:`PARAMS` fails the test, so none is forgotten.
2. For B's objects, no A-side user gets a successful answer, and no answer carries B's child's
   name, file number or ID number — by any URL, filter, search or export.
3. For A's objects, each page's allowed roles are spelled out (:data:`PAGE_MATRIX`) and checked.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, reverse

from yimi.care.models import (
    Child,
    Document,
    FamilyMember,
    Order,
    OrderTask,
    Pairing,
    Policy,
    Purpose,
    Visit,
    Volunteer,
    WorklistItem,
)
from yimi.care.services import orders as order_services
from yimi.care.services import records as record_services
from yimi.care.services import volunteers as volunteer_services
from yimi.care.services import work as work_services
from yimi.care.tests.builders_records import city_with_b, id_number
from yimi.core.models import Area
from yimi.core.roles import Role
from yimi.core.tests.factories import make_department, make_user

pytestmark = pytest.mark.django_db

FINDINGS = dict.fromkeys(
    (
        "living",
        "medical",
        "schooling",
        "guardianship",
        "psychological",
        "safety",
        "family",
        "other",
    ),
    "正常",
)


@dataclass
class Side:
    """One district's objects."""

    child: Child
    name: str
    id_number: str
    policy: Policy
    order: Order
    task: OrderTask
    visit: Visit
    member: FamilyMember
    document: Document
    consent_id: int
    volunteer: Volunteer
    pairing: Pairing
    worklist: WorklistItem
    area: Area
    secrets: list[str] = field(default_factory=list)


def _side(city, key: str, community: Area, district: Area, users: dict, tag: str) -> Side:
    director, wcco = users[f"director_{key}"], users[f"wcco_{key}"]
    dept = users[f"dept_{key}"].department
    name = f"保密童{tag}"
    number = id_number()
    policy = work_services.policy_create(
        actor=wcco,
        area=district,
        name=f"测试救助{tag}",
        domain="medical",
        benefit="医疗救助",
        lead_department=dept,
        sections=["health", "documents"],
        step_days={"confirm": 3, "handle": 15, "follow_up": 30},
        eligibility={"field": "categories", "op": "in", "value": ["left_behind"]},
    )
    # A second policy the child qualifies for and is not ordered: stays on the worklist.
    work_services.policy_create(
        actor=wcco,
        area=district,
        name=f"关爱探访{tag}",
        domain="life",
        benefit="探访",
        lead_department=dept,
        eligibility={"field": "age", "op": "<", "value": 18},
    )
    child = record_services.child_create(
        actor=director,
        area=community,
        name=name,
        id_number=number,
        categories=["left_behind"],
        risk_level="high",
        address=f"{tag}街 1 号",
        health={"conditions": "哮喘"},
    )
    member = record_services.family_member_add(
        actor=director,
        child=child,
        relation="mother",
        name=f"{name}之母",
        phone="13900000000",
        is_guardian=True,
    )
    document = record_services.document_upload(
        actor=director,
        child=child,
        title="低保证明",
        filename="证明.pdf",
        content=b"%PDF-1.4 x",
        content_type="application/pdf",
    )
    consent = record_services.consent_grant(
        actor=director,
        child=child,
        purpose=Purpose.REFERRAL,
        department=dept,
        given_by=f"{name}之母",
        relation="mother",
    )
    record_services.consent_grant(
        actor=director,
        child=child,
        purpose=Purpose.VOLUNTEER,
        given_by=f"{name}之母",
        relation="mother",
    )
    visit = work_services.visit_record(
        actor=director, child=child, visited_on=dt.date.today(), findings=FINDINGS
    )
    order = order_services.order_create(actor=director, child=child, policy=policy)
    order = order_services.order_confirm(actor=director, order=order, note="确认")
    task = order.tasks.get()
    volunteer = volunteer_services.volunteer_register(
        actor=director,
        area=community,
        name=f"志愿者{tag}",
        phone="13700000000",
        id_number=id_number(dt.date(1980, 1, 1) if key == "a" else dt.date(1982, 6, 15)),
    )
    volunteer = volunteer_services.volunteer_check_record(
        actor=director,
        volunteer=volunteer,
        state=Volunteer.Check.PASSED,
        checked_on=dt.date.today(),
        reference="QC-1",
        valid_until=dt.date.today() + dt.timedelta(days=365),
    )
    volunteer_services.volunteer_account_create(
        actor=director, volunteer=volunteer, username=f"vol-{key}", password="x-Secret-123"
    )
    users[f"volunteer_{key}"] = volunteer.user
    pairing = volunteer_services.pairing_start(
        actor=director, volunteer=volunteer, child=child, started_on=dt.date.today()
    )
    worklist = WorklistItem.objects.get(child=child, state="open")
    return Side(
        child=child,
        name=name,
        id_number=number,
        policy=policy,
        order=order,
        task=task,
        visit=visit,
        member=member,
        document=document,
        consent_id=consent.pk,
        volunteer=volunteer,
        pairing=pairing,
        worklist=worklist,
        area=community,
        secrets=[name, number, child.file_no, f"{name}之母"],
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end (each test
    runs in its own savepoint within it, so nothing one test writes is seen by the next)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def _build_world():
    city = city_with_b()
    dept_a, dept_a2, dept_b = (
        make_department(city["A"], "civil"),
        make_department(city["A"], "edu"),
        make_department(city["B"], "civil"),
    )
    users = {
        "admin": make_user(Role.ADMIN, None),
        "wcco_a": make_user(Role.WCCO, city["A"]),
        "wcco_b": make_user(Role.WCCO, city["B"]),
        "supervisor_a": make_user(Role.SUPERVISOR, city["SA"]),
        "director_a": make_user(Role.DIRECTOR, city["CA1"]),
        "director_a2": make_user(Role.DIRECTOR, city["CA2"]),
        "director_b": make_user(Role.DIRECTOR, city["CB1"]),
        "dept_a": make_user(Role.DEPARTMENT, city["A"], department=dept_a),
        "dept_a2": make_user(Role.DEPARTMENT, city["A"], department=dept_a2),
        "dept_b": make_user(Role.DEPARTMENT, city["B"], department=dept_b),
        "expert_a": make_user(Role.EXPERT, city["A"]),
        "public": make_user(Role.PUBLIC, None),
    }
    a = _side(city, "a", city["CA1"], city["A"], users, "甲")
    b = _side(city, "b", city["CB1"], city["B"], users, "乙")
    return {"city": city, "users": users, "A": a, "B": b}


# Users on district A's side (plus the anonymous visitor): none may ever see B.
A_SIDE = [
    "wcco_a",
    "supervisor_a",
    "director_a",
    "director_a2",
    "dept_a",
    "dept_a2",
    "volunteer_a",
    "expert_a",
    "public",
    None,
]


def _client(world, who: str | None) -> Client:
    client = Client()
    if who is not None:
        client.force_login(world["users"][who])
    return client


# ------------------------------------------------------------------------------ enumeration

# How to fill each URL keyword and API path parameter from one side's objects.
PARAMS = {
    "pk": None,  # by the URL's first segment, below
    "member": lambda s: s.member.pk,
    "consent": lambda s: s.consent_id,
    "doc": lambda s: s.document.pk,
    "index": lambda s: 0,
    "child_id": lambda s: s.child.pk,
    "order_id": lambda s: s.order.pk,
    "task_id": lambda s: s.task.pk,
    "visit_id": lambda s: s.visit.pk,
    "policy_id": lambda s: s.policy.pk,
    "volunteer_id": lambda s: s.volunteer.pk,
    "pairing_id": lambda s: s.pairing.pk,
    "consent_id": lambda s: s.consent_id,
    "item_id": lambda s: s.worklist.pk,
    "n": lambda s: 0,
}
PK_BY_SEGMENT = {
    "children": lambda s: s.child.pk,
    "orders": lambda s: s.order.pk,
    "tasks": lambda s: s.task.pk,
    "visits": lambda s: s.visit.pk,
    "menu": lambda s: s.policy.pk,
    "worklist": lambda s: s.worklist.pk,
    "volunteers": lambda s: s.volunteer.pk,
    "pairings": lambda s: s.pairing.pk,
    "my-children": lambda s: s.pairing.pk,
}


def _page_patterns() -> list[URLPattern]:
    from yimi.care import urls

    return list(urls.urlpatterns)


def _fill_page(pattern: URLPattern, side: Side) -> str:
    route = str(pattern.pattern)
    kwargs = {}
    for key in re.findall(r"<(?:\w+:)?(\w+)>", route):
        if key == "pk":
            segment = route.split("/")[0]
            assert segment in PK_BY_SEGMENT, f"no rule for <pk> of {route!r}: add it to the matrix"
            kwargs[key] = PK_BY_SEGMENT[segment](side)
        else:
            assert key in PARAMS, f"no rule for <{key}> of {route!r}: add it to the matrix"
            kwargs[key] = PARAMS[key](side)
    return reverse(f"care:{pattern.name}", kwargs=kwargs)


def _api_operations() -> list[tuple[str, str]]:
    from yimi.api import api

    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        if path.startswith("/api/v1/care/"):
            out.extend((method.upper(), path) for method in ops)
    return sorted(out)


def _fill_api(path: str, side: Side) -> str:
    def sub(m: re.Match) -> str:
        key = m.group(1)
        assert key in PARAMS and PARAMS[key], f"no rule for {{{key}}} of {path}: add it"
        return str(PARAMS[key](side))

    return re.sub(r"\{(\w+)\}", sub, path)


def _text(response) -> str:
    """The body as text; xlsx exports are opened and every cell read."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        cells = [
            str(v)
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v is not None
        ]
        return "\n".join(cells)
    return body.decode("utf-8", "replace")


def _leaks(text: str, side: Side, asked: dict | None = None) -> list[str]:
    """B's secrets in a response, other than those the request itself carried (a search box
    and the language switcher echo the query; echoing what the user typed discloses nothing)."""
    typed = " ".join(str(v) for v in (asked or {}).values())
    return [s for s in side.secrets if s in text and s not in typed]


def _refused(response) -> bool:
    """A redirect back with an error message (an action the user may see but not take)."""
    from django.contrib.messages import ERROR, get_messages

    if response.status_code != 302:
        return False
    return any(m.level == ERROR for m in get_messages(response.wsgi_request))


def _ok(status: int) -> bool:
    return 200 <= status < 300


# ------------------------------------------------------------------------------ 2. never B


def test_every_care_page_is_in_the_matrix(world):
    patterns = _page_patterns()
    assert len(patterns) >= 40
    for pattern in patterns:
        _fill_page(pattern, world["B"])  # raises for a URL the matrix does not know
        assert pattern.name in PAGE_MATRIX or pattern.name in ACTION_MATRIX, (
            f"care:{pattern.name} has no row in PAGE_MATRIX or ACTION_MATRIX"
        )


def test_no_a_side_user_reaches_district_b_through_any_page(world):
    b = world["B"]
    failures = []
    for pattern in _page_patterns():
        url = _fill_page(pattern, b)
        has_object = "<" in str(pattern.pattern)
        for who in A_SIDE:
            client = _client(world, who)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                leaked = _leaks(_text(response), b)
                if leaked:
                    failures.append(f"{who} {method.upper()} {url}: shows {leaked}")
                if has_object and _ok(response.status_code):
                    failures.append(f"{who} {method.upper()} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_no_a_side_user_finds_district_b_by_search_filter_or_export(world):
    b = world["B"]
    # Every filter the care pages and endpoints take, pointed at B (three requests per URL).
    queries = [
        {
            "q": b.child.file_no,
            "area": b.area.code,
            "child": b.child.pk,
            "policy": b.policy.pk,
            "department": b.task.department_id,
            "escalated": "1",
            "due": "overdue",
            "unmasked": "1",
        },
        {"q": b.name, "area": b.area.pk, "child_id": b.child.pk, "state": "handling"},
        {"q": b.id_number, "status": "active", "risk": "high", "category": "left_behind"},
    ]
    list_pages = [p for p in _page_patterns() if "<" not in str(p.pattern)]
    api_lists = [path for method, path in _api_operations() if method == "GET" and "{" not in path]
    failures = []
    for who in A_SIDE:
        client = _client(world, who)
        for params in queries:
            for pattern in list_pages:
                url = reverse(f"care:{pattern.name}")
                for method in ("get", "post"):
                    leaked = _leaks(_text(getattr(client, method)(url, params)), b, params)
                    if leaked:
                        failures.append(f"{who} {method.upper()} {url} {params}: shows {leaked}")
            for path in api_lists:
                leaked = _leaks(_text(client.get(path, params)), b, params)
                if leaked:
                    failures.append(f"{who} {path} {params}: shows {leaked}")
    assert not failures, "\n".join(failures)


def test_no_a_side_user_reaches_district_b_through_any_endpoint(world):
    b = world["B"]
    failures = []
    for method, path in _api_operations():
        url = _fill_api(path, b)
        for who in A_SIDE:
            client = _client(world, who)
            call = getattr(client, method.lower())
            response = (
                call(url) if method == "GET" else call(url, "{}", content_type="application/json")
            )
            leaked = _leaks(_text(response), b)
            if leaked:
                failures.append(f"{who} {method} {url}: shows {leaked}")
            if "{" in path and _ok(response.status_code):
                failures.append(f"{who} {method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_writes_refused_on_b_objects_change_nothing(world):
    """Every refused POST above left B's records as they were."""
    b = world["B"]
    before = (
        Child.objects.get(pk=b.child.pk).updated_at,
        Order.objects.get(pk=b.order.pk).state,
        OrderTask.objects.get(pk=b.task.pk).state,
        Pairing.objects.get(pk=b.pairing.pk).ended_on,
        FamilyMember.objects.filter(child=b.child).count(),
        Document.objects.filter(child=b.child).count(),
    )
    for pattern in _page_patterns():
        if "<" not in str(pattern.pattern):
            continue
        url = _fill_page(pattern, b)
        for who in ("director_a", "supervisor_a", "wcco_a", "dept_a", "volunteer_a"):
            _client(world, who).post(url, {"note": "x", "reason": "x", "result": "x"})
    after = (
        Child.objects.get(pk=b.child.pk).updated_at,
        Order.objects.get(pk=b.order.pk).state,
        OrderTask.objects.get(pk=b.task.pk).state,
        Pairing.objects.get(pk=b.pairing.pk).ended_on,
        FamilyMember.objects.filter(child=b.child).count(),
        Document.objects.filter(child=b.child).count(),
    )
    assert before == after


# ------------------------------------------------------------------------------ 3. own side

CASEWORKERS = {"supervisor_a", "director_a"}
OVERSIGHT = {"admin", "wcco_a"}
CARE_USERS = CASEWORKERS | OVERSIGHT | {"director_a2", "dept_a", "dept_a2", "volunteer_a"}
EVERYONE = [
    "admin",
    "wcco_a",
    "supervisor_a",
    "director_a",
    "director_a2",
    "dept_a",
    "dept_a2",
    "volunteer_a",
    "expert_a",
    "public",
    None,
]

# GET pages: who gets 200 on district A's objects (everyone else: 302 to log in, 403 or 404).
PAGE_MATRIX: dict[str, set[str]] = {
    "home": CARE_USERS,
    "children": CASEWORKERS | OVERSIGHT | {"director_a2", "dept_a", "dept_a2"},
    "child_new": CASEWORKERS | {"director_a2"},
    "child": CASEWORKERS | OVERSIGHT | {"dept_a"},
    "child_edit": CASEWORKERS,
    "family_add": CASEWORKERS,
    "family_edit": CASEWORKERS,
    "consent_add": CASEWORKERS,
    "document_upload": CASEWORKERS,
    "document_download": CASEWORKERS | {"dept_a"},
    "assessment_new": CASEWORKERS,
    "visits": CASEWORKERS | {"director_a2"},
    "visit_new": CASEWORKERS,
    # The menu is public information (what aid exists, who gives it).
    "menu": CARE_USERS,
    "policy_new": OVERSIGHT,
    "policy_edit": OVERSIGHT,
    "worklist": CASEWORKERS | {"director_a2"},
    "orders": CASEWORKERS | OVERSIGHT | {"director_a2", "dept_a", "dept_a2"},
    "order_new": CASEWORKERS,
    "order": CASEWORKERS | OVERSIGHT | {"dept_a"},
    "tasks": {"dept_a", "dept_a2"},
    "volunteers": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "volunteer_new": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "volunteer": CASEWORKERS | OVERSIGHT,
    "pairing_new": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "pairing_end": CASEWORKERS | OVERSIGHT,
    "my_children": {"volunteer_a"},
    "my_child": {"volunteer_a"},
    "monitor": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "monitor_export": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "ledger": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "ledger_template": CASEWORKERS | OVERSIGHT | {"director_a2"},
}
# Pages that need a query to show anything.
PAGE_QUERY = {
    "order_new": lambda s: {"child": s.child.pk, "policy": s.worklist.policy_id},
}

# POST-only actions: who may act on district A's objects. Everyone else must be refused
# (403/404/405; anonymous: to the log-in page) and nothing may change.
ACTION_MATRIX: dict[str, set[str]] = {
    "child_reveal_id": CASEWORKERS,
    "child_close": CASEWORKERS,
    "child_reopen": CASEWORKERS,
    "family_remove": CASEWORKERS,
    "consent_withdraw": CASEWORKERS,
    "document_delete": CASEWORKERS,
    "follow_up_done": CASEWORKERS,
    "worklist_dismiss": CASEWORKERS,
    "orders_escalate": OVERSIGHT,
    "order_confirm": CASEWORKERS,
    "order_reject": CASEWORKERS,
    "order_withdraw": CASEWORKERS,
    "order_follow_up": CASEWORKERS,
    "order_supervise": OVERSIGHT,
    "task_accept": {"dept_a"},
    "task_complete": {"dept_a"},
    "task_decline": {"dept_a"},
    "volunteer_check": CASEWORKERS | OVERSIGHT,
    "volunteer_account": CASEWORKERS | OVERSIGHT,
    "volunteer_deactivate": CASEWORKERS | OVERSIGHT,
    "pairing_log": CASEWORKERS | {"volunteer_a"},
    "ledger_preview": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "ledger_confirm": CASEWORKERS | OVERSIGHT | {"director_a2"},
    "ledger_export": CASEWORKERS | OVERSIGHT | {"director_a2"},
}


@pytest.mark.parametrize("name", sorted(ACTION_MATRIX))
def test_action_matrix_on_own_district(world, name):
    pattern = next((p for p in _page_patterns() if p.name == name), None)
    assert pattern is not None, f"care:{name} is in the matrix but not in the URL conf"
    url = _fill_page(pattern, world["A"])
    allowed = ACTION_MATRIX[name]
    a = world["A"]
    before = (
        Child.objects.get(pk=a.child.pk).updated_at,
        Order.objects.get(pk=a.order.pk).state,
        OrderTask.objects.get(pk=a.task.pk).state,
        Volunteer.objects.get(pk=a.volunteer.pk).check_state,
    )
    wrong = []
    for who in EVERYONE:
        if who in allowed:
            continue  # success paths are proven by each slice's service and page tests
        response = _client(world, who).post(
            url, {"note": "x", "reason": "x", "result": "x", "activity": "x", "date": "2026-01-01"}
        )
        status = response.status_code
        login = status == 302 and "/login" in response.get("Location", "")
        if who is None and not (login or status in (401, 403, 404)):
            wrong.append(f"anonymous: {status}")
        elif who is not None and status not in (403, 404, 405) and not _refused(response):
            wrong.append(f"{who}: {status} {response.get('Location', '')}, expected a refusal")
    after = (
        Child.objects.get(pk=a.child.pk).updated_at,
        Order.objects.get(pk=a.order.pk).state,
        OrderTask.objects.get(pk=a.task.pk).state,
        Volunteer.objects.get(pk=a.volunteer.pk).check_state,
    )
    assert not wrong, f"{url}\n" + "\n".join(wrong)
    assert before == after


@pytest.mark.parametrize("name", sorted(PAGE_MATRIX))
def test_page_matrix_on_own_district(world, name):
    pattern = next((p for p in _page_patterns() if p.name == name), None)
    assert pattern is not None, f"care:{name} is in the matrix but not in the URL conf"
    url = _fill_page(pattern, world["A"])
    allowed = PAGE_MATRIX[name]
    query = PAGE_QUERY.get(name, lambda s: {})(world["A"])
    wrong = []
    for who in EVERYONE:
        status = _client(world, who).get(url, query).status_code
        if who in allowed and status != 200:
            wrong.append(f"{who}: {status}, expected 200")
        if who not in allowed and _ok(status):
            wrong.append(f"{who}: {status}, expected a refusal")
        if who is None and status not in (302, 401, 403, 404):
            wrong.append(f"anonymous: {status}")
    assert not wrong, f"{url}\n" + "\n".join(wrong)


def test_who_sees_names_on_own_district(world):
    """Names of A's child: caseworkers and the department with the task — not wcco, not a2."""
    a = world["A"]
    url = reverse("care:child", kwargs={"pk": a.child.pk})
    for who, sees in (
        ("director_a", True),
        ("supervisor_a", True),
        ("dept_a", True),
        ("wcco_a", False),
        ("admin", False),
    ):
        text = _text(_client(world, who).get(url))
        assert (a.name in text) is sees, who
        # The full ID number only after an explicit reveal, never on the page itself.
        assert a.id_number not in text, who
    listing = _text(_client(world, "wcco_a").get(reverse("care:children")))
    assert a.child.file_no in listing and a.name not in listing
