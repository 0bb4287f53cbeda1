"""Brief templates (questions the studio asks) and briefs (one questionnaire sent to a client).

A template is edited by the owner; sending it to a client copies its questions into the
brief (``Brief.questions``), so later edits of the template never change a brief already sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from studiocrm.portal.files import PrivateStorage
from studiocrm.portal.links import ClientLink

# Question types (the ``type`` of a question dict). Keep in step with questions.py.
SHORT_TEXT = "short_text"
LONG_TEXT = "long_text"
SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
NUMBER = "number"
YES_NO = "yes_no"
DATE = "date"
URL = "url"
FILE = "file"
PAGES = "pages"

QUESTION_TYPES = [
    (SHORT_TEXT, _("Short text")),
    (LONG_TEXT, _("Long text")),
    (SINGLE_CHOICE, _("Single choice")),
    (MULTI_CHOICE, _("Multiple choice")),
    (NUMBER, _("Number")),
    (YES_NO, _("Yes / no")),
    (DATE, _("Date")),
    (URL, _("Web address")),
    (FILE, _("File upload")),
    (PAGES, _("Pick pages")),
]
CHOICE_TYPES = {SINGLE_CHOICE, MULTI_CHOICE, PAGES}
LIST_TYPES = {MULTI_CHOICE, PAGES}

# The value an "Other" tick adds to a choice answer; its free text lives under OTHER_SUFFIX.
OTHER_VALUE = "other"
OTHER_SUFFIX = "__other"


class BriefTemplate(models.Model):
    """A questionnaire the studio sends: sections of ordered questions, in one language."""

    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    intro = models.TextField(
        _("introduction"), blank=True, help_text=_("Shown to the client above the questions.")
    )
    sources = models.JSONField(
        _("preselect for deal sources"),
        default=list,
        blank=True,
        help_text=_("Deals from these sources get this template suggested."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Set on the shipped default templates ("corporate", "store", ...): the loader finds them
    # by it and never overwrites a template the studio has since edited.
    default_key = models.SlugField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "name", "pk"]
        verbose_name = _("brief template")
        constraints = [
            models.UniqueConstraint(
                fields=["default_key", "language"],
                condition=~models.Q(default_key=""),
                name="unique_brief_default_template",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("briefs:template_edit", args=[self.pk])


class BriefSection(models.Model):
    template = models.ForeignKey(BriefTemplate, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("section title"), max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class BriefQuestion(models.Model):
    """One question of a template. ``options`` is a list of ``{"value", "label"}`` dicts."""

    template = models.ForeignKey(BriefTemplate, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(BriefSection, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(
        _("key"),
        max_length=50,
        help_text=_("Stable identifier used by estimates and rules, e.g. 'deadline'."),
    )
    label = models.CharField(_("question"), max_length=300)
    help = models.CharField(_("help text"), max_length=500, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=QUESTION_TYPES, default=SHORT_TEXT)
    options = models.JSONField(_("options"), default=list, blank=True)
    allow_other = models.BooleanField(_("allow “Other” with free text"), default=False)
    required = models.BooleanField(_("required"), default=False)
    show_if_key = models.CharField(_("show only if question"), max_length=50, blank=True)
    show_if_equals = models.CharField(_("has the answer"), max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["section__position", "section_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="unique_brief_question_key")
        ]

    def __str__(self) -> str:
        return self.label


class Brief(ClientLink):
    """One questionnaire sent to a client for a deal, reached by the client through a link.

    Contract (other apps, e.g. estimates, read briefs through it; keep it stable):

    ``deal``
        FK to ``deals.Deal``, ``related_name="briefs"``.
    ``template``
        FK to ``BriefTemplate`` or None (the template may have been deleted since).
    ``language``
        Language of the questions ("ru" or "en").
    ``status``
        ``"draft"`` (created, not sent yet), ``"sent"`` (the client may fill it),
        ``"submitted"`` (read-only for the client), ``"reopened"`` (the manager asked for
        more; the client may edit and submit again).
    ``submitted_at``
        Time of the last submission (None until submitted).
    ``questions`` (the snapshot taken when the brief was sent; never changes afterwards)
        A list of dicts in display order::

            {
              "key": "features",          # stable slug, unique within the brief
              "section": "Features",      # section title (translated text, for display)
              "label": "What should the site do?",
              "help": "Tick everything that applies",
              "type": "multi_choice",     # see below
              "options": [{"value": "catalog", "label": "Product catalog"}, ...],
              "allow_other": True,        # choice types only: an "Other" box with free text
              "required": False,
              "show_if": {"key": "has_site", "equals": "yes"} | None,
            }

        ``type`` is one of ``short_text, long_text, single_choice, multi_choice, number,
        yes_no, date, url, file, pages``. ``options`` is a list of ``{"value": slug,
        "label": text}`` dicts for ``single_choice``, ``multi_choice`` and ``pages`` and ``[]``
        for every other type. Answers always hold the ``value`` slugs, never labels.
    ``answers``
        ``{key: value}``; a key is absent when the question is unanswered. By type:

        - ``short_text``, ``long_text``: str
        - ``url``: str, a full URL (a scheme-less "site.ru" is stored as "https://site.ru")
        - ``date``: str, ISO date "YYYY-MM-DD"
        - ``single_choice``: str, one option value
        - ``multi_choice``, ``pages``: list[str] of option values
        - ``number``: str of a plain decimal ("12", "3.5"; no exponent, "." separator)
        - ``yes_no``: bool
        - ``file``: list[int] of ``BriefFile`` ids (files of this brief)

        "Other": when a choice question has ``allow_other`` and the client ticks "Other",
        the value ``"other"`` appears in the answer (as the str for single_choice, as an item
        of the list for multi_choice/pages) and the client's free text is stored under the
        separate key ``"<key>__other"`` (str), e.g. ``{"features": ["catalog", "other"],
        "features__other": "Loyalty cards"}``.

        ``show_if``: a question is visible when the question named by ``show_if["key"]`` is
        visible and its answer equals ``show_if["equals"]`` (for list answers: contains it;
        for yes_no: "yes"/"no"). On submission the answers of hidden questions are dropped, so
        a submitted brief holds only answers the client could see.

    Default templates (both languages) share these keys with the same meaning: ``goal``,
    ``audience``, ``pages`` (type pages, values: home, about, services, service_page,
    catalog, product, cart, checkout, blog, article, contacts, account, faq, portfolio,
    pricing), ``features`` (multi_choice: catalog, cart, online_payment, account,
    integrations_crm, integrations_1c, multilingual, search, blog, booking, calculator),
    ``languages_count`` (number), ``products_count`` (number, online store),
    ``content_ready`` (single_choice: ready, partial, none), ``design_references``
    (long_text), ``deadline`` (date), ``budget`` (single_choice: lt_300k, 300k_700k,
    700k_1500k, gt_1500k in Russian templates; lt_5k, 5k_15k, 15k_40k, gt_40k in English
    ones), ``existing_site`` (url, redesign).

    ``briefs.services.latest_submitted_brief(deal)`` returns the deal's most recently
    submitted brief (status "submitted") or None.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        SUBMITTED = "submitted", _("Submitted")
        REOPENED = "reopened", _("Reopened")

    deal = models.ForeignKey(
        "deals.Deal", on_delete=models.CASCADE, related_name="briefs", verbose_name=_("deal")
    )
    template = models.ForeignKey(
        BriefTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="briefs",
        verbose_name=_("template"),
    )
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="ru")
    questions = models.JSONField(default=list)
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    sent_to = models.EmailField(_("sent to"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    answers_saved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_comment = models.TextField(_("comment for the client"), blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    reminder_task = models.ForeignKey(
        "deals.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["deal", "status", "-submitted_at"])]
        verbose_name = _("brief")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("briefs:detail", args=[self.pk])

    @property
    def is_editable_by_client(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.REOPENED)


def _brief_file_path(instance: BriefFile, filename: str) -> str:
    return f"briefs/{instance.brief_id}/{filename}"


class BriefFile(models.Model):
    """A file a client attached to a file question; served only through the brief's link
    (to the client) or a logged-in view (to the studio)."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="files")
    question_key = models.CharField(max_length=50)
    file = models.FileField(storage=PrivateStorage(), upload_to=_brief_file_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name
