"""Client pages, mounted at /clients/ under the URL namespace "clients"."""

from django.urls import path

from studiocrm.deals import client_views as views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
]
