from django.urls import path

from studiocrm.core.accounts import views

app_name = "accounts"
urlpatterns = [
    path("security/", views.security, name="security"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("logout-everywhere/", views.log_out_everywhere, name="logout_everywhere"),
]
