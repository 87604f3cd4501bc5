"""Moderation and photos: the supervisors' queue, the moderation actions, and where photos are served.

Not language-prefixed: the queue and actions are staff pages, photos are files.
"""

from django.urls import path, re_path

from cases.web import photos as photo_views
from cases.web.staff import moderation as moderation_views

urlpatterns = [
    path("moderation/", moderation_views.queue, name="moderation_queue"),
    path("moderation/items/<int:item_id>/resolve/", moderation_views.item_resolve, name="moderation_item_resolve"),
    path("moderation/issues/<int:pk>/<slug:action>/", moderation_views.issue_moderate, name="issue_moderate"),
    path("moderation/reports/<int:report_id>/<slug:action>/", moderation_views.report_moderate, name="report_moderate"),
    path("issues/<int:pk>/reports/<int:report_id>/photo/", photo_views.staff_photo, name="staff_photo"),
    # The approved public copy: the token is its random file name (cases.photos.public_photo_path).
    re_path(
        r"^photos/(?P<report_id>[0-9]{1,18})/(?P<token>[0-9A-Za-z_-]{8,64})\.(?P<ext>jpg|png|webp)$",
        photo_views.public_photo,
        name="public_photo",
    ),
]
