from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from studiocrm.billing.models import Invoice, ProviderAccount, new_reference
from studiocrm.billing.providers.base import PaymentProvider
from studiocrm.billing.services import LineInput
from studiocrm.core.models import Studio
from studiocrm.core.money import format_money

MONEY_MAX = Decimal("999999999999.99")


class InvoiceForm(forms.Form):
    purpose = forms.CharField(
        label=_("Payment purpose"),
        max_length=200,
        required=False,
        help_text=_("Leave empty for “Payment of invoice No. … of …”."),
    )
    due_days = forms.IntegerField(
        label=_("Working days to pay"),
        min_value=0,
        max_value=365,
        initial=5,
        help_text=_("Counted as contracts count them: weekends and public holidays are skipped."),
    )
    language = forms.ChoiceField(label=_("Invoice language"), choices=settings.LANGUAGES)
    tax_mode = forms.ChoiceField(label=_("Tax mode"), choices=Studio.TaxMode.choices)
    vat_rate = forms.DecimalField(
        label=_("VAT rate, %"), min_value=0, max_value=100, decimal_places=2, initial=0
    )
    notes = forms.CharField(
        label=_("Notes for the client"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class LineForm(forms.Form):
    description = forms.CharField(
        label=pgettext_lazy("invoice line", "Description"), max_length=500, required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
        initial=1,
        required=False,
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    unit_price = forms.DecimalField(
        label=_("Price"),
        min_value=0,
        max_value=MONEY_MAX,
        decimal_places=2,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("description") and data.get("unit_price") is None:
            self.add_error("unit_price", _("Enter a price."))
        if data.get("unit_price") is not None and not data.get("description"):
            self.add_error("description", _("Describe the work."))
        return data

    def as_line(self) -> LineInput | None:
        data = self.cleaned_data
        if not data.get("description"):
            return None
        return LineInput(
            description=data["description"],
            quantity=data.get("quantity") or Decimal(1),
            unit_price=data["unit_price"],
            unit=data.get("unit") or "",
        )


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not any(form.cleaned_data.get("description") for form in self.forms):
            raise forms.ValidationError(_("Add at least one line."))

    def lines(self) -> list[LineInput]:
        return [line for form in self.forms if (line := form.as_line()) is not None]


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=3, max_num=100, validate_max=True
)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Why is it void?"), max_length=300)


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to credit"),
        min_value=Decimal("0.01"),
        max_value=MONEY_MAX,
        decimal_places=2,
    )
    reason = forms.CharField(label=_("What does it correct?"), max_length=200)


class ManualPaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount received"),
        min_value=Decimal("0.01"),
        max_value=MONEY_MAX,
        decimal_places=2,
    )
    received_on = forms.DateField(
        label=_("Received on"),
        # A date input reads only ISO dates: the localized "05.12.2026" left it empty.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=pgettext_lazy("comment", "Note"), max_length=300, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "amount": invoice.amount_due or None,
                "received_on": timezone.localdate(),
                "key": new_reference(),
            },
        )
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        # The input keeps a plain number ("681660.00", what a number input takes); the amount
        # due is printed beside it the way people read money.
        if invoice.amount_due > 0:
            self.fields["amount"].help_text = _("To pay: %(amount)s") % {
                "amount": format_money(invoice.amount_due, invoice.currency, cents=True)
            }

    def clean_received_on(self) -> object:
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount returned"), min_value=Decimal("0.01"), max_value=MONEY_MAX, decimal_places=2
    )
    note = forms.CharField(label=pgettext_lazy("comment", "Note"), max_length=300, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=32)


class ProviderAccountForm(forms.Form):
    """One provider's settings. Secret fields are never filled in: leaving one empty keeps the
    stored secret, typing a new value replaces it."""

    enabled = forms.BooleanField(label=_("Offer this method to clients"), required=False)

    def __init__(self, *args: Any, provider: PaymentProvider, **kwargs: Any) -> None:
        account: ProviderAccount = provider.account
        initial: dict[str, Any] = {"enabled": account.enabled}
        for setting in provider.settings_fields:
            if setting.option:
                initial[setting.name] = provider.option(setting.name)
            elif not setting.secret:
                initial[setting.name] = getattr(account, setting.name)
        kwargs.setdefault("initial", initial)
        kwargs.setdefault("prefix", provider.code)
        super().__init__(*args, **kwargs)
        self.provider = provider
        for setting in provider.settings_fields:
            if setting.choices:
                self.fields[setting.name] = forms.ChoiceField(
                    label=setting.label,
                    choices=setting.choices,
                    required=setting.required,
                    help_text=setting.help_text,
                )
            elif setting.secret:
                stored = getattr(account, setting.name)
                self.fields[setting.name] = forms.CharField(
                    label=setting.label,
                    required=False,
                    max_length=255,
                    strip=True,
                    widget=forms.PasswordInput(
                        render_value=False, attrs={"autocomplete": "new-password"}
                    ),
                    help_text=setting.help_text,
                )
                self.fields[setting.name].stored = bool(stored)
            else:
                self.fields[setting.name] = forms.CharField(
                    label=setting.label, required=False, max_length=100, help_text=setting.help_text
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for setting in self.provider.settings_fields:
            if setting.name in data and not setting.secret:
                try:
                    data[setting.name] = self.provider.clean_setting(
                        setting.name, data[setting.name]
                    )
                except forms.ValidationError as error:
                    self.add_error(setting.name, error)
        if data.get("enabled"):
            account = self.provider.account
            missing = [
                str(setting.label)
                for setting in self.provider.settings_fields
                if setting.required
                and not setting.option
                and not (data.get(setting.name) or getattr(account, setting.name))
            ]
            if missing:
                raise forms.ValidationError(
                    _("To enable this method, fill in: %(fields)s.")
                    % {"fields": ", ".join(missing)}
                )
        return data

    def changes(self) -> dict[str, Any]:
        """What to store: the flag, public fields, provider options (merged into the stored
        ones), and only the secrets that were typed."""
        values: dict[str, Any] = {"enabled": self.cleaned_data["enabled"]}
        options = dict(self.provider.account.options or {})
        for setting in self.provider.settings_fields:
            value = self.cleaned_data.get(setting.name, "")
            if setting.option:
                options[setting.name] = value
                continue
            if setting.secret and not value:
                continue
            values[setting.name] = value
        if options != (self.provider.account.options or {}):
            values["options"] = options
        return values
