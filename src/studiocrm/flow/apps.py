from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowConfig(AppConfig):
    name = "studiocrm.flow"
    label = "flow"
    verbose_name = _("Sales flow")
