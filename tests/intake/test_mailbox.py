"""Applications from email against a real Dovecot on 127.0.0.1 (see imap_server.py):
new senders open deals, replies land on theirs, auto-replies and bounces open nothing,
unreadable mail is kept raw and reported, each message is processed once, and the mailbox
is changed only by the chosen flag — also when the server goes away mid-read."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from studiocrm.deals.models import Deal, Event, Note, Source
from studiocrm.flow.models import Notification
from studiocrm.intake import mailbox as mailbox_service
from studiocrm.intake.models import EmailAttachment, InboundEmail, Mailbox
from studiocrm.notifications.models import Outbox
from tests.factories import DealFactory
from tests.intake.imap_server import PASSWORD, USER, DovecotServer, available

pytestmark = pytest.mark.skipif(available() is not None, reason=available() or "")


@pytest.fixture
def imap_server():
    server = DovecotServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def mailbox(db, settings, tmp_path, imap_server, manager):
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.MAILBOX_CA_FILE = str(imap_server.cert)
    box = Mailbox.load()
    box.enabled = True
    box.host = "127.0.0.1"
    box.port = imap_server.port
    box.username = USER
    box.password = PASSWORD
    box.save()
    return box


def letter(
    *,
    sender="Anna Petrova <anna@client.test>",
    subject="A new site",
    body="We need a shop.",
    message_id="<first@client.test>",
    headers=None,
    attachment=None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "hello@studio.test"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if attachment:
        message.add_attachment(
            attachment[1], maintype="application", subtype="pdf", filename=attachment[0]
        )
    return message.as_bytes()


def test_a_new_sender_opens_a_deal_with_the_letter_and_its_files(
    mailbox, imap_server, manager, settings
):
    imap_server.append(letter(attachment=("brief.pdf", b"%PDF-1.4 brief")))
    result = mailbox_service.poll_mailbox()
    assert result.processed == 1
    deal = Deal.objects.get()
    assert deal.source == Source.EMAIL and deal.stage_id == "new"
    assert deal.manager == manager
    assert deal.contact.email == "anna@client.test" and deal.contact.name == "Anna Petrova"
    note = Note.objects.get(deal=deal)
    assert "We need a shop." in note.text and "brief.pdf" in note.text
    stored = EmailAttachment.objects.get()
    assert stored.file.read() == b"%PDF-1.4 brief"
    assert stored.file.path.startswith(str(settings.PRIVATE_ROOT))
    # The manager hears about it as about a web lead.
    assert Outbox.objects.filter(to=manager.email, dedupe_key=f"deal-new:{deal.pk}").exists()
    # The mailbox got our keyword and nothing else: the message is still unread.
    assert imap_server.flags() == ["1 (FLAGS ($StudiocrmProcessed))"]


def test_a_reply_in_the_thread_lands_on_the_deal_and_tells_the_manager(
    mailbox, imap_server, manager
):
    imap_server.append(letter())
    mailbox_service.poll_mailbox()
    deal = Deal.objects.get()
    imap_server.append(
        letter(
            subject="Re: A new site",
            body="Here are the photos.",
            message_id="<second@client.test>",
            headers={"In-Reply-To": "<first@client.test>"},
        )
    )
    mailbox_service.poll_mailbox()
    assert Deal.objects.count() == 1
    assert Note.objects.filter(deal=deal, text__contains="Here are the photos.").exists()
    event = Event.objects.get(name="email.received")
    assert event.deal == deal
    assert Outbox.objects.filter(to=manager.email, dedupe_key=f"email-received:{event.pk}").exists()
    assert Notification.objects.filter(user=manager, deal=deal).exists()


def test_a_deal_reference_in_the_subject_or_a_reply_to_our_letter_finds_the_deal(
    mailbox, imap_server
):
    deal = DealFactory()
    sent = Outbox.objects.create(
        to="x@client.test", subject="Brief", body="…", deal=deal, dedupe_key="brief-1"
    )
    imap_server.append(letter(subject=f"Re: invoice [#D-{deal.pk}]", message_id="<a@c.test>"))
    imap_server.append(
        letter(
            subject="Re: your brief",
            message_id="<b@c.test>",
            headers={"References": f"<zzz@elsewhere.test> {sent.message_id}"},
        )
    )
    mailbox_service.poll_mailbox()
    assert Deal.objects.count() == 1
    assert InboundEmail.objects.filter(deal=deal, outcome="reply").count() == 2


def test_auto_replies_and_bounces_open_no_deals(mailbox, imap_server):
    imap_server.append(
        letter(message_id="<auto1@c.test>", headers={"Auto-Submitted": "auto-replied"})
    )
    imap_server.append(letter(message_id="<auto2@c.test>", headers={"X-Autoreply": "yes"}))
    imap_server.append(letter(message_id="<bulk@c.test>", headers={"Precedence": "bulk"}))
    imap_server.append(
        letter(
            sender="MAILER-DAEMON@mx.test",
            message_id="<bounce@c.test>",
            subject="Undelivered Mail Returned to Sender",
        )
    )
    report = (
        b"From: postmaster@mx.test\r\nTo: hello@studio.test\r\nSubject: Delivery failure\r\n"
        b"Message-ID: <report@mx.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
    )
    imap_server.append(report)
    mailbox_service.poll_mailbox()
    assert not Deal.objects.exists()
    outcomes = sorted(InboundEmail.objects.values_list("outcome", flat=True))
    assert outcomes == ["auto_reply", "auto_reply", "auto_reply", "bounce", "bounce"]


def test_koi8r_cp1251_and_broken_mime_are_kept_raw_and_reported(mailbox, imap_server):
    koi8 = (
        "From: =?koi8-r?B?7snLz8zByg==?= <nik@client.test>\r\nSubject: Site\r\n"
        "Message-ID: <koi@c.test>\r\nContent-Type: text/plain; charset=koi8-r\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nНужен сайт\r\n"
    ).encode("koi8-r")
    undeclared = (
        "From: olga@client.test\r\nSubject: Site\r\nMessage-ID: <cp@c.test>\r\n"
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nНужен магазин\r\n"
    ).encode("cp1251")
    broken = (
        b"From: ivan@client.test\r\nSubject: Broken\r\nMessage-ID: <broken@c.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all\r\n"
    )
    senderless = b"Subject: who am I\r\nMessage-ID: <nobody@c.test>\r\n\r\ntext\r\n"
    for raw in (koi8, undeclared, broken, senderless):
        imap_server.append(raw)
    mailbox_service.poll_mailbox()
    emails = {email.message_id: email for email in InboundEmail.objects.all()}
    assert "Нужен сайт" in Note.objects.get(deal=emails["<koi@c.test>"].deal).text
    assert emails["<koi@c.test>"].problem == ""
    assert "Нужен магазин" in Note.objects.get(deal=emails["<cp@c.test>"].deal).text
    assert "cp1251" in emails["<cp@c.test>"].problem
    assert emails["<broken@c.test>"].problem
    assert emails["<nobody@c.test>"].outcome == "malformed"
    assert emails["<nobody@c.test>"].deal is None
    for email in emails.values():
        assert email.raw.read()  # every message is kept as it came


def test_each_message_is_processed_once(mailbox, imap_server):
    imap_server.append(letter())
    imap_server.append(letter())  # the same letter twice (same Message-ID)
    mailbox_service.poll_mailbox()
    mailbox_service.poll_mailbox()
    assert Deal.objects.count() == 1
    assert InboundEmail.objects.count() == 1
    assert all("$StudiocrmProcessed" in flags for flags in imap_server.flags())


def test_the_seen_flag_can_mark_processed_messages(mailbox, imap_server):
    mailbox.processed_flag = "\\Seen"
    mailbox.save()
    imap_server.append(letter())
    mailbox_service.poll_mailbox()
    assert imap_server.flags() == ["1 (FLAGS (\\Seen))"]
    mailbox_service.poll_mailbox()
    assert Deal.objects.count() == 1


def test_the_server_going_away_mid_read_loses_and_doubles_nothing(
    mailbox, imap_server, monkeypatch
):
    imap_server.append(letter(message_id="<one@c.test>", sender="one@client.test"))
    imap_server.append(letter(message_id="<two@c.test>", sender="two@client.test"))
    real = mailbox_service.process_message

    def then_crash(raw, **kwargs):
        record = real(raw, **kwargs)
        imap_server.kill()  # after the first message commits, before its flag is set
        return record

    monkeypatch.setattr(mailbox_service, "process_message", then_crash)
    assert mailbox_service.poll_mailbox() is None
    assert Mailbox.load().last_error
    assert Deal.objects.count() == 1
    monkeypatch.setattr(mailbox_service, "process_message", real)
    imap_server.start()
    result = mailbox_service.poll_mailbox()
    assert (result.processed, result.skipped) == (1, 1)
    assert sorted(Deal.objects.values_list("contact__email", flat=True)) == [
        "one@client.test",
        "two@client.test",
    ]
    assert Mailbox.load().last_error == ""
    assert all("$StudiocrmProcessed" in flags for flags in imap_server.flags())


def test_a_wrong_password_or_an_untrusted_certificate_is_reported(mailbox, imap_server, settings):
    imap_server.append(letter())
    mailbox.password = "wrong"
    mailbox.save()
    assert mailbox_service.poll_mailbox() is None
    assert "AUTHENTICATIONFAILED" in Mailbox.load().last_error or Mailbox.load().last_error
    mailbox.password = PASSWORD
    mailbox.save()
    settings.MAILBOX_CA_FILE = ""
    assert mailbox_service.poll_mailbox() is None
    assert "CERTIFICATE_VERIFY_FAILED" in Mailbox.load().last_error
    assert not Deal.objects.exists()
    assert imap_server.flags() == ["1 (FLAGS (\\Recent))"]


def test_owner_saves_the_mailbox_with_the_password_encrypted(owner_client, manager_client, db):
    from django.db import connection

    data = {
        "enabled": "on",
        "host": "imap.studio.test",
        "port": "993",
        "username": "hello@studio.test",
        "password": "s3cret-pass",
        "folder": "INBOX",
        "processed_flag": "$StudiocrmProcessed",
    }
    assert manager_client.post("/lead/mailbox/", data).status_code == 403
    assert owner_client.post("/lead/mailbox/", data).status_code == 302
    box = Mailbox.load()
    assert box.password == "s3cret-pass"
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM intake_mailbox")
        assert "s3cret" not in cursor.fetchone()[0]
    owner_client.post("/lead/mailbox/", {**data, "password": ""})
    assert Mailbox.load().password == "s3cret-pass"
    bad = owner_client.post("/lead/mailbox/", {**data, "processed_flag": "x) (\\Deleted"})
    assert bad.status_code == 400
    page = owner_client.get("/lead/mailbox/")
    assert "s3cret" not in page.content.decode()


def test_an_oversized_message_is_not_downloaded_but_reported(mailbox, imap_server, settings):
    settings.MAILBOX_MAX_MESSAGE_BYTES = 4096
    imap_server.append(letter(attachment=("big.pdf", b"%PDF" + b"x" * 20_000)))
    result = mailbox_service.poll_mailbox()
    assert result.processed == 1
    record = InboundEmail.objects.get()
    assert record.outcome == "refused" and "over the limit" in record.problem
    assert record.from_address == "anna@client.test"
    assert len(record.raw.read()) < 4096  # the header only
    assert not Deal.objects.exists()
    assert imap_server.flags() == ["1 (FLAGS ($StudiocrmProcessed))"]
