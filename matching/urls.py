from django.urls import path

from matching import recruitment_views, views

urlpatterns = [
    path("check-ins/<int:pk>/", views.check_in, name="check_in"),
    path(
        "coordinator/check-ins/<int:pk>/handled/",
        views.check_in_handled,
        name="check_in_handled",
    ),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path(
        "agreements/<int:pk>/ask-to-end/",
        views.agreement_end_request,
        name="agreement_end_request",
    ),
    path(
        "agreements/<int:pk>/<str:step>/",
        views.agreement_sign,
        name="agreement_sign",
    ),
    path("coordinator/", views.dashboard, name="dashboard"),
    path(
        "coordinator/recruitment/",
        recruitment_views.recruitment_gaps,
        name="recruitment_gaps",
    ),
    path(
        "coordinator/recruitment/recalculate/",
        recruitment_views.recruitment_recalculate,
        name="recruitment_recalculate",
    ),
    path(
        "coordinator/referrals/<int:pk>/accept/",
        views.referral_accept_view,
        name="referral_accept",
    ),
    path("coordinator/matches/<int:pk>/", views.match_detail, name="coordinator_match"),
    path("coordinator/matches/<int:pk>/end/", views.match_end_view, name="match_end"),
    path(
        "coordinator/matches/<int:pk>/volunteers/<int:place_pk>/release/",
        views.match_volunteer_release_view,
        name="match_volunteer_release",
    ),
    path(
        "coordinator/matches/<int:pk>/replacement/",
        views.match_replacement_search,
        name="match_replacement_search",
    ),
    path("coordinator/runs/", views.match_run_start_view, name="match_run_start"),
    path("coordinator/runs/<int:pk>/", views.match_run_detail, name="match_run"),
    path(
        "coordinator/runs/<int:pk>/approve-selected/",
        views.match_run_approve_selected,
        name="match_run_approve_selected",
    ),
    path(
        "coordinator/runs/<int:pk>/restart/",
        views.match_run_restart_view,
        name="match_run_restart",
    ),
    path(
        "coordinator/unmatched/<int:pk>/propose/",
        views.proposal_by_hand_view,
        name="proposal_by_hand",
    ),
    path(
        "coordinator/proposals/<int:pk>/<str:decision>/",
        views.proposal_review,
        name="proposal_review",
    ),
]
