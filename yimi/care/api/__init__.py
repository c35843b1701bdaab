"""The care API under /api/v1/care/: one router per area of work, all scoped by yimi.care.policy."""

from ninja import Router

from . import ledger, records, volunteers, work

router = Router(tags=["care"])
router.add_router("/", records.router)
router.add_router("/", work.router)
router.add_router("/", volunteers.router)
router.add_router("/", ledger.router)
