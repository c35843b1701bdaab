"""Children's voice pages under /voice/: the mailbox (mailbox), moderation and handling by staff
and departments (handling), the public pages and actions (public), observer groups and
co-building (community)."""

from django.urls import path

from yimi.voice.views import community, handling, mailbox, public

app_name = "voice"

urlpatterns = [
    path("", mailbox.mailbox, name="mailbox"),
    path("thanks/", mailbox.thanks, name="thanks"),
    path("receipt/", mailbox.receipt, name="receipt"),
    path("staff/new/", mailbox.staff_new, name="staff-new"),
    *handling.urlpatterns,
    *public.urlpatterns,
    *community.urlpatterns,
]
