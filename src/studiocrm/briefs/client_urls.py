"""The brief's client pages, mounted under /c/b/; each one is reached only through a link token."""

from django.urls import path

from studiocrm.briefs import client_views

app_name = "briefs_client"
urlpatterns = [
    path("<str:token>/", client_views.brief_page, name="brief"),
    path("<str:token>/save/", client_views.brief_save, name="brief_save"),
    path("<str:token>/upload/", client_views.brief_upload, name="brief_upload"),
    path("<str:token>/remove-file/", client_views.brief_remove_file, name="brief_remove_file"),
    path("<str:token>/submit/", client_views.brief_submit, name="brief_submit"),
    path("<str:token>/thanks/", client_views.brief_thanks, name="brief_thanks"),
    path("<str:token>/files/<int:file_id>/", client_views.brief_file, name="brief_file"),
]
