from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from studiocrm.clients.validation import ContactEmailField
from studiocrm.intake import services
from studiocrm.intake.services import LeadData

# The honeypot: a field people never see and bots fill in.
HONEYPOT_FIELD = "website"
SUBMISSION_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,100}")


class QuietHiddenField(forms.CharField):
    """A hidden value filled in by the page (submission id, page address, UTM tags).

    The visitor cannot see or fix it, so a bad value is dropped instead of becoming an
    error they cannot act on.
    """

    widget = forms.HiddenInput

    def __init__(self, *, limit: int, check: Any = None, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.limit = limit
        self.check = check

    def clean(self, value: Any) -> str:
        if not isinstance(value, str):
            return ""
        value = value.strip()
        if len(value) > self.limit or services.text_problem(value):
            return ""
        if self.check is not None and not self.check(value):
            return ""
        return value


class LeadForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=services.NAME_MAX,
        error_messages={"required": _("Tell us your name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = ContactEmailField(
        label=pgettext_lazy("lead form", "Email"),
        required=False,
        max_length=services.EMAIL_MAX,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=services.PHONE_MAX,
        help_text=_("Email or phone: at least one, so we can reply."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    company = forms.CharField(
        label=_("Company"),
        required=False,
        max_length=services.COMPANY_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    message = forms.CharField(
        label=_("What do you need?"),
        required=False,
        max_length=services.MESSAGE_MAX,
        help_text=_("A few words about the site or the task: what, for whom, by when."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    submission_id = QuietHiddenField(
        limit=100, check=lambda value: SUBMISSION_ID_RE.fullmatch(value) is not None
    )
    page_url = QuietHiddenField(
        limit=services.URL_MAX, check=lambda value: services.url_problem(value) is None
    )
    utm_source = QuietHiddenField(limit=services.UTM_MAX)
    utm_medium = QuietHiddenField(limit=services.UTM_MAX)
    utm_campaign = QuietHiddenField(limit=services.UTM_MAX)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        problem = services.phone_problem(phone)
        if problem:
            raise forms.ValidationError(problem)
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        contact_given = data.get("email") or data.get("phone")
        if not contact_given and not self.has_error("email") and not self.has_error("phone"):
            self.add_error("email", _("Leave an email or a phone number so we can reply."))
        return data

    def to_lead(self) -> LeadData:
        data = self.cleaned_data
        return LeadData(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            company=data["company"],
            message=data["message"],
            page_url=data["page_url"],
            utm_source=data["utm_source"],
            utm_medium=data["utm_medium"],
            utm_campaign=data["utm_campaign"],
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Key name"),
        max_length=100,
        help_text=_("Where the key is used, e.g. “Website backend” or “Call tracking”."),
    )


class MailboxForm(forms.ModelForm):
    """The mailbox settings. The password is never shown back; empty keeps the stored one."""

    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the saved password. An app password is best."),
    )

    class Meta:
        from studiocrm.intake.models import Mailbox

        model = Mailbox
        fields = ["enabled", "host", "port", "username", "password", "folder", "processed_flag"]

    def clean_processed_flag(self) -> str:
        from studiocrm.intake.mailbox import FLAG_RE

        value = self.cleaned_data["processed_flag"].strip()
        if not FLAG_RE.fullmatch(value):
            raise forms.ValidationError(
                _(r"Use \Seen or a keyword of letters, digits and _ (e.g. $StudiocrmProcessed).")
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("enabled") and not (cleaned.get("host") and cleaned.get("username")):
            raise forms.ValidationError(
                _("Fill in the server and the user name to read the mailbox.")
            )
        return cleaned
