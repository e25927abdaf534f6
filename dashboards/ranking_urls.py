"""Ranking dashboards and assessment pages (mounted under /dashboards/) and the assessments API."""

urlpatterns: list = []
api_urlpatterns: list = []
