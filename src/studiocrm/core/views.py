from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from studiocrm.core import audit_display, services
from studiocrm.core.forms import ProfileForm, StudioForm, UserCreateForm
from studiocrm.core.models import AuditLog, Studio, User
from studiocrm.core.permissions import owner_required


def home(request: HttpRequest) -> HttpResponse:
    return redirect("deals:board" if request.user.is_authenticated else "login")


@owner_required
def studio_settings(request: HttpRequest) -> HttpResponse:
    studio = Studio.load()
    form = StudioForm(request.POST or None, request.FILES or None, instance=studio)
    if request.method == "POST" and form.is_valid():
        services.update_studio(form, actor=request.user)
        messages.success(request, _("Studio settings saved."))
        return redirect("core:settings")
    return render(request, "core/studio_settings.html", {"form": form})


@owner_required
def users(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.invite_user(form, actor=request.user)
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
        return redirect("core:users")
    return render(
        request,
        "core/users.html",
        {
            "users": User.objects.order_by("-is_active", "username"),
            "form": form,
            "roles": User.Role.choices,
        },
    )


@owner_required
@require_POST
def user_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    if user == request.user:
        messages.error(request, _("You cannot deactivate yourself."))
    else:
        services.set_user_active(user, not user.is_active, actor=request.user)
    return redirect("core:users")


@owner_required
@require_POST
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    role = request.POST.get("role", "")
    if role not in User.Role.values:
        messages.error(request, _("Choose a role."))
    elif user == request.user:
        messages.error(request, _("You cannot change your own role."))
    else:
        services.set_user_role(user, role, actor=request.user)
        messages.success(
            request,
            _("%(user)s is now: %(role)s.") % {"user": user, "role": User.Role(role).label},
        )
    return redirect("core:users")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.update_profile(form, actor=request.user)
        if form.cleaned_data["language"]:
            request.session["user_language"] = form.cleaned_data["language"]
        messages.success(request, _("Profile saved."))
        return redirect("core:profile")
    return render(request, "core/profile.html", {"form": form})


@owner_required
def audit_log(request: HttpRequest) -> HttpResponse:
    page = Paginator(AuditLog.objects.all(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_log.html",
        {"page": page, "entries": audit_display.describe(page.object_list)},
    )
