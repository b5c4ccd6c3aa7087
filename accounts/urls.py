from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.KoblingLoginView.as_view(), name="login"),
    path("password_reset/", views.KoblingPasswordResetView.as_view(), name="password_reset"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/recovery/", views.two_factor_recovery, name="two_factor_recovery"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/", views.security, name="security"),
    path(
        "security/recovery-codes/",
        views.recovery_codes_renew,
        name="recovery_codes_renew",
    ),
    path("security/two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
]
