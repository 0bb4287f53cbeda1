"""Small layout rules of the deal page and the client pages that break easily: a required
star never wraps alone, package pickers are labelled, email addresses wrap after the "@"
inside fixed-width columns, numbers and phones do not wrap at their hyphens and spaces."""

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

from studiocrm.billing import services as billing_services
from studiocrm.deals.templatetags.deals_tags import email_address
from studiocrm.documents import services as document_services
from tests.documents.conftest import make_estimated_deal, restore_migration_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(manager, settings, tmp_path):
    """A deal with a saved estimate (see tests/documents/conftest.py)."""
    settings.PRIVATE_ROOT = tmp_path / "private"
    return make_estimated_deal(manager, restore_migration_data())


@pytest.fixture
def sent_proposal(deal, manager, django_capture_on_commit_callbacks):
    proposal = document_services.create_proposal(deal, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        document_services.send_document(proposal, actor=manager)
    return proposal


class _Form(forms.Form):
    project_name = forms.CharField(label="What should the new website achieve for you")


def test_a_required_fields_star_is_glued_to_its_label():
    html = render_to_string("core/form_fields.html", {"form": _Form()})

    assert 'achieve for you&nbsp;<span aria-hidden="true">*</span>' in html


def test_a_required_questions_star_is_glued_to_the_question_in_the_brief_panel():
    question = SimpleNamespace(
        visible=True,
        is_answered=True,
        missing=False,
        files=[],
        type="text",
        display="Orders",
        question={"label": "What should the site do?", "required": True},
    )
    section = SimpleNamespace(title="", has_answers_or_gaps=True, questions=[question])

    html = render_to_string(
        "briefs/_answers.html", {"sections": [section], "brief": SimpleNamespace(pk=1)}
    )

    # A word joiner between the "?" and the star: no line break may fall between them.
    assert 'site do?<span class="required" aria-hidden="true">&#8288;*</span>' in html
    assert '<span class="visually-hidden"> (required)</span>' in html


def test_the_estimate_panels_package_picker_has_a_visible_label(manager_client, deal):
    html = manager_client.get(deal.get_absolute_url()).content.decode()

    label = re.search(r'<label class="est-inline-label" for="(estimate-package-\d+)">', html)
    assert label is not None
    assert f'<select id="{label.group(1)}" name="package">' in html


def test_the_estimate_editors_package_picker_has_a_visible_label(manager_client, deal):
    estimate = deal.estimates.get()

    html = manager_client.get(reverse("estimates:edit", args=[estimate.pk])).content.decode()

    assert '<label class="est-inline-label" for="apply-package">' in html
    assert '<select id="apply-package" name="package">' in html


def test_an_email_address_may_break_only_after_its_at_sign():
    assert email_address("laura.callahan@northwind-traders.example") == (
        "laura.callahan@<wbr>northwind-traders.example"
    )
    assert email_address('<b>"x"@y.example') == "&lt;b&gt;&quot;x&quot;@<wbr>y.example"
    assert email_address("no-at-sign") == "no-at-sign"
    assert email_address("") == ""


def test_the_deal_page_wraps_addresses_in_fixed_columns(manager_client, sent_proposal):
    html = manager_client.get(sent_proposal.deal.get_absolute_url()).content.decode()

    assert 'class="table responsive compact messages-table"' in html
    assert '<col class="col-to">' in html
    assert '<td data-label="To" class="address">irina@<wbr>client.test</td>' in html
    assert '<a class="address" href="mailto:irina@client.test">irina@<wbr>client.test</a>' in html


def test_invoice_numbers_do_not_wrap_at_their_hyphen(manager_client, deal, manager):
    invoice = billing_services.create_invoice(
        deal,
        lines=[billing_services.LineInput("Design", Decimal(1), Decimal("100"))],
        actor=manager,
    )
    billing_services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    link = f'<a class="nowrap" href="{reverse("billing:detail", args=[invoice.pk])}">'

    invoices_page = manager_client.get(reverse("billing:list")).content.decode()
    deal_page = manager_client.get(deal.get_absolute_url()).content.decode()

    assert f"{link}{invoice.number}</a>" in invoices_page
    assert f"{link}{invoice.number}</a>" in deal_page


def test_the_client_pages_footer_keeps_the_phone_number_whole(anonymous_client, sent_proposal):
    from studiocrm.core.models import Studio

    studio = Studio.load()
    studio.phone = "+7 495 000-12-34"
    studio.save(update_fields=["phone"])

    html = anonymous_client.get(document_services.client_path(sent_proposal)).content.decode()

    assert '<a class="nowrap" href="tel:+7 495 000-12-34">+7 495 000-12-34</a>' in html
