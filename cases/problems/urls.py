"""SARA problem-solving projects: list by stage, open one, a Problem's page and its actions."""

from django.urls import path

from cases.problems import views as problem_views

urlpatterns = [
    path("problems/", problem_views.problem_list_view, name="problem_list"),
    path("problems/new/", problem_views.problem_new, name="problem_new"),
    path("problems/<int:pk>/", problem_views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/<slug:action>/", problem_views.problem_action, name="problem_action"),
]
