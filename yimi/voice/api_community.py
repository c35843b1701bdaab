"""Voice API: community (being built). Mounted on the voice router in yimi/voice/api.py."""

from ninja import Router

router = Router(tags=["voice"])
