"""The self-assessment as an Excel workbook (openpyxl) and a printable PDF report (fpdf2) with a
Chinese font embedded as a subset.

fpdf2 embeds both TrueType (FontFile2) and CFF-based OpenType fonts (FontFile3), so Debian's
fonts-noto-cjk collection works; YIMI_PDF_FONT names another font ("path" or "path#index").
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Measure, MeasureProgress, ProgressStatus

# (path, preferred face name inside a collection); the first that exists is used.
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "WenQuanYi Micro Hei"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", "AR PL UMing CN"),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", ""),
)


# After each paragraph: back to the left margin, on the next line.
NL = {"new_x": "LMARGIN", "new_y": "NEXT"}


class FontNotFound(RuntimeError):
    pass


def _collection_index(path: Path, face: str) -> int:
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(path), lazy=True)
    for i, font in enumerate(coll.fonts):
        if face and font["name"].getDebugName(4) == face:
            return i
    return 0


def find_font() -> tuple[Path, int]:
    """The Chinese font for the report and its index in a collection."""
    configured = getattr(settings, "YIMI_PDF_FONT", "")
    if configured:
        path_s, _sep, index = configured.partition("#")
        path = Path(path_s).expanduser()
        if not path.is_file():
            raise FontNotFound(
                _(
                    "The font for the PDF report (YIMI_PDF_FONT=%(p)s) does not exist. "
                    "Give the path of a TrueType or OpenType font with Chinese characters."
                )
                % {"p": configured}
            )
        return path, int(index) if index.isdigit() else 0
    for path_s, face in FONT_CANDIDATES:
        path = Path(path_s)
        if path.is_file():
            return path, _collection_index(path, face)
    raise FontNotFound(
        _(
            "No Chinese font was found for the PDF report. Install one "
            "(apt-get install fonts-noto-cjk) or set YIMI_PDF_FONT to the path of a font file."
        )
    )


def _rows(rows: list[tuple[Measure, MeasureProgress | None]]) -> list[dict]:
    from .selectors import is_overdue

    out = []
    for m, p in rows:
        out.append(
            {
                "area": f"{m.area.numeral}、{m.area.title}",
                "code": m.code,
                "title": m.title,
                "status": p.get_status_display() if p else str(ProgressStatus.NOT_STARTED.label),
                "department": p.department.name if p and p.department else "",
                "target": p.target_date if p else None,
                "overdue": is_overdue(p),
                "evidence": p.evidence_label if p else "",
                "note": p.note if p else "",
                "updated": timezone.localtime(p.updated_at) if p else None,
            }
        )
    return out


def progress_xlsx(rows: list[tuple[Measure, MeasureProgress | None]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = _("Self-assessment")[:31]
    head = [
        _("Policy area"),
        _("Code"),
        _("Measure"),
        _("Status"),
        _("Responsible department"),
        _("Target date"),
        _("Overdue"),
        _("Evidence"),
        _("Note"),
        _("Last changed"),
    ]
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF4")
    for r in _rows(rows):
        ws.append(
            [
                r["area"],
                r["code"],
                r["title"],
                r["status"],
                r["department"],
                r["target"],
                _("yes") if r["overdue"] else "",
                r["evidence"],
                r["note"],
                r["updated"].replace(tzinfo=None) if r["updated"] else None,
            ]
        )
    for col, width in zip("ABCDEFGHIJ", (28, 8, 40, 12, 22, 12, 8, 28, 40, 18), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        row[5].number_format = "yyyy-mm-dd"
        row[9].number_format = "yyyy-mm-dd hh:mm"
        for c in (row[0], row[2], row[8]):
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def progress_pdf(
    rows: list[tuple[Measure, MeasureProgress | None]], summary: dict, *, city: str = ""
) -> bytes:
    """A printable A4 report: counts by policy area and status, what is overdue, each measure."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    # One regular face only: headings are shaded rather than bold.
    heading = FontFace(emphasis="", fill_color=(232, 238, 244))

    font_path, index = find_font()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_("Child-friendly city self-assessment"))
    pdf.set_creator("Yimi")
    kwargs = {"collection_font_number": index} if font_path.suffix.lower() == ".ttc" else {}
    pdf.add_font("cjk", fname=str(font_path), **kwargs)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(
        0, 10, _("Child-friendly city self-assessment") + (f"（{city}）" if city else ""), **NL
    )
    pdf.set_font("cjk", size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        0,
        6,
        _("Against the national list 儿童友好城市建设经验举措清单 · printed %(d)s")
        % {"d": dt.date.today().isoformat()},
        **NL,
    )
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    statuses = summary["statuses"]
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, _("Measures by policy area and status"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    with pdf.table(
        col_widths=(70, 20, 20, 20, 24, 16), text_align="LEFT", headings_style=heading
    ) as table:
        table.row([_("Policy area"), *[str(s.label) for s in statuses], _("Total")])
        for a in summary["areas"]:
            table.row(
                [
                    f"{a['area'].numeral}、{a['area'].title}",
                    *[str(n) for n in a["cells"]],
                    str(a["total"]),
                ]
            )
        table.row([_("Total"), *[str(n) for n in summary["totals"]], str(summary["total"])])
    pdf.ln(4)

    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, _("Overdue"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    if summary["overdue"]:
        for m, p in summary["overdue"]:
            pdf.multi_cell(
                0,
                5.5,
                f"{m.code} {m.title} — {p.get_status_display()}，"
                + _("target %(d)s") % {"d": p.target_date.isoformat()}
                + (f"，{p.department.name}" if p.department else ""),
                **NL,
            )
    else:
        pdf.multi_cell(0, 5.5, _("Nothing is overdue."), **NL)
    pdf.ln(4)

    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, _("Each measure"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    with pdf.table(
        col_widths=(14, 56, 18, 30, 20, 52), text_align="LEFT", headings_style=heading
    ) as table:
        table.row(
            [
                _("Code"),
                _("Measure"),
                _("Status"),
                _("Responsible department"),
                _("Target date"),
                _("Note"),
            ]
        )
        for r in _rows(rows):
            target = r["target"].isoformat() if r["target"] else ""
            if r["overdue"]:
                target += "（" + _("overdue") + "）"
            table.row(
                [r["code"], r["title"], r["status"], r["department"], target, r["note"][:300]]
            )
    return bytes(pdf.output())
