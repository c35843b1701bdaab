"""The core part of ``yimi demo``: a demo city, its departments and one user per role."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.utils.translation import gettext as _

from yimi.core.models import Area, Department, User
from yimi.core.roles import Role
from yimi.core.services import area_create, department_create, user_create

# The sample extract covers the Wudaokou/Tsinghua part of Haidian. The city and district codes
# are the real ones; the street and communities below are demo areas (codes 110108900…, which no
# real street uses), split from the extract's box, and marked is_demo.
DEMO_BOX = (116.3084, 39.9905, 116.3320, 40.0123)


def _box(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def build_city(out: Callable[[str], None]) -> dict[str, Area]:
    x0, y0, x1, y1 = DEMO_BOX
    mid = round((x0 + x1) / 2, 4)
    spec = [
        ("110000", "北京市", "Beijing", Area.Level.CITY, None, None, False),
        ("110108", "海淀区", "Haidian District", Area.Level.DISTRICT, "110000", None, False),
        (
            "110108900",
            "五道口演示街道",
            "Wudaokou demo street",
            Area.Level.STREET,
            "110108",
            _box(*DEMO_BOX),
            True,
        ),
        (
            "110108900001",
            "清华西演示社区",
            "Tsinghua West demo community",
            Area.Level.COMMUNITY,
            "110108900",
            _box(x0, y0, mid, y1),
            True,
        ),
        (
            "110108900002",
            "成府路演示社区",
            "Chengfu Road demo community",
            Area.Level.COMMUNITY,
            "110108900",
            _box(mid, y0, x1, y1),
            True,
        ),
    ]
    areas: dict[str, Area] = {}
    created = 0
    for code, name, name_en, level, parent, boundary, demo in spec:
        area = Area.objects.filter(code=code).first()
        if area is None:
            area = area_create(
                actor=None,
                code=code,
                name=name,
                name_en=name_en,
                level=level,
                parent=areas.get(parent) if parent else None,
                boundary=boundary,
                is_demo=demo,
            )
            created += 1
        areas[code] = area
    for code, name in (
        ("edu-110108", "海淀区教育委员会"),
        ("health-110108", "海淀区卫生健康委员会"),
        ("civil-110108", "海淀区民政局"),
        ("culture-110108", "海淀区文化和旅游局"),
    ):
        if not Department.objects.filter(code=code).exists():
            department_create(actor=None, code=code, name=name, area=areas["110108"])
    out(
        _("Demo city: 北京市 → 海淀区 → 五道口演示街道 → 2 communities (%(n)s new areas)")
        % {"n": created}
    )
    return areas


def build_users(
    areas: dict[str, Area], out: Callable[[str], None], *, reset_passwords: bool = False
) -> dict[str, str]:
    """One demo user per role. Random passwords are printed once, when the user is created."""
    spec = [
        ("demo-admin", Role.ADMIN, None, None, "系统管理员（演示）"),
        ("demo-wcco", Role.WCCO, "110108", None, "区妇儿工委办（演示）"),
        ("demo-dept", Role.DEPARTMENT, "110108", "edu-110108", "区教委工作人员（演示）"),
        ("demo-supervisor", Role.SUPERVISOR, "110108900", None, "街道儿童督导员（演示）"),
        ("demo-director", Role.DIRECTOR, "110108900001", None, "社区儿童主任（演示）"),
        ("demo-expert", Role.EXPERT, "110108", None, "专家（演示）"),
        ("demo-public", Role.PUBLIC, None, None, "公众用户（演示）"),
    ]
    passwords: dict[str, str] = {}
    for username, role, area_code, dept_code, display in spec:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user_create(
                actor=None,
                username=username,
                password=password,
                role=role,
                area=areas.get(area_code) if area_code else None,
                department=Department.objects.get(code=dept_code) if dept_code else None,
                display_name=display,
            )
            passwords[username] = password
        elif reset_passwords:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            passwords[username] = password
    if passwords:
        out(_("Demo users (passwords are shown only now):"))
        for username, password in passwords.items():
            role = User.objects.get(username=username).get_role_display()
            out(f"  {username:<16} {password}  {role}")
    else:
        out(_("Demo users exist; their passwords are unchanged (use --reset-passwords)."))
    return passwords
