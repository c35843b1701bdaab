"""Children's voice pages under /voice/."""

from django.urls import path

from yimi.voice.views import mailbox

app_name = "voice"

urlpatterns = [
    path("", mailbox.mailbox, name="mailbox"),
    path("thanks/", mailbox.thanks, name="thanks"),
    path("receipt/", mailbox.receipt, name="receipt"),
    path("staff/new/", mailbox.staff_new, name="staff-new"),
]
