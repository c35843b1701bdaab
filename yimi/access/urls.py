from django.urls import path

from yimi.access import views

app_name = "access"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<int:pk>/", views.run_view, name="run"),
]
