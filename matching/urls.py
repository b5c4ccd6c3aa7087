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
    path("coordinator/", views.dashboard, name="dashboard"),
    path(
        "coordinator/referrals/<int:pk>/accept/",
        views.referral_accept_view,
        name="referral_accept",
    ),
    path("coordinator/runs/", views.match_run_start_view, name="match_run_start"),
    path("coordinator/runs/<int:pk>/", views.match_run_detail, name="match_run"),
    path(
        "coordinator/proposals/<int:pk>/<str:decision>/",
        views.proposal_review,
        name="proposal_review",
    ),
]
