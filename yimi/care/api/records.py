"""Care API: records."""

from ninja import Router

router = Router(tags=["care"])
