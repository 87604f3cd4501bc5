"""Public pages (under i18n_patterns: English at /report/…, Spanish at /es/report/…)."""

from django.urls import path

from cases.web.public import addresses as address_views
from cases.web.public import alerts as alert_views
from cases.web.public import around as around_views
from cases.web.public import updates as update_views
from cases.web.public import views as public_views
from cases.web.public.feeds import AreaFeed
from cases.web.staff import messages as message_views

urlpatterns = [
    path("report/", public_views.report_form, name="report_form"),
    # The city's address points matching what is typed in the form's address field (JSON).
    path("addresses/suggest/", address_views.address_suggest, name="address_suggest"),
    # Recent public reports near a place or in a neighborhood.
    path("around/", around_views.around, name="around"),
    # A daily email of a neighborhood's new and resolved public reports (double opt-in).
    path("alerts/", alert_views.alerts, name="alerts"),
    path("alerts/confirm/<str:token>/", alert_views.alerts_confirm, name="alerts_confirm"),
    path("alerts/stop/<str:token>/", alert_views.alerts_stop, name="alerts_stop"),
    # Atom feeds of new public reports and resolutions, for the city and per neighborhood.
    # A neighborhood's feed lives under neighborhoods/, so that one slugged "city" has its own; the
    # shorter address the first feeds were given out at still answers for every other slug.
    path("feeds/city.atom", AreaFeed(), name="feed_city"),
    path("feeds/neighborhoods/<slug:slug>.atom", AreaFeed(), name="feed_neighborhood"),
    path("feeds/<slug:slug>.atom", AreaFeed(), name="feed_neighborhood_first_address"),
    path("report/lookup/", public_views.report_lookup, name="report_lookup"),
    path("report/same-problem/", public_views.report_same_problem, name="report_same_problem"),
    path("report/neighborhoods.geojson", public_views.neighborhoods_geojson, name="report_neighborhoods"),
    path("report/<str:code>/", public_views.report_status, name="report_status"),
    # Following an issue by email: the status page's form, the emailed link that confirms it,
    # and the link in every update that stops them (a page, then one POST; RFC 8058 one-click).
    path("report/<str:code>/follow/", update_views.report_follow, name="report_follow"),
    path("updates/confirm/<str:token>/", update_views.follow_confirm, name="follower_confirm"),
    path("updates/stop/<str:token>/", update_views.updates_stop, name="follower_unsubscribe"),
    # "Is it fixed?": the email's yes and no links (cases.services.fixed_checks).
    path("updates/fixed/<str:token>/", update_views.fixed_check_answer_view, name="fixed_check_answer"),
    # Anonymous messages with the department, unlocked by the report's private key.
    path("report/<str:code>/messages/", message_views.message_thread, name="report_messages"),
    path("report/<str:code>/messages/unlock/", message_views.message_unlock, name="report_messages_unlock"),
    path("report/<str:code>/messages/lock/", message_views.message_lock, name="report_messages_lock"),
]
