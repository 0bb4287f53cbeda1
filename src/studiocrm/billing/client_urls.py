from django.urls import path

from studiocrm.billing import client_views

app_name = "billing_client"
urlpatterns = [
    path("webhooks/<slug:provider>/", client_views.webhook, name="webhook"),
    path("<str:token>/", client_views.invoice_page, name="invoice"),
    path("<str:token>/pdf/", client_views.invoice_pdf, name="pdf"),
    path("<str:token>/pay/<slug:provider>/", client_views.pay, name="pay"),
    path("<str:token>/paid/<str:reference>/", client_views.returned, name="returned"),
]
