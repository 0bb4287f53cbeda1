"""The client's kickoff checklist, mounted at /c/k/ and reached only by link token."""

from django.urls import path

from studiocrm.flow import client_views

app_name = "flow_client"
urlpatterns = [
    path("<str:token>/", client_views.page, name="checklist"),
    path("<str:token>/items/<int:item_id>/", client_views.tick, name="tick"),
]
