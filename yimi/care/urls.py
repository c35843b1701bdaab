"""Care pages under /care/: each area of work keeps its own URL list next to its views."""

from yimi.care.views import ledger, records, volunteers, work

app_name = "care"

urlpatterns = [
    *records.urlpatterns,
    *work.urlpatterns,
    *volunteers.urlpatterns,
    *ledger.urlpatterns,
]
