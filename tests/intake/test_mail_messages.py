"""What one email means, without a server: HTML-only letters, stale deal references, the
Emails panel on the deal and who may download an attachment."""

from email.message import EmailMessage

import pytest

from studiocrm.deals.models import Deal, Note
from studiocrm.intake import mailbox as mailbox_service
from studiocrm.intake.models import EmailAttachment, InboundEmail
from tests.factories import DealFactory


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


def raw_letter(subject="A site", html=None, attachment=None, message_id="<m1@client.test>"):
    message = EmailMessage()
    message["From"] = "Olga <olga@client.test>"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    if html:
        message.set_content(html, subtype="html")
    else:
        message.set_content("Hello")
    if attachment:
        message.add_attachment(
            attachment[1], maintype="text", subtype="html", filename=attachment[0]
        )
    return message.as_bytes()


def test_an_html_only_letter_becomes_readable_text(manager):
    html = "<p>Нужен <b>сайт</b></p><script>alert(1)</script><div>бюджет 300к</div>"
    record = mailbox_service.process_message(raw_letter(html=html), uidvalidity=1, uid=1)
    text = Note.objects.get(deal=record.deal).text
    assert "Нужен сайт" in text and "бюджет 300к" in text
    assert "alert" not in text and "<b>" not in text


def test_a_reference_to_a_deal_that_does_not_exist_opens_a_new_one(manager):
    record = mailbox_service.process_message(
        raw_letter(subject="Re: [#D-999999]"), uidvalidity=1, uid=1
    )
    assert record.outcome == "lead" and Deal.objects.count() == 1


def test_the_deal_page_lists_the_email_and_its_file_for_signed_in_users_only(
    manager, manager_client, anonymous_client
):
    deal = DealFactory()
    record = mailbox_service.process_message(
        raw_letter(
            subject=f"Re: [#D-{deal.pk}]",
            attachment=("page.html", b"<script>alert(1)</script>"),
        ),
        uidvalidity=1,
        uid=1,
    )
    assert record.deal == deal
    stored = EmailAttachment.objects.get()
    url = f"/lead/mailbox/files/{stored.pk}/"
    page = manager_client.get(deal.get_absolute_url()).content.decode()
    assert url in page and "page.html" in page
    assert anonymous_client.get(url).status_code == 302
    response = manager_client.get(url)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_a_message_seen_again_under_another_uid_changes_nothing(manager):
    assert mailbox_service.process_message(raw_letter(), uidvalidity=1, uid=1) is not None
    assert mailbox_service.process_message(raw_letter(), uidvalidity=1, uid=2) is None
    assert InboundEmail.objects.count() == 1 and Deal.objects.count() == 1
