from django.core.management.base import BaseCommand

from studiocrm.briefs.defaults import install_default_templates
from studiocrm.briefs.models import BriefQuestion, BriefSection, BriefTemplate


class Command(BaseCommand):
    help = "Create the default brief templates (Russian and English) that are missing."

    def handle(self, *args: object, **options: object) -> None:
        created = install_default_templates(BriefTemplate, BriefSection, BriefQuestion)
        self.stdout.write(f"{created} brief template(s) created.")
