from django.urls import path

from yimi.core import views

app_name = "core"
urlpatterns = [
    path("login/", views.YimiLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("audit/", views.audit_list_view, name="audit"),
]
