"""Public transparency page and open data (inside i18n_patterns: /transparency/ and /es/transparency/, …)."""

from django.urls import path

from insights import open_data, pulse
from insights import views as dashboard

urlpatterns = [
    path("transparency/", dashboard.transparency, name="transparency"),
    path("transparency/languages/", dashboard.transparency_languages, name="transparency_languages"),
    # The community trust pulse: an anonymous survey, once a quarter per device.
    path("pulse/", pulse.pulse, name="pulse"),
    path("open-data/", open_data.open_data, name="open_data"),
    path("open-data/issues.csv", open_data.issues_csv, name="open_data_issues_csv"),
    path("open-data/issues.geojson", open_data.issues_geojson, name="open_data_issues_geojson"),
    path("open-data/outreach.csv", open_data.outreach_csv, name="open_data_outreach_csv"),
]
