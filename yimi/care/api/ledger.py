"""Care API: the 台账 — import a ledger (checked in full first; ``dry_run`` for the plan with
field diffs) and export the ledger of the children the caller may see (masked by default)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from ..services import ledger as svc

router = Router(tags=["care"], auth=django_auth)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class LedgerErrorSchema(Schema):
    row: int | str
    column: str = Field(description="the Chinese column header, e.g. 身份证号")
    message: str


class LedgerChangeSchema(Schema):
    column: str
    old: str = Field(description="personal values masked (张**, 138****5678)")
    new: str


class LedgerNewRowSchema(Schema):
    row: int
    file_no: str
    name: str = Field(description="masked")
    id_number: str = Field(description="masked")
    area_code: str


class LedgerUpdatedRowSchema(Schema):
    row: int
    file_no: str
    name: str = Field(description="masked")
    changes: list[LedgerChangeSchema]


class LedgerImportSchema(Schema):
    filename: str
    rows: int
    created: int
    updated: int
    unchanged: int
    new_rows: list[LedgerNewRowSchema] = Field(description="the first 200")
    updated_rows: list[LedgerUpdatedRowSchema] = Field(description="the first 200")
    unchanged_rows: list[int] = Field(description="row numbers, the first 200")
    errors: list[LedgerErrorSchema] = Field(description="the first 500, by row and column")
    error_count: int
    written: bool = Field(description="false on a dry run or when any row has an error")
    dry_run: bool


class LedgerExportFilter(Schema):
    unmasked: bool = Field(False, description="names and ID numbers in full (needs permission)")
    area: str | None = Field(None, description="division code: that area and below")
    status: str | None = None
    category: str | None = None
    risk_level: str | None = None


@router.post(
    "/ledger/import",
    response=LedgerImportSchema,
    summary="Import a ledger (.xlsx/.csv): every row checked first, all rows or none",
)
def ledger_import(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False):
    if file.size and file.size > MAX_UPLOAD_BYTES:
        raise HttpError(413, _("The file is larger than 50 MB."))
    plan = svc.ledger_import(
        actor=request.user, file=file.read(), filename=file.name or "ledger", dry_run=dry_run
    )
    return plan.as_dict()


@router.get(
    "/ledger/export",
    summary="The ledger of the children the caller may see, as .xlsx (masked unless unmasked)",
    response={200: None},
)
def ledger_export(request: HttpRequest, filters: Query[LedgerExportFilter]):
    data = filters.dict()
    unmasked = bool(data.pop("unmasked", False))
    out = svc.ledger_export(actor=request.user, unmasked=unmasked, filters=data)
    resp = HttpResponse(out.content, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{out.filename}"
    return resp
