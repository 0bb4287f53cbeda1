from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnalyticsSettings(models.Model):
    """The studio's targets the reports measure against (one row)."""

    new_lead_sla_minutes = models.PositiveIntegerField(
        _("first response to a new lead within, minutes"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 14)],
    )

    class Meta:
        verbose_name = _("analytics settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "AnalyticsSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings


# --- facts drawn from the stage history (see analytics/facts.py) ---------------------------
# Kept by analytics.facts.catch_up from the stage history alone, so every write path (the
# services, imports, the demo's and the benchmark's bulk rows) is covered without telling
# analytics anything. Never edited by hand; `manage.py analytics_rebuild` rebuilds them.


class DealFacts(models.Model):
    """Per deal, what its stage history says (one row per deal with at least one change)."""

    deal = models.OneToOneField(
        "deals.Deal", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    # The furthest stage position reached (lost stages are not positions), NULL when the
    # history only ever went to lost stages.
    top = models.IntegerField(null=True)
    # The first time the history reached proposal sent / contract signed or a later stage.
    proposal_at = models.DateTimeField(null=True)
    signed_at = models.DateTimeField(null=True)
    # The first time the deal entered a won stage.
    won_at = models.DateTimeField(null=True)
    # The first stage move a person made (not the change that opened the deal).
    first_move_at = models.DateTimeField(null=True)
    # Opened by nobody (a form, the API, an e-mail): a lead for the first-response report.
    lead = models.BooleanField(default=False)
    # How many stage changes were folded in: a late-committed change shows as a difference.
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["won_at"], name="analytics_facts_won_idx")]

    def __str__(self) -> str:
        return f"facts of deal {self.deal_id}"


class DealStageTime(models.Model):
    """Per deal and stage it has left: seconds spent there, all visits added up."""

    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=40)
    seconds = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "stage"], name="analytics_stagetime_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} in {self.stage}: {self.seconds} s"


class DealMoves(models.Model):
    """Per deal, person and stage entered: how many stage moves that person made by hand."""

    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="+")
    actor_id = models.BigIntegerField()
    stage = models.CharField(max_length=40)
    moves = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "actor_id", "stage"], name="analytics_moves_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.actor_id} → {self.stage} ×{self.moves}"


class FactsState(models.Model):
    """One row: how far the facts have read the stage history.

    Every change with an id up to `watermark` is folded in. Changes above it were read up
    to `pending_max`; on PostgreSQL a transaction still open then may commit a lower id
    later, so the watermark moves up to `pending_max` only once every transaction that was
    running at that time (`pending_xmax`, the snapshot's next transaction id) has ended.
    `stages` is the stage table's code/position/kind the facts were built with."""

    watermark = models.BigIntegerField(default=0)
    pending_max = models.BigIntegerField(default=0)
    pending_xmax = models.BigIntegerField(null=True)
    stages = models.TextField(default="")
    rebuilt_at = models.DateTimeField(null=True)
    # The newest id a catch-up took off the queue of deals changed in place: with the queue's
    # own newest id, the report cache's data version of in-place changes (analytics/cache.py).
    dirty_seen = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"facts up to stage change {self.watermark}"


# --- values and cells (see analytics/cells.py) -------------------------------------------
# Every figure a deal adds to the reports, one row per (deal, metric, …), and their sums per
# month × manager × source × currency: the dashboard reads the sums for whole months and the
# deals' own rows for the days of a month the period cuts. Deals changed in place (a deal
# reassigned, an invoice paid, an audit row written) are queued by database triggers in
# `DirtyDeal`, so every writer is covered, the ORM's `QuerySet.update()` and raw SQL alike.


class DirtyDeal(models.Model):
    """A deal whose values must be computed again (filled by database triggers)."""

    id = models.BigAutoField(primary_key=True)
    deal_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"deal {self.deal_id} changed"


class DealValue(models.Model):
    """One figure a deal adds to a report: `metric` (what), `at` (the instant the period is
    about: the application, the win, the invoice, the payment) and its local `month`
    (YYYYMM in the studio's time zone), the deal's manager (0: nobody), source and the
    currency the money is in; `label` and `value` (what the figure is grouped by, or the
    value a percentile is taken over); `n` (count), `m` (a second count) and `total`
    (cents, or tenths of a minute)."""

    id = models.BigAutoField(primary_key=True)
    deal_id = models.BigIntegerField(db_index=True)
    metric = models.CharField(max_length=48)
    at = models.DateTimeField()
    month = models.IntegerField()
    manager_id = models.BigIntegerField(default=0)
    source = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    label = models.CharField(max_length=600, default="")
    value = models.BigIntegerField(default=0)
    n = models.BigIntegerField(default=1)
    m = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["metric", "at"], name="analytics_value_at_idx")]

    def __str__(self) -> str:
        return f"deal {self.deal_id} {self.metric} {self.label} {self.value}"


class Cell(models.Model):
    """The sum of the `DealValue` rows of one month × manager × source × currency × metric
    × label × value."""

    id = models.BigAutoField(primary_key=True)
    month = models.IntegerField()
    manager_id = models.BigIntegerField()
    source = models.CharField(max_length=32)
    currency = models.CharField(max_length=3)
    metric = models.CharField(max_length=48)
    label = models.CharField(max_length=600)
    value = models.BigIntegerField()
    n = models.BigIntegerField()
    m = models.BigIntegerField()
    total = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "manager_id", "source", "currency", "metric", "label", "value"],
                name="analytics_cell_unique",
            )
        ]
        indexes = [
            models.Index(fields=["metric", "manager_id", "month"], name="analytics_cell_metric_idx")
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.metric} {self.label} {self.value}: {self.n}"
