"""Load a demo studio on first run and print how to log in.

Idempotent: with users already present it only prints the saved demo logins.
"""

from __future__ import annotations

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal, Note, Source, Stage, StageChange, Task

COMPANIES = [
    ("ООО «Ромашка»", "Ирина Петрова", "Online store for garden goods"),
    ("Northwind Traders", "Laura Callahan", "Corporate website redesign"),
    ("ИП Смирнов А.В.", "Алексей Смирнов", "Landing page for a dental clinic"),
    ("Blue Harbor Hotels", "Marco Rossi", "Booking site with multilingual content"),
    ("АО «ТехноСервис»", "Ольга Кузнецова", "B2B catalogue with personal account"),
    ("Green Leaf Café", "Sophie Martin", "Menu site and online orders"),
    ("ООО «Стройинвест»", "Дмитрий Волков", "Corporate site for a construction firm"),
    ("Atlas Logistics", "Jonas Weber", "Customer portal with tracking"),
    ("Фитнес-клуб «Импульс»", "Марина Соколова", "Site with class schedule and payments"),
    ("Brightside Law", "Emma Clarke", "Law firm website"),
]

CREDENTIALS_FILE = "demo-credentials.txt"


class Command(BaseCommand):
    help = "Create a demo studio with managers and 30 deals across all stages (first run only)."

    def handle(self, *args: object, **options: object) -> None:
        path = settings.DATA_DIR / CREDENTIALS_FILE
        if User.objects.exists():
            if path.exists():
                self.stdout.write(path.read_text(encoding="utf-8"))
            return
        with transaction.atomic():
            lines = self.create_demo()
        path.write_text(lines, encoding="utf-8")
        path.chmod(0o600)
        self.stdout.write(self.style.SUCCESS("Demo studio created."))
        self.stdout.write(lines)

    def create_demo(self) -> str:
        rng = random.Random(42)
        studio = Studio.load()
        studio.name = "Canape Demo Studio"
        studio.legal_name = "ООО «Канапе Демо»"
        studio.tax_id = "7701234567"
        studio.email = "hello@studio.example"
        studio.default_currency = "RUB"
        studio.save()
        passwords = {name: secrets.token_urlsafe(9) for name in ("owner", "anna", "boris")}
        User.objects.create_user(
            "owner",
            "owner@studio.example",
            passwords["owner"],
            first_name="Olga",
            role=User.Role.OWNER,
            is_staff=True,
        )
        anna = User.objects.create_user(
            "anna",
            "anna@studio.example",
            passwords["anna"],
            first_name="Anna",
            last_name="Lebedeva",
        )
        boris = User.objects.create_user(
            "boris",
            "boris@studio.example",
            passwords["boris"],
            first_name="Boris",
            last_name="Ivanov",
        )
        studio.default_manager = anna
        studio.save(update_fields=["default_manager"])
        stages = list(Stage.objects.order_by("position"))
        now = timezone.now()
        for index in range(30):
            company, person, title = COMPANIES[index % len(COMPANIES)]
            client, _created = Client.objects.get_or_create(name=company)
            email = f"client{index % len(COMPANIES)}@example.com"
            phone = f"+7 999 {100 + index % len(COMPANIES)}-00-00"
            contact, _created = Contact.objects.get_or_create(
                client=client,
                email=email,
                defaults={
                    "name": person,
                    "phone": phone,
                    "phone_normalized": normalize_phone(phone),
                },
            )
            stage = stages[index % len(stages)]
            created = now - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23))
            manager = (anna, boris)[index % 2]
            amount = Decimal(rng.randrange(80, 1500) * 1000)
            deal = Deal.objects.create(
                title=title,
                client=client,
                contact=contact,
                manager=manager,
                source=rng.choice(list(Source.values)),
                stage=stage,
                currency="RUB",
                expected_amount=amount,
                estimated_amount=amount if stage.position >= 3 and stage.kind != "lost" else None,
                description="",
                lost_reason="Chose a cheaper studio" if stage.kind == "lost" else "",
                created_at=created,
                stage_changed_at=created + timedelta(days=stage.position),
                closed_at=None if stage.is_open else created + timedelta(days=stage.position),
            )
            previous = None
            path = stages[: stage.position + 1] if stage.kind != "lost" else [stages[0], stage]
            for step, step_stage in enumerate(path):
                StageChange.objects.create(
                    deal=deal,
                    from_stage=previous,
                    to_stage=step_stage,
                    by=manager,
                    at=created + timedelta(days=step),
                )
                previous = step_stage
            Note.objects.create(
                deal=deal, author=manager, text="Called the client, discussed the scope."
            )
            if stage.is_open:
                Task.objects.create(
                    title="Follow up with the client",
                    due_at=now + timedelta(hours=rng.randint(-48, 72)),
                    deal=deal,
                    assignee=manager,
                    created_by=manager,
                )
        return (
            "Demo logins (http://127.0.0.1:8000/login/):\n"
            f"  manager: anna / {passwords['anna']}\n"
            f"  manager: boris / {passwords['boris']}\n"
            f"  owner:   owner / {passwords['owner']}\n"
        )
