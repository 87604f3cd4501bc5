"""Open311 GeoReport v2, mounted at /open311/v2/. Every resource answers in .json and .xml."""

from django.urls import re_path

from cases.open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.services, name="open311-services"),
    re_path(r"^services/(?P<service_code>[^/]+)" + FORMAT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FORMAT, views.requests, name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/]+)" + FORMAT, views.request_detail, name="open311-request"),
    # mySociety's extension (FixMyStreet and other clients poll it for what changed).
    re_path(r"^servicerequestupdates" + FORMAT, views.service_request_updates, name="open311-updates"),
    re_path(r"^tokens/(?P<token>[^/]+)" + FORMAT, views.token_detail, name="open311-token"),
    # Anything else under /open311/v2/ still answers in the spec's error shape.
    re_path(r"^(?P<path>.*?)(?:\.(?P<fmt>json|xml))?$", views.not_found, name="open311-not-found"),
]
