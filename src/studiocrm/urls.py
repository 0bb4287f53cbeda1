from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from studiocrm.core import views as core_views
from studiocrm.core.accounts import views as account_views

urlpatterns = [
    path("", core_views.home, name="home"),
    # Client pages, reached only through a link token. First, because a client reloads them
    # most and the resolver tries the patterns in order; no other prefix starts with "c/".
    path("c/b/", include("studiocrm.briefs.client_urls")),
    path("c/doc/", include("studiocrm.documents.client_urls")),
    path("c/pay/", include("studiocrm.billing.client_urls")),
    path("c/k/", include("studiocrm.flow.client_urls")),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("login/code/", account_views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("studio/", include("studiocrm.core.urls")),
    path("account/", include("studiocrm.core.accounts.urls")),
    path("clients/", include("studiocrm.deals.client_urls")),
    path("deals/", include("studiocrm.deals.urls")),
    path("lead/", include("studiocrm.intake.urls")),
    path("api/v1/", include("studiocrm.api.api_urls")),
    path("api/", include("studiocrm.intake.api_urls")),
    path("api-tokens/", include("studiocrm.api.urls")),
    path("webhooks/", include("studiocrm.webhooks.urls")),
    path("briefs/", include("studiocrm.briefs.urls")),
    path("estimates/", include("studiocrm.estimates.urls")),
    path("documents/", include("studiocrm.documents.urls")),
    path("billing/", include("studiocrm.billing.urls")),
    path("analytics/", include("studiocrm.analytics.urls")),
    path("automation/", include("studiocrm.flow.urls")),
    path("transfer/", include("studiocrm.transfer.urls")),
    path("studio/system/", include("studiocrm.ops.urls")),
]
