"""Forms of the manager pages for deals: they validate input; services change state."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.validation import ContactEmailField, validate_contact_phone
from studiocrm.core.models import Studio, User
from studiocrm.core.money import CURRENCIES
from studiocrm.deals.models import DEFAULT_STAGE_NAMES, Deal, LostReason, Note, Source, Stage, Task


def currency_choices(*extra: str) -> list[tuple[str, str]]:
    """Known currencies plus any code already in use (a deal may carry an unusual one)."""
    codes = list(CURRENCIES)
    for code in extra:
        if code and code not in codes:
            codes.append(code)
    return [(code, f"{code} ({CURRENCIES.get(code, code)})") for code in codes]


def active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        label=_("Move to"), queryset=Stage.objects.all(), empty_label=None
    )
    reason = forms.ModelChoiceField(
        label=_("Why was it lost?"),
        queryset=LostReason.objects.filter(active=True),
        required=False,
    )
    lost_reason = forms.CharField(label=_("Comment"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        stage = cleaned.get("stage")
        said_why = cleaned.get("reason") or cleaned.get("lost_reason", "").strip()
        if stage and stage.kind == Stage.Kind.LOST and not said_why:
            self.add_error("reason", _("Say why the deal was lost."))
        return cleaned


class LostForm(forms.Form):
    """A reason from the studio's list; the manager's own words stay as a comment."""

    reason = forms.ModelChoiceField(
        label=_("Why was it lost?"),
        queryset=LostReason.objects.filter(active=True),
        required=False,
    )
    lost_reason = forms.CharField(
        label=_("Comment"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("reason") and not cleaned.get("lost_reason", "").strip():
            self.add_error("reason", _("Say why the deal was lost."))
        return cleaned


class AssignForm(forms.Form):
    manager = forms.ModelChoiceField(
        label=_("Responsible manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— nobody —"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = active_users()


class DealForm(forms.ModelForm):
    """What a manager edits on a deal; stage, manager and estimate have their own paths."""

    class Meta:
        model = Deal
        fields = ["title", "contact", "source", "currency", "expected_amount", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(client_id=self.instance.client_id)
        self.fields["currency"] = forms.ChoiceField(
            label=capfirst(Deal._meta.get_field("currency").verbose_name),
            choices=currency_choices(self.instance.currency),
        )


class DealCreateForm(forms.Form):
    """A deal typed in by hand: for an existing client, or a new client and contact."""

    client = forms.ModelChoiceField(
        label=_("Existing client"),
        queryset=Client.objects.order_by("name"),
        required=False,
        empty_label=_("— a new client —"),
    )
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    new_client_name = forms.CharField(
        label=_("Company"),
        max_length=300,
        required=False,
        help_text=_("Leave empty when the client is a private person."),
    )
    new_contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    new_contact_email = ContactEmailField(label=_("Email"), required=False, max_length=254)
    new_contact_phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, validators=[validate_contact_phone]
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.PHONE)
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    expected_amount = forms.DecimalField(
        label=_("Expected amount"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
    )
    manager = forms.ModelChoiceField(
        label=_("Responsible manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— nobody —"),
    )
    description = forms.CharField(
        label=_("Request"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default_currency = Studio.load().default_currency
        self.fields["currency"].choices = currency_choices(default_currency)
        self.fields["currency"].initial = default_currency
        self.fields["manager"].queryset = active_users()
        self.fields["manager"].initial = user.pk
        client_id = self.data.get("client") or self.initial.get("client")
        if client_id and str(client_id).isdigit():
            self.fields["contact"].queryset = Contact.objects.filter(client_id=client_id)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        client = cleaned.get("client")
        contact = cleaned.get("contact")
        if client is not None:
            if contact is not None and contact.client_id != client.pk:
                self.add_error("contact", _("This contact belongs to another client."))
        elif not cleaned.get("new_contact_name", "").strip() and "client" not in self.errors:
            self.add_error(
                "new_contact_name",
                _("Pick an existing client or type the name of a new contact."),
            )
        return cleaned


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        labels = {"text": _("New note")}


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "due_at", "assignee"]
        widgets = {"due_at": DateTimeLocalInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = active_users()
        if not self.is_bound:
            tomorrow = timezone.localtime() + timedelta(days=1)
            self.initial.setdefault(
                "due_at", tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
            )


class StageNamesForm(forms.Form):
    """One name per stage; empty shows the translated default."""

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stages = stages
        for stage in stages:
            default = str(DEFAULT_STAGE_NAMES.get(stage.code, stage.code))
            self.fields[stage.code] = forms.CharField(
                label=default,
                max_length=100,
                required=False,
                initial=stage.name,
                widget=forms.TextInput(attrs={"placeholder": default}),
            )

    def names(self) -> dict[str, str]:
        return {stage.code: self.cleaned_data[stage.code].strip() for stage in self.stages}
