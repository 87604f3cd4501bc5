"""REST API routes, mounted at /api/: version 1 under /api/v1/, the OpenAPI 3
schema at /api/schema/ and the Swagger UI at /api/docs/ (served from the
drf-spectacular-sidecar static files, nothing from a CDN).
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from cases.api import problems as cases_problems_api
from cases.api import views as cases_api
from core.api.errors import api_not_found
from insights.api import LanguageParityView, StatsView
from outreach import api as outreach_api
from partners import api as partners_api

router = SimpleRouter()
router.register("categories", cases_api.CategoryViewSet, basename="category")
router.register("neighborhoods", partners_api.NeighborhoodViewSet, basename="neighborhood")
router.register("issues", cases_api.IssueViewSet, basename="issue")
router.register(r"issues/(?P<issue_id>[0-9]+)/events", cases_api.IssueEventViewSet, basename="issue-event")
router.register("reports", cases_api.ReportViewSet, basename="report")
router.register("problems", cases_problems_api.ProblemViewSet, basename="problem")
router.register(
    r"problems/(?P<problem_id>[0-9]+)/events", cases_problems_api.ProblemEventViewSet, basename="problem-event"
)
router.register("escalations", cases_api.EscalationViewSet, basename="escalation")
router.register("notifications", cases_api.NotificationViewSet, basename="notification")
router.register("partners", partners_api.PartnerViewSet, basename="partner")
router.register("activities", outreach_api.ActivityViewSet, basename="activity")
router.register("staff", partners_api.StaffViewSet, basename="staff")

v1 = [
    path("neighborhoods.geojson", partners_api.NeighborhoodGeoJSONView.as_view(), name="neighborhood-geojson"),
    path("me/", partners_api.MeView.as_view(), name="me"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("stats/languages/", LanguageParityView.as_view(), name="stats-languages"),
    *router.urls,
]

app_name = "api"
urlpatterns = [
    path("v1/", include((v1, "v1"))),
    # The schema and its docs are public and read no credentials (a stale token still gets them).
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[]), name="schema"),
    # The split view serves Swagger UI's start-up script from /api/docs/?script rather than inline in the
    # page, so the Content-Security-Policy needs no 'unsafe-inline'; the template moves its inline style out.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", authentication_classes=[], template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    # Anything else under /api/: a JSON 404 in the API's error shape.
    re_path(r"^.*$", api_not_found),
]
