"""Manager pages of documents, mounted at /documents/."""

from django.urls import path, re_path

from studiocrm.documents import views

app_name = "documents"
urlpatterns = [
    path("templates/", views.template_list, name="template_list"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/reset/", views.template_reset, name="template_reset"),
    path("deal/<int:deal_pk>/proposal/", views.create_proposal, name="create_proposal"),
    path("deal/<int:deal_pk>/act/", views.create_act, name="create_act"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/send/", views.send, name="send"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/v/<int:number>/", views.revision, name="revision"),
    path("<int:pk>/v/<int:number>/pdf/", views.revision_pdf, name="revision_pdf"),
    re_path(
        r"^(?P<pk>[0-9]+)/v/(?P<number>[0-9]+)/(?P<part>html|context)/$",
        views.revision_raw,
        name="revision_raw",
    ),
    path("<int:pk>/certificate/<int:acceptance_pk>/", views.certificate, name="certificate"),
    path(
        "<int:pk>/certificate/<int:acceptance_pk>/pdf/",
        views.certificate_pdf,
        name="certificate_pdf",
    ),
]
