from django.urls import path

from volunteers import privacy_views, views

urlpatterns = [
    path("me/", views.profile, name="volunteer_profile"),
    path("me/<str:step>/", views.status_change, name="volunteer_status"),
    path("coordinator/volunteers/", views.volunteer_list, name="volunteer_list"),
    path("coordinator/volunteers/<int:pk>/vetting/", views.vetting, name="volunteer_vetting"),
    path(
        "coordinator/volunteers/<int:pk>/status/",
        views.vetting_status_change,
        name="volunteer_vetting_status",
    ),
]

# "me/<step>/" above takes every one-segment path under me/, so these live under my-data/.
urlpatterns += [
    path("my-data/", privacy_views.privacy, name="volunteer_privacy"),
    path("my-data/download/", privacy_views.privacy_download, name="volunteer_privacy_download"),
    path("my-data/delete/", privacy_views.privacy_delete, name="volunteer_privacy_delete"),
]
