"""Public transparency page (inside i18n_patterns: /transparency/ and /es/transparency/)."""

from django.urls import path

from config import dashboard

urlpatterns = [
    path("transparency/", dashboard.transparency, name="transparency"),
]
