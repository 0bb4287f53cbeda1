"""Every page a client sees. Each one is reached only through a link token."""

from django.urls import path

from studiocrm.portal import brief_views

app_name = "portal"
urlpatterns = [
    path("b/<str:token>/", brief_views.brief_page, name="brief"),
    path("b/<str:token>/save/", brief_views.brief_save, name="brief_save"),
    path("b/<str:token>/upload/", brief_views.brief_upload, name="brief_upload"),
    path("b/<str:token>/remove-file/", brief_views.brief_remove_file, name="brief_remove_file"),
    path("b/<str:token>/submit/", brief_views.brief_submit, name="brief_submit"),
    path("b/<str:token>/thanks/", brief_views.brief_thanks, name="brief_thanks"),
    path("b/<str:token>/files/<int:file_id>/", brief_views.brief_file, name="brief_file"),
]
