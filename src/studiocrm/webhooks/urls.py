from django.urls import path

from studiocrm.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscriptions, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/secret/", views.regenerate, name="regenerate"),
    path("<int:pk>/toggle/", views.toggle, name="toggle"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
