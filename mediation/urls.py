from django.urls import path

from mediation import api, views

urlpatterns = [
    path("", views.home, name="mediation-home"),
    path("cases/", views.case_list, name="mediation-cases"),
    path("cases/new/", views.register, name="mediation-register"),
    path("cases/<str:code>/", views.case_detail, name="mediation-case"),
    path("cases/<str:code>/act/", views.case_act, name="mediation-act"),
    path("cases/<str:code>/sessions/", views.case_session, name="mediation-session"),
    path("cases/<str:code>/parties/<int:party_id>/reveal/", views.party_reveal, name="mediation-reveal"),
    path("cases/<str:code>/parties/<int:party_id>/edit/", views.party_edit, name="mediation-party-edit"),
    path("cases/<str:code>/agreement/", views.agreement_print, name="mediation-agreement"),
    path("organisations/<int:pk>/", views.organisation_page, name="mediation-organisation"),
    path("from-incident/<str:incident_code>/", views.from_incident, name="mediation-from-incident"),
]

api_urlpatterns = [
    path("disputes/", api.DisputeListApi.as_view(), name="api-disputes"),
    path("disputes/<str:code>/", api.DisputeDetailApi.as_view(), name="api-dispute"),
    path(
        "disputes/<str:code>/transition/", api.DisputeTransitionApi.as_view(), name="api-dispute-transition"
    ),
    path("disputes/<str:code>/sessions/", api.DisputeSessionListApi.as_view(), name="api-dispute-sessions"),
    path("disputes/<str:code>/events/", api.DisputeEventListApi.as_view(), name="api-dispute-events"),
    path(
        "disputes/<str:code>/parties/<int:party_id>/reveal/",
        api.DisputePartyRevealApi.as_view(),
        name="api-dispute-party-reveal",
    ),
]
