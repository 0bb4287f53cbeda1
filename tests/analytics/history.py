"""A small, known history for the analytics tests (times in UTC, studio in Moscow, UTC+3).

A  RUB, manager m1, website lead (utm google/cpc/spring), 10 Jan 2026: every stage in
   order; invoice 100 000 paid in two parts, the second at 21:30 UTC on 31 Jan, which is
   already 1 Feb in Moscow (the deal is won in February).
B  RUB, m1, e-mail lead at 22:30 UTC on 31 Jan (1 Feb in Moscow): skips the brief stages,
   lost as "too expensive", reopened to "proposal sent", still open. 50 000 expected.
C  EUR, m2, website lead at 21:00 UTC on 28 Feb (1 Mar in Moscow): brief sent, lost with a
   comment only (filed under "Other"). 3 000 expected.
D  EUR, m2, referral registered by m2 by hand on 5 Mar: up to "invoiced"; invoice 5 000
   due 26 Mar, 2 000 paid on 20 Mar; open.
E  RUB, nobody's, website lead on 30 Mar, untouched. 1 234.50 expected.
F  RUB, m1, received 15 Dec 2025 (before the period), won 6 Jan 2026. 20 000.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from studiocrm.billing.models import Invoice, Payment
from studiocrm.core import audit
from studiocrm.core.models import AuditLog, User
from studiocrm.deals.models import Deal, LostReason, StageChange, Task
from tests.factories import ClientFactory, UserFactory

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
_tokens = itertools.count()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _deal(title, manager, source, currency, created, *, expected=None, estimated=None, **extra):
    return Deal.objects.create(
        title=title,
        client=ClientFactory(),
        manager=manager,
        source=source,
        currency=currency,
        created_at=created,
        stage_changed_at=created,
        expected_amount=expected,
        estimated_amount=estimated,
        **extra,
    )


def _history(deal, steps, *, opened_by=None):
    """steps: (stage, offset from creation, person or None). The first step opens the deal."""
    previous = None
    for stage, offset, person in [("new", timedelta(0), opened_by), *steps]:
        when = deal.created_at + offset
        StageChange.objects.create(
            deal=deal, from_stage_id=previous, to_stage_id=stage, at=when, by=person
        )
        previous = stage
    kind_closed = previous in ("paid", "lost")
    Deal.objects.filter(pk=deal.pk).update(
        stage_id=previous, stage_changed_at=when, closed_at=when if kind_closed else None
    )
    deal.refresh_from_db()


def _invoice(deal, total, issued, due, paid=Decimal(0), status="issued"):
    return Invoice.objects.create(
        deal=deal,
        currency=deal.currency,
        status=status,
        total=total,
        subtotal=total,
        paid_amount=paid,
        issued_at=issued,
        issue_date=issued.date(),
        due_date=due,
        token_hash=f"test-{next(_tokens)}",
    )


def _payment(invoice, amount, confirmed):
    return Payment.objects.create(
        invoice=invoice,
        provider="bank_transfer",
        amount=amount,
        currency=invoice.currency,
        status=Payment.Status.SUCCEEDED,
        created_at=confirmed,
        confirmed_at=confirmed,
    )


@dataclass
class History:
    m1: User
    m2: User
    deals: dict[str, Deal]


def build() -> History:
    m1 = UserFactory(username="m1", first_name="Anna", last_name="")
    m2 = UserFactory(username="m2", first_name="Boris", last_name="")
    d = timedelta(days=1)
    h = timedelta(hours=1)

    a = _deal(
        "A",
        m1,
        "website",
        "RUB",
        at(2026, 1, 10, 9),
        estimated=Decimal("100000.00"),
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="spring",
    )
    paid_at = at(2026, 1, 31, 21, 30)
    _history(
        a,
        [
            ("brief_sent", h, m1),
            ("brief_received", d, None),
            ("estimated", 2 * d, m1),
            ("proposal_sent", 3 * d, m1),
            ("proposal_accepted", 5 * d, None),
            ("contract_sent", 6 * d, m1),
            ("contract_signed", 7 * d, None),
            ("invoiced", 8 * d, m1),
            ("paid", paid_at - a.created_at, None),
        ],
    )
    invoice_a = _invoice(
        a,
        Decimal("100000.00"),
        a.created_at + 8 * d,
        (a.created_at + 15 * d).date(),
        paid=Decimal("100000.00"),
        status="paid",
    )
    _payment(invoice_a, Decimal("40000.00"), a.created_at + 9 * d)
    _payment(invoice_a, Decimal("60000.00"), paid_at)

    b = _deal("B", m1, "email", "RUB", at(2026, 1, 31, 22, 30), expected=Decimal("50000.00"))
    _history(
        b,
        [
            ("estimated", 2 * d, m1),
            ("proposal_sent", 4 * d, m1),
            ("lost", 6 * d, m1),
            ("proposal_sent", 8 * d, m1),
        ],
    )
    audit.append_rows(
        [
            AuditLog(
                actor=m1,
                verb="deal.note_added",
                object_type="deals.deal",
                object_id=str(b.pk),
                at=b.created_at + 3 * h,
            )
        ]
    )

    c = _deal("C", m2, "website", "EUR", at(2026, 2, 28, 21), expected=Decimal("3000.00"))
    _history(c, [("brief_sent", timedelta(minutes=30), m2), ("lost", d, m2)])
    other = LostReason.objects.get(code="other")
    Deal.objects.filter(pk=c.pk).update(lost_reason_choice=other, lost_reason="Went silent")

    dd = _deal("D", m2, "referral", "EUR", at(2026, 3, 5, 10), estimated=Decimal("5000.00"))
    _history(
        dd,
        [
            ("brief_sent", 2 * h, m2),
            ("brief_received", d, None),
            ("estimated", 2 * d, m2),
            ("proposal_sent", 3 * d, m2),
            ("proposal_accepted", 4 * d, None),
            ("contract_sent", 5 * d, m2),
            ("contract_signed", 10 * d, None),
            ("invoiced", 11 * d, m2),
        ],
        opened_by=m2,
    )
    audit.append_rows(
        [
            AuditLog(
                actor=m2,
                verb="deal.created",
                object_type="deals.deal",
                object_id=str(dd.pk),
                at=dd.created_at,
            )
        ]
    )
    invoice_d = _invoice(
        dd,
        Decimal("5000.00"),
        at(2026, 3, 16, 10),
        datetime(2026, 3, 26).date(),
        paid=Decimal("2000.00"),
        status="partially_paid",
    )
    _payment(invoice_d, Decimal("2000.00"), at(2026, 3, 20, 10))

    e = _deal("E", None, "website", "RUB", at(2026, 3, 30, 12), expected=Decimal("1234.50"))
    _history(e, [])

    f = _deal("F", m1, "phone", "RUB", at(2025, 12, 15, 12), expected=Decimal("20000.00"))
    _history(
        f,
        [
            ("invoiced", at(2026, 1, 5, 12) - f.created_at, m1),
            ("paid", at(2026, 1, 6, 12) - f.created_at, None),
        ],
    )

    Task.objects.create(title="Call", due_at=NOW - d, assignee=m1, deal=b, created_at=NOW - 2 * d)
    Task.objects.create(
        title="Done", due_at=NOW - d, assignee=m1, deal=b, done=True, created_at=NOW - 2 * d
    )
    Task.objects.create(title="Later", due_at=NOW + d, assignee=m2, deal=dd, created_at=NOW - d)
    return History(m1=m1, m2=m2, deals={"A": a, "B": b, "C": c, "D": dd, "E": e, "F": f})
