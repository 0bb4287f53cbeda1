"""The template editor (issue 9): side by side with a live preview, placeholders inserted from
the reference list, errors pointed at their line; the same editor for an owner's template and
a manager's document."""

import pytest
from django.urls import reverse

from studiocrm.documents import defaults
from studiocrm.documents.models import DocumentTemplate, Kind
from studiocrm.documents.reference import insert_text, placeholder_rows


@pytest.mark.parametrize(
    ("path", "options", "inserted"),
    [
        ("client.name", {}, "{{ client.name }}"),
        ("totals.total_in_words", {}, "{{ totals.total_in_words }}"),
        ("chosen.lines[]", {"is_list": True}, "{% for line in chosen.lines %}\n  \n{% endfor %}"),
        (
            "payment_schedule[]",
            {"is_list": True},
            "{% for step in payment_schedule %}\n  \n{% endfor %}",
        ),
        ("estimate.options[].name", {}, "{{ option.name }}"),
        (
            "estimate.options[].lines[]",
            {"is_list": True},
            "{% for line in option.lines %}\n  \n{% endfor %}",
        ),
        ("estimate.options[].lines[].name", {}, "{{ line.name }}"),
        ("brief.by_key.get('goal')", {}, "{{ brief.by_key.get('goal') }}"),
        ("client", {"is_mapping": True}, ""),
    ],
)
def test_each_placeholder_inserts_what_the_author_would_type(path, options, inserted):
    assert insert_text(path, **options) == inserted


@pytest.fixture
def proposal_template(owner_client):
    owner_client.get(reverse("documents:template_list"))
    return DocumentTemplate.objects.get(kind=Kind.PROPOSAL, language="en")


def test_every_inserted_placeholder_renders_against_the_sample(proposal_template):
    from studiocrm.documents.sandbox import render_source

    sample = defaults.sample_context(Kind.PROPOSAL, "en")
    rows = [row for row in placeholder_rows(sample) if row["insert"]]
    assert len(rows) > 50
    top_level = [row["insert"] for row in rows if "[]" not in row["path"]]
    render_source("\n".join(top_level), sample)  # raises TemplateProblem if one is wrong
    loops = [
        row["insert"] for row in rows if row["path"].count("[]") == 1 and row["path"].endswith("[]")
    ]
    render_source("\n".join(loops), sample)
    nested = insert_text("estimate.options[].lines[]", is_list=True).replace(
        "\n  \n", "{{ line.name }}|"
    )
    names = render_source("{% for option in estimate.options %}" + nested + "{% endfor %}", sample)
    first_line = sample["estimate"]["options"][0]["lines"][0]["name"]
    assert first_line in names


def test_the_template_editor_is_side_by_side_with_a_live_preview(owner_client, proposal_template):
    response = owner_client.get(reverse("documents:template_edit", args=[proposal_template.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'class="editor-grid" data-editor' in content
    assert 'id="preview-column"' in content and 'aria-labelledby="preview-heading"' in content
    preview_url = reverse("documents:template_preview", args=[proposal_template.pk])
    assert f'hx-post="{preview_url}"' in content
    assert 'hx-trigger="load, input delay:600ms from:[data-preview-input]"' in content
    assert 'hx-sync="this:replace"' in content  # a newer keystroke cancels the older preview
    assert 'role="status"' in content and "Updating the preview…" in content
    assert 'data-insert="{{ client.name }}"' in content
    assert 'aria-label="Insert client.name"' in content
    assert '<label class="visually-hidden" for="placeholder-filter">' in content
    assert "documents/editor.js" in content


def test_a_preview_problem_names_its_line_and_shows_it(owner_client, proposal_template):
    response = owner_client.post(
        reverse("documents:template_preview", args=[proposal_template.pk]),
        {"source": "<p>ok</p>\n<p>{{ client.nmae }}</p>"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-problem-line="2"' in content
    assert "Line 2:" in content
    assert (
        '<span class="problem-line-number">2</span> &lt;p&gt;{{ client.nmae }}&lt;/p&gt;' in content
    )
    assert 'data-goto-line="2"' in content and "Go to line 2" in content


def test_a_syntax_error_on_save_keeps_the_text_and_points_at_the_line(
    owner_client, proposal_template
):
    source = "<p>one</p>\n<p>two</p>\n{% for line in chosen.lines %}\n<p>{{ line.name }}</p>"
    response = owner_client.post(
        reverse("documents:template_edit", args=[proposal_template.pk]),
        {"name": "Mine", "source": source, "schedule": "100; All; 3"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert (
        'class="error source-error" id="source-error" role="alert" data-problem-line="4"' in content
    )
    assert "Line 4" in content and 'data-goto-line="4"' in content
    assert "&lt;p&gt;{{ line.name }}&lt;/p&gt;</textarea>" in content  # nothing typed is lost
    proposal_template.refresh_from_db()
    assert proposal_template.name != "Mine"


def test_the_editor_speaks_russian(owner_client, proposal_template):
    owner_client.cookies["django_language"] = "ru"
    response = owner_client.get(reverse("documents:template_edit", args=[proposal_template.pk]))
    content = response.content.decode()
    assert "Подстановки" in content and "Предпросмотр" in content
    assert "Строка {line}, столбец {column}" in content
    assert 'aria-label="Вставить client.name"' in content


def test_the_document_editor_uses_the_deal_and_is_read_only_for_others(
    manager_client, other_manager_client, proposal
):
    url = reverse("documents:detail", args=[proposal.pk])
    own = manager_client.get(url).content.decode()
    assert 'data-insert="{{ deal.title }}"' in own
    assert f'hx-post="{reverse("documents:preview", args=[proposal.pk])}"' in own
    assert 'hx-trigger="input delay:600ms' in own  # the first preview comes with the page
    assert "<iframe sandbox" in own
    other = other_manager_client.get(url).content.decode()
    assert "data-insert=" not in other and "hx-post=" not in other
    assert "readonly" in other
