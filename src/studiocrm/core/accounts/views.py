"""Log in (password, then a second factor where the user has one), lockout, password reset
and change, two-factor set-up and the account's sessions."""

from __future__ import annotations

import math
import time
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_ratelimit.core import is_ratelimited

from studiocrm.core.accounts import services
from studiocrm.core.accounts.forms import CodeForm, SetupCodeForm

# The half-finished login between a right password and the second factor.
PENDING_KEY = "studiocrm_login_pending"
PENDING_SECONDS = 300
PENDING_MAX_CODES = 5


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """What a locked account or address sees (django-axes calls this): the login page with
    the reason and when to try again, answered 429."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else 0
    request.session.pop(PENDING_KEY, None)
    return render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request),
            "locked_minutes": minutes,
            "next": request.POST.get("next", ""),
        },
        status=429,
    )


class LoginView(auth_views.LoginView):
    """The password step. A user with two-factor authentication is not logged in yet: the
    session remembers who passed the password, and the code page finishes the login."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not services.has_two_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
            "failures": 0,
        }
        return redirect("login_verify")


def _pending_login(request: HttpRequest) -> tuple[dict[str, Any], Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return None
    return pending, user


def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a code from the authenticator app or a recovery code."""
    found = _pending_login(request)
    if found is None:
        messages.info(request, _("Log in again, please: the code page waited too long."))
        return redirect("login")
    pending, user = found
    credentials = {"username": user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return locked_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_KEY]
            user.backend = pending["backend"]
            login(request, user)
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You used a recovery code; %(count)d is left.",
                        "You used a recovery code; %(count)d are left.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(pending["next"])
        # A wrong code counts as a failed login for the lockout, like a wrong password.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        pending["failures"] += 1
        if pending["failures"] >= PENDING_MAX_CODES:
            del request.session[PENDING_KEY]
            messages.error(request, _("Too many wrong codes. Log in again."))
            return redirect("login")
        request.session[PENDING_KEY] = pending
        if services.codes_on_hold(user):
            form.add_error(
                "code", _("That code is not valid. Wait a few seconds before the next try.")
            )
        else:
            form.add_error("code", _("That code is not valid."))
    return render(request, "registration/login_verify.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link. Throttled per typed address and per client address; the
    request only enqueues the work, so it takes as long for an address with an account as
    for one without (see core.tasks.send_password_reset_link)."""

    form_class = PasswordResetForm

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        limited_ip = is_ratelimited(
            self.request,
            group="password-reset-ip",
            key="ip",
            rate=settings.PASSWORD_RESET_IP_RATE,
            increment=True,
        )
        limited_address = limited_ip or is_ratelimited(
            self.request,
            group="password-reset-address",
            key=lambda _group, _request: email,
            rate=settings.PASSWORD_RESET_ADDRESS_RATE,
            increment=True,
        )
        if limited_ip or limited_address:
            form.add_error(
                None,
                _(
                    "Too many reset requests for this address or from your network. "
                    "Check your inbox (and spam folder) for the link we sent, or try again "
                    "in an hour."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        from studiocrm.core.tasks import send_password_reset_link

        send_password_reset_link.enqueue(email, translation.get_language())
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the emailed link; other sessions end (the password signs
    them) and a lockout of the account is lifted."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_was_reset(form.user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Old password, the password validators; every other session of the user ends."""

    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.record_password_changed(form.user)
        messages.success(self.request, _("Password changed. Your other sessions were ended."))
        return response


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    turn_off_form = CodeForm(auto_id="turn_off_%s")
    turn_off_form.fields["code"].widget.attrs.pop("autofocus", None)
    return render(
        request,
        "accounts/security.html",
        {
            "two_factor": services.has_two_factor(user),
            "required": services.two_factor_required(user),
            "codes_left": services.recovery_codes_left(user),
            "idle_minutes": settings.SESSION_IDLE_MINUTES,
            "form": turn_off_form,
        },
    )


def _qr_svg(data: str) -> str:
    # A viewBox and no fixed size: the stylesheet fits it to the column, quiet zone and all
    # (at 4 px a module it was 300 px wide and ran past a phone's column).
    return segno.make(data, error="m").svg_inline(
        scale=4, border=4, title=_("QR code"), omitsize=True
    )


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan a QR code, type the code the app shows; then the recovery codes, once. With
    two-factor already on, this moves it to a new phone: the old app works until the new
    one is confirmed."""
    device = services.pending_authenticator(request.user)
    form = SetupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.enable_two_factor(
                request.user, device.pk, form.cleaned_data["code"]
            )
        except services.TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            otp_login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "new": True})
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_svg(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": services.two_factor_required(request.user),
        },
    )


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = services.regenerate_recovery_codes(request.user)
    except services.TwoFactorError as error:
        messages.error(request, str(error))
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "new": False})


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a code to turn two-factor authentication off."))
        return redirect("accounts:security")
    try:
        services.disable_two_factor(request.user, form.cleaned_data["code"])
    except services.TwoFactorError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:security")


@login_required
@require_POST
def log_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.log_out_everywhere(request.user)
    logout(request)
    messages.success(request, _("You were logged out on every device."))
    return redirect("login")
