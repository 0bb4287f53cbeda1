from django.core.management.base import BaseCommand

from studiocrm.notifications import outbox


class Command(BaseCommand):
    help = "Deliver every outbox message that is due now."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(str(outbox.deliver_due()))
