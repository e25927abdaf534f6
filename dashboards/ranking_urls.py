"""Ranking dashboards and assessment pages (mounted under /dashboards/) and the assessments API."""

from django.urls import path

from dashboards import assessment_api, views

urlpatterns: list = [
    path("", views.overview, name="dashboards-overview"),
    path("league/", views.league, name="dashboards-league"),
    path("league/map-data/", views.map_data, name="dashboards-map-data"),
    path("trends/", views.trends, name="dashboards-trends"),
    path("import/", views.data_import, name="dashboards-import"),
    path("import/template/", views.data_import_template, name="dashboards-import-template"),
    path("assessments/", views.assessments, name="dashboards-assessments"),
    path("assessments/<int:pk>/", views.assessment_results, name="dashboards-assessment"),
    path("assessments/<int:pk>/entries/", views.assessment_entries, name="dashboards-assessment-entries"),
    path(
        "assessments/<int:pk>/evidence/<int:score>/",
        views.assessment_evidence,
        name="dashboards-assessment-evidence",
    ),
    path("assessments/<int:pk>/action/", views.assessment_action, name="dashboards-assessment-action"),
]

# Paths exactly as DESIGN.md section 7 (mounted at /api/v1/).
api_urlpatterns: list = [
    path("assessments/", assessment_api.AssessmentListApi.as_view(), name="dashboards-assessments-api"),
    path(
        "assessments/<int:pk>/results/",
        assessment_api.AssessmentResultListApi.as_view(),
        name="dashboards-assessment-results-api",
    ),
]
