from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from studiocrm.clients.validation import ContactEmailField
from studiocrm.documents.context import ScheduleError, validate_schedule
from studiocrm.documents.sandbox import MAX_SOURCE

SCHEDULE_HELP = gettext_lazy(
    "One payment per line: percent; name; days to pay. For example “50; Deposit; 3”. "
    "The percents must add up to 100."
)


def schedule_to_text(steps: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{step.get('percent', '')}; {step.get('label', '')}; {step.get('due_days', 0)}"
        for step in steps or []
    )


def parse_schedule(text: str) -> list[dict[str, Any]]:
    """ "50; Deposit; 3" per line → validated steps. Raises forms.ValidationError."""
    steps = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split(";")]
        if len(parts) < 2:
            raise forms.ValidationError(
                _("Line %(number)s: write “percent; name; days”.") % {"number": number}
            )
        percent = parts[0].rstrip("%").strip().replace(",", ".")
        label = parts[1]
        days = parts[2] if len(parts) > 2 and parts[2] else "0"
        if not days.isdigit():
            raise forms.ValidationError(
                _("Line %(number)s: days must be a whole number.") % {"number": number}
            )
        steps.append({"percent": percent, "label": label, "due_days": int(days)})
    try:
        return validate_schedule(steps)
    except ScheduleError as error:
        raise forms.ValidationError(str(error)) from error


class SourceWidget(forms.Textarea):
    def __init__(self) -> None:
        super().__init__(
            attrs={
                "rows": 28,
                "class": "code",
                "spellcheck": "false",
                "autocapitalize": "off",
                "autocomplete": "off",
            }
        )


class _EditForm(forms.Form):
    source = forms.CharField(
        label=gettext_lazy("Template (HTML with placeholders)"),
        widget=SourceWidget(),
        max_length=MAX_SOURCE,
        strip=False,
    )
    schedule = forms.CharField(
        label=gettext_lazy("Payment schedule"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=SCHEDULE_HELP,
    )

    def clean_schedule(self) -> list[dict[str, Any]]:
        return parse_schedule(self.cleaned_data["schedule"])


class DocumentForm(_EditForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    field_order = ["title", "schedule", "source"]


class TemplateForm(_EditForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    field_order = ["name", "schedule", "source"]


class AcceptForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Your full name"),
        min_length=2,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = ContactEmailField(
        label=gettext_lazy("Your email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    consent = forms.BooleanField(
        label=gettext_lazy("I agree"),
        error_messages={"required": gettext_lazy("Tick the box to confirm you agree.")},
    )
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=64)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 2:
            raise forms.ValidationError(_("Type your full name."))
        return name


class QuestionForm(forms.Form):
    """A question from the client page. Its ids differ from the accept form's, which is on
    the same page with the same field names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "question_%s")
        super().__init__(*args, **kwargs)

    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = ContactEmailField(
        label=gettext_lazy("Email for the answer"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    text = forms.CharField(
        label=gettext_lazy("Your question"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
