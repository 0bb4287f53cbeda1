"""How many manager minutes one recorded action stands for.

No system records how long a manager spent on something; what it records is what they did
(audit rows, stage moves, tasks). The weights below turn those actions into an estimate of
manager time per application, to set beside the article's 110 → 32 minutes. They are the
studio's own yardstick, chosen from the article's "after" column: registering an
application takes a minute, sending a brief a minute, drafting the estimate is most of the
work (about 25 minutes, spread over the estimate edits), a proposal from a template a
minute, contract and appendix about three, an invoice a minute.

Each weight is (audit verb or "stage_move", minutes, step). Only actions by a person count;
whatever the system did by itself costs the manager nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Steps of the sales path, in the article's order, with its minutes before and after.
STEPS = [
    ("register", _("Register the application"), 5, 1),
    ("brief", _("Send the brief"), 5, 1),
    ("estimate", _("Process the brief, calculate the cost"), 40, 25),
    ("proposal", _("Prepare the proposal"), 20, 1),
    ("contract", _("Prepare contract and appendix"), 30, 3),
    ("invoice", _("Invoice"), 10, 1),
    ("follow_up", _("Follow-up: tasks, notes, lost deals"), 0, 0),
]
ARTICLE_BEFORE = 110
ARTICLE_AFTER = 32

# The stage a deal enters tells which step a manual move belongs to.
STAGE_STEP = {
    "new": "register",
    "brief_sent": "brief",
    "brief_received": "brief",
    "estimated": "estimate",
    "proposal_sent": "proposal",
    "proposal_accepted": "proposal",
    "contract_sent": "contract",
    "contract_signed": "contract",
    "invoiced": "invoice",
    "paid": "invoice",
    "lost": "follow_up",
}
STAGE_MOVE_MINUTES = 0.5

# (object type, verb, minutes, step). Steps of documents depend on the document's kind.
AUDIT_WEIGHTS: list[tuple[str, str, float, str]] = [
    ("deals.deal", "deal.created", 1, "register"),
    ("deals.deal", "deal.updated", 1, "register"),
    ("deals.deal", "deal.assigned", 0.5, "register"),
    ("deals.deal", "deal.note_added", 2, "follow_up"),
    ("briefs.brief", "brief.sent", 1, "brief"),
    ("briefs.brief", "brief.link_resent", 0.5, "brief"),
    ("briefs.brief", "brief.reopened", 1, "brief"),
    ("estimates.estimate", "estimate.created", 3, "estimate"),
    ("estimates.estimate", "estimate.copied", 2, "estimate"),
    ("estimates.estimate", "estimate.updated", 1, "estimate"),
    ("estimates.estimate", "estimate.saved", 1, "estimate"),
    ("estimates.estimate", "estimate.option_added", 1, "estimate"),
    ("estimates.estimate", "estimate.option_updated", 1, "estimate"),
    ("estimates.estimate", "estimate.option_deleted", 0.5, "estimate"),
    ("estimates.estimate", "estimate.option_primary", 0.5, "estimate"),
    ("estimates.estimate", "estimate.package_applied", 2, "estimate"),
    ("estimates.estimate", "estimate.multiplier_added", 0.5, "estimate"),
    ("estimates.estimate", "estimate.multiplier_removed", 0.5, "estimate"),
    ("estimates.estimate", "estimate.line_added", 1, "estimate"),
    ("estimates.estimate", "estimate.line_updated", 1, "estimate"),
    ("estimates.estimate", "estimate.line_deleted", 0.5, "estimate"),
    ("documents.document", "document.created", 1, "document"),
    ("documents.document", "document.updated", 2, "document"),
    ("documents.document", "document.sent", 1, "document"),
    ("billing.invoice", "invoice.created", 1, "invoice"),
    ("billing.invoice", "invoice.updated", 1, "invoice"),
    ("billing.invoice", "invoice.issued", 0.5, "invoice"),
    ("billing.invoice", "invoice.link_replaced", 0.5, "invoice"),
    ("billing.invoice", "invoice.voided", 1, "invoice"),
    ("billing.invoice", "invoice.credit_note_created", 2, "invoice"),
    ("deals.task", "task.created", 1, "follow_up"),
    ("deals.task", "task.done", 1, "follow_up"),
]
