"""The client's pages of a document, mounted at /c/doc/ and reached only by link token."""

from django.urls import path, re_path

from studiocrm.documents import client_views

app_name = "documents_client"
urlpatterns = [
    path("<str:token>/", client_views.page, name="page"),
    path("<str:token>/choose/", client_views.choose, name="choose"),
    path("<str:token>/accept/", client_views.accept, name="accept"),
    path("<str:token>/ask/", client_views.ask, name="ask"),
    path("<str:token>/renew/", client_views.renew, name="renew"),
    path("<str:token>/details/", client_views.details, name="details"),
    path("<str:token>/pdf/", client_views.pdf, name="pdf"),
    path("<str:token>/v/<int:number>/", client_views.revision, name="revision"),
    path("<str:token>/v/<int:number>/pdf/", client_views.revision_pdf, name="revision_pdf"),
    re_path(
        r"^(?P<token>[A-Za-z0-9_-]+)/v/(?P<number>[0-9]+)/(?P<part>html|context)/$",
        client_views.revision_raw,
        name="revision_raw",
    ),
    path("<str:token>/certificate/", client_views.certificate, name="certificate_latest"),
    path(
        "<str:token>/certificate/<int:acceptance_pk>/",
        client_views.certificate,
        name="certificate",
    ),
    path(
        "<str:token>/certificate/<int:acceptance_pk>/pdf/",
        client_views.certificate_pdf,
        name="certificate_pdf",
    ),
]
