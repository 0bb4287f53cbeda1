from django.urls import path

from studiocrm.flow import views

app_name = "flow"
urlpatterns = [
    path("letters/", views.letters, name="letters"),
    path("letters/<slug:key>/<str:language>/", views.letter, name="letter"),
    path("letters/<slug:key>/<str:language>/preview/", views.letter_preview, name="preview"),
    path("letters/<slug:key>/<str:language>/restore/", views.letter_restore, name="restore"),
    path("checklist/", views.checklist_defaults, name="checklist"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("deals/<int:pk>/pause/", views.deal_pause, name="deal_pause"),
    path("deals/<int:pk>/status/", views.status_update, name="status_update"),
    path("logo/<str:name>", views.logo, name="logo"),
    path("bell/", views.bell, name="bell"),
    path("notifications/", views.notifications, name="notifications"),
    path("me/", views.my_channels, name="my_channels"),
]
