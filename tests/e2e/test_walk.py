"""The walk: one lead from the public form to a paid deposit, in Russian and in English, at a
phone's width and a desktop's, looked at screen by screen as a studio owner would.

Each run has a client (never logs in, only follows the links in the studio's emails, read
from the mail an aiosmtpd server on 127.0.0.1 received) and a manager. The Russian run puts
the client on a 390×844 phone and the manager on a 1366×900 desktop; the English run the other
way round. Every screen is also opened again at the other width in a second page of the same
browser context, so both widths of every screen are seen.

At every screen: a full-page screenshot into ``test-artifacts/walk/<lang>-<width>/`` (always),
and axe-core (pinned in package.json, read from node_modules) finds no serious or critical
violation. Along the way: each client document adds up on the page and in its PDF, the
payment QR decodes to the same payload on the page and in the PDF, Russian pages show no UTC
time and no dot-decimal money, no cut project title reaches the client, and every email the
client gets is in the client's language.

The Russian client pays by bank transfer (the manager records it); the English one by card
through the Stripe stand-in of tests/billing/standins.py (the edge of the machine).

    .venv/bin/python -m pytest tests/e2e/test_walk.py
"""

from __future__ import annotations

import logging
import re
import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice, ProviderAccount
from studiocrm.briefs.models import Brief
from studiocrm.core.models import Studio
from studiocrm.deals.models import IN_WORK, Deal
from studiocrm.documents.models import Document, Kind, PdfFile
from studiocrm.documents.pdf import render_pdf_file
from studiocrm.notifications import outbox
from tests.billing.conftest import STRIPE_KEY, STRIPE_WEBHOOK_SECRET
from tests.billing.qr_scan import decode_qr, pdf_page_png
from tests.billing.standins import StripeStandIn
from tests.conftest import logged_in
from tests.documents.test_documents_add_up import tables_of
from tests.e2e.sales_path_support import (
    DESKTOP,
    PHONE,
    Problems,
    ServerErrors,
    WalkShots,
    document_figures,
    fill_company_details,
    invoice_figures,
    pdf_text,
    printed_in_order,
    russian_reading_problems,
    russian_studio,
)
from tests.e2e.test_payment import wait_for_stored_event
from tests.factories import UserFactory, with_authenticator
from tests.migration_data import restore_migration_data
from tests.notifications.conftest import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests.factories.UserFactory

PEOPLE = {
    "ru": {
        "name": "Анна Петрова",
        "email": "anna@roga-kopyta.test",
        "company": "Рога и копыта",
        "message": (
            "Здравствуйте! Нужен интернет-магазин фермерских продуктов: каталог, корзина,"
            " оплата картой, доставка по Москве и области в течение дня"
        ),
        "details": {
            "legal_name": "ООО «Рога и копыта»",
            "tax_id": "7707083893",
            "address": "Москва, ул. Садовая, д. 5",
            "signatory_name": "Петрова Анна Сергеевна",
            "signatory_position": "Генеральный директор",
            "signatory_basis": "Устав",
        },
    },
    "en": {
        "name": "Anna Peters",
        "email": "anna@horns-hoofs.test",
        "company": "Horns & Hoofs",
        "message": (
            "Hello! We need an online shop for farm produce: a catalogue, a cart, card"
            " payments and same-day delivery across the county for our regular customers"
        ),
        "details": {
            "legal_name": "Horns & Hoofs Ltd",
            "tax_id": "GB123456789",
            "address": "1 Market Street, Bristol",
            "signatory_name": "Anna Peters",
            "signatory_position": "Director",
            "signatory_basis": "Articles of association",
        },
    },
}


def english_studio() -> Studio:
    """A studio that works in English and in euro, VAT added on top."""
    studio = russian_studio()
    studio.name = "Pixel Web Studio"
    studio.legal_name = "Pixel Studio GmbH"
    studio.address = "Torstraße 1, Berlin"
    studio.bank_name = "Commerzbank"
    studio.bank_account = "DE89 3704 0044 0532 0130 00"
    studio.bank_code = "COBADEFFXXX"
    studio.correspondent_account = ""
    studio.default_currency = "EUR"
    studio.locale = "en"
    studio.time_zone = "Europe/Berlin"
    studio.tax_mode = Studio.TaxMode.VAT_ON_TOP
    studio.vat_rate = Decimal("19")
    studio.save()
    return studio


@pytest.fixture
def smtp(settings):
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every connection
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield server
    server.stop()


@pytest.fixture
def server_errors():
    handler = ServerErrors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def stripe(settings, live_server):
    server = StripeStandIn(api_key=STRIPE_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET).start()
    server.webhook_url = f"{live_server.url}{reverse('billing_client:webhook', args=['stripe'])}"
    settings.STRIPE_API_BASE = server.base_url
    yield server
    server.stop()


class Walk:
    """What one run carries: the language, the pages, the screenshots and the checks."""

    def __init__(self, language, base, shots, client, desk):
        self.language = language
        self.base = base
        self.shots = shots
        self.client = client
        self.desk = desk
        self.reading: list[str] = []

    def t(self, text: str, **params) -> str:
        with translation.override(self.language):
            said = translation.gettext(text)
        return said % params if params else said

    def shot(self, page, name: str, **kwargs) -> bytes:
        # Where each step's browser problems start, for the report if any are found.
        print(f"step {name}: {len(self.problems.items)} problems before")  # noqa: T201
        image = self.shots(page, name, **kwargs)
        if self.language == "ru":
            for found in russian_reading_problems(page.locator("body").inner_text()):
                self.reading.append(f"{name}: {found!r} on {page.url}")
        return image

    def client_link(self, path: str) -> str:
        """The newest link under ``path`` in the mail the client received."""
        found = []
        for message in self.mail_to_client():
            body = message.get_body(preferencelist=("plain",)).get_content()
            found += re.findall(re.escape(self.base + path) + r"[^\s<>\"')\]]*", body)
        assert found, f"no {path} link in the client's mail"
        return found[-1]

    def client_links(self, path: str) -> list[str]:
        message = self.mail_to_client()[-1]
        body = message.get_body(preferencelist=("plain",)).get_content()
        found = re.findall(re.escape(self.base + path) + r"[^\s<>\"')\]]*", body)
        return list(dict.fromkeys(found))

    def mail_to_client(self):
        outbox.deliver_due()
        email = PEOPLE[self.language]["email"]
        return [message for message in self.smtp.received if email in message["To"]]


def check_document(walk: Walk, page, document: Document) -> None:
    """The document on the client's page adds up, and its PDF prints the same figures."""
    html = page.locator("article.doc").inner_html()
    document_figures(html)
    printed = [
        " ".join(row[-1].replace("\u00a0", " ").split())
        for table in tables_of(html)[-1:]
        for row in table["lines"] + table["sums"]
    ]
    text = pdf_text(fetch_pdf(page, f"{walk.base}{urlpath(page.url)}pdf/"))
    assert printed_in_order(printed, text), (document.kind, printed, text[:2000])
    assert document.title in text or document.title in page.locator("h1").inner_text()


def fetch_pdf(page, url: str) -> bytes:
    """The PDF behind a download link: made by a task, a "preparing…" page until then."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = page.context.request.get(url)
        assert answer.ok, (url, answer.status)
        if answer.headers.get("content-type", "").startswith("application/pdf"):
            return answer.body()
        # Be the worker: render what the request enqueued (the test's task backend only
        # records tasks).
        for waiting in PdfFile.objects.filter(status=PdfFile.Status.PENDING):
            render_pdf_file(waiting.pk)
    raise AssertionError(f"no PDF at {url}")


def urlpath(url: str) -> str:
    """The path of a page's URL without its query."""
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0]


@pytest.mark.parametrize(
    ("language", "client_width", "manager_width"),
    [("ru", PHONE, DESKTOP), ("en", DESKTOP, PHONE)],
    ids=["ru", "en"],
)
def test_the_walk_from_a_lead_to_a_paid_deposit(
    live_server,
    browser,
    settings,
    smtp,
    stripe,
    server_errors,
    language,
    client_width,
    manager_width,
):
    from playwright.sync_api import expect

    settings.BASE_URL = live_server.url
    restore_migration_data()
    russian_studio() if language == "ru" else english_studio()
    cache.clear()
    manager = UserFactory(
        username="manager",
        role="manager",
        language=language,
        first_name="Ирина" if language == "ru" else "Irene",
        last_name="Смирнова" if language == "ru" else "Smith",
    )
    person = PEOPLE[language]
    if language == "ru":
        ProviderAccount.objects.update_or_create(
            provider="bank_transfer", defaults={"enabled": True}
        )
    else:
        ProviderAccount.objects.update_or_create(
            provider="stripe",
            defaults={
                "enabled": True,
                "secret_key": STRIPE_KEY,
                "webhook_secret": STRIPE_WEBHOOK_SECRET,
            },
        )
        ProviderAccount.objects.update_or_create(
            provider="bank_transfer", defaults={"enabled": True}
        )
    base = live_server.url
    shots = WalkShots(language, {"client": client_width, "manager": manager_width})
    problems = Problems()
    locale = "ru-RU" if language == "ru" else "en-GB"
    phone_flags = {"is_mobile": True, "has_touch": True}
    client_context = browser.new_context(
        viewport=client_width, locale=locale, **(phone_flags if client_width == PHONE else {})
    )
    manager_context = browser.new_context(
        viewport=manager_width, locale=locale, **(phone_flags if manager_width == PHONE else {})
    )
    problems.watch(client_context, "client")
    problems.watch(manager_context, "manager")
    client = client_context.new_page()
    desk = manager_context.new_page()
    walk = Walk(language, base, shots, client, desk)
    walk.smtp = smtp
    walk.problems = problems
    t = walk.t

    # 1. The lead form. --------------------------------------------------------------------
    client.goto(f"{base}/lead/?lang={language}")
    client.locator("input[name=name]").fill(person["name"])
    client.locator("input[name=email]").fill(person["email"])
    client.locator("input[name=phone]").fill("+7 916 123-45-67")
    client.locator("input[name=company]").fill(person["company"])
    client.locator("textarea[name=message]").fill(person["message"])
    walk.shot(client, "client-lead-form")
    client.locator("button[type=submit]").click()
    client.wait_for_url("**/lead/thanks/**")
    expect(client.locator("h1")).to_have_text(t("Thank you! Your request has been sent."))
    walk.shot(client, "client-lead-thanks")
    deal = Deal.objects.get()
    deal_link = f"{base}{deal.get_absolute_url()}"

    # 2. The manager logs in from the deal link and sends the brief. ----------------------
    desk.goto(deal_link)
    walk.shot(desk, "manager-login", twin=False)
    desk.fill("#id_username", manager.username)
    desk.fill("#id_password", PASSWORD)
    desk.get_by_role("button", name=t("Log in")).click()
    desk.wait_for_url(deal_link)
    walk.shot(desk, "manager-deal-new")
    brief_panel = desk.locator("#brief-panel")
    store = "Интернет-магазин (RU)" if language == "ru" else "Online store (EN)"
    brief_panel.get_by_label(t("Brief template")).select_option(label=store)
    brief_panel.get_by_role("button", name=t("Send the brief")).click()
    desk.wait_for_url(re.compile(r"/briefs/\d+/$"))
    walk.shot(desk, "manager-brief-sent")
    brief = Brief.objects.get(deal=deal)
    assert brief.language == language

    client.goto(walk.client_link("/c/b/"))
    client.fill("#id-company", person["company"])
    client.fill("#id-activity", "Farm produce" if language == "en" else "Фермерские продукты")
    client.fill("#id-goal", "Sell online" if language == "en" else "Продажи онлайн")
    client.fill("#id-products_count", "150")
    for page_type in ("home", "about", "catalog", "product", "cart", "checkout", "contacts"):
        client.check(f"input[name=q_pages][value={page_type}]")
    for feature in ("catalog", "cart", "online_payment", "search"):
        client.check(f"input[name=q_features][value={feature}]")
    client.check("input[name=q_content_ready][value=partial]")
    budget = "300k_700k" if language == "ru" else "15k_40k"
    client.check(f'input[name=q_budget][value="{budget}"]')
    for key in ("company", "products_count", "pages", "features", "content_ready", "budget"):
        expect(client.locator(f"#status-{key} .saved")).to_be_visible()
    client.wait_for_load_state("networkidle")
    walk.shot(client, "client-brief")
    client.get_by_role("button", name=t("Send answers")).click()
    client.wait_for_url("**/thanks/")
    walk.shot(client, "client-brief-thanks")

    # 3. The estimate, drafted from the brief, with a discount on the option. -------------
    desk.goto(deal_link)
    walk.shot(desk, "manager-deal-brief")
    desk.get_by_role("button", name=t("Draft from brief")).click()
    desk.wait_for_url(re.compile(r"/estimates/\d+/"))
    # The package picker offers what the brief asked for, not the first package.
    expect(desk.locator("#apply-package option:checked")).to_have_text(
        "Интернет-магазин" if language == "ru" else "Online store"
    )
    walk.shot(desk, "manager-estimate-draft")
    bar = desk.locator(".est-option-bar")
    bar.locator("input[name=discount_percent]").fill("10")
    bar.get_by_role("button", name=t("Apply")).click()
    expect(desk.locator("#totals")).to_contain_text("10")
    desk.get_by_role("button", name=re.compile(f"^{t('Save estimate')}$")).click()
    expect(desk.locator(".message.success")).to_be_visible()
    walk.shot(desk, "manager-estimate-saved")

    # 4. The proposal. --------------------------------------------------------------------
    desk.goto(deal_link)
    desk.locator("#documents-panel").get_by_role("button", name=t("Create proposal")).click()
    desk.wait_for_url(re.compile(r"/documents/\d+/$"))
    proposal = Document.objects.get(deal=deal, kind=Kind.PROPOSAL)
    walk.shot(desk, "manager-proposal")
    desk.get_by_role("button", name=t("Send to the client")).click()
    expect(desk.locator(".message.success")).to_be_visible()
    deal.refresh_from_db()
    # The deal's own title is cut from the long first message; the client never sees it.
    assert deal.title.endswith("…"), deal.title
    title = deal.project_title()
    assert title and "…" not in title, title
    assert "…" not in proposal.title and deal.title not in proposal.title, proposal.title

    client.goto(walk.client_link("/c/doc/"))
    expect(client.locator(".doc-toolbar h1")).to_have_text(proposal.title)
    check_document(walk, client, proposal)
    walk.shot(client, "client-proposal")
    client.fill("#id_name", person["name"])
    client.fill("#id_email", person["email"])
    client.check("#id_consent")
    client.locator("#accept-button").click()
    client.wait_for_url(re.compile(r"done=accepted"))
    walk.shot(client, "client-proposal-accepted")

    # 5. The contract and its appendix: details from the client, one signature. ----------
    contract = Document.objects.get(deal=deal, kind=Kind.CONTRACT)
    appendix = Document.objects.get(deal=deal, kind=Kind.APPENDIX)
    desk.goto(deal_link)
    walk.shot(desk, "manager-deal-accepted")
    panel = desk.locator("#documents-panel")
    panel.locator("li", has_text=contract.title).get_by_role(
        "button", name=t("Send"), exact=True
    ).click()
    expect(desk.locator("#missing-details")).to_be_visible()
    walk.shot(desk, "manager-contract-warning", twin=False)
    desk.get_by_role("button", name=t("Send anyway, the client fills them in")).click()
    expect(desk.locator(".message.success")).to_be_visible()

    contract_link, appendix_link = walk.client_links("/c/doc/")
    client.goto(contract_link)
    walk.shot(client, "client-contract")
    fill_company_details(client, person["details"])
    client.wait_for_url(re.compile(r"done=details"))
    walk.shot(client, "client-contract-details")
    client.check("#id_consent")
    client.locator("#accept-button").click()
    client.wait_for_url(re.compile(r"done=accepted"))
    walk.shot(client, "client-contract-signed")
    client.goto(appendix_link)
    check_document(walk, client, appendix)
    walk.shot(client, "client-appendix")

    # 6. The deposit invoice. -------------------------------------------------------------
    desk.goto(deal_link)
    walk.shot(desk, "manager-deal-signed")
    desk.locator(".billing-steps li").first.get_by_role("button", name=t("Issue invoice")).click()
    desk.wait_for_url(re.compile(r"/billing/\d+/$"))
    invoice = Invoice.objects.get(deal=deal)
    walk.shot(desk, "manager-invoice")

    client.goto(walk.client_link("/c/pay/"))
    sheet = client.locator(".document-sheet")
    rows = sheet.locator("table.lines tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    totals = sheet.locator("table.totals tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    invoice_figures(rows, totals)
    image = walk.shot(client, "client-invoice")
    payload = decode_qr(image)
    assert len(payload) == 1, payload
    invoice_pdf = fetch_pdf(client, f"{base}{urlpath(client.url)}pdf/")
    assert decode_qr(pdf_page_png(invoice_pdf)) == payload
    pdf_words = pdf_text(invoice_pdf)
    for cells in totals:
        assert " ".join(cells[-1].replace("\u00a0", " ").split()) in pdf_words, cells

    if language == "ru":
        client.get_by_role("button", name=t("Pay by bank transfer")).click()
        client.wait_for_url("**/bank-transfer/")
        assert decode_qr(walk.shot(client, "client-bank-transfer")) == payload
        # The transfer arrives; the manager records it.
        desk.reload()
        desk.get_by_role("link", name=t("Confirm transfer received")).click()
        walk.shot(desk, "manager-record-payment", twin=False)
        desk.locator("main form button[type=submit]").last.click()
        desk.wait_for_url(re.compile(r"/billing/\d+/$"))
    else:
        client.get_by_role("button", name=re.compile("Stripe")).click()
        client.wait_for_url(f"{stripe.base_url}/c/pay/cs_*")
        client.get_by_role("button", name="Pay now").click()
        client.wait_for_url(re.compile(r"/paid/"))
        # The stand-in posts the signed webhook a moment later; be the worker that applies it.
        assert payments.process_stored_event(wait_for_stored_event().pk) == "applied"
        # The return page asks again every 3 seconds.
        expect(client.get_by_role("heading", name=t("Payment received"))).to_be_visible(
            timeout=10_000
        )
        walk.shot(client, "client-payment-received")
    walk.shot(desk, "manager-invoice-paid")
    invoice.refresh_from_db()
    deal.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert deal.stage_id == IN_WORK
    desk.goto(deal_link)
    walk.shot(desk, "manager-deal-in-work")

    # 7. The owner's rules for drafts read as words, not codes. ---------------------------
    owner = UserFactory(username="owner", role="owner", language=language)
    with_authenticator(owner)
    session = logged_in(owner).cookies[settings.SESSION_COOKIE_NAME].value
    owner_context = browser.new_context(viewport=manager_width, locale=locale)
    owner_context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
    )
    owner_page = owner_context.new_page()
    owner_page.goto(f"{base}/estimates/rules/")
    rules_text = owner_page.locator("main").inner_text()
    for code in ("products_count", "content_ready", "payment_integration", "online_store"):
        assert code not in rules_text, code
    walk.shot(owner_page, "owner-rules")
    owner_context.close()

    # What the client received: every email in the client's language, no cut title. -----
    mail = walk.mail_to_client()
    assert len(mail) >= 5, [message["Subject"] for message in mail]
    for message in mail:
        text = message["Subject"] + "\n" + message.get_body(("plain",)).get_content()
        cyrillic = len(re.findall(r"[а-яё]", text, re.IGNORECASE))
        latin_words = re.findall(r"\b(?:the|and|your|invoice|please|hello|dear)\b", text, re.I)
        if language == "ru":
            assert cyrillic > 40 and not latin_words, (message["Subject"], latin_words)
            assert not russian_reading_problems(text), (message["Subject"], text)
        else:
            assert cyrillic == 0, (message["Subject"], text)
        assert "…" not in message["Subject"], message["Subject"]
        assert deal.title not in text, (message["Subject"], deal.title)

    assert walk.reading == [], "\n".join(walk.reading)
    assert shots.violations == [], "\n".join(shots.violations)
    assert problems.items == [], "\n".join(problems.items)
    assert server_errors.records == [], "\n".join(server_errors.records)
