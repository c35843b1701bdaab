"""The voice part of ``yimi demo``: GENERATED demo data, so every voice page has content.

- departments for every kind the routing rules name (parks, transport, edu, culture, health,
  sanitation, fegw) with their handling deadlines;
- ~40 children's letters written for the demo (each ends with "（演示）"; a few carry a drawing
  made here with Pillow), in every state: awaiting review, published, hidden (one of them a
  possible disclosure, hidden and flagged by the rules on arrival), being handled (some
  overdue, reminded and supervised), answered with each adoption decision; two actions with
  milestones and a generated photo;
- an observer group with members (invented names, encrypted like real ones) and 3 activities,
  with suggestions raised in them;
- a co-building alliance of 8 organisations with service items at real places of the sample
  map (the OSM extract) where they exist, and 3 events (one past with check-ins and walk-ins,
  two coming with registrations).

Everything goes through the services of the mailbox, moderation, handling, actions, groups and
co-building, so it is validated, encrypted and audited like real data. Only dates are moved
afterwards (letters spread over the last months, the past event), which no service offers.
Safe to run twice: each part looks for what it made before.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimi.core.models import Area, Department, User
from yimi.core.services import department_create
from yimi.places.models import Place

from .models import (
    Action,
    Activity,
    Adoption,
    AllianceMember,
    DepartmentSetting,
    Event,
    GroupMember,
    ObserverGroup,
    Registration,
    ServiceItem,
    Suggestion,
)
from .services import cobuilding, groups, mailbox

DISTRICT = "110108"
STREET = "110108900"
COMMUNITIES = ("110108900001", "110108900002")
SEED = 20260601
DEMO_MARK = "（演示）"
BOX = (116.3084, 39.9905, 116.3320, 40.0123)  # the sample extract's box (yimi.core.demo)

# (code, name, kind, deadline days): the kinds are routing.yaml's department kinds.
DEPARTMENTS = [
    ("parks-110108", "海淀区园林绿化局", "parks", 20),
    ("transport-110108", "海淀区交通委员会", "transport", 20),
    ("edu-110108", "海淀区教育委员会", "edu", 15),
    ("culture-110108", "海淀区文化和旅游局", "culture", 15),
    ("health-110108", "海淀区卫生健康委员会", "health", 15),
    ("sanitation-110108", "海淀区城市管理委员会", "sanitation", 15),
    ("fegw-110108", "海淀区妇女儿童工作委员会办公室", "fegw", 10),
]

# (text, age group, topic, drawing): written for the demo; no real child wrote them.
LETTERS = [
    (
        "公园里的滑梯太旧了，上面有一个洞，我的裤子被划破了。希望能换一个新的滑梯。",
        "6-9",
        "play",
        "slide",
    ),
    ("我们小区旁边的口袋公园晚上没有灯，太黑了，我和妈妈都不敢去散步。", "9-12", "play", None),
    (
        "学校门口的马路没有红绿灯，车开得太快了，每天过马路我都很害怕。",
        "9-12",
        "school_way",
        "crossing",
    ),
    ("希望地铁站里有一个小朋友也能够得着的洗手池。", "6-9", "traffic", None),
    ("图书馆周末人太多了，能不能多开一个儿童阅览室？", "9-12", "culture", "books"),
    ("希望公园里有饮水机，夏天踢球的时候太渴了。", "9-12", "health", None),
    ("放学的时候校门口的电动车停得乱七八糟，我们都没法走路。", "12-15", "school_way", None),
    ("我希望社区里有一个可以画画的墙，大家一起画。", "6-9", "community", "house"),
    ("公交站的椅子太高了，我坐上去脚够不着地。", "6-9", "traffic", None),
    ("小区里的垃圾桶总是满的，很臭，苍蝇很多。", "9-12", "nature", None),
    ("河边的栏杆有一段坏了，小朋友靠过去很危险。", "9-12", "play", None),
    ("希望学校食堂的午饭多一点蔬菜和水果。", "9-12", "school", None),
    ("我们想要一个可以打篮球的地方，现在的篮球场总是被大人占着。", "12-15", "play", None),
    ("医院排队太久了，儿科候诊的地方能不能放一些绘本？", "6-9", "health", "books"),
    ("地铁里的扶梯太快了，我的小妹妹有点害怕。", "u6", "traffic", None),
    ("社区的活动中心能不能周末也开门？我们想在那里做作业和下棋。", "12-15", "community", None),
    ("公园的草坪不让进，我们想在草地上放风筝。", "9-12", "play", "kite"),
    ("路口的斑马线已经看不清了，希望重新画一遍。", "9-12", "school_way", None),
    ("希望博物馆有给小朋友讲解的时间，我听不懂大人的讲解。", "9-12", "culture", None),
    ("学校的课间只有十分钟，能不能让我们到操场上玩一会儿？", "9-12", "school", None),
    ("小区里的健身器材都是给大人的，能不能也装几个给小朋友的？", "6-9", "play", None),
    ("我希望树多一点，夏天走路上学的时候太晒了。", "9-12", "nature", "tree"),
    ("公园的厕所没有小朋友用的洗手台，我要踮着脚才能洗手。", "6-9", "health", None),
    ("共享单车把人行道挡住了，我和奶奶只能走到马路上。", "12-15", "traffic", None),
    ("我们想要一个安静的地方读书，家里太吵了。", "12-15", "culture", None),
    ("希望学校附近的文具店不要卖那种很吓人的卡片。", "9-12", "school", None),
    ("社区里的流浪猫很多，希望有人照顾它们，也不要让它们抓伤小朋友。", "9-12", "community", None),
    ("能不能在公园里放一些分类垃圾桶，我们学过垃圾分类了。", "9-12", "nature", None),
    ("下雨天学校门口全是水，鞋子都湿了。", "9-12", "school_way", None),
    ("希望少年宫的课不要那么贵，我的好朋友也想去学画画。", "12-15", "culture", None),
    ("我们小区没有沙坑，我想玩沙子。", "u6", "play", "sun"),
    ("希望公交车上给带小孩的人留座位。", "9-12", "traffic", None),
    ("学校的体育课经常被别的课占了，希望体育课能好好上。", "12-15", "school", None),
    ("夏天游泳馆的人太多了，能不能多开几个时段给小学生？", "9-12", "health", None),
    ("快来买最便宜的游戏点卡，加微信领取优惠！", "15-18", "other", None),
    ("同学总是打我，还抢我的东西，我不敢告诉老师和爸爸妈妈。", "9-12", "school", None),
]

# Which letters end in which state (indexes into LETTERS).
PENDING = [7, 15, 24, 29, 31]
HIDE_SPAM = 34
DISCLOSURE = 35
ASSIGNED = [9, 12, 18, 22, 26, 27, 32]
OVERDUE = [9, 12, 22]  # assigned ~five weeks ago
ANSWERED = {
    0: Adoption.ADOPTED,
    2: Adoption.ADOPTED,
    5: Adoption.ADOPTED,
    1: Adoption.PARTLY,
    17: Adoption.PARTLY,
    4: Adoption.PLANNED,
    21: Adoption.PLANNED,
    13: Adoption.PLANNED,
    6: Adoption.NOT_NOW,
    19: Adoption.NOT_NOW,
    3: Adoption.ADOPTED,
    30: Adoption.PARTLY,
}
REPLIES = {
    Adoption.ADOPTED: "谢谢你的建议！我们已经决定这样做，做好以后会在“因为孩子说了，所以改变了”里告诉你。",
    Adoption.PARTLY: "谢谢你！你的建议我们采纳了一部分，另一部分现在还做不到，原因写在下面。",
    Adoption.PLANNED: "谢谢你！这件事已经列入明年的计划，我们会一步一步去做。",
    Adoption.NOT_NOW: "谢谢你认真地写信！这件事现在还做不了，我们把原因写给你，以后条件合适会再考虑。",
}
REASONS = {
    Adoption.ADOPTED: "",
    Adoption.PARTLY: "部分设施属于物业管理范围，已转告物业；公共部分由我局负责改造。",
    Adoption.PLANNED: "需要列入下一年度预算，计划在明年第二季度实施。",
    Adoption.NOT_NOW: "涉及学校课时安排的统一规定，目前无法单独调整；已将意见转给相关科室研究。",
}

# Observer group members: invented names (a surname list × given names), never real children.
SURNAMES = "林周吴郑孙钱冯陈褚卫蒋沈韩杨朱秦"
GIVEN = ["语桐", "子墨", "思远", "若溪", "一诺", "浩然", "欣怡", "梓涵", "明轩", "雨萱"]
GUARDIAN_GIVEN = ["建华", "丽娟", "志强", "海燕", "卫东", "秀英", "国平", "晓梅"]

ALLIANCE = [
    # (name, kind, community, m², contact, description, [(service, place category, ages, free, when)])
    (
        "五道口演示社区图书馆",
        "culture",
        0,
        800,
        "010-6000 0001（服务台）",
        "社区公共图书馆，设儿童阅览区。",
        [
            ("周末绘本共读", "library", (3, 8), True, "每周六 10:00–11:00"),
            ("小小图书管理员", "library", (9, 12), True, "寒暑假每周三下午"),
        ],
    ),
    (
        "清华科技园演示企业联盟",
        "company",
        0,
        2500,
        "010-6000 0002（党群服务中心）",
        "园区企业开放会议室、展厅和草坪。",
        [
            ("科技展厅开放日", "museum", (6, 15), True, "每月第一个周六"),
            ("编程体验课", "school", (9, 15), True, "每周日 14:00–16:00"),
            ("草坪开放", "park", (0, 18), True, "周末全天"),
        ],
    ),
    (
        "演示青少年体育俱乐部",
        "culture",
        1,
        3000,
        "010-6000 0003",
        "篮球馆和游泳池分时段向社区儿童开放。",
        [
            ("篮球公益训练", "sports", (8, 15), True, "每周六 9:00–11:00"),
            ("游泳体验课", "sports", (6, 12), False, "暑期每天 15:00–17:00"),
        ],
    ),
    (
        "成府路演示小学",
        "school",
        1,
        4000,
        "010-6000 0004（校办）",
        "节假日开放操场和图书室。",
        [
            ("操场节假日开放", "school", (6, 15), True, "法定节假日 8:00–17:00"),
            ("图书室开放", "school", (6, 12), True, "寒暑假周二、周四"),
        ],
    ),
    (
        "演示儿童友好社工服务中心",
        "social",
        0,
        600,
        "010-6000 0005",
        "为社区儿童和家庭提供课后托管、心理支持和亲子活动。",
        [
            ("四点半课堂", "childcare", (6, 12), True, "工作日 16:30–18:30"),
            ("亲子手工坊", "childcare", (3, 10), True, "每月第二个周日"),
            ("成长心理小组", "childcare", (10, 15), True, "每两周一次"),
        ],
    ),
    (
        "演示社区卫生服务中心",
        "government",
        1,
        300,
        "010-6000 0006（预防保健科）",
        "儿童保健、视力筛查和健康讲座。",
        [
            ("儿童视力筛查", "hospital", (3, 12), True, "每月第三个周三上午"),
            ("青春期健康讲座", "hospital", (11, 15), True, "每学期两次"),
        ],
    ),
    (
        "演示书店（五道口店）",
        "company",
        1,
        500,
        "010-6000 0007",
        "书店开放儿童角，举办故事会和读书会。",
        [("周日故事会", "library", (3, 9), True, "每周日 15:00")],
    ),
    (
        "演示公园管理处",
        "government",
        0,
        2000,
        "010-6000 0008",
        "公园开放自然教育角，组织自然观察活动。",
        [
            ("自然观察课", "park", (6, 12), True, "每月最后一个周六"),
            ("亲子植树", "park", (3, 12), True, "每年三月"),
        ],
    ),
]


def _png(kind: str, size=(320, 240)) -> bytes:
    """A small child-like drawing or a plain "photo", drawn here (demo data, no real picture)."""
    from PIL import Image, ImageDraw

    rng = random.Random(kind)
    img = Image.new("RGB", size, (222, 240, 255))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rectangle([0, h * 0.72, w, h], fill=(150, 210, 120))
    d.ellipse([w - 70, 15, w - 20, 65], fill=(255, 210, 60))
    if kind in ("slide", "sun"):
        d.line([(60, h * 0.72), (60, 70), (110, 70), (200, h * 0.72)], fill=(230, 80, 60), width=8)
        d.line([(60, 110), (110, 110)], fill=(230, 80, 60), width=6)
    if kind == "crossing" or kind == "photo-crossing":
        for i in range(7):
            x = 20 + i * 42
            d.rectangle([x, h * 0.78, x + 24, h * 0.95], fill=(255, 255, 255))
        d.rectangle([w - 40, 60, w - 30, h * 0.75], fill=(90, 90, 90))
        d.ellipse([w - 50, 40, w - 20, 70], fill=(60, 200, 90))
    if kind in ("house", "kite"):
        d.rectangle([40, 110, 150, h * 0.72], fill=(250, 170, 90))
        d.polygon([(30, 112), (95, 60), (160, 112)], fill=(200, 70, 70))
    if kind == "kite":
        d.polygon([(220, 40), (250, 80), (220, 120), (190, 80)], fill=(240, 90, 160))
        d.line([(220, 120), (180, h * 0.72)], fill=(80, 80, 80), width=2)
    if kind == "tree" or kind == "photo-park":
        for x in (60, 150, 240):
            d.rectangle([x - 6, 120, x + 6, h * 0.75], fill=(120, 80, 40))
            d.ellipse([x - 35, 60, x + 35, 130], fill=(70, 160, 70))
    if kind == "books":
        for i in range(5):
            x = 50 + i * 45
            d.rectangle([x, 90, x + 35, h * 0.72], fill=(rng.randrange(60, 240), 120, 200))
    # a stick figure: the child
    cx = 255 if kind != "kite" else 170
    d.ellipse([cx - 12, 120, cx + 12, 144], outline=(40, 40, 40), width=3)
    d.line([(cx, 144), (cx, 185)], fill=(40, 40, 40), width=3)
    d.line([(cx - 18, 160), (cx + 18, 160)], fill=(40, 40, 40), width=3)
    d.line([(cx, 185), (cx - 14, 210)], fill=(40, 40, 40), width=3)
    d.line([(cx, 185), (cx + 14, 210)], fill=(40, 40, 40), width=3)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _areas() -> dict[str, Area]:
    codes = (DISTRICT, STREET, *COMMUNITIES)
    return {a.code: a for a in Area.objects.filter(code__in=codes)}


def _places_by_category(street: Area) -> dict[str, list[Place]]:
    out: dict[str, list[Place]] = {}
    qs = (
        Place.objects.exclude(verification=Place.Verification.RETIRED)
        .filter(Q(area__path__startswith=street.path) | Q(area__isnull=True))
        .filter(lon__gte=BOX[0], lon__lte=BOX[2], lat__gte=BOX[1], lat__lte=BOX[3])
        .exclude(name="")
        .exclude(name__startswith="未命名")  # "unnamed …" places make poor demo addresses
        .order_by("id")
    )
    for p in qs.only("id", "name", "category", "lon", "lat", "area_id")[:3000]:
        out.setdefault(p.category, []).append(p)
    return out


def build_departments(out: Callable[[str], None], areas: dict[str, Area], admin: User) -> None:
    from .services import handling

    made = 0
    for code, name, kind, days in DEPARTMENTS:
        dept = Department.objects.filter(code=code).first()
        if dept is None:
            dept = department_create(actor=None, code=code, name=name, area=areas[DISTRICT])
            made += 1
        setting = DepartmentSetting.objects.filter(department=dept).first()
        if setting is None or setting.kind != kind:
            handling.department_setting_save(
                actor=admin, department=dept, kind=kind, deadline_days=days
            )
    out(
        _("Voice demo: %(n)s departments with handling deadlines (%(m)s new)")
        % {
            "n": len(DEPARTMENTS),
            "m": made,
        }
    )


def build_group(out, areas, director: User) -> ObserverGroup:
    community = areas[COMMUNITIES[0]]
    name = "清华西社区“小小观察员”观察团（演示）"
    group = ObserverGroup.objects.filter(name=name).first()
    if group is not None:
        return group
    group = groups.group_create(
        actor=director,
        name=name,
        area=community,
        description="社区儿童观察员走访身边的公园、街道和车站，和大人一起议事，把孩子的建议带给有关部门。（演示数据）",
        terms=(
            "一、观察团成员为本社区 6–15 岁儿童，自愿参加，监护人同意本章程后加入。\n"
            "二、每届任期 12 个月，可以续任，也可以随时退出。\n"
            "三、活动由社区儿童主任组织，每次至少两名成年人陪同。\n"
            "四、活动中不拍摄儿童正脸，不公开儿童姓名、学校和住址。\n"
            "五、观察员提出的建议经儿童信箱转给有关部门，并向观察员反馈办理结果。"
        ),
        terms_version="2026.1",
        term_months=12,
    )
    rng = random.Random(SEED)
    today = timezone.localdate()
    members = []
    for i in range(9):
        surname = SURNAMES[i]
        start = today - dt.timedelta(days=rng.randrange(30, 300))
        if i == 8:
            start = today - dt.timedelta(days=400)  # a term that ended: shown as expired
        members.append(
            groups.member_add(
                actor=director,
                group=group,
                name=surname + GIVEN[i],
                age_group=["6-9", "9-12", "9-12", "12-15"][i % 4],
                guardian_name=surname + GUARDIAN_GIVEN[i % len(GUARDIAN_GIVEN)],
                guardian_contact=f"139{SEED % 10000:04d}{i:04d}",
                guardian_consent=True,
                consent_on=start - dt.timedelta(days=3),
                terms_version=group.terms_version,
                term_start=start,
            )
        )
    groups.member_end(actor=director, member=members[7], reason="搬家到外区（演示）")
    places = _places_by_category(areas[STREET])
    station = (places.get("other") or [None])[0]
    park = (places.get("park") or places.get("playground") or [None])[0]
    specs = [
        (
            Activity.Kind.TRAINING,
            "观察员培训：怎样观察、怎样提建议",
            40,
            None,
            "介绍观察团章程和安全规则；练习用“看到了什么—为什么重要—希望怎样改”写建议。",
            "社区儿童主任 1 人、社工 2 人、志愿者 1 人",
            "8 名观察员完成培训，每人写了一份观察记录表。",
        ),
        (
            Activity.Kind.SITE_VISIT,
            "走访公园和上学路",
            25,
            park,
            "观察员分两组走访公园和学校门口的上学路，记录了滑梯破损、斑马线模糊、树荫太少等问题。",
            "社区儿童主任 1 人、社工 1 人、家长志愿者 2 人",
            "整理出 3 条建议，经儿童信箱转交园林和交通部门；公园管理处已答复更换滑梯。",
        ),
        (
            Activity.Kind.DELIBERATION,
            "儿童议事会：社区活动中心周末开放",
            8,
            station,
            "观察员和居民代表、物业一起讨论活动中心周末开放的时间、管理和安全。",
            "社区党委书记 1 人、居民代表 4 人、物业 1 人、社工 1 人",
            "议定试行周六下午开放，由家长志愿者轮流值守；一个月后再议。",
        ),
    ]
    for idx, (kind, title, days_ago, place, minutes, adults, outcomes) in enumerate(specs):
        attendees = [m for j, m in enumerate(members[:7]) if (j + idx) % 4 != 0]
        groups.activity_create(
            actor=director,
            group=group,
            kind=kind,
            title=title,
            held_on=today - dt.timedelta(days=days_ago),
            place=place,
            minutes=minutes,
            accompanying_adults=adults,
            outcomes=outcomes,
            attendees=attendees,
        )
    return group


def build_letters(out, areas, group: ObserverGroup, users: dict[str, User]) -> list[Suggestion]:
    from .services import actions, handling, moderation

    street = areas[STREET]
    existing = Suggestion.objects.filter(area__path__startswith=street.path).count()
    if existing >= len(LETTERS):
        out(_("Voice demo: letters exist (%(n)s), none added") % {"n": existing})
        return []
    wcco, admin, dept_user = users["wcco"], users["admin"], users["dept"]
    places = _places_by_category(street)
    flat = [p for ps in places.values() for p in ps]
    rng = random.Random(SEED)
    letters: list[Suggestion] = []
    for i, (text, age, topic, drawing) in enumerate(LETTERS):
        place = flat[rng.randrange(len(flat))] if flat and i % 3 == 0 else None
        area = None if place else areas[COMMUNITIES[i % 2]]
        letters.append(
            mailbox.suggestion_submit(
                text=text + DEMO_MARK,
                age_group=age,
                topic=topic,
                guardian_consent=True,
                guardian_contact=f"1380000{i:04d}",
                place=place,
                area=area,
                image=_png(drawing) if drawing else None,
                source=Suggestion.Source.PAPER if i % 5 == 4 else Suggestion.Source.ONLINE,
                actor=wcco if i % 5 == 4 else None,
            )
        )
    # Suggestions raised in the observer group's activities.
    visit = group.activities.filter(kind=Activity.Kind.SITE_VISIT).first()
    delib = group.activities.filter(kind=Activity.Kind.DELIBERATION).first()
    member = group.members.filter(status=GroupMember.Status.ACTIVE).first()
    activity_letters = []
    if visit:
        activity_letters.append(
            groups.activity_suggestion_add(
                actor=users["director"],
                activity=visit,
                text="上学路上的树太少了，夏天很晒，希望多种一些树。" + DEMO_MARK,
                topic="school_way",
                member=member,
            )
        )
        activity_letters.append(
            groups.activity_suggestion_add(
                actor=users["director"],
                activity=visit,
                text="公园滑梯旁边没有家长坐的椅子，希望加几把长椅。" + DEMO_MARK,
                topic="play",
                age_group="9-12",
            )
        )
    if delib:
        activity_letters.append(
            groups.activity_suggestion_add(
                actor=users["director"],
                activity=delib,
                text="希望社区活动中心周六下午开放，给我们一个写作业和下棋的地方。" + DEMO_MARK,
                topic="community",
                age_group="12-15",
            )
        )

    def dept_for(s: Suggestion) -> Department:
        s.refresh_from_db()
        dept = handling.department_suggest(s, wcco)
        return dept or Department.objects.get(code="fegw-110108")

    def publish(s: Suggestion) -> None:
        s.refresh_from_db()
        if s.visibility != Suggestion.Visibility.PUBLISHED:
            moderation.suggestion_publish(
                actor=wcco,
                suggestion=s,
                published_text=s.published_text or s.text,
                publish_image=bool(s.image),
                confirm=True,
            )

    today = timezone.localdate()
    for i, s in enumerate(letters):
        s.refresh_from_db()
        if i == DISCLOSURE or i in PENDING:
            continue  # the disclosure was hidden and flagged on arrival; the rest await review
        if i == HIDE_SPAM:
            moderation.suggestion_hide(actor=wcco, suggestion=s, reason="广告信息，不是孩子的建议")
            continue
        publish(s)
        if i in ASSIGNED or i in ANSWERED:
            handling.suggestion_route(
                actor=wcco,
                suggestion=s,
                topic=s.topic,
                department=dept_for(s),
                today=today - dt.timedelta(days=36 if i in OVERDUE else rng.randrange(2, 9)),
            )
        if i in ANSWERED:
            s.refresh_from_db()
            answerer = dept_user if s.department_id == dept_user.department_id else admin
            handling.suggestion_answer(
                actor=answerer,
                suggestion=s,
                adoption=ANSWERED[i],
                public_reply=REPLIES[ANSWERED[i]],
                adoption_reason=REASONS[ANSWERED[i]],
            )
    for s in activity_letters:
        publish(s)
    if activity_letters:
        s = activity_letters[0]
        handling.suggestion_route(
            actor=wcco, suggestion=s, topic=s.topic, department=dept_for(s), today=today
        )
    handling.suggestions_escalate(today=today)

    # Two actions from adopted letters, with milestones and a generated photo.
    slide, crossing = letters[0], letters[2]
    for s, title, description, steps, photo in (
        (
            slide,
            "更换公园里的旧滑梯",
            "孩子们说滑梯有个洞会划破裤子。公园管理处拆除旧滑梯，换上新的组合滑梯，并在旁边加长椅。",
            [("现场查看、确定方案", True), ("采购新滑梯", True), ("安装并验收", False)],
            "photo-park",
        ),
        (
            crossing,
            "学校门口增设人行横道和信号灯",
            "孩子们说过马路很害怕。交通部门在校门口重新施划斑马线，增设行人信号灯和减速带。",
            [
                ("交通流量调查", True),
                ("施划斑马线", True),
                ("安装信号灯", False),
                ("上学时段交警值守", False),
            ],
            "photo-crossing",
        ),
    ):
        s.refresh_from_db()
        action = actions.action_create(
            actor=wcco, suggestion=s, title=title, description=description
        )
        for j, (step, done) in enumerate(steps):
            m = actions.milestone_add(
                actor=wcco, action=action, title=step, due_on=today + dt.timedelta(days=20 * j - 20)
            )
            if done:
                actions.milestone_update(actor=wcco, milestone=m, done=True)
        actions.action_photo_add(
            actor=wcco,
            action=action,
            image=_png(photo, (480, 320)),
            caption="示意图（演示）",
            taken_on=today,
        )

    # Spread the letters over the last three months (the services stamp "now").
    for i, s in enumerate(letters + activity_letters):
        days = 95 - i * 2 if i < 45 else 3
        created = timezone.now() - dt.timedelta(days=max(days, 1), hours=i)
        Suggestion.objects.filter(pk=s.pk).update(created_at=created)
        s.refresh_from_db()
        if s.answered_at:
            answered = min(created + dt.timedelta(days=5 + i % 12), timezone.now())
            Suggestion.objects.filter(pk=s.pk).update(answered_at=answered)
    out(
        _("Voice demo: %(n)s letters (%(a)s from observer group activities), 2 actions")
        % {"n": len(letters) + len(activity_letters), "a": len(activity_letters)}
    )
    return letters


def build_alliance(out, areas, staff: User) -> list[AllianceMember]:
    street = areas[STREET]
    places = _places_by_category(street)
    used: set[int] = set()
    rng = random.Random(SEED + 1)
    members = []
    made_items = 0
    for i, (name, kind, comm, m2, contact, description, services) in enumerate(ALLIANCE):
        member = AllianceMember.objects.filter(name=name).first()
        if member is None:
            member = cobuilding.alliance_member_create(
                actor=staff,
                area=areas[COMMUNITIES[comm]],
                name=name,
                kind=kind,
                joined_on=dt.date(2024, 3, 1) + dt.timedelta(days=45 * i),
                open_space_m2=m2,
                contact=contact,
                description=description + "（演示数据）",
            )
        members.append(member)
        for title, category, (a, b), free, when in services:
            if ServiceItem.objects.filter(member=member, title=title).exists():
                continue
            candidates = [p for p in places.get(category, []) if p.pk not in used]
            place = candidates[0] if candidates else None
            lon = lat = None
            if place is not None:
                used.add(place.pk)
            else:  # no such place in the extract: a point in the demo box
                lon = round(rng.uniform(BOX[0] + 0.002, BOX[2] - 0.002), 6)
                lat = round(rng.uniform(BOX[1] + 0.002, BOX[3] - 0.002), 6)
            cobuilding.service_item_create(
                actor=staff,
                member=member,
                title=title,
                description=f"{member.name}提供（演示数据）",
                place=place,
                lon=lon,
                lat=lat,
                age_from=a,
                age_to=b,
                is_free=free,
                schedule=when,
            )
            made_items += 1
    out(
        _("Voice demo: an alliance of %(n)s organisations (%(m)s new service items)")
        % {"n": len(members), "m": made_items}
    )
    return members


FAMILIES = [
    ("何", "丽"),
    ("许", "静"),
    ("吕", "军"),
    ("施", "敏"),
    ("张", "伟"),
    ("曹", "芳"),
    ("严", "磊"),
    ("华", "娜"),
    ("金", "涛"),
    ("魏", "婷"),
    ("陶", "斌"),
    ("姜", "雪"),
]


def build_events(out, areas, staff: User, members: list[AllianceMember]) -> None:
    street = areas[STREET]
    if Event.objects.filter(area__path__startswith=street.path, title__endswith=DEMO_MARK).exists():
        out(_("Voice demo: events exist, none added"))
        return
    places = _places_by_category(street)
    flat = [p for ps in places.values() for p in ps]
    place = (places.get("library") or places.get("park") or flat or [None])[0]
    now = timezone.localtime()
    day = now.replace(hour=9, minute=30, second=0, microsecond=0)
    specs = [
        ("五月儿童友好日：社区寻宝" + DEMO_MARK, "friendly_day", -12, 40, 0, 9, True),
        ("六月儿童友好日：绘本共读和手工" + DEMO_MARK, "friendly_day", 10, 30, 4, 7, False),
        ("小小科学家开放日" + DEMO_MARK, "visit", 24, 20, 1, 4, False),
    ]
    families = iter(FAMILIES * 3)
    for n, (title, kind, days, capacity, organiser, regs, past) in enumerate(specs):
        start = day + dt.timedelta(days=abs(days) if past else days)
        event = cobuilding.event_create(
            actor=staff,
            area=areas[COMMUNITIES[n % 2]],
            title=title,
            kind=kind,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            capacity=capacity,
            organiser=members[organiser] if members else None,
            place=place,
            description=(
                "每月一次的儿童友好日：联盟成员开放场地，孩子和家长一起参加游戏、阅读和手工。"
                "请提前报名，凭签到码入场。（演示数据）"
            ),
        )
        made = []
        for k in range(regs):
            surname, given = next(families)
            made.append(
                cobuilding.registration_create(
                    event=event,
                    guardian_name=surname + given + "（演示）",
                    guardian_contact=f"137{n:02d}00{k:04d}",
                    children=1 + k % 3,
                    age_group=["u6", "6-9", "9-12"][k % 3],
                )
            )
        if past:
            # Registrations close when an event starts; move it into the past afterwards.
            start = day - dt.timedelta(days=abs(days))
            Event.objects.filter(pk=event.pk).update(
                starts_at=start, ends_at=start + dt.timedelta(hours=3), registration_open=False
            )
            event.refresh_from_db()
            cobuilding.registration_cancel(event=event, code=made[-1].code)
            for reg in made[:6]:
                cobuilding.registration_check_in(actor=staff, event=event, code=reg.code)
            cobuilding.walk_ins_add(actor=staff, event=event, count=7)
        elif made:
            cobuilding.registration_cancel(event=event, code=made[0].code)
    out(
        _("Voice demo: 3 events (%(r)s registrations)")
        % {"r": Registration.objects.filter(event__area__path__startswith=street.path).count()}
    )


def build_voice_demo(out: Callable[[str], None]) -> None:
    """Add the voice demo to the demo city (after ``build_city`` and ``build_users``)."""
    areas = _areas()
    if len(areas) < 4:
        out(_("Voice demo skipped: the demo city is missing."))
        return
    users = {
        "admin": _user("demo-admin"),
        "wcco": _user("demo-wcco"),
        "dept": _user("demo-dept"),
        "director": _user("demo-director"),
        "supervisor": _user("demo-supervisor"),
    }
    if any(u is None for u in users.values()):
        out(_("Voice demo skipped: the demo users are missing."))
        return
    build_departments(out, areas, users["admin"])
    group = build_group(out, areas, users["director"])
    build_letters(out, areas, group, users)
    members = build_alliance(out, areas, users["supervisor"])
    build_events(out, areas, users["supervisor"], members)
    active = Action.objects.filter(area__path__startswith=areas[STREET].path).count()
    out(_("Voice demo ready (%(n)s actions).") % {"n": active})
