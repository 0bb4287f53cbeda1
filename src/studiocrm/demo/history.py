"""A year of closed applications behind the demo studio, so its analytics have something to
show: about a hundred applications a month from the usual sources, most lost along the way
for the usual reasons, a good share won and paid.

The stories in ``core.demo`` are the studio's current work, made through the services. This
history is finished work from the past twelve months; it is written in bulk (deals, stage
changes, estimates, invoices, payments, tasks and the audit rows of what the managers did),
because playing a thousand deals through the services would make the first start slow.
Every row is what the services would have written: a stage change per move, a person as
the author of every manual step, the client as nobody.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from studiocrm.billing.models import Invoice, Payment
from studiocrm.clients.models import Client
from studiocrm.core import audit as audit_log
from studiocrm.core.models import AuditLog, User
from studiocrm.deals.models import Deal, LostReason, StageChange, Task
from studiocrm.estimates.models import Estimate

SEED = 2026
MONTHS = 12
# Applications per month, oldest first: a slow summer, a busy autumn.
PER_MONTH = [78, 84, 96, 104, 92, 70, 64, 88, 112, 124, 118, 100]

PATH = [
    "new",
    "brief_sent",
    "brief_received",
    "estimated",
    "proposal_sent",
    "proposal_accepted",
    "contract_sent",
    "contract_signed",
    "invoiced",
    "paid",
]
# Stages the client moves by acting (submitting the brief, accepting, signing, paying).
BY_CLIENT = {"brief_received", "proposal_accepted", "contract_signed", "paid"}
# Chance that a deal at this stage goes on to the next one.
GOES_ON = {
    "new": 0.86,
    "brief_sent": 0.8,
    "brief_received": 0.95,
    "estimated": 0.9,
    "proposal_sent": 0.68,
    "proposal_accepted": 0.97,
    "contract_sent": 0.95,
    "contract_signed": 0.99,
    "invoiced": 0.97,
}
# Typical hours spent in each stage before moving on.
HOURS = {
    "brief_sent": 40,
    "brief_received": 20,
    "estimated": 10,
    "proposal_sent": 70,
    "proposal_accepted": 16,
    "contract_sent": 50,
    "contract_signed": 12,
    "invoiced": 80,
}
LOST_WEIGHTS = {
    "price": 30,
    "competitor": 18,
    "no_budget": 14,
    "postponed": 12,
    "no_response": 20,
    "not_our_work": 4,
    "other": 2,
}
COMMENTS = [
    "Нашли фрилансера дешевле",
    "Ушли к студии, с которой уже работали",
    "Бюджет перенесли на следующий год",
    "Не отвечает на звонки и письма",
    "Решили пока обойтись шаблоном на Тильде",
]
SOURCES = [
    (
        "website",
        46,
        [
            ("yandex", "cpc", "brand"),
            ("yandex", "cpc", "generic"),
            ("google", "cpc", "generic"),
            ("telegram", "social", "cases"),
            ("", "", ""),
        ],
    ),
    ("email", 16, [("", "", "")]),
    ("referral", 18, [("", "", "")]),
    ("phone", 12, [("", "", "")]),
    ("messenger", 8, [("", "", "")]),
]
PROJECTS = ["лендинг", "корпоративный сайт", "интернет-магазин", "редизайн", "каталог"]
CLIENT_WORDS = [
    "Альфа",
    "Вектор",
    "Гранит",
    "Дельта",
    "Зенит",
    "Импульс",
    "Квадрат",
    "Лотос",
    "Меридиан",
    "Нова",
    "Орбита",
    "Парус",
    "Ракурс",
    "Сфера",
    "Терра",
    "Умка",
    "Феникс",
    "Хронос",
]
CLIENT_KINDS = [
    "Стоматология",
    "Автосалон",
    "Пекарня",
    "Фитнес-клуб",
    "Юридическая фирма",
    "Агентство",
    "Школа английского",
    "Цветочный магазин",
    "Клиника",
    "Турагентство",
    "Типография",
]


class _Ids:
    """Sequential primary keys from the current maximum, so related rows can be bulk
    inserted in one go with their foreign keys known."""

    def __init__(self, model: type) -> None:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.next = (last or 0) + 1

    def take(self) -> int:
        value, self.next = self.next, self.next + 1
        return value


def _working_hours(moment: datetime, rng: random.Random) -> datetime:
    local = timezone.localtime(moment)
    if local.hour < 9 or local.hour >= 19:
        local = local.replace(hour=rng.randint(9, 12), minute=rng.randrange(0, 60, 5))
    return local


def seed_history(users: dict[str, User], *, now: datetime | None = None) -> int:
    """Write the past year's closed applications; returns how many. Call once, inside the
    demo's transaction, with the studio's time zone active."""
    rng = random.Random(SEED)
    now = now or timezone.now()
    managers = [users["anna"], users["boris"]]
    reasons = {reason.code: reason for reason in LostReason.objects.exclude(code=None)}
    clients = Client.objects.bulk_create(
        [
            Client(
                name=f"{rng.choice(CLIENT_KINDS)} «{word}»",
                kind=Client.Kind.COMPANY,
                created_at=now - timedelta(days=365),
            )
            for word in CLIENT_WORDS
            for _copy in range(6)
        ]
    )
    deal_ids, estimate_ids, invoice_ids, task_ids = (
        _Ids(Deal),
        _Ids(Estimate),
        _Ids(Invoice),
        _Ids(Task),
    )
    deals, changes, estimates, invoices, payments, tasks, audit = [], [], [], [], [], [], []

    def log(actor: User, verb: str, object_type: str, object_id: int, at: datetime) -> None:
        audit.append(
            AuditLog(
                actor=actor,
                actor_label=str(actor),
                verb=verb,
                object_type=object_type,
                object_id=str(object_id),
                at=at,
            )
        )

    last_moment = now - timedelta(hours=2)
    for month_index, count in enumerate(PER_MONTH):
        month_start = now - timedelta(days=30.4 * (MONTHS - month_index))
        for _number in range(count):
            created = _working_hours(month_start + timedelta(days=rng.random() * 30), rng)
            manager = rng.choice(managers)
            source, _weight, tags = rng.choices(SOURCES, weights=[s[1] for s in SOURCES])[0]
            utm = rng.choice(tags)
            currency = "EUR" if rng.random() < 0.08 else "RUB"
            amount = (
                Decimal(rng.randrange(15, 160) * 100)
                if currency == "EUR"
                else Decimal(rng.randrange(60, 900) * 1000)
            )
            # Walk the path; a deal stops somewhere (lost) or reaches "paid".
            # Calls, referrals and messengers are registered by hand; the rest come in by
            # themselves through the form or e-mail.
            by_hand = source in ("phone", "referral", "messenger")
            path, moments, movers = ["new"], [created], [manager if by_hand else None]
            moment = created
            while path[-1] != "paid":
                stage = path[-1]
                if rng.random() > GOES_ON[stage]:
                    break
                if stage == "new":
                    # The first answer: the brief goes out within the hour, mostly.
                    moment = moment + timedelta(minutes=rng.lognormvariate(3.2, 0.9))
                else:
                    moment = moment + timedelta(hours=HOURS[stage] * rng.lognormvariate(0, 0.6))
                following = PATH[PATH.index(stage) + 1]
                # A third of the phone and referral deals skip the brief: the call was enough.
                if stage == "new" and source in ("phone", "referral") and rng.random() < 0.33:
                    following = "estimated"
                path.append(following)
                moments.append(moment)
                movers.append(None if following in BY_CLIENT else manager)
            won = path[-1] == "paid"
            if not won:
                moment = moment + timedelta(days=rng.uniform(2, 20))
                path.append("lost")
                moments.append(moment)
                movers.append(manager)
            # What has not happened yet stays open: the deal waits at its last stage so far.
            while moments[-1] > last_moment:
                path, moments, movers = path[:-1], moments[:-1], movers[:-1]
                won = False
            closed = path[-1] in ("paid", "lost")
            deal_id = deal_ids.take()
            client = rng.choice(clients)
            if by_hand:
                log(manager, "deal.created", "deals.deal", deal_id, created)
            elif rng.random() < 0.3:
                log(manager, "deal.updated", "deals.deal", deal_id, moments[-1])
            reason = None
            comment = ""
            if path[-1] == "lost":
                code = rng.choices(list(LOST_WEIGHTS), weights=list(LOST_WEIGHTS.values()))[0]
                reason = reasons.get(code)
                comment = rng.choice(COMMENTS) if rng.random() < 0.3 else ""
            reached_estimate = "estimated" in path
            deals.append(
                Deal(
                    id=deal_id,
                    title=f"{client.name} — {rng.choice(PROJECTS)}",
                    client=client,
                    manager=manager,
                    source=source,
                    stage_id=path[-1],
                    currency=currency,
                    expected_amount=amount,
                    estimated_amount=amount if reached_estimate else None,
                    lost_reason=comment,
                    lost_reason_choice=reason,
                    utm_source=utm[0],
                    utm_medium=utm[1],
                    utm_campaign=utm[2],
                    created_at=created,
                    stage_changed_at=moments[-1],
                    closed_at=moments[-1] if closed else None,
                )
            )
            previous = None
            for stage, at, mover in zip(path, moments, movers, strict=True):
                changes.append(
                    StageChange(
                        deal_id=deal_id, from_stage_id=previous, to_stage_id=stage, at=at, by=mover
                    )
                )
                previous = stage
            if reached_estimate:
                at = moments[path.index("estimated")]
                estimate_id = estimate_ids.take()
                estimates.append(
                    Estimate(
                        id=estimate_id,
                        deal_id=deal_id,
                        title="Смета",
                        currency=currency,
                        status=Estimate.Status.SAVED,
                        total=amount,
                        created_by=manager,
                        created_at=at - timedelta(minutes=40),
                        saved_at=at,
                    )
                )
                log(
                    manager,
                    "estimate.created",
                    "estimates.estimate",
                    estimate_id,
                    at - timedelta(minutes=40),
                )
                for line in range(rng.randint(6, 16)):
                    log(
                        manager,
                        "estimate.line_added",
                        "estimates.estimate",
                        estimate_id,
                        at - timedelta(minutes=35 - line),
                    )
                log(manager, "estimate.saved", "estimates.estimate", estimate_id, at)
            if rng.random() < 0.5:
                task_id = task_ids.take()
                due = created + timedelta(days=2)
                tasks.append(
                    Task(
                        id=task_id,
                        title="Перезвонить клиенту",
                        due_at=due,
                        deal_id=deal_id,
                        assignee=manager,
                        created_by=manager,
                        done=True,
                        done_at=due,
                        created_at=created + timedelta(hours=1),
                    )
                )
                log(manager, "task.created", "deals.task", task_id, created + timedelta(hours=1))
                log(manager, "task.done", "deals.task", task_id, due)
            if "invoiced" in path:
                issued = moments[path.index("invoiced")]
                due = timezone.localtime(issued).date() + timedelta(days=10)
                # Half up front, the rest when the work is handed over: two payments for most
                # deals. An open invoice may have its deposit paid; a lost deal's is voided.
                deposit = (amount / 2).quantize(Decimal("1"))
                if won:
                    paid = moments[-1]
                    parts = [(deposit, paid - (paid - issued) / 2), (amount - deposit, paid)]
                    if rng.random() < 0.3:
                        parts = [(amount, paid)]
                    status = Invoice.Status.PAID
                elif path[-1] == "lost":
                    parts, status = [], Invoice.Status.VOID
                else:
                    deposit_at = issued + timedelta(days=rng.uniform(1, 6))
                    parts = [(deposit, deposit_at)] if deposit_at < last_moment else []
                    status = (
                        Invoice.Status.PARTIALLY_PAID
                        if parts
                        else Invoice.Status.OVERDUE
                        if due < timezone.localdate(now)
                        else Invoice.Status.ISSUED
                    )
                invoice_id = invoice_ids.take()
                invoices.append(
                    Invoice(
                        id=invoice_id,
                        deal_id=deal_id,
                        currency=currency,
                        status=status,
                        series="ARCH",
                        year=issued.year,
                        sequence_number=invoice_id,
                        number=f"ARCH-{issued.year}-{invoice_id:05d}",
                        subtotal=amount,
                        total=amount,
                        paid_amount=sum((part for part, _at in parts), Decimal(0)),
                        issued_at=issued,
                        issue_date=timezone.localtime(issued).date(),
                        due_date=due,
                        paid_at=moments[-1] if won else None,
                        voided_at=moments[-1] if status == Invoice.Status.VOID else None,
                        created_by=manager,
                        token_hash=f"archive-{invoice_id}",
                        created_at=issued,
                    )
                )
                log(manager, "invoice.created", "billing.invoice", invoice_id, issued)
                log(manager, "invoice.issued", "billing.invoice", invoice_id, issued)
                for part, at in parts:
                    payments.append(
                        Payment(
                            invoice_id=invoice_id,
                            provider="bank_transfer",
                            amount=part,
                            currency=currency,
                            status=Payment.Status.SUCCEEDED,
                            received_on=timezone.localtime(at).date(),
                            recorded_by=manager,
                            created_at=at,
                            confirmed_at=at,
                        )
                    )
    Deal.objects.bulk_create(deals, batch_size=500)
    StageChange.objects.bulk_create(changes, batch_size=1000)
    Estimate.objects.bulk_create(estimates, batch_size=500)
    Invoice.objects.bulk_create(invoices, batch_size=500)
    Payment.objects.bulk_create(payments, batch_size=500)
    Task.objects.bulk_create(tasks, batch_size=500)
    audit_log.append_rows(audit)
    _reset_sequences([Deal, Estimate, Invoice, Task])
    return len(deals)


def _reset_sequences(models: list[type]) -> None:
    """PostgreSQL hands out ids from a sequence that explicit ids do not advance."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
