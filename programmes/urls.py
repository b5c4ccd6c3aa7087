from django.urls import path

from programmes import views

urlpatterns = [
    path("about/", views.about, name="about"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("favicon.ico", views.favicon, name="favicon"),
]
