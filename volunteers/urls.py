from django.urls import path

from volunteers import application_views, views

urlpatterns = [
    path("me/", views.profile, name="volunteer_profile"),
    path("me/<str:step>/", views.status_change, name="volunteer_status"),
    path("coordinator/volunteers/<int:pk>/vetting/", views.vetting, name="volunteer_vetting"),
    path(
        "coordinator/volunteers/<int:pk>/status/",
        views.vetting_status_change,
        name="volunteer_vetting_status",
    ),
    path("coordinator/volunteers/<int:pk>/follow-up/", views.follow_up, name="volunteer_follow_up"),
    path("apply/sent/", application_views.application_sent, name="application_sent"),
    path("apply/confirm/<str:token>/", application_views.confirm, name="application_confirm"),
    path(
        "apply/<slug:programme>/<slug:organisation>/",
        application_views.apply,
        name="application_new",
    ),
    path(
        "coordinator/applications/",
        application_views.application_list,
        name="application_list",
    ),
    path(
        "coordinator/applications/<int:pk>/",
        application_views.application_detail,
        name="application_detail",
    ),
    path(
        "coordinator/applications/<int:pk>/advance/",
        application_views.application_advance_view,
        name="application_advance",
    ),
    path(
        "coordinator/applications/<int:pk>/decline/",
        application_views.application_decline_view,
        name="application_decline",
    ),
]
