"""Reads of the practice library: Chinese search with highlighting, the city map, measures
with "How Yimi helps", and the self-assessment (staff only)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from yimi.core.models import AuditLog, User

from . import policy
from .models import Case, EvidenceKind, Measure, MeasureProgress, PolicyArea, ProgressStatus

# ------------------------------------------------------------------------------ search

MAX_QUERY = 100
MAX_TERMS = 8
# Weights per field where a term is found: a match in the title counts most.
WEIGHTS = {"title": 8, "documents": 4, "summary": 2, "measure": 1}
# Terms are split on spaces and on Chinese and ASCII punctuation; everything else is kept, so a
# two-character word (口袋, 托育, 学径) is a substring term like any other.
_SPLIT = re.compile(r"[\s,，、;；。.:：!！?？\"'“”‘’()（）《》<>\[\]【】|/\\]+")


def search_terms(q: str | None) -> list[str]:
    """The distinct terms of a query, in order (at most MAX_TERMS, case-folded)."""
    q = (q or "")[:MAX_QUERY]
    terms: list[str] = []
    for t in _SPLIT.split(q):
        t = t.strip().casefold()
        if t and t not in terms:
            terms.append(t)
    return terms[:MAX_TERMS]


def highlight(text: str, terms: list[str]) -> SafeString:
    """``text`` HTML-escaped, with every occurrence of a term wrapped in <mark>."""
    text = text or ""
    if not terms:
        return mark_safe(escape(text))  # noqa: S308 - escaped just now
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos : m.start()]))
        out.append(f"<mark>{escape(m.group(0))}</mark>")
        pos = m.end()
    out.append(escape(text[pos:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped above


@dataclass
class Hit:
    case: Case
    score: int
    title_html: SafeString
    summary_html: SafeString
    documents_html: list[SafeString] = field(default_factory=list)


@dataclass
class CaseFilter:
    q: str = ""
    area: int | None = None
    province: str = ""
    city: str = ""
    tag: str = ""

    @property
    def terms(self) -> list[str]:
        return search_terms(self.q)


def _filtered(f: CaseFilter) -> QuerySet[Case]:
    qs = Case.objects.select_related("item__measure__area").filter(item__measure__retired=False)
    if f.area:
        qs = qs.filter(item__measure__area__number=f.area)
    if f.province:
        qs = qs.filter(province=f.province)
    if f.city:
        qs = qs.filter(city=f.city)
    if f.tag:
        # The case's own tags (the measure's tags are broader than some of its cases).
        qs = qs.filter(tags_text__contains=f"|{f.tag}|")
    return qs


def _field_match(case: Case, term: str) -> dict[str, bool]:
    return {
        "title": term in case.title.casefold(),
        "documents": term in case.documents_text.casefold(),
        "summary": term in case.summary.casefold(),
        "measure": term in case.item.measure.title.casefold(),
    }


def case_search(f: CaseFilter) -> list[Hit]:
    """Cases matching every term (in a title, a document name, a summary or the measure's
    title) and the filters, best first: title > document > summary > measure title."""
    terms = f.terms
    qs = _filtered(f)
    for t in terms:
        qs = qs.filter(
            Q(title__icontains=t)
            | Q(documents_text__icontains=t)
            | Q(summary__icontains=t)
            | Q(item__measure__title__icontains=t)
        )
    hits = []
    for case in qs:
        score = 0
        for t in terms:
            matched = _field_match(case, t)
            # The database's LIKE folds only ASCII case; Python's casefold decides the rest.
            if not any(matched.values()):
                break
            score += sum(WEIGHTS[k] for k, v in matched.items() if v)
        else:
            hits.append(
                Hit(
                    case=case,
                    score=score,
                    title_html=highlight(case.title, terms),
                    summary_html=highlight(case.summary, terms),
                    documents_html=[highlight(d, terms) for d in case.documents],
                )
            )
    hits.sort(key=lambda h: -h.score)  # stable: the list's own order among equals
    return hits


def city_points(hits: list[Hit]) -> list[dict]:
    """One point per city with its number of cases among ``hits`` (for the map)."""
    counts = Counter(h.case.city for h in hits)
    seen: dict[str, dict] = {}
    for h in hits:
        c = h.case
        if c.city not in seen:
            seen[c.city] = {
                "city": c.city,
                "province": c.province,
                "lon": c.lon,
                "lat": c.lat,
                "count": counts[c.city],
            }
    return sorted(seen.values(), key=lambda p: (-p["count"], p["city"]))


def filter_options() -> dict:
    cases = Case.objects.filter(item__measure__retired=False)
    provinces = list(cases.order_by("province").values_list("province", flat=True).distinct())
    cities = list(cases.order_by("province", "city").values_list("province", "city").distinct())
    from .catalog import TAGS

    return {
        "areas": list(PolicyArea.objects.all()),
        "provinces": provinces,
        "cities": [{"province": p, "city": c} for p, c in cities],
        "tags": list(TAGS),
    }


def case_get(key: str) -> Case | None:
    return (
        Case.objects.select_related("item__measure__area")
        .filter(key=key, item__measure__retired=False)
        .first()
    )


# ------------------------------------------------------------------------------ How Yimi helps

# Each part with the page that shows it (a URL name) and what it does for a measure.
PARTS = {
    "map": (
        "places:map",
        gettext_lazy("Child-friendly map"),
        gettext_lazy("Places, themes, curated routes and “near me” on the city's own map."),
    ),
    "access": (
        "access:index",
        gettext_lazy("Life-circle accessibility"),
        gettext_lazy(
            "Walking distance from every home to the nearest facility, coverage of the 5/10/15-minute life circles and where the gaps are."
        ),
    ),
    "care": (
        "care:home",
        gettext_lazy("Care for children in difficulty"),
        gettext_lazy(
            "The aid menu, orders worked by departments, home visits and one file per child (三单, 一人一档, 政策找人)."
        ),
    ),
    "voice": (
        "voice:mailbox",
        gettext_lazy("Children's voice"),
        gettext_lazy(
            "The children's mailbox with receipt codes, so children's suggestions reach the departments."
        ),
    ),
    "practices": (
        "practices:library",
        gettext_lazy("Practice library"),
        gettext_lazy("This list, searchable, and the city's self-assessment against it."),
    ),
}
PLANNED = {
    "design_review": gettext_lazy("design review against child-friendly standards"),
    "impact": gettext_lazy("child impact assessment"),
    "projects": gettext_lazy("民生实事 and project tracking"),
    "service": gettext_lazy("a public one-stop service (儿童友好宝)"),
}


def yimi_help(measure: Measure) -> dict:
    """What Yimi offers for ``measure``: parts with their page, and what is not built yet."""
    parts = []
    for key in measure.yimi_parts:
        if key in PARTS:
            url_name, name, what = PARTS[key]
            parts.append(
                {"key": key, "name": str(name), "what": str(what), "url": reverse(url_name)}
            )
    planned = [str(PLANNED[k]) for k in measure.planned_parts if k in PLANNED]
    return {"parts": parts, "planned": planned, "supported": bool(parts)}


def measure_list(*, with_cases: bool = False) -> list[Measure]:
    """The measures in order; ``with_cases`` also reads their items and cases (the API counts
    them; the pages and the exports do not use them)."""
    qs = Measure.objects.filter(retired=False).select_related("area")
    if with_cases:
        qs = qs.prefetch_related("items__cases")
    return list(qs.order_by("area__number", "number"))


def measure_get(code_or_slug: str) -> Measure | None:
    code_or_slug = code_or_slug.replace("（", "(").replace("）", ")")
    return (
        Measure.objects.filter(retired=False)
        .filter(Q(code=code_or_slug) | Q(slug=code_or_slug))
        .select_related("area")
        .first()
    )


# ------------------------------------------------------------------------------ self-assessment


def progress_rows(user: User) -> list[tuple[Measure, MeasureProgress | None]]:
    """Every measure with the city's progress on it (None: never assessed); staff only."""
    if not policy.can_view_progress(user):
        return []
    by_measure = {
        p.measure_id: p
        for p in MeasureProgress.objects.select_related("department", "updated_by").filter(
            measure__retired=False
        )
    }
    return [(m, by_measure.get(m.pk)) for m in measure_list()]


def is_overdue(p: MeasureProgress | None, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return bool(
        p is not None
        and p.target_date is not None
        and p.target_date < today
        and p.status != ProgressStatus.ESTABLISHED
    )


def progress_summary(user: User, today: dt.date | None = None) -> dict:
    """Counts by policy area and status, and the overdue measures."""
    rows = progress_rows(user)
    statuses = list(ProgressStatus)
    by_area: dict[int, dict] = {}
    for m, p in rows:
        a = by_area.setdefault(
            m.area.number, {"area": m.area, "counts": dict.fromkeys(statuses, 0), "total": 0}
        )
        a["counts"][ProgressStatus(p.status) if p else ProgressStatus.NOT_STARTED] += 1
        a["total"] += 1
    totals = dict.fromkeys(statuses, 0)
    for a in by_area.values():
        for s, n in a["counts"].items():
            totals[s] += n
        a["cells"] = [a["counts"][s] for s in statuses]
    overdue = [(m, p) for m, p in rows if is_overdue(p, today)]
    return {
        "statuses": statuses,
        "areas": [by_area[k] for k in sorted(by_area)],
        "totals": [totals[s] for s in statuses],
        "total": len(rows),
        "overdue": overdue,
        "rows": rows,
    }


def progress_history(progress: MeasureProgress | None) -> QuerySet[AuditLog]:
    if progress is None:
        return AuditLog.objects.none()
    return AuditLog.objects.filter(
        object_type="practices.measureprogress", object_id=str(progress.pk)
    ).order_by("-created_at", "-id")


def evidence_choices_qs(user: User, kind: str) -> QuerySet:
    """The objects of ``kind`` that ``user`` can see, for an evidence link."""
    if kind == EvidenceKind.THEME:
        from yimi.places.models import Theme

        return Theme.objects.visible_to(user)
    if kind == EvidenceKind.ROUTE:
        from yimi.places.models import Route

        return Route.objects.visible_to(user)
    if kind == EvidenceKind.ANALYSIS:
        from yimi.access.models import AnalysisRun

        return AnalysisRun.objects.visible_to(user).filter(status=AnalysisRun.Status.DONE)
    if kind == EvidenceKind.POLICY:
        from yimi.care.models import Policy

        return Policy.objects.visible_to(user)
    raise ValueError(kind)


def evidence_choices(user: User) -> dict[str, list[tuple[int, str]]]:
    kinds = (EvidenceKind.THEME, EvidenceKind.ROUTE, EvidenceKind.ANALYSIS, EvidenceKind.POLICY)
    return {k.value: [(o.pk, str(o)) for o in evidence_choices_qs(user, k)[:200]] for k in kinds}


def evidence_url(p: MeasureProgress) -> str:
    """The page that shows the linked evidence, or ''."""
    kind, oid = p.evidence_kind, p.evidence_object_id
    try:
        if kind == EvidenceKind.THEME:
            from yimi.places.models import Theme

            t = Theme.objects.filter(pk=oid).first()
            return reverse("places:theme-edit", args=[t.slug]) if t else ""
        if kind == EvidenceKind.ROUTE:
            from yimi.places.models import Route

            r = Route.objects.filter(pk=oid).first()
            return reverse("places:route-edit", args=[r.slug]) if r else ""
        if kind == EvidenceKind.ANALYSIS:
            return reverse("access:run", args=[oid])
        if kind == EvidenceKind.POLICY:
            return reverse("care:menu")
        if kind == EvidenceKind.FILE and p.evidence_file:
            return reverse("practices:evidence", args=[p.measure.slug])
    except NoReverseMatch:  # a page that no longer exists must not break the progress page
        return ""
    return ""


def status_label(p: MeasureProgress | None) -> str:
    return p.get_status_display() if p else str(ProgressStatus.NOT_STARTED.label)
