"""Forms for clients and their contacts; clients.services saves them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from studiocrm.clients import requisites
from studiocrm.clients.models import Client, Contact
from studiocrm.clients.validation import ContactEmailField, phone_problem


class RequisitesChecks(forms.ModelForm):
    """Check digits of Russian details (INN, KPP, OGRN, BIC, accounts).

    With ``russian=True`` (a Russian contract) the numbers must be Russian ones. Otherwise a
    value of digits only, as long as the Russian number, is taken for one and checked, and
    anything else (a VAT number, an IBAN, a UK company number) is accepted as typed.
    """

    russian = False
    LENGTHS = {
        "tax_id": (10, 12),
        "kpp": (9,),
        "registration_number": (13, 15),
        "bank_code": (9,),
        "bank_account": (20,),
        "correspondent_account": (20,),
    }

    def _russian(self, value: str, field: str = "") -> bool:
        digits = requisites.digits_only(value)
        return self.russian or (digits.isdigit() and len(digits) in self.LENGTHS.get(field, ()))

    def _number(self, field: str, check: object, message: str) -> str:
        value = " ".join(self.cleaned_data.get(field, "").split())
        if value and self._russian(value, field):
            value = requisites.digits_only(value)
            if not check(value):  # type: ignore[operator]
                raise forms.ValidationError(message)
        return value

    def clean_tax_id(self) -> str:
        return self._number(
            "tax_id",
            requisites.inn_is_valid,
            _(
                "This INN is not valid: it has 10 digits for a company, 12 for a person, and "
                "its check digits must match. Please check it."
            ),
        )

    def clean_kpp(self) -> str:
        return self._number(
            "kpp", requisites.kpp_is_valid, _("A KPP has 9 characters, e.g. 773601001.")
        ).upper()

    def clean_registration_number(self) -> str:
        return self._number(
            "registration_number",
            requisites.ogrn_is_valid,
            _(
                "This OGRN is not valid: it has 13 digits (15 for a sole trader) and its last "
                "digit is a check digit. Please check it."
            ),
        )

    def clean_bank_code(self) -> str:
        return self._number(
            "bank_code", requisites.bic_is_valid, _("A BIC has 9 digits and starts with 04.")
        )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        bic = cleaned.get("bank_code") or ""
        if not (bic and requisites.bic_is_valid(bic)):
            return cleaned
        account = requisites.digits_only(cleaned.get("bank_account") or "")
        if account and self._russian(account, "bank_account"):
            if not requisites.account_is_valid(account, bic):
                self.add_error(
                    "bank_account",
                    _(
                        "This account does not match the BIC (its check digit is wrong): "
                        "please check both."
                    ),
                )
            else:
                cleaned["bank_account"] = account
        correspondent = requisites.digits_only(cleaned.get("correspondent_account") or "")
        if correspondent and self._russian(correspondent, "correspondent_account"):
            if not requisites.correspondent_account_is_valid(correspondent, bic):
                self.add_error(
                    "correspondent_account",
                    _("This correspondent account does not match the BIC: please check both."),
                )
            else:
                cleaned["correspondent_account"] = correspondent
        return cleaned


class ClientForm(RequisitesChecks):
    """Everything a contract with the client needs."""

    class Meta:
        model = Client
        fields = [
            "kind",
            "name",
            "legal_name",
            "tax_id",
            "kpp",
            "registration_number",
            "address",
            "signatory_name",
            "signatory_position",
            "signatory_basis",
            "signatory_name_genitive",
            "signatory_position_genitive",
            "signatory_basis_genitive",
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


class ClientDetailsForm(RequisitesChecks):
    """The details a client gives on a contract's page (no internal fields)."""

    REQUIRED = ("legal_name", "tax_id", "address", "signatory_name", "signatory_position")

    class Meta:
        model = Client
        fields = [
            "legal_name",
            "tax_id",
            "kpp",
            "registration_number",
            "address",
            "signatory_name",
            "signatory_position",
            "signatory_basis",
            "bank_name",
            "bank_code",
            "bank_account",
            "correspondent_account",
        ]
        labels = {
            "legal_name": _("Full name of the company"),
            "tax_id": _("INN / tax ID"),
            "registration_number": _("OGRN / registration number"),
            "signatory_name": _("Who signs: full name"),
            "signatory_position": _("Their position"),
            "signatory_basis": _("Acts on the basis of"),
            "bank_code": _("BIC / SWIFT"),
        }
        help_texts = {
            "signatory_name": _("As in the company's documents, e.g. Ivanov Ivan Ivanovich."),
            "signatory_position": _("e.g. General Director"),
            "signatory_basis": _("e.g. the Charter, or a power of attorney with its number"),
        }
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: object, russian: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.russian = russian
        for name in self.REQUIRED:
            self.fields[name].required = True
        autocomplete = {
            "legal_name": "organization",
            "address": "street-address",
            "signatory_name": "name",
            "signatory_position": "organization-title",
        }
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("autocomplete", autocomplete.get(name, "off"))
            if (
                name
                in (
                    "tax_id",
                    "kpp",
                    "registration_number",
                    "bank_code",
                    "bank_account",
                    "correspondent_account",
                )
                and russian
            ):
                field.widget.attrs["inputmode"] = "numeric"

    def clean_signatory_basis(self) -> str:
        return " ".join(self.cleaned_data.get("signatory_basis", "").split())


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
