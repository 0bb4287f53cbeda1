"""The "API tokens" page: each person creates and revokes their own tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from studiocrm.api import services
from studiocrm.api.forms import TokenForm
from studiocrm.api.models import ApiToken

NEW_TOKEN_SESSION = "api_new_token"  # noqa: S105 - a session key name


@login_required
@never_cache
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, value = services.create_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["scope"]
        )
        # Shown once, on the next page, then gone from the session.
        request.session[NEW_TOKEN_SESSION] = {"name": token.name, "value": value}
        return redirect("api:tokens")
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user=request.user),
            "new_token": request.session.pop(NEW_TOKEN_SESSION, None),
            "api_root": request.build_absolute_uri(reverse("rest_api:api-root")),
            "docs_url": reverse("rest_api:openapi-view"),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_token(token, actor=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api:tokens")
