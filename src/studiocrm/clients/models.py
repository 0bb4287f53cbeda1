from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Client(models.Model):
    """A company or a person the studio sells to, with what a contract needs."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(pgettext_lazy("company or person", "name"), max_length=300)
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    tax_id = models.CharField(_("tax ID"), max_length=32, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=32, blank=True)
    # Russian companies: КПП (tax registration reason code); empty elsewhere.
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    address = models.TextField(_("legal address"), blank=True)
    signatory_name = models.CharField(_("signatory"), max_length=200, blank=True)
    signatory_position = models.CharField(_("signatory's position"), max_length=200, blank=True)
    signatory_basis = models.CharField(
        _("acts on the basis of"), max_length=200, blank=True, help_text=_("e.g. the charter")
    )
    # The same three in the genitive case, as a Russian contract prints them ("в лице
    # Генерального директора Иванова И. И., действующего на основании Устава"). Suggested by
    # clients.declension when the nominative changes; the manager may correct them.
    signatory_name_genitive = models.CharField(
        _("signatory (genitive)"), max_length=200, blank=True
    )
    signatory_position_genitive = models.CharField(
        _("signatory's position (genitive)"), max_length=200, blank=True
    )
    signatory_basis_genitive = models.CharField(
        _("basis of authority (genitive)"), max_length=200, blank=True
    )
    bank_name = models.CharField(_("bank name"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account / IBAN"), max_length=64, blank=True)
    bank_code = models.CharField(_("BIC / SWIFT"), max_length=32, blank=True)
    correspondent_account = models.CharField(_("correspondent account"), max_length=32, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.pk])


class Contact(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # E.164 form of phone, used to match incoming leads to an existing contact.
    phone_normalized = models.CharField(max_length=20, blank=True, db_index=True)
    messenger = models.CharField(_("messenger"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.name
