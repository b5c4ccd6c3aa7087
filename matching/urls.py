from django.urls import path

from matching import views

urlpatterns = [
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path(
        "agreements/<int:pk>/<str:step>/",
        views.agreement_sign,
        name="agreement_sign",
    ),
]
