"""Yimi's URL map: each app's pages under its own prefix, the JSON API under /api/v1/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from yimi.api import api

admin.site.site_header = "一米 Yimi"
admin.site.site_title = "一米 Yimi"

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("yimi.core.urls")),
    path("map/", include("yimi.places.urls")),
    path("access/", include("yimi.access.urls")),
    path("care/", include("yimi.care.urls")),
    path("voice/", include("yimi.voice.urls")),
    path("practices/", include("yimi.practices.urls")),
    path("", RedirectView.as_view(pattern_name="places:map", permanent=False), name="home"),
]

handler404 = "yimi.core.views.not_found"
handler500 = "yimi.core.views.server_error"
