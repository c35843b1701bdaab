"""Reading uploaded tables (Excel .xlsx, CSV in UTF-8 or GBK) with errors that name the row
and the column: shared by every part that imports a table (places, population totals …)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong format, no header …)."""


@dataclass
class RowError:
    row: int | str
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        if isinstance(self.row, int):
            return _("row %(row)s, column “%(col)s”: %(msg)s") % {
                "row": self.row,
                "col": self.column,
                "msg": self.message,
            }
        # GeoJSON: the "row" is already a label such as "feature 3".
        return _("%(where)s, field “%(col)s”: %(msg)s") % {
            "where": self.row,
            "col": self.column,
            "msg": self.message,
        }


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def raw_rows(content: bytes, file_name: str) -> list[list[Any]]:
    lower = file_name.lower()
    if lower.endswith(".xlsx"):
        import zipfile

        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise ImportFileError(
                _("%(file)s is not a readable Excel (.xlsx) file: %(e)s")
                % {"file": file_name, "e": exc}
            ) from exc
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    if lower.endswith(".csv"):
        # Excel in China saves CSV as GBK unless told otherwise; UTF-8 (with or without BOM) first.
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError(
                _("%(file)s: the text encoding is neither UTF-8 nor GBK.") % {"file": file_name}
            )
        return list(csv.reader(io.StringIO(text)))
    raise ImportFileError(
        _("%(file)s: only .xlsx and .csv tables can be imported.") % {"file": file_name}
    )


def read_table(
    content: bytes,
    file_name: str,
    columns: list[tuple[str, str, tuple[str, ...], bool]],
    *,
    max_rows: int | None = None,
    rows: list[list[Any]] | None = None,
) -> tuple[list[tuple[int, dict[str, str]]], dict[str, str]]:
    """Data rows as (row number as the user sees it, {key: text}) and key → header used.

    ``columns`` are (key, Chinese header, other accepted spellings, required); headers match
    case-insensitively and may carry a trailing * (the templates mark required columns so).
    ``rows``: the raw rows when the caller has already read them (a faster reader for very
    large sheets, e.g. the care ledger); ``content`` is then not read again.
    """
    raw = rows if rows is not None else raw_rows(content, file_name)
    if not raw:
        raise ImportFileError(_("%(file)s is empty.") % {"file": file_name})
    lookup: dict[str, str] = {}
    for key, zh, alts, _req in columns:
        for name in (key, zh, *alts):
            lookup[name.lower()] = key
    header = [cell_text(h) for h in raw[0]]
    keys: list[str | None] = []
    used: dict[str, str] = {}
    unknown: list[str] = []
    for h in header:
        clean = h.rstrip("*＊").strip()
        key = lookup.get(clean.lower()) if clean else None
        if clean and key is None:
            unknown.append(h)
        if key is not None:
            used[key] = clean
        keys.append(key)
    missing = [zh for key, zh, _alts, req in columns if req and key not in used]
    if missing:
        raise ImportFileError(
            _("%(file)s: the header row lacks the required columns %(cols)s.")
            % {"file": file_name, "cols": "、".join(missing)}
        )
    if unknown:
        raise ImportFileError(
            _("%(file)s: unknown columns %(cols)s; see the template for the column names.")
            % {"file": file_name, "cols": "、".join(unknown)}
        )
    if max_rows is not None and len(raw) - 1 > max_rows:
        raise ImportFileError(
            _("%(file)s has more than %(n)s rows.") % {"file": file_name, "n": max_rows}
        )
    out = []
    for i, values in enumerate(raw[1:], start=2):
        cells = {k: cell_text(v) for k, v in zip(keys, values, strict=False) if k}
        if any(cells.values()):
            out.append((i, cells))
    return out, used
