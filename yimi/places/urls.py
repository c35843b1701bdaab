from django.urls import path

from yimi.places import views

app_name = "places"
urlpatterns = [
    path("", views.map_view, name="map"),
    path("staff/", views.staff_places, name="staff"),
    path("staff/places/new/", views.staff_place_edit, name="place-new"),
    path("staff/places/<int:pk>/", views.staff_place_edit, name="place-edit"),
    path("staff/places/<int:pk>/verify/", views.staff_place_verify, name="place-verify"),
    path("staff/import/", views.staff_import, name="import"),
    path("staff/themes/", views.staff_themes, name="themes"),
    path("staff/themes/<slug:slug>/", views.staff_theme_edit, name="theme-edit"),
    path("staff/routes/", views.staff_routes, name="routes"),
    path("staff/routes/<slug:slug>/", views.staff_route_edit, name="route-edit"),
]
