"""Who reads what: the client reads emails in the document's language, the manager in their
own language (else the studio's), whatever language is active when the service runs."""

import pytest
from django.utils import translation

from studiocrm.deals.models import Task
from studiocrm.documents import services
from studiocrm.notifications.models import Outbox
from tests.documents.conftest import accept, make_english_deal, meta


@pytest.fixture
def english_deal(manager, migration_data):
    return make_english_deal(manager)


@pytest.fixture
def sent_english_proposal(english_deal, manager, django_capture_on_commit_callbacks):
    proposal = services.create_proposal(english_deal, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_document(proposal, actor=manager)
    proposal.refresh_from_db()
    return proposal


def _sent_email(document, version=1):
    return Outbox.objects.get(dedupe_key=f"document-sent:{document.pk}:v{version}")


def test_an_english_proposal_is_emailed_in_english_by_a_russian_studio(sent_english_proposal):
    email = _sent_email(sent_english_proposal)
    assert sent_english_proposal.language == "en"
    assert email.subject == f"Test Studio: {sent_english_proposal.title}"
    assert "We have prepared the proposal" in email.body
    assert "Kind regards" in email.body and 'lang="en"' in email.body_html
    assert not any("а" <= letter <= "я" for letter in email.body.lower())


def test_an_english_contract_is_emailed_in_english_whatever_language_the_sender_uses(
    sent_english_proposal, manager
):
    with translation.override("en"):
        accept(sent_english_proposal, name="Jane Doe", email="jane@acme.test")
    contract = services.contract_of(sent_english_proposal.deal)
    with translation.override("ru"):
        services.send_document(contract, actor=manager)
    email = _sent_email(contract)
    assert email.subject.startswith("Test Studio: Contract No. ")
    assert email.subject.endswith(" to sign")
    assert "Read the documents on the page and sign them there" in email.body


def test_a_russian_proposal_is_emailed_in_russian_by_an_english_speaking_manager(proposal, manager):
    manager.language = "en"
    manager.save(update_fields=["language"])
    with translation.override("en"):
        services.send_document(proposal, actor=manager)
    email = _sent_email(proposal)
    assert email.subject.startswith("Test Studio: ")
    assert " от " not in email.subject  # no declension of the studio's name needed
    assert "Мы подготовили для вас предложение" in email.body


def test_the_manager_reads_the_acceptance_of_an_english_proposal_in_the_studios_language(
    sent_english_proposal,
):
    with translation.override("en"):  # the client's page is in English
        acceptance = accept(sent_english_proposal, name="Jane Doe", email="jane@acme.test")
    email = Outbox.objects.get(dedupe_key=f"document-accepted:{acceptance.pk}")
    assert email.subject.startswith("Принято: ")
    task = Task.objects.get(deal=sent_english_proposal.deal, title__contains="Contract No.")
    assert task.title.startswith("Проверить и отправить")


def test_a_manager_with_a_language_reads_notifications_in_it(proposal, manager):
    manager.language = "en"
    manager.save(update_fields=["language"])
    services.send_document(proposal, actor=manager)
    with translation.override("ru"):  # the client's page is in Russian
        acceptance = accept(proposal)
    email = Outbox.objects.get(dedupe_key=f"document-accepted:{acceptance.pk}")
    assert email.subject.startswith("Accepted: ")
    task = Task.objects.get(deal=proposal.deal, title__contains="Договор")
    assert task.title.startswith("Review and send ")


def test_the_first_view_and_a_question_reach_the_manager_in_the_managers_language(
    sent_english_proposal,
):
    with translation.override("en"):
        services.record_first_view(sent_english_proposal)
        services.ask_question(
            sent_english_proposal,
            name="Jane",
            email="jane@acme.test",
            text="Can we pay in two steps?",
            request_meta=meta(),
        )
    viewed = Outbox.objects.get(dedupe_key=f"document-viewed:{sent_english_proposal.pk}")
    question = Outbox.objects.get(
        dedupe_key__startswith=f"document-question:{sent_english_proposal.pk}:"
    )
    assert viewed.subject.startswith("Клиент открыл")
    assert question.subject.startswith("Вопрос")
    task = Task.objects.get(deal=sent_english_proposal.deal, title__contains="Proposal")
    assert task.title.startswith("Ответить")
