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
from typing import Any

from django.utils import timezone

from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs.models import Brief
from studiocrm.clients.models import Client
from studiocrm.core import audit as audit_log
from studiocrm.core.models import AuditLog, User
from studiocrm.deals.models import Deal, Event, LostReason, StageChange, Task
from studiocrm.documents.models import Document
from studiocrm.estimates.models import Estimate
from studiocrm.flow.models import Rule, Timer
from studiocrm.notifications.models import Outbox

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


# What the client did, by the stage it moved the deal to, and the event that says so.
CLIENT_EVENTS = {
    "brief_received": "brief.submitted",
    "proposal_accepted": "proposal.accepted",
    "contract_signed": "contract.signed",
}
# The automatic reminders of the default rules, by the stage the deal waits in: (rule code,
# hours after the wait began; business days counted as calendar days here).
REMINDERS = {
    "brief_sent": [("brief-reminder-2", 48), ("brief-reminder-5", 120)],
    "proposal_sent": [("proposal-followup-3", 72), ("proposal-followup-7", 168)],
    "contract_sent": [("signing-reminder-2", 48), ("signing-reminder-5", 120)],
}


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
    brief_ids, document_ids, event_ids = _Ids(Brief), _Ids(Document), _Ids(Event)
    deals, changes, estimates, invoices, payments, tasks, audit = [], [], [], [], [], [], []
    briefs, documents, events, timers, letters = [], [], [], [], []
    rules = {rule.code: rule for rule in Rule.objects.filter(enabled=True)}

    def happened(
        deal_id: int, name: str, at: datetime, actor: User | None, subject: Any = None
    ) -> int:
        event_id = event_ids.take()
        object_type, object_id = subject if subject else ("", "")
        events.append(
            Event(
                id=event_id,
                deal_id=deal_id,
                name=name,
                at=at,
                actor=actor,
                object_type=object_type,
                object_id=str(object_id),
            )
        )
        return event_id

    def reminder(code: str, deal_id: int, event_id: int, due: datetime, ended: datetime) -> bool:
        """Rule `code`'s timer for the wait that began with `event_id`: the letter went out
        when it fell due before the wait ended, else it was skipped. True if it went out."""
        rule = rules.get(code)
        if rule is None or due > last_moment:
            return False
        fired = due < ended
        timers.append(
            Timer(
                rule=rule,
                deal_id=deal_id,
                event_id=event_id,
                due_at=due,
                fired_at=due if fired else ended,
                status=Timer.Status.DONE if fired else Timer.Status.SKIPPED,
                result="letter queued" if fired else "condition no longer holds",
                created_at=min(due, ended),
            )
        )
        if fired:
            letters.append(
                Outbox(
                    dedupe_key=f"rule:{code}:{event_id}",
                    to=f"client-{deal_id}@example.com",
                    subject=str(rule.name),
                    body=str(rule.name),
                    deal_id=deal_id,
                    status=Outbox.Status.SENT,
                    attempts=1,
                    created_at=due,
                    sent_at=due,
                )
            )
        return fired

    def remind(deal_id: int, stage: str, event_id: int, began: datetime, ended: datetime) -> None:
        """The reminders of the stage the deal waited in from `began` to `ended`."""
        for code, hours in REMINDERS.get(stage, []):
            if not reminder(code, deal_id, event_id, began + timedelta(hours=hours), ended):
                break

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
            _paperwork(
                deal_id, path, moments, manager, rng, brief_ids, document_ids, briefs, documents,
                tasks, task_ids, log, happened, remind, last_moment,
            )  # fmt: skip
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
                issued_event = happened(
                    deal_id, "invoice.issued", issued, manager, ("billing.invoice", invoice_id)
                )
                first_paid = parts[0][1] if parts else moments[-1]
                # Payment reminders two days before the due date and a day after it, at ten
                # in the morning, unless the money came first.
                for code, days in (("payment-due-soon", -2), ("payment-overdue-1", 1)):
                    moment = datetime.combine(
                        due + timedelta(days=days), issued.timetz().replace(hour=10, minute=0)
                    )
                    if moment > issued:
                        reminder(code, deal_id, issued_event, moment, first_paid)
                for part, at in parts:
                    happened(deal_id, "payment.received", at, None, ("billing.invoice", invoice_id))
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
    Brief.objects.bulk_create(briefs, batch_size=500)
    Document.objects.bulk_create(documents, batch_size=500)
    Event.objects.bulk_create(events, batch_size=1000)
    Timer.objects.bulk_create(timers, batch_size=1000)
    Outbox.objects.bulk_create(letters, batch_size=1000)
    audit_log.append_rows(audit)
    _reset_sequences([Deal, Estimate, Invoice, Task, Brief, Document, Event])
    return len(deals)


def _paperwork(
    deal_id, path, moments, manager, rng, brief_ids, document_ids, briefs, documents,
    tasks, task_ids, log, happened, remind, last_moment,
) -> None:  # fmt: skip
    """The brief, proposal, contract and appendix of one deal as the managers made them,
    the audit rows of what they did (what the system or the client did costs them
    nothing), the events of the path and the reminders that went out while it waited."""
    reached = dict(zip(path, moments, strict=True))
    DOC = "documents.document"  # noqa: N806

    def doc(verb: str, document_id: int, at: datetime) -> None:
        log(manager, verb, DOC, document_id, at)

    def ended(stage: str) -> datetime:
        index = path.index(stage)
        return moments[index + 1] if index + 1 < len(path) else last_moment

    if "brief_sent" in reached:
        at, brief_id = reached["brief_sent"], brief_ids.take()
        submitted = "brief_received" in reached
        briefs.append(
            Brief(
                id=brief_id,
                deal_id=deal_id,
                title="Бриф на сайт",
                intro="",
                sent_to=f"client-{deal_id}@example.com",
                reopen_comment="",
                token_hash=f"archive-brief-{brief_id}",
                status=Brief.Status.SUBMITTED if submitted else Brief.Status.SENT,
                sent_by=manager,
                sent_at=at,
                submitted_at=reached.get("brief_received"),
                created_at=at - timedelta(minutes=2),
            )
        )
        log(manager, "brief.sent", "briefs.brief", brief_id, at)
        sent = happened(deal_id, "brief.sent", at, manager, ("briefs.brief", brief_id))
        remind(deal_id, "brief_sent", sent, at, ended("brief_sent"))
        if submitted:
            happened(
                deal_id, "brief.submitted", reached["brief_received"], None,
                ("briefs.brief", brief_id),
            )  # fmt: skip
    if "proposal_sent" in reached:
        # A proposal from the template: made, often touched up, sent.
        at, proposal_id = reached["proposal_sent"], document_ids.take()
        accepted = "proposal_accepted" in reached
        documents.append(
            _document(proposal_id, deal_id, "proposal", "Коммерческое предложение", at, accepted)
        )
        doc("document.created", proposal_id, at - timedelta(minutes=20))
        if rng.random() < 0.6:
            doc("document.updated", proposal_id, at - timedelta(minutes=10))
        doc("document.sent", proposal_id, at)
        sent = happened(deal_id, "document.sent", at, manager, (DOC, proposal_id))
        remind(deal_id, "proposal_sent", sent, at, ended("proposal_sent"))
        if "proposal_accepted" in reached:
            happened(
                deal_id, "proposal.accepted", reached["proposal_accepted"], None,
                (DOC, proposal_id),
            )  # fmt: skip
    if "contract_sent" in reached:
        # Contract and appendix are drafted by the system on acceptance; the manager checks
        # the client's details and terms (an edit or two), sends both, and closes the
        # "review and send" task.
        at = reached["contract_sent"]
        drafted = reached.get("proposal_accepted", at - timedelta(hours=4))
        contract_id, appendix_id = document_ids.take(), document_ids.take()
        signed = "contract_signed" in reached
        documents.append(_document(contract_id, deal_id, "contract", "Договор", at, signed))
        documents.append(_document(appendix_id, deal_id, "appendix", "Приложение 1", at, signed))
        for _edit in range(rng.choice([0, 1, 1, 2])):
            doc("document.updated", contract_id, at - timedelta(minutes=15))
        if rng.random() < 0.3:
            doc("document.updated", appendix_id, at - timedelta(minutes=12))
        doc("document.sent", contract_id, at)
        doc("document.sent", appendix_id, at)
        task_id = task_ids.take()
        tasks.append(
            Task(
                id=task_id,
                title="Проверить и отправить договор",
                due_at=drafted + timedelta(hours=4),
                deal_id=deal_id,
                assignee=manager,
                done=True,
                done_at=at,
                created_at=drafted,
            )
        )
        log(manager, "task.done", "deals.task", task_id, at)
        sent = happened(deal_id, "document.sent", at, manager, (DOC, contract_id))
        remind(deal_id, "contract_sent", sent, at, ended("contract_sent"))
        if signed:
            when = reached["contract_signed"]
            for document_id in (contract_id, appendix_id):
                happened(deal_id, "document.signed", when, None, (DOC, document_id))
            happened(deal_id, "contract.signed", when, None, (DOC, contract_id))


def _document(
    document_id: int, deal_id: int, kind: str, title: str, at: datetime, accepted: bool
) -> Document:
    return Document(
        id=document_id,
        deal_id=deal_id,
        kind=kind,
        language="ru",
        title=title,
        source="",
        status=Document.Status.ACCEPTED if accepted else Document.Status.SENT,
        sent_at=at,
        token_hash=f"archive-document-{document_id}",
        created_at=at - timedelta(minutes=20),
        updated_at=at,
    )


def _reset_sequences(models: list[type]) -> None:
    """PostgreSQL hands out ids from a sequence that explicit ids do not advance."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
