"""Care pages under /care/: each area of work keeps its own URL list next to its views."""

from yimi.care.views import ledger, monitor, orders, records, volunteers, work

app_name = "care"

urlpatterns = [
    *records.urlpatterns,
    *work.urlpatterns,
    *orders.urlpatterns,
    *volunteers.urlpatterns,
    *monitor.urlpatterns,
    *ledger.urlpatterns,
]
