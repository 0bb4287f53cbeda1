"""Load the demo studio on first run and print how to log in (see ``demo.seed``).

Idempotent: with users already present it only prints the saved demo logins.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from studiocrm.core.models import User
from studiocrm.demo.seed import CREDENTIALS_FILE, create_demo, credentials_text


class Command(BaseCommand):
    help = (
        "Create a demo studio (first run only): managers and about thirty deals at every "
        "step of the sales path, made through the services of each app."
    )

    def handle(self, *args: object, **options: object) -> None:
        path = settings.DATA_DIR / CREDENTIALS_FILE
        if User.objects.exists():
            if path.exists():
                self.stdout.write(path.read_text(encoding="utf-8"))
            return
        started = time.monotonic()
        # Intake logs each lead it opens; the demo's leads are not news to the console.
        intake_log = logging.getLogger("studiocrm.intake.services")
        level = intake_log.level
        intake_log.setLevel(logging.WARNING)
        try:
            with transaction.atomic():
                result = create_demo()
        finally:
            intake_log.setLevel(level)
        lines = credentials_text(result.passwords)
        path.write_text(lines, encoding="utf-8")
        path.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo studio created: {len(result.deals)} deals "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
        self.stdout.write(lines)
