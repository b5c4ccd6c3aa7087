"""Login pages: password, then the second factor (an authenticator code or a recovery code),
setting up an authenticator, and the security page where everyone sees and changes theirs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import services
from accounts.forms import LoginForm, RecoveryCodeForm, TotpCodeForm
from accounts.lockout import client_address
from accounts.middleware import SESSION_ENDED_KEY, second_factor_url, session_seen_now
from accounts.selectors import (
    recovery_codes_left,
    two_factor_enabled,
    two_factor_required,
    user_is_staff_member,
)

NEW_RECOVERY_CODES_KEY = "kobling_new_recovery_codes"


class KoblingLoginView(LoginView):
    """The password step (django-axes counts failures and locks). Whoever needs a second factor
    goes on to it, carrying ``next`` along."""

    form_class = LoginForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["session_ended"] = self.request.session.pop(SESSION_ENDED_KEY, None)
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        # The idle time counts from the login, even if the next request comes much later.
        session_seen_now(self.request.session)
        return response

    def get_success_url(self):
        next_url = super().get_success_url()
        if not two_factor_required(self.request.user):
            return next_url
        return second_factor_url(self.request.user, next_url)


class KoblingPasswordResetView(PasswordResetView):
    """Django's reset page, sending only within the hourly limits. Over them it answers exactly
    as when the e-mail goes out, so the page tells no one whether an address has an account or
    was asked for too often."""

    def form_valid(self, form):
        if services.password_reset_allowed(
            form.cleaned_data["email"], client_address(self.request)
        ):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


@login_required
def two_factor_verify(request):
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    if not two_factor_enabled(request.user):
        return redirect(
            second_factor_url(request.user, next_url)
            if two_factor_required(request.user)
            else next_url
        )
    form = TotpCodeForm(request.POST or None)
    if form.is_valid():
        try:
            device = services.totp_code_check(request.user, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            _mark_verified(request, device)
            return redirect(next_url)
    context = {"form": form, "next": next_url}
    return render(request, "accounts/two_factor_verify.html", context, status=form.http_status)


@login_required
def two_factor_recovery(request):
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    form = RecoveryCodeForm(request.POST or None)
    if form.is_valid():
        try:
            device = services.recovery_code_use(request.user, form.cleaned_data["recovery_code"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            _mark_verified(request, device)
            left = recovery_codes_left(request.user)
            text = ngettext(
                "You have %(count)s recovery code left.",
                "You have %(count)s recovery codes left.",
                left,
            )
            messages.info(request, text % {"count": left})
            return redirect(next_url)
    context = {"form": form, "next": next_url}
    return render(request, "accounts/two_factor_recovery.html", context, status=form.http_status)


@login_required
def two_factor_setup(request):
    """Set up an authenticator app: first time, or replacing one. Someone who has one must have
    used it in this session first, so a password alone can never add a new one."""
    next_url = _next_url(request)
    if two_factor_enabled(request.user) and not request.user.is_verified():
        return redirect(second_factor_url(request.user, next_url))
    device = services.totp_device_start(request.user)
    form = TotpCodeForm(request.POST or None)
    if form.is_valid():
        try:
            codes = services.totp_device_confirm(device, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            _mark_verified(request, device)
            return _show_recovery_codes(request, codes, next_url)
    context = {
        "form": form,
        "next": next_url,
        "qr_code": services.totp_qr_data_uri(device),
        "secret": services.totp_secret_for_typing(device),
        "replacing": two_factor_enabled(request.user),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=form.http_status)


@login_required
def recovery_codes(request):
    """New recovery codes, shown once: they are taken out of the session as they are shown."""
    context = {
        "codes": request.session.pop(NEW_RECOVERY_CODES_KEY, None),
        "next": _next_url(request),
    }
    return render(request, "accounts/recovery_codes.html", context)


@login_required
def security(request):
    user = request.user
    context = {
        "enabled": two_factor_enabled(user),
        "required": user_is_staff_member(user),
        "recovery_codes_left": recovery_codes_left(user),
    }
    return render(request, "accounts/security.html", context)


@require_POST
@login_required
def recovery_codes_renew(request):
    _require_verified(request)
    codes = services.recovery_codes_renew(request.user)
    return _show_recovery_codes(request, codes, reverse("security"))


@require_POST
@login_required
def two_factor_disable(request):
    _require_verified(request)
    services.two_factor_disable(request.user)
    messages.success(request, _("Two-factor login is off."))
    return redirect("security")


def _require_verified(request) -> None:
    if not (two_factor_enabled(request.user) and request.user.is_verified()):
        raise PermissionDenied(_("Sign in with your second factor first."))


def _mark_verified(request, device) -> None:
    otp_login(request, device)
    # A new session key for the more trusted session, as Django does at login.
    request.session.cycle_key()


def _show_recovery_codes(request, codes: list[str], next_url: str):
    request.session[NEW_RECOVERY_CODES_KEY] = codes
    return redirect(f"{reverse('recovery_codes')}?{urlencode({'next': next_url})}")


def _next_url(request) -> str:
    """Where to go afterwards: ``next`` if it stays on this site, otherwise the overview."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if safe else reverse("home")
