from django.urls import path

from studiocrm.transfer import views

app_name = "transfer"
urlpatterns = [
    path("", views.index, name="index"),
    path("jobs/<int:pk>/", views.job_page, name="job"),
    path("jobs/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("jobs/<int:pk>/status/", views.status, name="status"),
    path("export/<slug:kind>.<slug:fmt>", views.export, name="export"),
]
