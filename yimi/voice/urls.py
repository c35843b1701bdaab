"""Children's voice pages under /voice/."""

from django.urls import path

from yimi.voice import views

app_name = "voice"

urlpatterns = [
    path("", views.mailbox, name="mailbox"),
    path("thanks/", views.thanks, name="thanks"),
    path("receipt/", views.receipt, name="receipt"),
    path("staff/new/", views.staff_new, name="staff-new"),
]
