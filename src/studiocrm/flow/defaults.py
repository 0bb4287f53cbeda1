"""The rules a new studio starts with (installed enabled by a data migration) and the
installer of the default letters. Both take model classes, so migrations can call them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop as _

from studiocrm.flow.catalog import BY_KEY, KICKOFF_CHECKLIST, LETTERS

# Names and task titles are English sources marked for translation: the pages and the tasks
# show them in the reader's language until the owner renames them.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"code": "brief-reminder-2", "name": _("Brief reminder after 2 days"),
     "event": "brief.sent", "delay": 2, "unit": "business_days",
     "condition": "brief_not_submitted", "action": "email_client",
     "template_key": "brief_reminder"},
    {"code": "brief-reminder-5", "name": _("Second brief reminder after 5 days"),
     "event": "brief.sent", "delay": 5, "unit": "business_days",
     "condition": "brief_not_submitted", "action": "email_client",
     "template_key": "brief_reminder"},
    {"code": "brief-thanks", "name": _("Thank the client for the brief"),
     "event": "brief.submitted", "action": "email_client", "template_key": "brief_thanks"},
    {"code": "proposal-followup-3", "name": _("Proposal follow-up after 3 days"),
     "event": "document.sent", "kind": "proposal", "delay": 3, "unit": "business_days",
     "condition": "not_accepted", "action": "email_client",
     "template_key": "proposal_followup"},
    {"code": "proposal-followup-7", "name": _("Second proposal follow-up after 7 days"),
     "event": "document.sent", "kind": "proposal", "delay": 7, "unit": "business_days",
     "condition": "not_accepted", "action": "email_client",
     "template_key": "proposal_followup"},
    {"code": "proposal-call", "name": _("Call the client: proposal unanswered"),
     "event": "document.sent", "kind": "proposal", "delay": 8, "unit": "business_days",
     "condition": "not_accepted", "action": "create_task",
     "task_title": _("Call the client: no answer to the proposal for 8 days")},
    {"code": "proposal-expiring", "name": _("Proposal validity ends in 2 business days"),
     "event": "document.sent", "kind": "proposal", "anchor": "valid_until", "delay": -2,
     "unit": "business_days", "condition": "not_accepted", "action": "email_client",
     "template_key": "proposal_expiring"},
    {"code": "signing-reminder-2", "name": _("Signing reminder after 2 days"),
     "event": "document.sent", "kind": "contract", "delay": 2, "unit": "business_days",
     "condition": "contract_not_signed", "action": "email_client",
     "template_key": "signing_reminder"},
    {"code": "signing-reminder-5", "name": _("Second signing reminder after 5 days"),
     "event": "document.sent", "kind": "contract", "delay": 5, "unit": "business_days",
     "condition": "contract_not_signed", "action": "email_client",
     "template_key": "signing_reminder"},
    {"code": "signed-copies", "name": _("Send the signed documents to the client"),
     "event": "contract.signed", "action": "email_client", "template_key": "signed_copies",
     "quiet_hours": False},
    {"code": "deposit-invoice", "name": _("Issue the deposit invoice once the contract is signed"),
     "event": "contract.signed", "action": "issue_next_invoice", "quiet_hours": False},
    {"code": "payment-due-soon", "name": _("Payment reminder 2 days before the due date"),
     "event": "invoice.issued", "anchor": "due_date", "delay": -2, "unit": "business_days",
     "condition": "invoice_unpaid", "action": "email_client",
     "template_key": "payment_due_soon"},
    {"code": "payment-overdue-1", "name": _("Invoice overdue by 1 day"),
     "event": "invoice.issued", "anchor": "due_date", "delay": 1, "unit": "business_days",
     "condition": "invoice_unpaid", "action": "email_client",
     "template_key": "payment_overdue"},
    {"code": "payment-overdue-call", "name": _("Call: invoice overdue by 5 days"),
     "event": "invoice.issued", "anchor": "due_date", "delay": 5, "unit": "business_days",
     "condition": "invoice_unpaid", "action": "create_task",
     "task_title": _("Call the client: the invoice is overdue")},
    {"code": "kickoff", "name": _("Kickoff letter after the deposit"),
     "event": "payment.received", "condition": "first_payment", "action": "email_client",
     "template_key": "kickoff"},
    {"code": "stale-deal", "name": _("Deal idle for 7 days"),
     "event": "deal.stage_changed", "delay": 7, "unit": "days", "condition": "same_stage",
     "action": "notify_manager"},
    {"code": "new-lead-untouched", "name": _("New lead untouched for 2 business hours"),
     "event": "lead.received", "delay": 2, "unit": "business_hours",
     "condition": "lead_untouched", "action": "notify_manager", "quiet_hours": False},
)  # fmt: skip


def install_default_rules(rule_model: Any) -> None:
    """Create the default rules that are missing (by code); never touch edited ones."""
    for order, spec in enumerate(DEFAULT_RULES):
        values = {"order": order, "enabled": True, **spec}
        code = values.pop("code")
        rule_model.objects.get_or_create(code=code, defaults=values)


def install_default_letters(template_model: Any) -> None:
    """Create the shipped wording of every letter in Russian and English where missing."""
    for letter in LETTERS:
        for language in ("ru", "en"):
            subject, body = letter.default(language)
            template_model.objects.get_or_create(
                key=letter.key,
                language=language,
                defaults={"subject": subject, "body_html": body},
            )


def refresh_unedited_letters(template_model: Any, keys: tuple[str, ...]) -> None:
    """Give letters the owner never edited the new shipped wording of ``keys``."""
    for key in keys:
        for language in ("ru", "en"):
            subject, body = BY_KEY[key].default(language)
            template_model.objects.filter(key=key, language=language, updated_by=None).update(
                subject=subject, body_html=body, body_text=""
            )


def install_default_checklist(item_model: Any) -> None:
    """The shipped "what to prepare" list, in each language that has none yet."""
    for language, items in KICKOFF_CHECKLIST.items():
        if item_model.objects.filter(language=language).exists():
            continue
        for position, text in enumerate(items):
            item_model.objects.create(language=language, text=text, position=position)
