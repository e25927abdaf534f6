from django.urls import path

from petitions import api, views

urlpatterns = [
    path("", views.registry, name="petitions-registry"),
    path("new/", views.intake, name="petitions-intake"),
    path("new/choices/", views.intake_choices, name="petitions-intake-choices"),
    path("new/repeats/", views.repeat_check, name="petitions-repeat-check"),
    path("inbox/", views.inbox, name="petitions-inbox"),
    path("<str:code>/", views.detail, name="petitions-detail"),
    path("<str:code>/act/", views.act, name="petitions-act"),
    path("<str:code>/petitioners/<int:petitioner_id>/reveal/", views.reveal, name="petitions-reveal"),
]

api_urlpatterns = [
    path("petitions/", api.PetitionListApi.as_view(), name="api-petitions"),
    path("petitions/<str:code>/", api.PetitionDetailApi.as_view(), name="api-petition"),
    path(
        "petitions/<str:code>/transition/",
        api.PetitionTransitionApi.as_view(),
        name="api-petition-transition",
    ),
    path(
        "petitions/<str:code>/petitioners/<int:petitioner_id>/reveal/",
        api.PetitionerRevealApi.as_view(),
        name="api-petitioner-reveal",
    ),
]
