from django.urls import path

from privacy import views

# Not under me/: volunteers' "me/<step>/" takes every one-segment path there.
urlpatterns = [
    path("my-data/", views.privacy, name="volunteer_privacy"),
    path("my-data/download/", views.privacy_download, name="volunteer_privacy_download"),
    path("my-data/delete/", views.privacy_delete, name="volunteer_privacy_delete"),
]
