"""Ranking dashboards and assessment pages (mounted under /dashboards/) and the assessments API."""

from django.urls import path

from dashboards import assessment_api

urlpatterns: list = []

# Paths exactly as DESIGN.md section 7 (mounted at /api/v1/).
api_urlpatterns: list = [
    path("assessments/", assessment_api.AssessmentListApi.as_view(), name="dashboards-assessments-api"),
    path(
        "assessments/<int:pk>/results/",
        assessment_api.AssessmentResultListApi.as_view(),
        name="dashboards-assessment-results-api",
    ),
]
