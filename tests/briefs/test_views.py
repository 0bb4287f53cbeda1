"""Manager-side pages: the deal panel, answers, PDF, send/reopen, the template editor."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from studiocrm.briefs import services
from studiocrm.briefs.models import Brief, BriefQuestion, BriefTemplate
from studiocrm.briefs.panels import brief_panel
from studiocrm.deals.models import BRIEF_SENT, NEW, Deal
from studiocrm.notifications.models import Outbox
from tests.briefs.conftest import fill_required

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def panel_html(user, deal):
    request = RequestFactory().get(deal.get_absolute_url())
    request.user = user
    return brief_panel(request, deal)


# ---------------------------------------------------------------- panel


def test_the_panel_offers_the_send_form_with_the_suggested_template(manager, deal, studio):
    html = panel_html(manager, deal)
    suggested = services.suggested_template(deal)
    assert reverse("briefs:send", args=[deal.pk]) in html
    assert f'value="{suggested.pk}" selected' in html
    assert deal.contact.email in html


def test_the_panel_is_read_only_for_another_manager(other_manager, deal):
    html = panel_html(other_manager, deal)
    assert reverse("briefs:send", args=[deal.pk]) not in html


def test_the_panel_shows_answers_and_flags_missing_required_ones(manager, sent_brief):
    services.save_answer(sent_brief, "goal", "Sell <b>cakes</b>")
    html = panel_html(manager, sent_brief.deal)
    assert "Sell &lt;b&gt;cakes&lt;/b&gt;" in html
    assert "required, not answered" in html
    assert reverse("briefs:pdf", args=[sent_brief.pk]) in html


def test_the_panel_offers_reopening_a_submitted_brief(manager, sent_brief):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    html = panel_html(manager, sent_brief.deal)
    assert reverse("briefs:reopen", args=[sent_brief.pk]) in html
    assert "required, not answered" not in html


def test_the_panel_query_count_does_not_grow_with_briefs_and_files(
    manager, sent_brief, template_ru, django_assert_num_queries
):
    deal = Deal.objects.get(pk=sent_brief.deal_id)
    with CaptureQueriesContext(connection) as one_brief:
        panel_html(manager, deal)
    for _ in range(3):
        brief = services.send_brief(deal, template_ru, actor=manager)
        for number in range(2):
            services.attach_file(brief, "brand_files", SimpleUploadedFile(f"{number}.png", PNG))
    deal = Deal.objects.get(pk=deal.pk)
    with django_assert_num_queries(len(one_brief)):
        panel_html(manager, deal)


# ---------------------------------------------------------------- send and reopen


def test_sending_from_the_deal_page(manager_client, deal, template_en):
    response = manager_client.post(
        reverse("briefs:send", args=[deal.pk]),
        {"template": template_en.pk, "email": "owner@bakery.test"},
    )
    brief = Brief.objects.get(deal=deal)
    assert response.status_code == 302
    assert response["Location"] == brief.get_absolute_url()
    assert brief.sent_to == "owner@bakery.test"
    deal.refresh_from_db()
    assert deal.stage_id == BRIEF_SENT


def test_another_manager_cannot_send_from_the_deal_page(other_manager_client, deal, template_en):
    response = other_manager_client.post(
        reverse("briefs:send", args=[deal.pk]), {"template": template_en.pk, "email": "a@b.test"}
    )
    assert response.status_code == 302
    assert not Brief.objects.exists()
    deal.refresh_from_db()
    assert deal.stage_id == NEW


def test_sending_with_a_bad_email_sends_nothing(manager_client, deal, template_en):
    manager_client.post(
        reverse("briefs:send", args=[deal.pk]), {"template": template_en.pk, "email": "nope"}
    )
    assert not Brief.objects.exists()


def test_anonymous_visitors_cannot_send_or_read(anonymous_client, deal, sent_brief, template_en):
    send = anonymous_client.post(
        reverse("briefs:send", args=[deal.pk]), {"template": template_en.pk, "email": "a@b.test"}
    )
    assert send.status_code == 302 and "/login/" in send["Location"]
    assert Brief.objects.count() == 1
    for name in ("detail", "pdf"):
        response = anonymous_client.get(reverse(f"briefs:{name}", args=[sent_brief.pk]))
        assert "/login/" in response["Location"]


def test_reopening_from_the_answers_page(manager_client, sent_brief):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    manager_client.post(
        reverse("briefs:reopen", args=[sent_brief.pk]), {"comment": "Please add the budget"}
    )
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.REOPENED
    assert Outbox.objects.filter(dedupe_key=f"brief-reopened:{sent_brief.pk}:1").exists()


def test_another_manager_cannot_reopen_or_revoke(other_manager_client, sent_brief):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    other_manager_client.post(
        reverse("briefs:reopen", args=[sent_brief.pk]), {"comment": "Add more"}
    )
    other_manager_client.post(reverse("briefs:revoke", args=[sent_brief.pk]))
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.SUBMITTED
    assert sent_brief.revoked_at is None


def test_the_answers_page_shows_the_link_only_to_who_may_edit(
    manager_client, other_manager_client, sent_brief
):
    link = services.client_link(sent_brief)
    assert link in manager_client.get(sent_brief.get_absolute_url()).content.decode()
    other = other_manager_client.get(sent_brief.get_absolute_url())
    assert other.status_code == 200
    assert link not in other.content.decode()


def test_the_manager_downloads_client_files(manager_client, anonymous_client, sent_brief):
    png = PNG
    services.attach_file(sent_brief, "brand_files", SimpleUploadedFile("logo.png", png))
    stored = sent_brief.files.get()
    url = reverse("briefs:file", args=[sent_brief.pk, stored.pk])
    response = manager_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == png
    assert "/login/" in anonymous_client.get(url)["Location"]


# ---------------------------------------------------------------- PDF


def test_the_pdf_contains_the_answers_in_cyrillic(manager_client, deal, manager, template_ru):
    brief = services.send_brief(deal, template_ru, actor=manager)
    services.save_answer(brief, "company", "Пекарня «Колобок»")
    services.save_answer(brief, "features", ["catalog", "multilingual"])
    services.save_answer(brief, "has_brandbook", "no")
    response = manager_client.get(reverse("briefs:pdf", args=[brief.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Пекарня «Колобок»" in text
    assert "Название компании или проекта" in text
    assert "Несколько языков" in text
    assert "Нет" in text  # yes/no in the brief's language, whatever the manager's is


# ---------------------------------------------------------------- template editor


def test_only_owners_edit_templates(manager_client, owner_client, template_en):
    for name, args in (("templates", []), ("template_edit", [template_en.pk])):
        assert manager_client.get(reverse(f"briefs:{name}", args=args)).status_code == 403
        assert owner_client.get(reverse(f"briefs:{name}", args=args)).status_code == 200
    manager_client.post(reverse("briefs:template_delete", args=[template_en.pk]))
    assert BriefTemplate.objects.filter(pk=template_en.pk).exists()


def test_the_owner_adds_a_choice_question(owner_client, template_en):
    section = template_en.sections.first()
    response = owner_client.post(
        reverse("briefs:question_create", args=[template_en.pk]),
        {
            "section": section.pk,
            "label": "Hosting",
            "type": "single_choice",
            "options": "ours | Your hosting\nНаш сервер",
            "allow_other": "on",
            "required": "on",
            "key": "",
            "show_if_key": "",
            "show_if_equals": "",
            "help": "",
        },
    )
    assert response.status_code == 302
    question = BriefQuestion.objects.get(template=template_en, key="hosting")
    assert question.options == [
        {"value": "ours", "label": "Your hosting"},
        {"value": "nash_server", "label": "Наш сервер"},
    ]
    assert question.section == section
    assert question.position == section.questions.count() - 1


def test_a_question_key_must_be_unique_in_the_template(owner_client, template_en):
    response = owner_client.post(
        reverse("briefs:question_create", args=[template_en.pk]),
        {
            "section": template_en.sections.first().pk,
            "label": "Aim",
            "type": "short_text",
            "key": "goal",
        },
    )
    assert response.status_code == 200
    assert "already uses this key" in response.content.decode()
    assert template_en.questions.filter(key="goal").count() == 1


def test_a_condition_may_only_refer_to_an_earlier_question(owner_client, template_en):
    first = template_en.questions.order_by("section__position", "position").first()
    response = owner_client.post(
        reverse("briefs:question_edit", args=[template_en.pk, first.pk]),
        {
            "section": first.section_id,
            "label": first.label,
            "type": first.type,
            "key": first.key,
            "show_if_key": "deadline",
            "show_if_equals": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert "earlier questions" in response.content.decode()
    first.refresh_from_db()
    assert first.show_if_key == ""


def test_drag_and_drop_reorders_questions(owner_client, template_en):
    section = template_en.sections.first()
    ids = list(section.questions.order_by("position").values_list("pk", flat=True))
    new_order = [ids[1], ids[0], *ids[2:]]
    response = owner_client.post(
        reverse("briefs:questions_reorder", args=[template_en.pk]),
        {"order": json.dumps([[pk, section.pk] for pk in new_order])},
    )
    assert response.status_code == 200
    assert list(section.questions.order_by("position").values_list("pk", flat=True)) == new_order


def test_a_reorder_that_breaks_a_condition_is_refused(owner_client, template_en):
    structure = template_en.questions.order_by("section__position", "position")
    order = [[item.pk, item.section_id] for item in structure]
    has_brandbook = next(i for i, item in enumerate(structure) if item.key == "has_brandbook")
    order[has_brandbook], order[has_brandbook + 1] = order[has_brandbook + 1], order[has_brandbook]
    response = owner_client.post(
        reverse("briefs:questions_reorder", args=[template_en.pk]), {"order": json.dumps(order)}
    )
    assert response.status_code == 409
    keys = list(structure.values_list("key", flat=True))
    assert keys.index("has_brandbook") < keys.index("brand_files")


def test_garbage_reorder_is_a_bad_request(owner_client, template_en):
    response = owner_client.post(
        reverse("briefs:questions_reorder", args=[template_en.pk]), {"order": "[[1, 'x'"}
    )
    assert response.status_code == 400


def test_removing_a_question_others_depend_on_is_refused(owner_client, template_en):
    parent = template_en.questions.get(key="has_brandbook")
    owner_client.post(reverse("briefs:question_delete", args=[template_en.pk, parent.pk]))
    assert template_en.questions.filter(key="has_brandbook").exists()


def test_the_preview_shows_the_client_form_without_saving(owner_client, template_ru):
    response = owner_client.get(reverse("briefs:template_preview", args=[template_ru.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Какую задачу должен решать сайт?" in html
    assert "hx-post" not in html
    assert "disabled" in html


def test_the_owner_creates_and_duplicates_a_template(owner_client):
    response = owner_client.post(
        reverse("briefs:template_create"),
        {"name": "Mobile app", "language": "en", "intro": "", "is_active": "on"},
    )
    template = BriefTemplate.objects.get(name="Mobile app")
    assert response["Location"] == template.get_absolute_url()
    owner_client.post(reverse("briefs:template_duplicate", args=[template.pk]))
    assert BriefTemplate.objects.filter(name__startswith="Mobile app").count() == 2
