"""Service behaviour: send, autosave, submit, reopen, links, first view."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studiocrm.briefs import questions as q
from studiocrm.briefs import services
from studiocrm.briefs.models import Brief
from studiocrm.core.models import AuditLog
from studiocrm.deals.models import BRIEF_RECEIVED, BRIEF_SENT, ESTIMATED, NEW, Task
from studiocrm.deals.services import move_deal
from studiocrm.notifications.models import Outbox
from tests.briefs.conftest import fill_required
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- send


def test_sending_snapshots_questions_and_opens_the_link(sent_brief, template_en):
    assert sent_brief.status == Brief.Status.SENT
    assert sent_brief.template == template_en
    assert sent_brief.language == "en"
    assert [item["key"] for item in sent_brief.questions] == list(
        template_en.questions.order_by("section__position", "position").values_list(
            "key", flat=True
        )
    )
    assert Brief.find_by_token(sent_brief.link_token()) == sent_brief


def test_sending_stores_only_a_hash_of_the_token(sent_brief):
    token = sent_brief.link_token()
    row = Brief.objects.filter(pk=sent_brief.pk).values().get()
    assert token not in {str(value) for value in row.values()}
    assert len(row["token_hash"]) == 64


def test_sending_moves_a_new_deal_to_brief_sent(sent_brief):
    sent_brief.deal.refresh_from_db()
    assert sent_brief.deal.stage_id == BRIEF_SENT


def test_sending_emails_the_contact_with_the_link(sent_brief, deal):
    message = Outbox.objects.get(dedupe_key=f"brief-sent:{sent_brief.pk}")
    assert message.to == deal.contact.email
    assert services.client_link(sent_brief) in message.body
    assert message.deal == deal


def test_sending_schedules_a_reminder_for_the_manager_in_three_days(sent_brief, manager):
    task = Task.objects.get(deal=sent_brief.deal)
    assert task.assignee == manager
    assert sent_brief.reminder_task == task
    expected = timezone.now() + timedelta(days=services.REMINDER_DAYS)
    assert abs((task.due_at - expected).total_seconds()) < 60


def test_sending_never_moves_a_deal_backwards(manager, template_en):
    deal = DealFactory(manager=manager)
    move_deal(deal, ESTIMATED, actor=manager)
    services.send_brief(deal, template_en, actor=manager)
    deal.refresh_from_db()
    assert deal.stage_id == ESTIMATED


def test_another_managers_deal_cannot_be_sent_a_brief(deal, other_manager, template_en):
    with pytest.raises(services.NotAllowed):
        services.send_brief(deal, template_en, actor=other_manager)
    deal.refresh_from_db()
    assert deal.stage_id == NEW
    assert not Brief.objects.exists()
    assert not Outbox.objects.exists()
    assert not Task.objects.exists()


def test_sending_without_an_email_address_is_refused(manager, template_en):
    deal = DealFactory(manager=manager, contact=None)
    with pytest.raises(services.BriefError):
        services.send_brief(deal, template_en, actor=manager)
    assert not Brief.objects.exists()


def test_suggested_template_follows_the_deal_source_and_studio_language(deal, studio):
    studio.locale = "en"
    studio.save()
    store = services.suggested_template(deal)
    assert store.language == "en"
    assert deal.source in store.sources


# ---------------------------------------------------------------- autosave


def test_autosave_stores_the_cleaned_answer(sent_brief):
    services.save_answer(sent_brief, "languages_count", "2,0")
    sent_brief.refresh_from_db()
    assert sent_brief.answers["languages_count"] == "2"
    assert sent_brief.answers_saved_at is not None


def test_autosave_of_an_empty_answer_removes_it(sent_brief):
    services.save_answer(sent_brief, "goal", "Sell more")
    services.save_answer(sent_brief, "goal", "   ")
    sent_brief.refresh_from_db()
    assert "goal" not in sent_brief.answers


def test_a_rejected_answer_keeps_the_previous_one(sent_brief):
    services.save_answer(sent_brief, "deadline", "2026-09-01")
    with pytest.raises(q.AnswerError):
        services.save_answer(sent_brief, "deadline", "next spring")
    sent_brief.refresh_from_db()
    assert sent_brief.answers["deadline"] == "2026-09-01"


def test_an_oversized_answer_is_rejected_with_the_limit(sent_brief):
    with pytest.raises(q.AnswerError, match="5000"):
        services.save_answer(sent_brief, "goal", "x" * 5001)
    sent_brief.refresh_from_db()
    assert "goal" not in sent_brief.answers


def test_other_text_is_stored_under_its_own_key(sent_brief):
    services.save_answer(sent_brief, "features", ["catalog", "other"], other_text="Loyalty cards")
    sent_brief.refresh_from_db()
    assert sent_brief.answers["features"] == ["catalog", "other"]
    assert sent_brief.answers["features__other"] == "Loyalty cards"


def test_unticking_other_drops_its_text(sent_brief):
    services.save_answer(sent_brief, "features", ["other"], other_text="Loyalty cards")
    services.save_answer(sent_brief, "features", ["catalog"], other_text="Loyalty cards")
    sent_brief.refresh_from_db()
    assert "features__other" not in sent_brief.answers


def test_autosave_after_submission_is_refused(sent_brief):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    with pytest.raises(services.BriefAlreadySubmitted):
        services.save_answer(sent_brief, "goal", "Changed my mind")
    sent_brief.refresh_from_db()
    assert sent_brief.answers["goal"] == "Get orders for cakes"


def test_an_unknown_question_is_refused(sent_brief):
    with pytest.raises(q.AnswerError):
        services.save_answer(sent_brief, "salary", "a lot")


# ---------------------------------------------------------------- submit


def test_submitting_makes_the_brief_read_only_and_moves_the_deal(sent_brief):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    sent_brief.refresh_from_db()
    sent_brief.deal.refresh_from_db()
    assert sent_brief.status == Brief.Status.SUBMITTED
    assert sent_brief.submitted_at is not None
    assert sent_brief.deal.stage_id == BRIEF_RECEIVED
    assert sent_brief.deal.stage_changes.last().by is None


def test_submitting_notifies_the_manager_and_closes_the_reminder(sent_brief, manager):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    message = Outbox.objects.get(dedupe_key=f"brief-submitted:{sent_brief.pk}:0")
    assert message.to == manager.email
    assert f"/briefs/{sent_brief.pk}/" in message.body
    assert Task.objects.get(pk=sent_brief.reminder_task_id).done


def test_submitting_with_required_answers_missing_changes_nothing(sent_brief):
    services.save_answer(sent_brief, "company", "Bakery Ltd")
    with pytest.raises(services.MissingAnswers) as raised:
        services.submit_brief(sent_brief)
    assert [item["key"] for item in raised.value.questions] == ["goal", "pages", "content_ready"]
    sent_brief.refresh_from_db()
    sent_brief.deal.refresh_from_db()
    assert sent_brief.status == Brief.Status.SENT
    assert sent_brief.deal.stage_id == BRIEF_SENT
    assert not Outbox.objects.filter(dedupe_key__startswith="brief-submitted").exists()


def test_submitting_twice_keeps_one_submission(sent_brief):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    first = Brief.objects.get(pk=sent_brief.pk).submitted_at
    with pytest.raises(services.BriefAlreadySubmitted):
        services.submit_brief(sent_brief)
    assert Brief.objects.get(pk=sent_brief.pk).submitted_at == first
    assert AuditLog.objects.filter(verb="brief.submitted").count() == 1
    assert sent_brief.deal.stage_changes.filter(to_stage=BRIEF_RECEIVED).count() == 1


def test_submitting_drops_answers_to_questions_the_client_cannot_see(sent_brief):
    fill_required(sent_brief)
    services.save_answer(sent_brief, "features", ["multilingual"])
    services.save_answer(sent_brief, "languages_count", "3")
    services.save_answer(sent_brief, "features", ["catalog"])
    services.submit_brief(sent_brief)
    sent_brief.refresh_from_db()
    assert "languages_count" not in sent_brief.answers
    assert sent_brief.answers["features"] == ["catalog"]


def test_latest_submitted_brief_is_the_last_one_received(deal, manager, template_en, template_ru):
    assert services.latest_submitted_brief(deal) is None
    first = fill_required(services.send_brief(deal, template_en, actor=manager))
    services.submit_brief(first)
    second = services.send_brief(deal, template_ru, actor=manager)
    assert services.latest_submitted_brief(deal) == first
    fill_required(second)
    services.submit_brief(second)
    assert services.latest_submitted_brief(deal) == second


# ---------------------------------------------------------------- reopen


@pytest.fixture
def submitted_brief(sent_brief):
    fill_required(sent_brief)
    return services.submit_brief(sent_brief)


def test_reopening_lets_the_client_edit_and_emails_the_comment(submitted_brief, manager):
    services.reopen_brief(submitted_brief, "Please add the number of products", actor=manager)
    submitted_brief.refresh_from_db()
    assert submitted_brief.status == Brief.Status.REOPENED
    message = Outbox.objects.get(dedupe_key=f"brief-reopened:{submitted_brief.pk}:1")
    assert "Please add the number of products" in message.body
    assert services.client_link(submitted_brief) in message.body
    services.save_answer(submitted_brief, "audience", "Families")


def test_reopening_after_a_key_change_emails_a_working_new_link(submitted_brief, manager, settings):
    settings.SECRET_KEY = "a brand new secret key that is long enough to be taken seriously"
    settings.SECRET_KEY_FALLBACKS = []
    services.reopen_brief(submitted_brief, "Please add the budget", actor=manager)
    submitted_brief.refresh_from_db()
    message = Outbox.objects.get(dedupe_key=f"brief-reopened:{submitted_brief.pk}:1")
    assert services.client_link(submitted_brief) in message.body
    assert Brief.find_by_token(submitted_brief.link_token()) == submitted_brief


def test_reopening_needs_a_comment(submitted_brief, manager):
    with pytest.raises(services.BriefError):
        services.reopen_brief(submitted_brief, "  ", actor=manager)
    submitted_brief.refresh_from_db()
    assert submitted_brief.status == Brief.Status.SUBMITTED


def test_another_manager_cannot_reopen(submitted_brief, other_manager):
    with pytest.raises(services.NotAllowed):
        services.reopen_brief(submitted_brief, "Add more", actor=other_manager)
    submitted_brief.refresh_from_db()
    assert submitted_brief.status == Brief.Status.SUBMITTED
    assert not Outbox.objects.filter(dedupe_key__startswith="brief-reopened").exists()


def test_a_second_submission_after_reopening_notifies_again(submitted_brief, manager):
    services.reopen_brief(submitted_brief, "Add the audience", actor=manager)
    services.save_answer(submitted_brief, "audience", "Families")
    services.submit_brief(submitted_brief)
    assert Outbox.objects.filter(dedupe_key__startswith="brief-submitted:").count() == 2
    submitted_brief.refresh_from_db()
    assert submitted_brief.answers["audience"] == "Families"


def test_a_brief_still_being_filled_cannot_be_reopened(sent_brief, manager):
    with pytest.raises(services.BriefError):
        services.reopen_brief(sent_brief, "Add more", actor=manager)


# ---------------------------------------------------------------- links


def test_resending_with_a_new_link_stops_the_old_one(sent_brief, manager):
    old = sent_brief.link_token()
    services.resend_link(sent_brief, actor=manager, new_link=True)
    sent_brief.refresh_from_db()
    assert Brief.find_by_token(old) is None
    assert Brief.find_by_token(sent_brief.link_token()) == sent_brief
    assert Outbox.objects.filter(dedupe_key__startswith="brief-resent:").count() == 1


def test_resending_keeps_the_same_link(sent_brief, manager):
    old = sent_brief.link_token()
    services.resend_link(sent_brief, actor=manager)
    services.resend_link(sent_brief, actor=manager)
    assert Brief.find_by_token(old) == sent_brief
    assert Outbox.objects.filter(dedupe_key__startswith="brief-resent:").count() == 2


def test_revoking_closes_the_link_but_keeps_the_answers(sent_brief, manager):
    services.save_answer(sent_brief, "goal", "Sell")
    services.revoke_brief_link(sent_brief, actor=manager)
    assert Brief.find_by_token(sent_brief.link_token()) is None
    sent_brief.refresh_from_db()
    assert sent_brief.answers == {"goal": "Sell"}


def test_first_view_notifies_the_manager_once(sent_brief, manager):
    services.record_first_view(sent_brief)
    services.record_first_view(sent_brief)
    messages = Outbox.objects.filter(dedupe_key=f"brief-viewed:{sent_brief.pk}")
    assert messages.count() == 1
    assert messages.get().to == manager.email
