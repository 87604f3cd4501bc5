"""Supervisor dashboard: figures, charts, map and tables; CSV exports; decisions on escalated issues."""

from django.urls import path

from insights import views as dashboard

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/languages/", dashboard.dashboard_languages, name="dashboard_languages"),
    path("dashboard/export/<slug:table>.csv", dashboard.dashboard_export, name="dashboard_export"),
    path("dashboard/decisions/assign/", dashboard.decision_assign_selected, name="dashboard_assign_selected"),
    path(
        "dashboard/decisions/<int:issue_id>/<slug:action>/",
        dashboard.decision,
        name="dashboard_decision",
    ),
]
