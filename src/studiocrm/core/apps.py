from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "studiocrm.core"
    label = "core"
    verbose_name = _("Studio")

    def ready(self) -> None:
        from studiocrm.core import checks, signals  # noqa: F401
