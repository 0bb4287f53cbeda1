from django.urls import path

from studiocrm.intake import mail_views, views

app_name = "intake"
urlpatterns = [
    path("", views.lead_form, name="form"),
    path("submit/", views.submit, name="submit"),
    path("thanks/", views.thanks, name="thanks"),
    path("changes/<int:pk>/", views.contact_change, name="contact_change"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/keys/", views.api_key_create, name="api_key_create"),
    path("settings/keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("mailbox/", mail_views.mailbox_settings, name="mailbox"),
    path("mailbox/check/", mail_views.mailbox_check, name="mailbox_check"),
    path("mailbox/files/<int:pk>/", mail_views.attachment, name="mail_attachment"),
]
