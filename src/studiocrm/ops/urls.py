from django.urls import path

from studiocrm.ops import views

app_name = "ops"
urlpatterns = [
    path("", views.system, name="system"),
]
