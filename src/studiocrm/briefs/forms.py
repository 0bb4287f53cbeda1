from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from studiocrm.briefs import questions as q
from studiocrm.briefs.models import (
    CHOICE_TYPES,
    OTHER_VALUE,
    QUESTION_TYPES,
    BriefQuestion,
    BriefSection,
    BriefTemplate,
)
from studiocrm.briefs.services import MAX_COMMENT_LENGTH
from studiocrm.clients.validation import ContactEmailField
from studiocrm.deals.models import Deal, Source

_CYRILLIC = {
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
    **{"ё": "e", "ж": "zh", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch"},
    **{"ъ": "", "ь": "", "ю": "yu", "я": "ya"},
}
MAX_OPTIONS = 40


def slug_from(text: str, fallback: str) -> str:
    """A key-shaped slug from any label (Cyrillic is transliterated)."""
    lowered = "".join(_CYRILLIC.get(char, char) for char in text.lower())
    slug = re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")
    slug = re.sub(r"_+", "_", slug)[:40].strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"{fallback}_{slug}".strip("_") if slug else fallback
    return slug


class SendBriefForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Brief template"), queryset=BriefTemplate.objects.none(), empty_label=None
    )
    email = ContactEmailField(
        label=_("Send to"),
        help_text=_("The client's email address."),
        max_length=254,
    )

    def __init__(self, *args: Any, deal: Deal, initial_template: BriefTemplate | None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if initial_template is not None:
            initial.setdefault("template", initial_template.pk)
        if deal.contact_id and deal.contact and deal.contact.email:
            initial.setdefault("email", deal.contact.email)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["template"].queryset = BriefTemplate.objects.filter(is_active=True).order_by(
            "language", "name"
        )
        self.fields["template"].label_from_instance = lambda template: (
            f"{template.name} ({template.language.upper()})"
        )
        self.auto_id = f"id_send_{deal.pk}_%s"


class ReopenForm(forms.Form):
    comment = forms.CharField(
        label=_("What should the client add?"),
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The client receives this in an email with the link."),
    )


class TemplateForm(forms.ModelForm):
    sources = forms.MultipleChoiceField(
        label=_("Suggest for deals from"),
        choices=Source.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = BriefTemplate
        fields = ["name", "language", "intro", "sources", "is_active"]
        widgets = {"intro": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES


class SectionForm(forms.Form):
    title = forms.CharField(label=_("Section title"), max_length=200)


class QuestionForm(forms.Form):
    """A template question. Options are typed one per line, as "label" or "value | label"."""

    section = forms.ModelChoiceField(
        label=_("Section"), queryset=BriefSection.objects.none(), empty_label=None
    )
    label = forms.CharField(label=_("Question"), max_length=300)
    type = forms.ChoiceField(label=_("Answer type"), choices=QUESTION_TYPES)
    help = forms.CharField(label=_("Help text"), max_length=500, required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "For choice questions: one option per line. Write “value | label” to set the "
            "value that estimates and rules see, e.g. “catalog | Product catalogue”."
        ),
    )
    allow_other = forms.BooleanField(label=_("Offer “Other” with a text box"), required=False)
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        required=False,
        help_text=_(
            "Lowercase letters, digits and _; made from the question if empty. "
            "Estimates recognise answers by it, e.g. pages, features, budget, deadline."
        ),
    )
    show_if_key = forms.ChoiceField(label=_("Show only if question"), required=False)
    show_if_equals = forms.CharField(
        label=_("has the answer"),
        max_length=100,
        required=False,
        help_text=_("An option value, or “yes” / “no” for yes/no questions."),
    )

    def __init__(
        self,
        *args: Any,
        template: BriefTemplate,
        question: BriefQuestion | None = None,
        **kwargs: Any,
    ) -> None:
        self.template = template
        self.question = question
        if question is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "section": question.section_id,
                "label": question.label,
                "type": question.type,
                "help": question.help,
                "required": question.required,
                "options": "\n".join(
                    f"{option['value']} | {option['label']}" for option in question.options or []
                ),
                "allow_other": question.allow_other,
                "key": question.key,
                "show_if_key": question.show_if_key,
                "show_if_equals": question.show_if_equals,
            }
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = template.sections.all()
        others = template.questions.select_related("section")
        if question is not None:
            others = others.exclude(pk=question.pk)
        self.fields["show_if_key"].choices = [("", _("— always show —"))] + [
            (other.key, f"{other.label} [{other.key}]") for other in others
        ]

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip().lower()
        if key and not q.valid_key(key):
            raise forms.ValidationError(
                _("Use lowercase Latin letters, digits and single underscores, e.g. deadline.")
            )
        return key

    def _parse_options(self, text: str) -> list[dict[str, str]]:
        options: list[dict[str, str]] = []
        seen: set[str] = set()
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            if "|" in line:
                value, label = (part.strip() for part in line.split("|", 1))
                value = value.lower()
                if not q.valid_key(value):
                    raise forms.ValidationError(
                        _("Line %(number)s: the value “%(value)s” must be a lowercase slug.")
                        % {"number": number, "value": value}
                    )
            else:
                label = line
                value = slug_from(line, f"option_{number}")
            if not label:
                raise forms.ValidationError(_("Line %(number)s has no label.") % {"number": number})
            if value in seen:
                raise forms.ValidationError(
                    _("The value “%(value)s” appears twice.") % {"value": value}
                )
            seen.add(value)
            options.append({"value": value, "label": label[:200]})
        if len(options) > MAX_OPTIONS:
            raise forms.ValidationError(_("At most %(count)s options.") % {"count": MAX_OPTIONS})
        return options

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        kind = data["type"]
        if kind in CHOICE_TYPES:
            try:
                data["options"] = self._parse_options(data.get("options") or "")
            except forms.ValidationError as error:
                self.add_error("options", error)
                return data
            if not data["options"]:
                self.add_error("options", _("A choice question needs at least one option."))
            if data["allow_other"] and any(
                option["value"] == OTHER_VALUE for option in data["options"]
            ):
                self.add_error(
                    "options", _("“other” is reserved for the “Other” box; use another value.")
                )
        else:
            data["options"] = []
            data["allow_other"] = False
        if not data["key"]:
            base = slug_from(data["label"], "question")[:40]
            existing = set(self.template.questions.values_list("key", flat=True))
            if self.question is not None:
                existing.discard(self.question.key)
            key, counter = base, 2
            while key in existing:
                key, counter = f"{base}_{counter}", counter + 1
            data["key"] = key
        if data["show_if_key"]:
            if data["show_if_key"] == data["key"]:
                self.add_error("show_if_key", _("A question cannot depend on itself."))
            elif not data["show_if_equals"].strip():
                self.add_error("show_if_equals", _("Say which answer shows this question."))
        else:
            data["show_if_equals"] = ""
        data["show_if_equals"] = data["show_if_equals"].strip()
        return data
