"""Public pages (under i18n_patterns: English at /report/…, Spanish at /es/report/…)."""

from django.urls import path

from cases import public_views

urlpatterns = [
    path("report/", public_views.report_form, name="report_form"),
    path("report/lookup/", public_views.report_lookup, name="report_lookup"),
    path("report/same-problem/", public_views.report_same_problem, name="report_same_problem"),
    path("report/neighborhoods.geojson", public_views.neighborhoods_geojson, name="report_neighborhoods"),
    path("report/<str:code>/", public_views.report_status, name="report_status"),
]
