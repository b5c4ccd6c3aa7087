from django.urls import path

from matching import views

urlpatterns = [
    path("check-ins/<int:pk>/", views.check_in, name="check_in"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path(
        "agreements/<int:pk>/<str:step>/",
        views.agreement_sign,
        name="agreement_sign",
    ),
]
