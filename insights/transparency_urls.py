"""Public transparency page (inside i18n_patterns: /transparency/ and /es/transparency/)."""

from django.urls import path

from insights import views as dashboard

urlpatterns = [
    path("transparency/", dashboard.transparency, name="transparency"),
]
