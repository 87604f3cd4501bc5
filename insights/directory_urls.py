"""Directory routes (issue 4): partners and neighborhoods, and the partner search the outreach form uses."""

from django.urls import path

from insights import directory as views

app_name = "partners"

urlpatterns = [
    path("partners/", views.partner_list, name="list"),
    path("partners/search/", views.partner_search, name="search"),
    path("partners/<int:pk>/", views.partner_detail, name="detail"),
    path("neighborhoods/", views.neighborhood_list, name="neighborhoods"),
    path("neighborhoods/<slug:slug>/", views.neighborhood_detail, name="neighborhood"),
]
