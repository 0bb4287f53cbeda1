from django.urls import path

from studiocrm.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:key>.<slug:fmt>", views.export, name="export"),
    path("settings/", views.report_settings, name="settings"),
]
