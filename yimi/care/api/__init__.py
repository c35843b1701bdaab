"""The care API under /api/v1/care/: one router per area of work, all scoped by yimi.care.policy."""

from ninja import Router

from . import ledger, monitor, orders, records, volunteers, work

router = Router(tags=["care"])
for _module in (records, work, orders, volunteers, monitor, ledger):
    router.add_router("/", _module.router)
