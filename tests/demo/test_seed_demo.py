"""The demo studio (`manage.py seed_demo`): every step of the sales path, made through the
services, once.

Seeding takes a few seconds, so the module seeds once inside a transaction that is rolled
back when the module ends; each test runs in a savepoint inside it.
"""

import random
import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from studiocrm.billing import qr
from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs.models import Brief
from studiocrm.briefs.services import latest_submitted_brief
from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal, Stage, StageChange, Task
from studiocrm.demo import seed as demo
from studiocrm.documents.models import Acceptance, Document, Kind, Revision
from studiocrm.documents.services import payment_schedule
from studiocrm.estimates.models import Estimate
from studiocrm.estimates.similar import similar_won_deals
from studiocrm.notifications.models import Outbox
from tests.conftest import logged_in
from tests.factories import with_authenticator

STORIES = {story.key: story for story in demo.STORIES}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Run the command once for the whole module; give its output and data directory."""
    data_dir = tmp_path_factory.mktemp("demo-data")
    with (
        django_db_blocker.unblock(),
        override_settings(DATA_DIR=data_dir),
        transaction.atomic(),
    ):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield {"out": out.getvalue(), "data_dir": data_dir}
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(seeded, db):
    return seeded


def deal_of(key):
    return Deal.objects.get(client__name=STORIES[key].company.name)


def story_deals():
    """The stories' deals; the year of history behind them (core.demo_history) is apart."""
    return Deal.objects.filter(client__name__in=[story.company.name for story in demo.STORIES])


def passwords_from(text):
    return dict(re.findall(r"(\w+) / (\S+)", text))


# --- the pipeline ------------------------------------------------------------------------------


def test_every_stage_has_deals(demo_db):
    counts = {
        stage.code: story_deals().filter(stage=stage).count() for stage in Stage.objects.all()
    }
    assert all(counts.values()), counts
    assert 28 <= sum(counts.values()) <= 32


def test_each_story_made_one_deal_at_its_stage(demo_db):
    expected = {
        "new_web_lead": "new",
        "brief_sent": "brief_sent",
        "brief_submitted": "brief_received",
        "estimated": "estimated",
        "proposal_viewed": "proposal_sent",
        "proposal_accepted": "proposal_accepted",
        "contract_sent_english": "contract_sent",
        "contract_signed": "contract_signed",
        "invoiced": "invoiced",
        "part_paid": "invoiced",
        "paid": "paid",
        "lost_after_proposal": "lost",
        "won_0": "paid",
    }
    assert story_deals().count() == len(demo.STORIES)
    assert {key: deal_of(key).stage_id for key in expected} == expected


def test_the_web_form_lead_came_through_intake(demo_db):
    deal = deal_of("new_web_lead")
    assert deal.source == "website"
    assert deal.intake_key
    assert deal.expected_amount == Decimal("350000")
    assert "utm_source=yandex" in deal.description
    assert deal.outbox.filter(to=deal.manager.email).exists()


def test_the_sent_brief_is_opened_half_answered_and_its_reminder_overdue(demo_db):
    deal = deal_of("brief_sent")
    brief = Brief.objects.get(deal=deal)
    assert brief.status == Brief.Status.SENT
    assert brief.first_viewed_at is not None
    assert set(brief.answers) == {"company", "landing_offer"}
    assert brief.reminder_task.is_overdue


def test_the_store_brief_is_submitted_with_a_shops_answers(demo_db):
    brief = latest_submitted_brief(deal_of("brief_submitted"))
    assert brief.template.default_key == "store"
    assert brief.answers["products_count"] == "1200"
    assert {"cart", "online_payment", "integrations_1c"} <= set(brief.answers["features"])
    assert brief.answers["deadline"] > brief.submitted_at.date().isoformat()
    assert brief.reminder_task.done


def test_the_estimate_is_drafted_from_the_brief_with_three_options_and_saved(demo_db):
    deal = deal_of("estimated")
    estimate = Estimate.objects.get(deal=deal)
    assert estimate.origin == Estimate.Origin.BRIEF
    assert estimate.brief_id == latest_submitted_brief(deal).pk
    assert estimate.status == Estimate.Status.SAVED
    assert estimate.options.count() == 3
    assert deal.estimated_amount == estimate.total > 0


def test_similar_won_deals_give_the_estimate_a_median(demo_db):
    estimate = Estimate.objects.get(deal=deal_of("estimated"))
    similar = similar_won_deals(estimate, estimate.options.get(is_primary=True))
    assert similar is not None
    assert similar.count >= 2
    assert similar.median_days > 0


def test_the_sent_proposal_was_opened_by_the_client(demo_db):
    proposal = Document.objects.get(deal=deal_of("proposal_viewed"), kind=Kind.PROPOSAL)
    assert proposal.status == Document.Status.SENT
    assert proposal.first_viewed_at is not None
    assert Revision.objects.filter(document=proposal, reason=Revision.Reason.SENT).exists()


def test_an_accepted_proposal_leaves_a_contract_and_appendix_to_send(demo_db):
    deal = deal_of("proposal_accepted")
    proposal = Document.objects.get(deal=deal, kind=Kind.PROPOSAL)
    contract = Document.objects.get(deal=deal, kind=Kind.CONTRACT)
    appendix = Document.objects.get(deal=deal, kind=Kind.APPENDIX)
    assert proposal.status == Document.Status.ACCEPTED
    assert contract.parent == proposal and appendix.parent == contract
    assert contract.status == appendix.status == Document.Status.DRAFT
    assert Task.objects.filter(deal=deal, done=False, title__contains=contract.title).exists()


def test_the_sent_contract_and_appendix_await_signature(demo_db):
    deal = deal_of("contract_sent")
    parts = Document.objects.filter(deal=deal, kind__in=[Kind.CONTRACT, Kind.APPENDIX])
    assert {part.status for part in parts} == {Document.Status.SENT}
    assert not Acceptance.objects.filter(document__in=parts).exists()


def test_the_english_clients_documents_are_in_english(demo_db):
    deal = deal_of("contract_sent_english")
    assert deal.currency == "EUR"
    assert Brief.objects.get(deal=deal).language == "en"
    assert Estimate.objects.get(deal=deal).language == "en"
    assert set(Document.objects.filter(deal=deal).values_list("language", flat=True)) == {"en"}
    assert Document.objects.get(deal=deal, kind=Kind.CONTRACT).title.startswith("Contract")


def test_a_signed_contract_gives_the_payment_schedule(demo_db):
    deal = deal_of("contract_signed")
    contract = Document.objects.get(deal=deal, kind=Kind.CONTRACT)
    assert (
        Acceptance.objects.filter(document__deal=deal).count() == 3
    )  # proposal, contract, appendix
    steps = payment_schedule(deal)
    assert [step.number for step in steps] == [1, 2]
    assert sum(step.amount for step in steps) == deal.estimated_amount
    assert contract.number is not None


def test_the_contract_follows_the_option_the_client_chose(demo_db):
    deal = deal_of("part_paid")
    proposal_acceptance = Acceptance.objects.get(document__deal=deal, document__kind=Kind.PROPOSAL)
    contract = Document.objects.get(deal=deal, kind=Kind.CONTRACT)
    chosen = proposal_acceptance.selection
    assert chosen["option_name"] == "Магазин + 1С и CRM"
    assert chosen["optional_names"] == ["Хостинг на год"]
    assert contract.selection["option"] == chosen["option"]
    assert sum(step.amount for step in payment_schedule(deal)) == Decimal(chosen["total"])


def test_the_invoiced_deal_has_an_issued_unpaid_deposit_invoice(demo_db):
    invoice = Invoice.objects.get(deal=deal_of("invoiced"))
    assert invoice.schedule_step == 1
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.number and invoice.paid_amount == 0
    assert invoice.first_viewed_at is not None


def test_part_of_the_deposit_arrived_by_bank_transfer(demo_db):
    invoice = Invoice.objects.get(deal=deal_of("part_paid"))
    payment = Payment.objects.get(invoice=invoice)
    assert payment.provider == "bank_transfer"
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
    assert 0 < invoice.paid_amount < invoice.total


def test_the_paid_deal_paid_both_invoices_of_its_schedule(demo_db):
    invoices = Invoice.objects.filter(deal=deal_of("paid")).order_by("schedule_step")
    assert [invoice.schedule_step for invoice in invoices] == [1, 2]
    assert {invoice.status for invoice in invoices} == {Invoice.Status.PAID}


def test_lost_deals_say_why(demo_db):
    lost = Deal.objects.filter(stage__kind=Stage.Kind.LOST)
    assert lost.count() >= 2
    assert all(deal.lost_reason_choice for deal in lost)
    assert all(deal.lost_reason for deal in story_deals().filter(stage__kind="lost"))
    assert not Task.objects.filter(deal__in=lost, done=False).exists()


def test_my_day_has_overdue_tasks_and_tasks_for_today(demo_db):
    anna = User.objects.get(username="anna")
    now = timezone.now()
    open_tasks = Task.objects.filter(assignee=anna, done=False)
    assert open_tasks.filter(due_at__lt=now).exists()
    assert open_tasks.filter(due_at__gte=now, due_at__lt=now + timedelta(hours=12)).exists()


def test_a_year_of_history_stands_behind_the_stories(demo_db):
    year_ago = timezone.now() - timedelta(days=330)
    history = Deal.objects.exclude(pk__in=story_deals().values("pk"))
    assert history.filter(created_at__lt=year_ago).exists()
    assert 900 <= history.count() <= 1300
    assert history.filter(stage__kind=Stage.Kind.WON).count() > 250
    assert Payment.objects.filter(invoice__deal__in=history).exists()


# --- time ---------------------------------------------------------------------------------------


def test_stage_histories_run_forward_in_time(demo_db):
    for deal in Deal.objects.all():
        changes = list(StageChange.objects.filter(deal=deal).order_by("at", "pk"))
        assert changes[0].at >= deal.created_at - timedelta(seconds=1)
        assert [change.from_stage_id for change in changes[1:]] == [
            change.to_stage_id for change in changes[:-1]
        ]
        assert changes[-1].to_stage_id == deal.stage_id
        assert all(change.at <= timezone.now() for change in changes)


def test_early_steps_lie_in_the_past_and_documents_happen_now(demo_db):
    deal = deal_of("paid")
    brief = Brief.objects.get(deal=deal)
    proposal = Document.objects.get(deal=deal, kind=Kind.PROPOSAL)
    assert timezone.now() - deal.created_at > timedelta(days=14)
    assert brief.sent_at < brief.submitted_at < proposal.sent_at
    assert timezone.now() - proposal.sent_at < timedelta(hours=1)


def test_historical_won_deals_closed_weeks_ago(demo_db):
    won = Deal.objects.filter(client__name__in=[s.company.name for s in demo.STORIES if s.won])
    assert won.count() >= 4
    for deal in won:
        assert deal.stage_id == "paid"
        assert timezone.now() - deal.closed_at > timedelta(days=30)
        assert deal.estimates.filter(status=Estimate.Status.SAVED).exists()


def test_the_schedule_of_the_stories_is_the_same_every_run(demo_db):
    users = {user.username: user for user in User.objects.all()}
    first, second = demo.Runner(random.Random(1), users), demo.Runner(random.Random(1), users)
    second.now = first.now
    for story in demo.STORIES:
        steps = story.steps()
        assert first._schedule(story, steps) == second._schedule(story, steps)


# --- studio, outbox, logins ---------------------------------------------------------------------


def _inn10_valid(inn):
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    return int(inn[9]) == sum(int(d) * w for d, w in zip(inn, weights, strict=False)) % 11 % 10


def _account_key_valid(prefix, account):
    digits = prefix + account
    weights = [7, 1, 3] * 8
    return sum(int(d) * weights[i] for i, d in enumerate(digits)) % 10 == 0


def test_the_studio_profile_has_valid_russian_details(demo_db):
    studio = Studio.load()
    assert studio.locale == "ru" and studio.default_currency == "RUB"
    assert len(studio.tax_id) == 10 and _inn10_valid(studio.tax_id)
    ogrn = studio.registration_number
    assert len(ogrn) == 13 and int(ogrn[-1]) == int(ogrn[:12]) % 11 % 10
    assert re.fullmatch(r"04\d{7}", studio.bank_code)
    assert _account_key_valid(studio.bank_code[-3:], studio.bank_account)
    assert _account_key_valid("0" + studio.bank_code[4:6], studio.correspondent_account)


def test_issued_invoices_carry_the_payment_qr(demo_db):
    invoice = Invoice.objects.get(deal=deal_of("invoiced"))
    seller = invoice.seller
    details = qr.BankDetails(
        name=seller["name"],
        account=seller["bank_account"],
        bank_name=seller["bank_name"],
        bank_code=seller["bank_code"],
        correspondent_account=seller["correspondent_account"],
        tax_id=seller["tax_id"],
    )
    assert qr.gost_payload(details, invoice.amount_due, invoice.purpose) is not None


def test_the_seeded_messages_are_marked_sent(demo_db):
    assert Outbox.objects.exists()
    assert not Outbox.objects.exclude(status=Outbox.Status.SENT).exists()


def test_the_logins_are_printed_and_saved(demo_db):
    saved = (demo_db["data_dir"] / demo.CREDENTIALS_FILE).read_text(encoding="utf-8")
    assert saved in demo_db["out"]
    assert set(passwords_from(saved)) == {"anna", "boris", "owner"}
    assert oct((demo_db["data_dir"] / demo.CREDENTIALS_FILE).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("username", "first_page"),
    [("anna", None), ("boris", None), ("owner", "accounts:two_factor_setup")],
)
def test_the_printed_users_can_log_in(demo_db, username, first_page):
    """Managers land on the board; the owner first sets up two-factor authentication."""
    password = passwords_from(demo_db["out"])[username]
    http = HttpClient()
    response = http.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302
    board = http.get(reverse("deals:board"))
    if first_page is None:
        assert board.status_code == 200
    else:
        assert (board.status_code, board["Location"]) == (302, reverse(first_page))


COUNTED = (User, Deal, Brief, Estimate, Document, Invoice, Payment, Outbox, Task, StageChange)


def test_a_second_run_creates_nothing_and_prints_the_logins(demo_db):
    before = [model.objects.count() for model in COUNTED]
    out = StringIO()
    with override_settings(DATA_DIR=demo_db["data_dir"]):
        call_command("seed_demo", stdout=out)
    assert [model.objects.count() for model in COUNTED] == before
    assert passwords_from(out.getvalue()) == passwords_from(demo_db["out"])


def test_a_deal_page_at_every_step_opens(demo_db):
    owner = User.objects.get(username="owner")
    with_authenticator(owner)
    http = logged_in(owner)
    history = Deal.objects.exclude(pk__in=story_deals().values("pk"))
    # Every story, and one deal of the year's history at each stage it has.
    sample = [history.filter(stage=stage).first() for stage in Stage.objects.all()]
    for deal in [*story_deals(), *filter(None, sample)]:
        response = http.get(deal.get_absolute_url())
        assert response.status_code == 200, deal
