"""Voice API, public part: published suggestions and the actions that followed, no account and
nothing personal (a published suggestion is its moderated text, topic, area name and month —
never the child's own text, age group, place, receipt code or picture bytes).

Mounted on the voice router in yimi/voice/api.py."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from .models import Action, Topic
from .selectors import public as selectors

router = Router(tags=["voice"])


class PublicSuggestionSchema(Schema):
    id: int
    text: str = Field(description="The published (moderated, personal data masked) text")
    topic: str
    topic_label: str
    area: str = Field(description="The area's name, or empty")
    month: str = Field(description="YYYY-MM when the letter arrived")
    status: str
    status_label: str
    adoption: str = Field(description="adopted / partly / planned / not_now, or empty")
    adoption_label: str
    public_reply: str
    picture_url: str | None = Field(description="Only when moderation published the picture")


class SuggestionPageSchema(Schema):
    count: int
    page: int
    pages: int
    items: list[PublicSuggestionSchema]


class SuggestionFilter(Schema):
    topic: str = Field("", description=" / ".join(Topic.values))
    area_id: int | None = Field(None, description="An area: itself and everything under it")
    page: int = Field(1, ge=1)


class MilestoneSchema(Schema):
    title: str
    due_on: date | None
    done_on: date | None


class PhotoSchema(Schema):
    url: str
    caption: str
    taken_on: date | None


class ActionSchema(Schema):
    id: int
    title: str
    description: str = Field(description="What will change, written for children")
    department: str
    area: str
    status: str
    status_label: str
    progress: int = Field(description="0–100; from the milestones done when there are any")
    due_on: date | None
    project_ref: str = Field(description="民生实事 project reference, free text")
    updated_on: date
    milestones: list[MilestoneSchema]
    photos: list[PhotoSchema]
    suggestion_count: int = Field(description="Published suggestions behind the action")


class ActionDetailSchema(ActionSchema):
    suggestions: list[PublicSuggestionSchema]


class ActionPageSchema(Schema):
    count: int
    page: int
    pages: int
    items: list[ActionSchema]


class ActionFilter(Schema):
    status: str = Field("", description=" / ".join(Action.Status.values))
    page: int = Field(1, ge=1)


def _suggestion_out(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k != "has_picture"}
    out["picture_url"] = (
        reverse("voice:suggestion-picture", args=[row["id"]]) if row["has_picture"] else None
    )
    return out


def _action_out(row: dict) -> dict:
    out = dict(row)
    out["photos"] = [
        {
            "url": reverse("voice:action-photo", args=[p["id"]]),
            "caption": p["caption"],
            "taken_on": p["taken_on"],
        }
        for p in row["photos"]
    ]
    if "suggestions" in row:
        out["suggestions"] = [_suggestion_out(s) for s in row["suggestions"]]
    return out


# Mounted below on the mailbox router, which owns the same path for POST.
def suggestion_list(request: HttpRequest, filters: Query[SuggestionFilter]):
    data = selectors.published_suggestions(
        topic=filters.topic, area_id=filters.area_id, page=filters.page
    )
    if filters.page > data["pages"] and data["count"]:
        raise HttpError(404, _("There is nothing on this page."))
    return {
        "count": data["count"],
        "page": data["page"],
        "pages": data["pages"],
        "items": [_suggestion_out(r) for r in data["items"]],
    }


@router.get(
    "/actions",
    response=ActionPageSchema,
    summary="What changed because children spoke: public actions with progress",
)
def action_list(request: HttpRequest, filters: Query[ActionFilter]):
    data = selectors.public_actions(status=filters.status, page=filters.page)
    if filters.page > data["pages"] and data["count"]:
        raise HttpError(404, _("There is nothing on this page."))
    return {
        "count": data["count"],
        "page": data["page"],
        "pages": data["pages"],
        "items": [_action_out(r) for r in data["items"]],
    }


@router.get(
    "/actions/{action_id}",
    response=ActionDetailSchema,
    summary="One public action with its milestones, photos and published suggestions",
)
def action_detail(request: HttpRequest, action_id: int):
    row = selectors.public_action(action_id)
    if row is None:
        raise HttpError(404, _("No public action has this number."))
    return _action_out(row)


# GET /suggestions shares its path with the mailbox's POST /suggestions (yimi/voice/api.py).
# Ninja makes one URL pattern per router and path and Django takes the first that matches, so a
# GET on this router would never be reached (405 from the POST-only pattern): the GET is added
# to the mailbox router's path instead. `from . import api` works in either import order: the
# mailbox router exists before api.py imports this module, and this module's router exists
# before it imports api.py.
from . import api as _mailbox_api  # noqa: E402

_mailbox_api.router.add_api_operation(
    "/suggestions",
    ["GET"],
    suggestion_list,
    response=SuggestionPageSchema,
    summary="Published suggestions (moderated text only), newest first, 20 a page",
)
