from django.urls import path, re_path

from studiocrm.billing import client_views

app_name = "billing_client"
urlpatterns = [
    path("webhooks/<slug:provider>/", client_views.webhook, name="webhook"),
    path("<str:token>/", client_views.invoice_page, name="invoice"),
    path("<str:token>/pdf/", client_views.invoice_pdf, name="pdf"),
    path("<str:token>/pay/<slug:provider>/", client_views.pay, name="pay"),
    path("<str:token>/bank-transfer/", client_views.bank_transfer, name="bank_transfer"),
    re_path(
        r"^(?P<token>[^/]+)/bank-transfer/payment\.(?P<kind>png|svg|txt)$",
        client_views.bank_transfer_file,
        name="bank_transfer_file",
    ),
    path("<str:token>/paid/<str:reference>/", client_views.returned, name="returned"),
]
