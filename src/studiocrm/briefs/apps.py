from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BriefsConfig(AppConfig):
    name = "studiocrm.briefs"
    label = "briefs"
    verbose_name = _("Briefs")
