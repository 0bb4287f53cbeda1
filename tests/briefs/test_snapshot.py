"""A sent brief keeps the questions it was sent with, whatever happens to the template."""

import pytest

from studiocrm.briefs import services
from studiocrm.briefs.models import Brief, BriefQuestion

pytestmark = pytest.mark.django_db


def test_editing_the_template_does_not_change_a_sent_brief(sent_brief, template_en, owner):
    before = Brief.objects.get(pk=sent_brief.pk).questions
    goal = template_en.questions.get(key="goal")
    data = {
        "section": goal.section,
        "key": "goal",
        "label": "Totally different question",
        "help": "",
        "type": "short_text",
        "options": [],
        "allow_other": False,
        "required": False,
        "show_if_key": "",
        "show_if_equals": "",
    }
    services.save_question(template_en, data, actor=owner, question=goal)
    services.delete_question(template_en.questions.get(key="comments"), actor=owner)
    section = template_en.sections.first()
    services.save_question(
        template_en, {**data, "key": "new_one", "section": section}, actor=owner, question=None
    )

    assert Brief.objects.get(pk=sent_brief.pk).questions == before
    assert services.snapshot_questions(template_en) != before


def test_deleting_the_template_keeps_the_sent_brief(sent_brief, template_en, owner):
    services.delete_template(template_en, actor=owner)
    brief = Brief.objects.get(pk=sent_brief.pk)
    assert brief.template is None
    assert brief.questions and brief.questions[0]["key"] == "company"
    services.save_answer(brief, "goal", "Still works")


def test_a_brief_sent_after_an_edit_gets_the_new_questions(deal, template_en, owner, manager):
    question = BriefQuestion.objects.get(template=template_en, key="goal")
    question.label = "Why a website?"
    question.save()
    brief = services.send_brief(deal, template_en, actor=manager)
    assert next(item for item in brief.questions if item["key"] == "goal")["label"] == (
        "Why a website?"
    )
