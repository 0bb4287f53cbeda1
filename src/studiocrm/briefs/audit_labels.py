"""How the audit page names the briefs app's actions."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "brief.sent": _("Sent a brief"),
    "brief.first_viewed": _("The client opened the brief"),
    "brief.submitted": _("The client submitted the brief"),
    "brief.reopened": _("Reopened the brief"),
    "brief.link_resent": _("Sent the brief link again"),
    "brief.link_revoked": _("Revoked the brief link"),
    "brief_template.created": _("Created a brief template"),
    "brief_template.updated": _("Changed a brief template"),
    "brief_template.duplicated": _("Copied a brief template"),
    "brief_template.deleted": _("Deleted a brief template"),
    "brief_template.section_added": _("Added a section to a brief template"),
    "brief_template.section_renamed": _("Renamed a section of a brief template"),
    "brief_template.section_deleted": _("Deleted a section of a brief template"),
    "brief_template.question_added": _("Added a question to a brief template"),
    "brief_template.question_changed": _("Changed a question of a brief template"),
    "brief_template.question_deleted": _("Deleted a question of a brief template"),
    "brief_template.reordered": _("Reordered a brief template"),
}
