"""Staff issue pages: my queue, the list, the detail page, its actions, and issue search."""

from django.urls import path

from cases.web.staff import messages as message_views
from cases.web.staff import views

urlpatterns = [
    path("queue/", views.issue_queue, name="issue_queue"),
    path("issues/", views.issue_list, name="issue_list"),
    path("issues/search/", views.issue_search_json, name="issue_search"),
    path("issues/<int:pk>/", views.issue_detail, name="issue_detail"),
    path(
        "issues/<int:pk>/messages/<int:report_pk>/reply/",
        message_views.issue_message_reply,
        name="issue_message_reply",
    ),
    # Before the actions' catch-all slug.
    path("issues/<int:pk>/contacts/", views.issue_contacts_reveal, name="issue_contacts_reveal"),
    path("issues/<int:pk>/<slug:action>/", views.issue_action, name="issue_action"),
]
