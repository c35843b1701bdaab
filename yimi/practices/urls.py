"""Practice library pages under /practices/."""

from django.urls import path

from yimi.practices import views

app_name = "practices"

urlpatterns = [
    path("", views.library, name="library"),
    path("cases/<str:key>/", views.case_detail, name="case"),
    path("measures/", views.measures, name="measures"),
    path("measures/<str:slug>/", views.measure_detail, name="measure"),
    path("progress/", views.progress, name="progress"),
    path("progress/export.xlsx", views.export_xlsx, name="export-xlsx"),
    path("progress/report.pdf", views.export_pdf, name="export-pdf"),
    path("progress/<str:slug>/edit/", views.progress_edit, name="progress-edit"),
    path("progress/<str:slug>/evidence/", views.evidence_download, name="evidence"),
]
