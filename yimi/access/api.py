"""Life-circle accessibility API (filled in by the access part)."""

from ninja import Router

router = Router(tags=["access"])
