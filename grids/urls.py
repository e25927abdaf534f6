from django.urls import path

from grids import api, views

urlpatterns = [
    path("", views.home, name="grids-home"),
    path("my/", views.my_grid, name="grids-my"),
    path("report/", views.report, name="grids-report"),
    path("report/<str:code>/done/", views.reported, name="grids-reported"),
    path("inbox/", views.inbox, name="grids-inbox"),
    path("departments/", views.departments, name="grids-departments"),
    path("incidents/<str:code>/", views.incident_detail, name="grids-incident"),
    path("incidents/<str:code>/act/", views.incident_act, name="grids-act"),
    path("photos/<int:pk>/", views.photo, name="grids-photo"),
    path("photos/<int:pk>/small/", views.photo_thumbnail, name="grids-photo-thumbnail"),
    path("photos/<int:pk>/display/", views.photo_display, name="grids-photo-display"),
]

api_urlpatterns = [
    path("incidents/", api.IncidentListApi.as_view(), name="api-incidents"),
    # Before incidents/<code>/, which would take "departments" for an incident number.
    path("incidents/departments/", api.IncidentDepartmentListApi.as_view(), name="api-incident-departments"),
    path("incidents/<str:code>/", api.IncidentDetailApi.as_view(), name="api-incident"),
    path(
        "incidents/<str:code>/transition/",
        api.IncidentTransitionApi.as_view(),
        name="api-incident-transition",
    ),
    path("incidents/<str:code>/events/", api.IncidentEventListApi.as_view(), name="api-incident-events"),
]
