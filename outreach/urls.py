"""Outreach log routes (issue 4): list, export, log, detail, edit, and the form's issue search."""

from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("outreach/", views.activity_list, name="list"),
    path("outreach/export.csv", views.activity_export, name="export"),
    path("outreach/new/", views.activity_new, name="new"),
    path("outreach/issue-search/", views.issue_search, name="issue-search"),
    path("outreach/<int:pk>/", views.activity_detail, name="detail"),
    path("outreach/<int:pk>/edit/", views.activity_edit, name="edit"),
]
