from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "studiocrm.core"
    label = "core"
    verbose_name = _("Studio")

    def ready(self) -> None:
        from django_tasks.signals import task_finished, task_started

        from studiocrm.core import checks, signals, studio_zone  # noqa: F401

        # Every task runs in the studio's time zone, as a request does (core.studio_zone).
        task_started.connect(studio_zone.enter_task_zone, dispatch_uid="studio-zone-enter")
        task_finished.connect(studio_zone.leave_task_zone, dispatch_uid="studio-zone-leave")
