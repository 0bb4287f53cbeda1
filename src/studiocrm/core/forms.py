from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.template import loader
from django.utils.translation import gettext_lazy as _

from studiocrm.core.models import Studio, User
from studiocrm.notifications.outbox import queue_email


class OutboxPasswordResetForm(PasswordResetForm):
    """Password reset emails go through the outbox like every other email."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        queue_email(
            to=to_email,
            subject=subject,
            body=body,
            dedupe_key=f"password-reset:{context['uid']}:{context['token']}",
        )


class StudioForm(forms.ModelForm):
    class Meta:
        model = Studio
        fields = [
            "name",
            "legal_name",
            "tax_id",
            "registration_number",
            "address",
            "email",
            "phone",
            "website",
            "bank_name",
            "bank_account",
            "bank_code",
            "correspondent_account",
            "logo",
            "default_currency",
            "locale",
            "time_zone",
            "tax_mode",
            "vat_rate",
            "proposal_valid_days",
            "assignment_rule",
            "default_manager",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_manager"].queryset = User.objects.filter(is_active=True)

    def clean_default_currency(self) -> str:
        value = self.cleaned_data["default_currency"].upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError(_("Use a three-letter ISO 4217 code, e.g. RUB or EUR."))
        return value

    def clean_time_zone(self) -> str:
        import zoneinfo

        value = self.cleaned_data["time_zone"]
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone."))
        return value


class UserCreateForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "language"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if not email:
            raise forms.ValidationError(_("An email is needed to send the invitation."))
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with this email already exists."))
        return email


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language"]
