from django.urls import path

from studiocrm.intake.api import api

urlpatterns = [path("", api.urls)]
