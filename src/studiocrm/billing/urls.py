from django.urls import path

from studiocrm.billing import views

app_name = "billing"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("settings/", views.provider_settings, name="settings"),
    path("deal/<int:deal_id>/new/", views.invoice_create, name="create"),
    path("deal/<int:deal_id>/schedule/<int:step>/", views.from_schedule, name="from_schedule"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="edit"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("<int:pk>/issue/", views.invoice_issue, name="issue"),
    path("<int:pk>/delete/", views.invoice_delete, name="delete"),
    path("<int:pk>/void/", views.invoice_void, name="void"),
    path("<int:pk>/link/", views.invoice_new_link, name="new_link"),
    path("<int:pk>/credit-note/", views.credit_note, name="credit_note"),
    path("<int:pk>/payment/", views.record_payment, name="record_payment"),
    path("payments/<int:pk>/refund/", views.refund, name="refund"),
]
