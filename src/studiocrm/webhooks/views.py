"""Settings → Webhooks: the owner's subscriptions, their secrets and the delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from studiocrm.core.permissions import owner_required
from studiocrm.webhooks import services
from studiocrm.webhooks.forms import SubscriptionForm
from studiocrm.webhooks.models import Attempt, Subscription

NEW_SECRET_SESSION = "webhooks_new_secret"  # noqa: S105 - a session key name


@owner_required
@never_cache
def subscriptions(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subscription, secret = services.create(**form.cleaned_data, actor=request.user)
        request.session[NEW_SECRET_SESSION] = {"pk": subscription.pk, "secret": secret}
        return redirect("webhooks:list")
    return render(
        request,
        "webhooks/list.html",
        {
            "form": form,
            "subscriptions": Subscription.objects.all(),
            "new_secret": request.session.pop(NEW_SECRET_SESSION, None),
        },
        status=400 if form.is_bound else 200,
    )


@owner_required
@never_cache
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    initial = {
        "url": subscription.url,
        "description": subscription.description,
        "events": subscription.events,
    }
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update(subscription, **form.cleaned_data, actor=request.user)
        messages.success(request, _("Webhook saved."))
        return redirect("webhooks:detail", pk=pk)
    attempts = Attempt.objects.filter(delivery__subscription=subscription).select_related(
        "delivery"
    )
    log_page = Paginator(attempts, 50).get_page(request.GET.get("page"))
    new_secret = request.session.pop(NEW_SECRET_SESSION, None)
    return render(
        request,
        "webhooks/detail.html",
        {
            "subscription": subscription,
            "form": form,
            "page_obj": log_page,
            "backlog": subscription.deliveries.exclude(status="delivered").count(),
            "new_secret": new_secret if new_secret and new_secret["pk"] == pk else None,
        },
        status=400 if form.is_bound else 200,
    )


@owner_required
@require_POST
def regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    secret = services.regenerate_secret(subscription, actor=request.user)
    request.session[NEW_SECRET_SESSION] = {"pk": pk, "secret": secret}
    return redirect("webhooks:detail", pk=pk)


@owner_required
@require_POST
def toggle(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    services.set_active(subscription, not subscription.is_active, actor=request.user)
    return redirect("webhooks:detail", pk=pk)


@owner_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    services.delete(subscription, actor=request.user)
    messages.success(request, _("Webhook deleted."))
    return redirect("webhooks:list")
