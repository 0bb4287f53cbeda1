from django.urls import path

from studiocrm.briefs import views

app_name = "briefs"
urlpatterns = [
    path("deal/<int:deal_pk>/send/", views.send, name="send"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/files/<int:file_id>/", views.file, name="file"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/resend/", views.resend, name="resend"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/duplicate/", views.template_duplicate, name="template_duplicate"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("templates/<int:pk>/questions/new/", views.question_create, name="question_create"),
    path(
        "templates/<int:pk>/questions/<int:question_pk>/",
        views.question_edit,
        name="question_edit",
    ),
    path(
        "templates/<int:pk>/questions/<int:question_pk>/delete/",
        views.question_delete,
        name="question_delete",
    ),
    path(
        "templates/<int:pk>/questions/<int:question_pk>/move/",
        views.question_move,
        name="question_move",
    ),
    path("templates/<int:pk>/reorder/", views.questions_reorder, name="questions_reorder"),
    path("templates/<int:pk>/sections/add/", views.section_add, name="section_add"),
    path(
        "templates/<int:pk>/sections/<int:section_pk>/rename/",
        views.section_rename,
        name="section_rename",
    ),
    path(
        "templates/<int:pk>/sections/<int:section_pk>/delete/",
        views.section_delete,
        name="section_delete",
    ),
    path(
        "templates/<int:pk>/sections/<int:section_pk>/move/",
        views.section_move,
        name="section_move",
    ),
]
