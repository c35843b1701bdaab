"""The API's contract: one error shape for every failure, and the committed OpenAPI schema."""

import json
from pathlib import Path

import pytest

from yimi.api import api

SNAPSHOT = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.json"

pytestmark = pytest.mark.django_db


def _assert_error(resp, status, code):
    assert resp.status_code == status
    body = resp.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    return body["error"]


def test_openapi_schema_matches_the_committed_file(client):
    served = client.get("/api/v1/openapi.json").json()
    generated = api.get_openapi_schema(path_prefix="/api/v1/")
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert served == committed == json.loads(json.dumps(generated)), (
        "The API changed: run `make openapi` and commit docs/api/openapi.json"
    )


def test_unknown_endpoint_has_the_error_shape(client):
    _assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_missing_object_has_the_error_shape(client):
    _assert_error(client.get("/api/v1/places/999999"), 404, "not_found")


def test_validation_error_names_the_field(client):
    err = _assert_error(client.get("/api/v1/places/nearby?lat=abc&lon=116.3"), 422, "invalid")
    assert any(d["field"] == "lat" for d in err["details"])


def test_unauthenticated_write_has_the_error_shape(client):
    _assert_error(
        client.post("/api/v1/places", {"name": "x"}, content_type="application/json"),
        401,
        "unauthenticated",
    )


def test_me_anonymous(client):
    assert client.get("/api/v1/me").json() == {
        "authenticated": False,
        "username": None,
        "display_name": None,
        "role": None,
        "area": None,
        "department": None,
    }


def test_docs_page_uses_local_assets_only(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in html and "/static/ninja/" in html
