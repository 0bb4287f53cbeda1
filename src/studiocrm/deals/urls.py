from django.urls import path

from studiocrm.deals import views

app_name = "deals"
urlpatterns = [
    path("", views.board, name="board"),
    path("board/more/", views.board_more, name="board_more"),
    path("list/", views.deal_list, name="list"),
    path("my-day/", views.my_day, name="my_day"),
    path("new/", views.create, name="create"),
    path("stages/", views.stage_names, name="stages"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/lost/", views.mark_lost, name="mark_lost"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/notes/", views.add_note, name="add_note"),
    path("<int:pk>/tasks/", views.add_task, name="add_task"),
    path("<int:pk>/messages/<int:message_pk>/retry/", views.retry_message, name="retry_message"),
]
