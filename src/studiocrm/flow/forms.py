from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from studiocrm.deals import events
from studiocrm.deals.models import Stage
from studiocrm.documents.sandbox import TemplateProblem
from studiocrm.flow.catalog import BY_KEY, CLIENT_LETTERS
from studiocrm.flow.letters import render
from studiocrm.flow.models import ManagerChannels, MessageTemplate, Rule
from studiocrm.flow.rules import CONDITIONS
from studiocrm.flow.sample import context_for


class LetterForm(forms.ModelForm):
    """A letter's wording; it must render against sample data before it is saved."""

    class Meta:
        model = MessageTemplate
        fields = ["subject", "body_html", "body_text"]
        widgets = {
            "body_html": forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "true"}),
            "body_text": forms.Textarea(attrs={"rows": 6, "class": "code"}),
        }

    def __init__(self, *args: Any, key: str, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key
        self.language = language

    def source(self) -> tuple[str, str, str]:
        data = self.cleaned_data
        return data["subject"], data["body_html"], data.get("body_text", "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        context, _deal = context_for(self.key, self.language, None)
        try:
            render(self.key, self.language, context, source=self.source())
        except TemplateProblem as problem:
            raise forms.ValidationError(str(problem)) from problem
        return data


def _event_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in events.VOCABULARY]


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = [
            "name",
            "enabled",
            "event",
            "kind",
            "delay",
            "unit",
            "anchor",
            "condition",
            "stage",
            "min_amount",
            "language",
            "action",
            "template_key",
            "task_title",
            "task_due_hours",
            "target_stage",
            "quiet_hours",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stages = [("", "—")] + [(stage.code, stage.name) for stage in Stage.objects.all()]
        self.fields["event"] = forms.ChoiceField(label=_("When"), choices=_event_choices())
        self.fields["kind"] = forms.ChoiceField(
            label=_("Only for"),
            required=False,
            choices=[("", _("any")), ("proposal", _("proposal")), ("contract", _("contract"))],
        )
        self.fields["condition"] = forms.ChoiceField(
            label=_("While"), choices=[(code, label) for code, (label, _f) in CONDITIONS.items()]
        )
        self.fields["stage"] = forms.ChoiceField(
            label=_("Only in stage"), choices=stages, required=False
        )
        self.fields["target_stage"] = forms.ChoiceField(
            label=_("Move to stage"), choices=stages, required=False
        )
        self.fields["template_key"] = forms.ChoiceField(
            label=_("Letter"),
            required=False,
            choices=[("", "—")] + [(letter.key, letter.title) for letter in CLIENT_LETTERS],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        letter = BY_KEY.get(data.get("template_key") or "")
        if action == Rule.Action.EMAIL_CLIENT and (letter is None or letter.to_manager):
            self.add_error("template_key", _("Choose the letter to send."))
        if action == Rule.Action.ADVANCE_DEAL and not data.get("target_stage"):
            self.add_error("target_stage", _("Choose the stage to move the deal to."))
        return data


class ChannelsForm(forms.ModelForm):
    class Meta:
        model = ManagerChannels
        fields = ["morning_digest", "time_zone", "telegram_chat_id"]

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"].strip()
        if zone and zone not in available_timezones():
            raise forms.ValidationError(_("Unknown time zone, e.g. Europe/Moscow."))
        return zone

    def clean_telegram_chat_id(self) -> str:
        chat = self.cleaned_data["telegram_chat_id"].strip()
        if chat and not chat.lstrip("-").isdigit():
            raise forms.ValidationError(_("A chat id is a number."))
        return chat


class ChecklistForm(forms.Form):
    """The studio's "what to prepare" list in each language, one item per line."""

    ru = forms.CharField(
        label=_("In Russian"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    en = forms.CharField(
        label=_("In English"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )

    def lines(self, language: str) -> list[str]:
        text = self.cleaned_data.get(language, "")
        return [line for line in text.splitlines() if line.strip()][:30]
