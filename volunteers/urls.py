from django.urls import path

from volunteers import views

urlpatterns = [
    path("me/", views.profile, name="volunteer_profile"),
    path("me/<str:step>/", views.status_change, name="volunteer_status"),
]
