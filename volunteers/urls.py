from django.urls import path

from volunteers import views

urlpatterns = [
    path("me/", views.profile, name="volunteer_profile"),
    path("me/<str:step>/", views.status_change, name="volunteer_status"),
    path("coordinator/volunteers/<int:pk>/vetting/", views.vetting, name="volunteer_vetting"),
    path(
        "coordinator/volunteers/<int:pk>/status/",
        views.vetting_status_change,
        name="volunteer_vetting_status",
    ),
]
