from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance import api, views

# Each feature app exposes ``urlpatterns`` (its pages, mounted under /<app>/) and
# ``api_urlpatterns`` (mounted under /api/v1/, paths as in DESIGN.md section 7). The dashboards app
# keeps its statistics machinery and its ranking/assessment pages in two URL modules.
FEATURE_APPS = ["grids", "mediation", "petitions", "dashboards"]
URL_MODULES = ["grids.urls", "mediation.urls", "petitions.urls", "dashboards.urls", "dashboards.ranking_urls"]

api_urlpatterns = [
    path("auth/token/", api.TokenObtainApi.as_view(), name="api-token"),
    path("areas/", api.AreaListApi.as_view(), name="api-areas"),
    path("areas/geojson/", api.AreaGeoJsonApi.as_view(), name="api-areas-geojson"),
    path("areas/locate/", api.AreaLocateApi.as_view(), name="api-areas-locate"),
    path("areas/<str:code>/", api.AreaDetailApi.as_view(), name="api-area"),
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationsReadApi.as_view(), name="api-notifications-read"),
    path("notifications/<int:pk>/read/", api.NotificationReadApi.as_view(), name="api-notification-read"),
]
page_urlpatterns = []
for module_name in URL_MODULES:
    module = import_module(module_name)
    api_urlpatterns += getattr(module, "api_urlpatterns", [])
    page_urlpatterns.append(path(f"{module_name.split('.')[0]}/", include(module.urlpatterns)))

urlpatterns = [
    path("", views.home, name="governance-home"),
    path("healthz", views.healthz, name="governance-healthz"),
    path("notifications/", views.notifications, name="governance-notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="governance-notification-open"),
    path("accounts/login/", views.LoginView.as_view(), name="governance-login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="governance-logout"),
    path("accounts/", views.account, name="governance-account"),
    path("accounts/token/", views.account_token, name="governance-account-token"),
    path("accounts/token/revoke/", views.account_token_revoke, name="governance-account-token-revoke"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="governance-password-change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="governance/swagger_ui.html"
        ),
        name="api-docs",
    ),
    *page_urlpatterns,
]

handler404 = views.page_not_found

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
