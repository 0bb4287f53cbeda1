"""Price lists, estimates and the rules that draft an estimate from a brief.

Language: a price list is studio data written in one language (``PriceList.language``),
the language its clients read; names are stored as typed and never pass through gettext.
The shipped defaults hold both texts literally (``estimates.defaults``): the RUB list is
loaded in Russian, the EUR list in English. Labels of the interface are translated as usual.

Price lists, rules and estimates refer to roles, services and page types by their codes
(slugs), never by row ids, so rules work with every price list and an estimate keeps working
after the price list changes. An estimate copies what it needs when a line is added (hours,
prices, role rates), so editing the price list never changes an estimate already made.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext, pgettext_lazy

from studiocrm.core.models import Studio
from studiocrm.estimates import calc

STAGE_CHOICES = [
    (calc.ANALYSIS, _("Analysis")),
    (calc.DESIGN, _("Design")),
    (calc.DEVELOPMENT, _("Development")),
    (calc.CONTENT, _("Content")),
    (calc.TESTING, _("Testing")),
    (calc.LAUNCH, _("Launch")),
    (calc.MANAGEMENT, _("Alongside (adds no days)")),
]
STAGE_LABELS = dict(STAGE_CHOICES)

MONEY = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class Unit(models.TextChoices):
    HOUR = "hour", _("hour")
    PAGE = "page", _("page")
    PIECE = "piece", _("piece")
    MONTH = "month", _("month")
    FIXED = "fixed", _("fixed price")


def _plural_count(quantity: object) -> int:
    """The count that picks a plural form: the quantity if whole, else 2 (a fraction reads
    like a few: "1.5 hours", "1,5 часа")."""
    try:
        value = Decimal(str(quantity))
    except ArithmeticError:
        return 2
    if not value.is_finite() or value != value.to_integral_value():
        return 2
    return int(abs(value)) % 1000000


def unit_label(unit: str, quantity: object = 1) -> str:
    """The unit's name, in the active language, agreeing with the quantity it follows:
    "1 hour", "20 hours"; "1 страница", "4 страницы", "5 страниц". An unknown unit (typed
    by hand) is returned as it is."""
    count = _plural_count(quantity)
    if unit == Unit.HOUR:
        return npgettext("unit after a number", "hour", "hours", count)
    if unit == Unit.PAGE:
        return npgettext("unit after a number", "page", "pages", count)
    if unit == Unit.PIECE:
        return npgettext("unit after a number", "piece", "pieces", count)
    if unit == Unit.MONTH:
        return npgettext("unit after a number", "month", "months", count)
    if unit in Unit.values:
        return str(Unit(unit).label)
    return unit


class PriceList(models.Model):
    """Roles, services, page types and packages in one currency and one language."""

    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(
        _("language of names"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Set on the shipped lists so the loader finds them and never loads one twice.
    default_key = models.SlugField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_active", "currency", "name", "pk"]
        verbose_name = _("price list")

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    def get_absolute_url(self) -> str:
        return reverse("estimates:price_list", args=[self.pk])


class Role(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="roles")
    code = models.SlugField(
        _("code"), max_length=40, help_text=_("Stable identifier used by rules, e.g. 'designer'.")
    )
    name = models.CharField(_("name"), max_length=100)
    hourly_rate = models.DecimalField(_("hourly rate"), validators=NON_NEGATIVE, **MONEY)
    cost_rate = models.DecimalField(
        _("internal cost per hour"),
        validators=NON_NEGATIVE,
        help_text=_("What an hour costs the studio. Never shown to clients."),
        **MONEY,
    )
    hours_per_day = models.DecimalField(
        _("productive hours per day"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("6"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("24"))],
    )
    people = models.PositiveSmallIntegerField(
        _("people"), default=1, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    stage = models.CharField(
        _("stage"), max_length=16, choices=STAGE_CHOICES, default=calc.DEVELOPMENT
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "code"], name="unique_role_code")
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="services")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.FIXED)
    price = models.DecimalField(
        _("price per unit"),
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text=_("Leave empty to price the service from its hours and the role rates."),
        **MONEY,
    )
    # Hours per unit by role code: {"designer": "4", "backend": "2.5"}.
    work = models.JSONField(_("hours per role"), default=dict, blank=True)
    unit_cost = models.DecimalField(
        _("external cost per unit"),
        default=0,
        validators=NON_NEGATIVE,
        help_text=_("Money paid to others (licences, hosting). Never shown to clients."),
        **MONEY,
    )
    default_quantity = models.DecimalField(
        _("default quantity"),
        max_digits=10,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(Decimal("0"))],
    )
    description = models.TextField(_("description for the client"), blank=True)
    is_optional = models.BooleanField(
        _("optional"), default=False, help_text=_("Offered as an item the client may toggle.")
    )
    stage = models.CharField(
        _("stage"),
        max_length=16,
        choices=STAGE_CHOICES,
        blank=True,
        help_text=_("Leave empty to put each role's hours into that role's stage."),
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "code"], name="unique_service_code")
        ]

    def __str__(self) -> str:
        return self.name


class PageType(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="page_types")
    slug = models.SlugField(
        _("code"), max_length=40, help_text=_("Matches the page values of the brief, e.g. 'home'.")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description for the client"), blank=True)
    # Hours per page by role code (design, layout, programming, content by who does them).
    work = models.JSONField(_("hours per role"), default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "slug"], name="unique_page_type_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Package(models.Model):
    """A starting set of pages and services (landing page, corporate site, online store).

    ``content`` is a list of line dicts in the format of ``services.line_to_dict``; pages
    nest through ``children``.
    """

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="packages")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    content = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "code"], name="unique_package_code")
        ]

    def __str__(self) -> str:
        return self.name


class EstimateRule(models.Model):
    """When the answer to a brief question matches, the draft gets something added.

    Rules refer to questions by key and to the price list by codes, so one rule serves every
    template and every price list. A rule whose question is not in a brief is reported
    ("question no longer exists") and skipped; see ``estimates.rules``.
    """

    class Operator(models.TextChoices):
        IS = "is", _("is")
        CONTAINS = "contains", _("contains")
        GTE = "gte", _("is at least (≥)")
        LTE = "lte", _("is at most (≤)")
        ANSWERED = "answered", _("is answered")
        ALWAYS = "always", _("always (no question)")

    class Action(models.TextChoices):
        ADD_PAGE = "add_page", _("add page type")
        ADD_PAGES_FROM_ANSWER = "add_pages_from_answer", _("add every page picked in the answer")
        ADD_SERVICE = "add_service", _("add service")
        MULTIPLY_ROLE = "multiply_role", _("multiply a role's hours")
        SET_OPTION = "set_option", _("set option (start from a package)")

    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    template_key = models.SlugField(
        _("only for brief template"),
        max_length=40,
        blank=True,
        help_text=_("Key of a default brief template (e.g. 'store'); empty for every brief."),
    )
    question_key = models.SlugField(_("question key"), max_length=50, blank=True)
    operator = models.CharField(
        _("condition"), max_length=10, choices=Operator.choices, default=Operator.CONTAINS
    )
    value = models.CharField(_("value"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    target = models.SlugField(
        _("page type, service, role or package code"), max_length=40, blank=True
    )
    amount = models.DecimalField(
        _("quantity or factor"),
        max_digits=10,
        decimal_places=3,
        default=1,
        validators=[MinValueValidator(Decimal("0"))],
    )
    amount_from_answer = models.BooleanField(
        _("multiply by the numeric answer"),
        default=False,
        help_text=_("e.g. multiply copywriting by the number of languages."),
    )
    optional = models.BooleanField(_("add as an optional item"), default=False)
    option_name = models.CharField(
        _("option name"),
        max_length=100,
        blank=True,
        help_text=_("For 'set option': empty takes the package's name."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("estimate rule")

    def __str__(self) -> str:
        return f"#{self.pk} {self.question_key} {self.operator} {self.value} → {self.action}"


class Estimate(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SAVED = "saved", pgettext_lazy("estimate status", "Saved")

    class Origin(models.TextChoices):
        MANUAL = "manual", _("Made by hand")
        BRIEF = "brief", _("Drafted from the brief")
        COPY = "copy", _("Copied from another deal")

    deal = models.ForeignKey(
        "deals.Deal", on_delete=models.CASCADE, related_name="estimates", verbose_name=_("deal")
    )
    title = models.CharField(_("title"), max_length=200)
    price_list = models.ForeignKey(
        PriceList, null=True, blank=True, on_delete=models.SET_NULL, related_name="estimates"
    )
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(max_length=8, default="ru")
    tax_mode = models.CharField(
        _("tax mode"), max_length=16, choices=Studio.TaxMode.choices, default=calc.NO_VAT
    )
    # The price list's roles when the estimate was made: [{code, name, rate, cost_rate,
    # hours_per_day, people, stage}], money as decimal strings.
    roles = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.MANUAL)
    brief_id = models.PositiveIntegerField(null=True, blank=True)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the draft from the brief could not do: {"unanswered": [{key, label}],
    # "problems": [str]}.
    draft_report = models.JSONField(default=dict, blank=True)
    total = models.DecimalField(null=True, blank=True, **MONEY)  # primary option at last save
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    saved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        verbose_name = _("estimate")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("estimates:edit", args=[self.pk])

    @property
    def changed_since_saved(self) -> bool:
        """Edited after the last save: the deal amount is stale until it is saved again."""
        if self.saved_at is None or self.updated_at is None:
            return False
        return (self.updated_at - self.saved_at).total_seconds() > 1


class EstimateOption(models.Model):
    """One variant of an estimate (Basic / Standard / Premium), priced on its own."""

    estimate = models.ForeignKey(Estimate, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_primary = models.BooleanField(
        _("main option"), default=False, help_text=_("Its total becomes the deal amount.")
    )
    discount_percent = models.DecimalField(
        _("discount on the option, %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=PERCENT,
    )
    # Role hour multipliers: [{"role": code, "factor": "1.5", "origin": {...} | None}];
    # several entries for one role multiply.
    multipliers = models.JSONField(default=list, blank=True)
    package_code = models.SlugField(max_length=40, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class EstimateLine(models.Model):
    """A page of the site structure or a service line of an option."""

    class Kind(models.TextChoices):
        PAGE = "page", _("Page")
        SERVICE = "service", _("Service")

    option = models.ForeignKey(EstimateOption, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    code = models.SlugField(max_length=40, blank=True)  # page type slug or service code
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description for the client"), blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, default=1, validators=NON_NEGATIVE
    )
    unit_price = models.DecimalField(
        _("unit price"), null=True, blank=True, validators=NON_NEGATIVE, **MONEY
    )
    work = models.JSONField(default=dict, blank=True)  # hours per unit by role code
    unit_cost = models.DecimalField(default=0, validators=NON_NEGATIVE, **MONEY)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    tax_rate = models.DecimalField(
        _("tax rate, %"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    is_optional = models.BooleanField(_("optional"), default=False)
    is_selected = models.BooleanField(_("included"), default=True)
    stage = models.CharField(max_length=16, choices=STAGE_CHOICES, blank=True)
    # Which brief answers produced the line: [{"rule": id, "key", "label", "answer"}];
    # empty for a line added by hand.
    origins = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["option", "kind", "position"])]

    def __str__(self) -> str:
        return self.name
