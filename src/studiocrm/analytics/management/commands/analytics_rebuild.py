"""Rebuild the analytics facts from the stage history (analytics/facts.py).

Reports keep the facts up to date by themselves; this is for after restoring a backup or
editing the history by hand, and to build them ahead of the first report on a large
database."""

from django.core.management.base import BaseCommand

from studiocrm.analytics import facts


class Command(BaseCommand):
    help = "Rebuild the per-deal analytics facts from the stage history."

    def handle(self, *args: object, **options: object) -> None:
        done = facts.settle(rebuild=True)
        self.stdout.write(f"{done['deals']} deals rebuilt in {done['seconds']:.1f} s")
