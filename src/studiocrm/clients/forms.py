"""Forms for clients and their contacts; clients.services saves them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.validation import ContactEmailField, phone_problem


class ClientForm(forms.ModelForm):
    """Everything a contract with the client needs."""

    class Meta:
        model = Client
        fields = [
            "kind",
            "name",
            "legal_name",
            "tax_id",
            "registration_number",
            "address",
            "signatory_name",
            "signatory_position",
            "signatory_basis",
            "bank_name",
            "bank_account",
            "bank_code",
            "correspondent_account",
            "website",
            "notes",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("A client needs a name."))
        return name


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "position", "email", "phone", "messenger"]
        field_classes = {"email": ContactEmailField}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        problem = phone_problem(phone)
        if problem:
            raise forms.ValidationError(problem)
        return phone

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
