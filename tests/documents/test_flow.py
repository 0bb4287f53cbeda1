"""The whole client journey through the services: send, read, accept, contract, sign."""

from decimal import Decimal

import pytest

from studiocrm.deals.models import CONTRACT_SENT, CONTRACT_SIGNED, PROPOSAL_ACCEPTED, PROPOSAL_SENT
from studiocrm.documents import services
from studiocrm.documents.models import Acceptance, Document, ImmutableRecord, Kind, Revision
from studiocrm.documents.rendering import render_document
from studiocrm.notifications.models import Outbox
from tests.documents.conftest import accept, make_estimated_deal, meta


def _main_option_and_extra(deal):
    from studiocrm.estimates.models import EstimateLine

    extra = EstimateLine.objects.get(option__estimate__deal=deal, name="Поддержка 3 месяца")
    return str(extra.option_id), str(extra.pk)


def test_sending_freezes_a_revision_emails_the_client_and_moves_the_deal(sent_proposal):
    deal = sent_proposal.deal
    deal.refresh_from_db()
    revision = Revision.objects.get(document=sent_proposal)
    assert revision.number == 1
    assert revision.fingerprint == render_document(sent_proposal).fingerprint
    assert sent_proposal.status == Document.Status.SENT
    assert deal.stage_id == PROPOSAL_SENT
    email = Outbox.objects.get(dedupe_key=f"document-sent:{sent_proposal.pk}:v1")
    assert email.to == "irina@client.test"
    assert services.client_url(sent_proposal) in email.body


def test_sending_an_unchanged_document_again_keeps_one_revision_and_one_email(
    sent_proposal, manager
):
    services.send_document(sent_proposal, actor=manager)
    assert Revision.objects.filter(document=sent_proposal).count() == 1
    assert Outbox.objects.filter(dedupe_key__startswith="document-sent:").count() == 1


def test_the_link_shows_the_managers_edit_before_acceptance(sent_proposal, manager):
    services.update_document(
        sent_proposal,
        actor=manager,
        title=sent_proposal.title,
        source=sent_proposal.source + "<p>Скидка 5 % при оплате до пятницы</p>",
        schedule=sent_proposal.payment_schedule,
    )
    sent_proposal.refresh_from_db()
    assert "Скидка 5 % при оплате до пятницы" in render_document(sent_proposal).html
    assert sent_proposal.status == Document.Status.SENT


def test_accepting_the_proposal_issues_contract_and_appendix_with_the_next_number(
    sent_proposal,
):
    accept(sent_proposal)
    deal = sent_proposal.deal
    deal.refresh_from_db()
    contract = Document.objects.get(deal=deal, kind=Kind.CONTRACT)
    appendix = Document.objects.get(deal=deal, kind=Kind.APPENDIX)
    assert deal.stage_id == PROPOSAL_ACCEPTED
    assert contract.number == 1 and contract.parent == sent_proposal
    assert appendix.parent == contract
    assert contract.status == appendix.status == Document.Status.DRAFT
    html = render_document(appendix).html
    assert f"№ {contract.display_number}" in html


def test_contract_numbers_are_consecutive_across_deals(sent_proposal, manager, rub_list):
    accept(sent_proposal)
    other = make_estimated_deal(manager, rub_list)
    proposal = services.create_proposal(other, actor=manager)
    services.send_document(proposal, actor=manager)
    accept(proposal)
    numbers = sorted(Document.objects.filter(kind=Kind.CONTRACT).values_list("number", flat=True))
    assert numbers == [1, 2]


def test_the_chosen_optional_line_is_priced_on_the_server_and_carried_into_the_contract(
    sent_proposal,
):
    option, extra = _main_option_and_extra(sent_proposal.deal)
    acceptance = accept(sent_proposal, selection={"option": option, "optional": [extra, "999999"]})
    offered = Decimal(sent_proposal.deal.estimates.get().total)
    assert acceptance.selection["optional"] == [extra]
    assert Decimal(acceptance.selection["total"]) == offered + Decimal("30000")
    contract = Document.objects.get(deal=sent_proposal.deal, kind=Kind.CONTRACT)
    assert contract.selection == {"option": option, "optional": [extra]}
    assert "Поддержка 3 месяца" in render_document(contract.children.get()).html


def test_accepting_a_version_the_client_did_not_see_fails_and_records_nothing(
    sent_proposal, manager
):
    seen = render_document(sent_proposal).fingerprint
    services.update_document(
        sent_proposal,
        actor=manager,
        title=sent_proposal.title,
        source=sent_proposal.source + "<p>new clause</p>",
        schedule=sent_proposal.payment_schedule,
    )
    with pytest.raises(services.StaleRevision):
        services.accept_document(
            sent_proposal,
            fingerprint=seen,
            signer=services.Signer("Ирина Петрова", "irina@client.test"),
            request_meta=meta(),
        )
    assert not Acceptance.objects.exists()
    assert not Document.objects.filter(kind=Kind.CONTRACT).exists()


def test_accepting_twice_keeps_one_acceptance(sent_proposal):
    first = accept(sent_proposal)
    with pytest.raises(services.AlreadyAccepted):
        accept(sent_proposal)
    assert list(Acceptance.objects.all()) == [first]
    assert Document.objects.filter(kind=Kind.CONTRACT).count() == 1


def test_a_draft_cannot_be_accepted(proposal):
    with pytest.raises(services.NotOpenForAcceptance):
        accept(proposal)
    assert not Acceptance.objects.exists()


def test_an_accepted_revision_and_its_acceptance_cannot_be_changed(sent_proposal):
    acceptance = accept(sent_proposal)
    revision = acceptance.revision
    revision.html = "<p>forged</p>"
    with pytest.raises(ImmutableRecord):
        revision.save()
    with pytest.raises(ImmutableRecord):
        acceptance.save()
    with pytest.raises(ImmutableRecord):
        acceptance.delete()
    revision.refresh_from_db()
    assert "forged" not in revision.html


def test_acceptance_records_signer_consent_time_address_and_hash(sent_proposal):
    acceptance = accept(sent_proposal)
    assert acceptance.signer_name == "Ирина Петрова"
    assert acceptance.signer_email == "irina@client.test"
    assert acceptance.consent_version == services.CONSENT_VERSION
    assert acceptance.consent_text == services.consent_text("ru", acceptance.document.kind)
    assert acceptance.ip == "203.0.113.7"
    assert acceptance.user_agent == "pytest-browser/1.0"
    assert acceptance.revision_fingerprint == acceptance.revision.fingerprint
    assert acceptance.accepted_at.utcoffset().total_seconds() == 0


def test_an_edit_after_acceptance_needs_a_new_acceptance_and_keeps_the_old_one(
    sent_proposal, manager
):
    first = accept(sent_proposal)
    services.update_document(
        sent_proposal,
        actor=manager,
        title=sent_proposal.title,
        source=sent_proposal.source + "<p>Дополнение</p>",
        schedule=sent_proposal.payment_schedule,
    )
    sent_proposal.refresh_from_db()
    assert sent_proposal.status == Document.Status.CHANGED
    revision = services.send_document(sent_proposal, actor=manager)
    assert revision.number == 2
    second = accept(sent_proposal)
    assert second.revision.number == 2
    first.revision.refresh_from_db()
    assert "Дополнение" not in first.revision.html
    assert Outbox.objects.filter(dedupe_key=f"document-sent:{sent_proposal.pk}:v2").exists()


def test_signing_contract_and_appendix_moves_the_deal_to_contract_signed(sent_proposal, manager):
    accept(sent_proposal)
    contract = Document.objects.get(kind=Kind.CONTRACT)
    services.send_document(contract, actor=manager)
    deal = contract.deal
    deal.refresh_from_db()
    assert deal.stage_id == CONTRACT_SENT
    appendix = Document.objects.get(kind=Kind.APPENDIX)
    assert appendix.status == Document.Status.SENT
    accept(contract)
    deal.refresh_from_db()
    assert deal.stage_id == CONTRACT_SENT  # the appendix is not signed yet
    accept(appendix)
    deal.refresh_from_db()
    assert deal.stage_id == CONTRACT_SIGNED
    assert services.signed_contract(deal) == contract


def test_an_appendix_is_not_sent_before_its_contract(sent_proposal, manager):
    accept(sent_proposal)
    appendix = Document.objects.get(kind=Kind.APPENDIX)
    with pytest.raises(services.DocumentError):
        services.send_document(appendix, actor=manager)
    appendix.refresh_from_db()
    assert appendix.status == Document.Status.DRAFT
    assert not Revision.objects.filter(document=appendix).exists()


def test_the_system_never_moves_a_deal_backwards(sent_proposal, manager):
    from studiocrm.deals.models import INVOICED
    from studiocrm.deals.services import move_deal

    deal = move_deal(sent_proposal.deal, INVOICED, actor=manager)
    accept(sent_proposal)
    deal.refresh_from_db()
    assert deal.stage_id == INVOICED


def test_another_manager_cannot_send_and_nothing_changes(proposal, other_manager):
    with pytest.raises(services.NotAllowed):
        services.send_document(proposal, actor=other_manager)
    proposal.refresh_from_db()
    assert proposal.status == Document.Status.DRAFT
    assert not Revision.objects.exists() and not Outbox.objects.exists()


def test_sending_without_a_contact_email_fails_and_freezes_nothing(proposal, manager):
    contact = proposal.deal.contact
    contact.email = ""
    contact.save()
    with pytest.raises(services.NoRecipient):
        services.send_document(proposal, actor=manager)
    proposal.refresh_from_db()
    assert proposal.status == Document.Status.DRAFT
    assert not Revision.objects.exists()


def test_a_proposal_needs_a_saved_estimate(manager, rub_list):
    from tests.factories import DealFactory

    deal = DealFactory(manager=manager)
    with pytest.raises(services.NoEstimate):
        services.create_proposal(deal, actor=manager)
    assert not Document.objects.exists()


def test_creating_the_proposal_twice_gives_the_same_document(proposal, manager):
    assert services.create_proposal(proposal.deal, actor=manager) == proposal
    assert Document.objects.count() == 1


def test_the_proposal_is_written_in_the_estimates_language(proposal):
    html = render_document(proposal).html
    assert proposal.language == "ru"
    assert "Коммерческое предложение" in html
    assert "Корпоративный сайт" in html and "Лендинг" in html


def test_the_first_view_notifies_the_manager_once(sent_proposal):
    services.record_first_view(sent_proposal)
    services.record_first_view(sent_proposal)
    emails = Outbox.objects.filter(dedupe_key=f"document-viewed:{sent_proposal.pk}")
    assert emails.count() == 1
    assert emails.get().to == sent_proposal.deal.manager.email


def test_a_question_reaches_the_manager_as_email_note_and_task(sent_proposal):
    services.ask_question(
        sent_proposal,
        name="Ирина",
        email="irina@client.test",
        text="Можно ли оплатить в два этапа?",
        request_meta=meta(),
    )
    deal = sent_proposal.deal
    email = Outbox.objects.get(dedupe_key__startswith=f"document-question:{sent_proposal.pk}:")
    assert "Можно ли оплатить в два этапа?" in email.body
    assert email.reply_to == "irina@client.test"
    assert deal.notes.filter(text__contains="Можно ли оплатить в два этапа?").exists()
    assert deal.tasks.filter(assignee=deal.manager, done=False).exists()


def test_an_empty_question_is_refused(sent_proposal):
    with pytest.raises(services.DocumentError):
        services.ask_question(
            sent_proposal, name="", email="a@b.test", text="   ", request_meta=meta()
        )
    assert not Outbox.objects.filter(dedupe_key__startswith="document-question").exists()


def test_sending_after_the_secret_key_changed_mails_a_working_new_link(
    sent_proposal, manager, settings
):
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789-abcdefghijklmnop"
    services.update_document(
        sent_proposal,
        actor=manager,
        title=sent_proposal.title,
        source=sent_proposal.source + "<p>v2</p>",
        schedule=sent_proposal.payment_schedule,
    )
    services.send_document(sent_proposal, actor=manager)
    sent_proposal.refresh_from_db()
    email = Outbox.objects.get(dedupe_key=f"document-sent:{sent_proposal.pk}:v2")
    assert services.client_url(sent_proposal) in email.body


def test_the_review_reminder_for_a_new_contract_closes_when_the_contract_is_sent(
    sent_proposal, manager
):
    accept(sent_proposal)
    contract = Document.objects.get(deal=sent_proposal.deal, kind=Kind.CONTRACT)
    reminder = contract.review_task
    assert reminder is not None and reminder.assignee == manager and not reminder.done

    services.send_document(contract, actor=manager)

    reminder.refresh_from_db()
    assert reminder.done and reminder.done_at is not None


def test_a_title_cut_from_the_first_message_never_reaches_the_client(manager, rub_list):
    """Intake cut a long message into the deal title; the proposal, its email subject and
    the document's heading name the project by the client instead."""
    deal = make_estimated_deal(
        manager, rub_list, title="ООО «Ромашка» — Нужен сайт для сети кофеен, около…"
    )

    proposal = services.create_proposal(deal, actor=manager)
    services.send_document(proposal, actor=manager)

    email = Outbox.objects.get(dedupe_key=f"document-sent:{proposal.pk}:v1")
    html = render_document(proposal).html
    assert "…" not in proposal.title
    assert proposal.title == "Коммерческое предложение: ООО «Ромашка»"
    assert "…" not in email.subject
    assert "около" not in html


def test_a_clean_deal_title_is_the_projects_name(deal, manager):
    proposal = services.create_proposal(deal, actor=manager)
    assert deal.title in proposal.title
