"""Children's voice API under /api/v1/voice: send a letter (no account) and follow it by its
receipt code. Both are rate-limited per client IP; the lookup answers nothing personal."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from yimi.core.models import Area
from yimi.places.models import Place

from . import ratelimit
from .images import MAX_BYTES
from .models import AgeGroup, Suggestion, Topic
from .selectors import mailbox as selectors
from .services.mailbox import receipt_code_display, suggestion_submit

router = Router(tags=["voice"])


class SuggestionIn(Schema):
    text: str = Field(description="The suggestion, in the child's words (at most 2000 characters)")
    age_group: str = Field(description=" / ".join(AgeGroup.values))
    topic: str = Field(description=" / ".join(Topic.values))
    place_id: int | None = Field(None, description="A place on the map (or area_id)")
    area_id: int | None = Field(None, description="An administrative area (or place_id)")
    guardian_consent: bool = Field(False, description="Required for the groups under 14")
    guardian_contact: str = Field("", description="A guardian's phone; required under 14")
    website: str = Field("", description="Leave empty (a field only bots fill in)")


class ReceiptCodeSchema(Schema):
    receipt_code: str


class ReceiptSchema(Schema):
    receipt_code: str
    status: str
    status_label: str
    topic: str
    topic_label: str
    submitted_on: date
    public_reply: str = Field(description="The department's reply written for children")
    adoption: str = Field(description="采纳 / 部分采纳 / 列入计划 / 暂不采纳, once decided")


def _limited(request: HttpRequest, scope: str) -> None:
    if not ratelimit.hit(request, scope):
        raise HttpError(429, _("Too many requests. Please wait ten minutes and try again."))


@router.post(
    "/suggestions",
    response={201: ReceiptCodeSchema},
    summary="Send a suggestion (儿童信箱, no account)",
)
def suggestion_create(
    request: HttpRequest,
    data: Form[SuggestionIn],
    image: File[UploadedFile] = None,
):
    _limited(request, "submit")
    raw = None
    if image is not None and image.size:
        if image.size > MAX_BYTES:
            raise HttpError(413, _("The picture is too big. Please use one under 8 MB."))
        raw = image.read()
    place = (
        Place.objects.exclude(verification=Place.Verification.RETIRED)
        .filter(pk=data.place_id)
        .first()
        if data.place_id
        else None
    )
    area = Area.objects.filter(pk=data.area_id).first() if data.area_id else None
    suggestion = suggestion_submit(
        text=data.text,
        age_group=data.age_group,
        topic=data.topic,
        guardian_consent=data.guardian_consent,
        guardian_contact=data.guardian_contact,
        place=place,
        area=area,
        image=raw,
        honeypot=data.website,
        source=Suggestion.Source.ONLINE,
    )
    return Status(201, {"receipt_code": receipt_code_display(suggestion.receipt_code)})


@router.get(
    "/receipts/{code}",
    response={200: ReceiptSchema},
    summary="Follow a suggestion by its receipt code (nothing personal)",
)
def receipt_detail(request: HttpRequest, code: str):
    _limited(request, "lookup")
    result = selectors.receipt_lookup(code)
    if result is None:
        raise HttpError(404, _("No letter has this receipt code."))
    return result


# The other areas of work keep their endpoints in their own modules, mounted here.
from .api_community import router as _community  # noqa: E402
from .api_handling import router as _handling  # noqa: E402
from .api_public import router as _public  # noqa: E402

router.add_router("", _handling)
router.add_router("", _public)
router.add_router("", _community)
