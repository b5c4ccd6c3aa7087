from django.urls import path

from casework import home, lists, referral_views, report_views, views

urlpatterns = [
    path("", home.home, name="home"),
    path("referrals/new/", referral_views.referral_new, name="referral_new"),
    path(
        "referrals/<int:pk>/withdraw/",
        referral_views.referral_withdraw_view,
        name="referral_withdraw",
    ),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/edit/", views.referral_edit, name="referral_edit"),
    path(
        "referrals/<int:pk>/any-gender-consent/",
        views.referral_any_gender_consent,
        name="referral_any_gender_consent",
    ),
    path("coordinator/volunteers/<int:pk>/", views.volunteer_detail, name="volunteer_detail"),
    path("referrals/", lists.referral_list, name="referral_list"),
    path("coordinator/volunteers/", lists.volunteer_list, name="volunteer_list"),
    path("coordinator/matches/", lists.match_list, name="match_list"),
    path("coordinator/check-ins/", lists.check_in_list, name="check_in_list"),
    path("coordinator/report/", report_views.programme_report_view, name="programme_report"),
]
