from django.urls import path

from dashboards import api

urlpatterns: list = []

# Paths exactly as DESIGN.md section 7 (mounted at /api/v1/).
api_urlpatterns: list = [
    path("stats/indicators/", api.IndicatorListApi.as_view(), name="dashboards-stats-indicators"),
    path("stats/values/", api.IndicatorValueListApi.as_view(), name="dashboards-stats-values"),
    path("stats/rankings/", api.RankingListApi.as_view(), name="dashboards-stats-rankings"),
    path("stats/series/", api.SeriesListApi.as_view(), name="dashboards-stats-series"),
    path("stats/rollups/", api.RollupRunListApi.as_view(), name="dashboards-stats-rollups"),
    path("stats/case-counts/", api.CaseCountImportApi.as_view(), name="dashboards-case-counts-import"),
    path("stats/populations/", api.PopulationImportApi.as_view(), name="dashboards-populations-import"),
    path(
        "surveys/responses/", api.SurveyResponseImportApi.as_view(), name="dashboards-survey-responses-import"
    ),
]
