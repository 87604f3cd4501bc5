"""The audit log: /audit/ and its CSV export."""

from django.urls import path

from cases.web.staff import audit as audit_views

urlpatterns = [
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
