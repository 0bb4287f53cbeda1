from django.urls import path

from studiocrm.core import views

app_name = "core"
urlpatterns = [
    path("settings/", views.studio_settings, name="settings"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/toggle/", views.user_toggle_active, name="user_toggle"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("profile/", views.profile, name="profile"),
    path("audit/", views.audit_log, name="audit"),
]
