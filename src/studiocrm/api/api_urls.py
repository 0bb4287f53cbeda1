from django.urls import path

from studiocrm.api.api import api

urlpatterns = [path("", api.urls)]
