"""Survey and police intake, and the storage of the rollup engine (DESIGN.md section 6).

Intake
    ``SurveyResponse`` (one answer sheet of a resident survey, raw answers kept so the distribution can
    always be re-read) and ``PreventableCaseCount`` (police counts per area, month and kind), both
    written by an ``ImportBatch`` that validated every row first.

Rollup storage
    ``MonthlyFact``        what each registered source yields: (indicator, area, month) numerator and
                           denominator, at the area level the source reports (grid, community, ...).
    ``IndicatorValue``     the published values for every area and period with ranks and changes.
    ``RollupRun``          one run of the engine; at most one is ``running`` (a partial unique index).
    The engine's other working tables are temporary tables of the run (dashboards/rollup.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance import outbox
from governance.access import ScopedQuerySet
from governance.models import Area

# --- intake ---------------------------------------------------------------------------------------


class SafetyAnswer(models.TextChoices):
    """群众安全感: the five-point scale of the national statistics bureau, plus "don't know"."""

    VERY_SAFE = "very_safe", _("very safe")  # 很安全
    SAFE = "safe", _("safe")  # 安全
    BASICALLY_SAFE = "basically_safe", _("basically safe")  # 基本安全
    NOT_VERY_SAFE = "not_very_safe", _("not very safe")  # 不太安全
    UNSAFE = "unsafe", _("unsafe")  # 不安全
    DONT_KNOW = "dont_know", _("don't know")  # 不清楚


class SatisfactionAnswer(models.TextChoices):
    """Satisfaction with public-security work (群众满意度), same method."""

    SATISFIED = "satisfied", _("satisfied")  # 满意
    FAIRLY_SATISFIED = "fairly_satisfied", _("fairly satisfied")  # 比较满意
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")  # 基本满意
    NOT_VERY_SATISFIED = "not_very_satisfied", _("not very satisfied")  # 不太满意
    DISSATISFIED = "dissatisfied", _("dissatisfied")  # 不满意
    DONT_KNOW = "dont_know", _("don't know")  # 不清楚


class AgeGroup(models.TextChoices):
    A16_24 = "16-24", "16-24"
    A25_34 = "25-34", "25-34"
    A35_44 = "35-44", "35-44"
    A45_54 = "45-54", "45-54"
    A55_64 = "55-64", "55-64"
    A65 = "65+", "65+"


# Defaults of the settings that say which answers count (DOMAIN.md: top three of five).
DEFAULT_SAFE_ANSWERS = ("very_safe", "safe", "basically_safe")
DEFAULT_SATISFIED_ANSWERS = ("satisfied", "fairly_satisfied", "basically_satisfied")
DEFAULT_PREVENTABLE_CASE_KINDS = ("burglary", "home_robbery", "motor_vehicle_theft", "ebike_theft")


def _setting_list(
    name: str, default: tuple[str, ...], allowed: list[str] | None = None, max_length: int | None = None
) -> tuple[str, ...]:
    """A setting that lists codes, checked as it is read (by every rollup and import): a misspelt
    answer ("very-safe") or a bare string ("very_safe" without the tuple's comma, read letter by
    letter) counted no answer at all and published a wrong rate without a word. Fails loudly."""
    value = getattr(settings, name, default)
    codes = () if isinstance(value, str) else tuple(value)
    wrong = [
        c
        for c in codes
        if not isinstance(c, str)
        or not c
        or (allowed is not None and c not in allowed)
        or (max_length is not None and len(c) > max_length)
    ]
    if not codes or wrong:
        choice = f" from {', '.join(allowed)}" if allowed is not None else ""
        # A code longer than the column it is stored in passed every check and failed the import
        # with a database error (a 500) instead.
        longest = f" of at most {max_length} characters" if max_length is not None else ""
        raise ImproperlyConfigured(
            f"{name} must be a non-empty list of codes{longest}{choice}; it is {value!r}."
        )
    return codes


def safe_answers() -> tuple[str, ...]:
    """Setting SURVEY_SAFE_ANSWERS; "don't know" is never a valid answer, so it cannot count."""
    allowed = [c for c in SafetyAnswer.values if c != SafetyAnswer.DONT_KNOW]
    return _setting_list("SURVEY_SAFE_ANSWERS", DEFAULT_SAFE_ANSWERS, allowed)


def satisfied_answers() -> tuple[str, ...]:
    allowed = [c for c in SatisfactionAnswer.values if c != SatisfactionAnswer.DONT_KNOW]
    return _setting_list("SURVEY_SATISFIED_ANSWERS", DEFAULT_SATISFIED_ANSWERS, allowed)


def preventable_case_kinds() -> tuple[str, ...]:
    column = PreventableCaseCount._meta.get_field("kind")
    return _setting_list(
        "PREVENTABLE_CASE_KINDS", DEFAULT_PREVENTABLE_CASE_KINDS, max_length=column.max_length
    )


class ImportBatch(models.Model):
    """One accepted import (API upload or command): every row was valid, all were written together."""

    class Kind(models.TextChoices):
        SURVEY = "survey", _("survey responses")
        CASE_COUNTS = "case_counts", _("preventable-case counts")
        POPULATION = "population", _("area populations")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # SHA-256 of the batch's answers in a canonical order (survey imports): the same answers sent
    # again (the same file, re-exported or re-sorted) are refused rather than counted twice.
    digest = models.CharField(_("digest of the rows"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "digest"], name="import_batch_digest")]


class SurveyResponseQuerySet(ScopedQuerySet):
    pass


class SurveyResponse(models.Model):
    """One respondent's answers in a safety/satisfaction survey (residents aged 16+, sampled per
    district). The raw answers are kept; which of them count as "safe"/"satisfied" is a setting read
    when the rollup runs, so changing it and rebuilding re-reads the same distribution."""

    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    age_group = models.CharField(_("age group"), max_length=5, choices=AgeGroup.choices)
    safety = models.CharField(_("safety answer"), max_length=20, choices=SafetyAnswer.choices)
    satisfaction = models.CharField(
        _("satisfaction answer"), max_length=20, choices=SatisfactionAnswer.choices
    )
    weight = models.DecimalField(
        _("weight"),
        max_digits=8,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    SCOPE_AREA_FIELD = "area"
    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        # The indicator sources filter by date range (dashboards/indicators.py).
        indexes = [models.Index(fields=["date", "area"], name="survey_date_area")]


class PreventableCaseCountQuerySet(ScopedQuerySet):
    pass


class PreventableCaseCount(models.Model):
    """Police count of preventable cases (可防性案件: burglary, theft of vehicles...) for an area,
    a month and a kind. Re-importing the same (area, month, kind) replaces the count (corrections)."""

    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))  # first day of the month
    kind = models.CharField(_("kind"), max_length=40)
    count = models.PositiveIntegerField(_("count"))
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), db_index=True)

    SCOPE_AREA_FIELD = "area"
    objects = PreventableCaseCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("preventable-case count")
        verbose_name_plural = _("preventable-case counts")
        constraints = [
            models.UniqueConstraint(fields=["area", "month", "kind"], name="casecount_unique_area_month_kind")
        ]
        indexes = [models.Index(fields=["month", "area"], name="casecount_month_area")]


class AreaPopulation(models.Model):
    """An area's resident population in a year: the denominator of the per-10,000 rates of that
    year's months. A year without a figure uses the area's own population (``Area.population``,
    imported with the areas), so entering this year's figure leaves last year's rates, and the
    year-on-year comparisons with them, as they were. Re-importing an (area, year) replaces it."""

    area = models.ForeignKey(Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    population = models.PositiveIntegerField(_("population"))
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The nightly run asks which years changed since it last ran (dashboards.indicators.police_changes).
    updated_at = models.DateTimeField(_("updated at"), db_index=True)

    SCOPE_AREA_FIELD = "area"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("area population")
        verbose_name_plural = _("area populations")
        # The police source reads an (area, year) figure per counted area and month.
        constraints = [models.UniqueConstraint(fields=["area", "year"], name="population_unique_area_year")]


# --- rollup storage -------------------------------------------------------------------------------


class RollupRun(models.Model):
    """One run of the rollup engine. The partial unique index on ``status='running'`` is the lock:
    a second trigger cannot insert its own running row, so runs never overlap (on SQLite and
    PostgreSQL alike). A row left ``running`` by a killed worker is declared abandoned once it is
    older than the task time limit. ``rows`` counts the value rows the run wrote (a full rebuild on
    PostgreSQL rewrites them all; other runs insert or change only rows whose content differs),
    ``statements`` the SQL statements it issued."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCESS = "success", _("succeeded")
        FAILED = "failed", _("failed")

    class Kind(models.TextChoices):
        FULL = "full", _("full rebuild")
        INCREMENTAL = "incremental", _("incremental")

    # How a run started (the API's ``trigger``): labelled for the admin, which showed the codes.
    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("nightly schedule")
        COMMAND = "command", _("management command")
        API = "api", _("started through the API")
        TREE = "tree", _("area tree changed")
        POPULATION = "population", _("populations imported")
        DEMO = "demo", _("demo data")

    started_at = models.DateTimeField(_("started"))
    # Not "finished": that msgid is the incident inbox's state (已办结), which the admin showed here.
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.COMMAND)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    since = models.DateField(_("since"), null=True, blank=True)
    months = models.PositiveIntegerField(_("months refreshed"), default=0)
    periods = models.PositiveIntegerField(_("periods recomputed"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    statements = models.PositiveIntegerField(_("SQL statements"), default=0)
    config_hash = models.CharField(_("configuration fingerprint"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="rollup_one_running"
            )
        ]
        indexes = [models.Index(fields=["status", "-finished_at"], name="rollup_status_finished")]

    def __str__(self) -> str:
        # In local time, as the list shows it (it read 18:05 for a run at 02:05 in Beijing).
        started = timezone.localtime(self.started_at)
        return f"{self.get_kind_display()} {started:%Y-%m-%d %H:%M} {self.get_status_display()}"


class MonthlyFact(models.Model):
    """A source's row: numerator and denominator of an indicator for an area and a month."""

    indicator = models.CharField(max_length=60)
    # Not indexed alone: deleting an area (rare) scans the facts once.
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField()
    numerator = models.FloatField()
    denominator = models.FloatField()

    class Meta:
        verbose_name = _("monthly fact")
        verbose_name_plural = _("monthly facts")
        # One index, month first: incremental runs replace and read whole months.
        constraints = [
            models.UniqueConstraint(fields=["month", "indicator", "area"], name="fact_unique_month_ind_area")
        ]


class IndicatorValue(models.Model):
    """The value of an indicator for an area and a period (DESIGN.md section 6).

    ``rank`` is among the siblings (same parent) by the indicator's direction, ties share a rank
    (1, 2, 2, 4); ``rank_of`` is how many siblings were ranked (areas below the minimum sample are
    shown with a null rank). ``delta`` is in the indicator's unit (percentage points for a percent),
    ``rank_change = previous_rank - rank`` (positive = moved up). ``parent`` and ``level`` copy the
    area's so rankings and level lists are single-index reads.
    """

    indicator = models.CharField(_("indicator"), max_length=60)
    # Indexed by value_series, which starts with the area (also what deleting an area looks up).
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Rows whose parent is X are rows of X's children, which keep X from being deleted (Area.parent
    # is PROTECT): nothing to cascade, so no lookup by parent alone and no index of its own.
    parent = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    level = models.CharField(_("level"), max_length=10)
    period = models.CharField(_("period"), max_length=7)
    period_type = models.CharField(_("period type"), max_length=7)
    numerator = models.FloatField(_("numerator"))
    denominator = models.FloatField(_("denominator"))
    value = models.FloatField(_("value"), null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    rank_of = models.PositiveIntegerField(_("ranked siblings"), default=0)
    previous_value = models.FloatField(null=True)
    delta = models.FloatField(null=True)
    previous_rank = models.PositiveIntegerField(null=True)
    rank_change = models.IntegerField(null=True)
    yoy_value = models.FloatField(null=True)
    yoy_delta = models.FloatField(null=True)
    # Runs are kept (the history is the audit trail); deleting one in the admin scans the table.
    # No database constraint: every row a run writes points to that run, which exists, and checking
    # it costs a lookup per row at commit (a third of a nightly run that rewrites 30,000 rows).
    run = models.ForeignKey(
        RollupRun,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    SCOPE_AREA_FIELD = "area"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period", "area"], name="value_unique_ind_period_area"
            )
        ]
        # Three indexes besides the primary key, each serving several read paths (every index costs
        # the rollup a sort of all rows at a full rebuild, and a write per changed row otherwise):
        # * value_unique_ind_period_area: stats/values by indicator and period (with level or area:
        #   at most one row per area of the city per indicator and period); with period only, the API
        #   lists the registered indicators so this index still applies;
        # * value_ranking: stats/rankings and the ranking pages, children of a parent (a few dozen
        #   rows, sorted by rank when read: a rank in the key would make every re-ranked row a new
        #   index entry at night);
        # * value_series: stats/series and an area's headline values (one area's rows of one
        #   indicator: 4 period types over the years, a few dozen, filtered and sorted when read);
        #   deleting an area. Its repeated keys are stored once each (B-tree deduplication), so it
        #   is a fraction of the size of a key with the periods, and half the time to build.
        indexes = [
            models.Index(fields=["indicator", "period", "parent"], name="value_ranking"),
            models.Index(fields=["area", "indicator"], name="value_series"),
        ]


# --- the tree changed: a rollup on commit ----------------------------------------------------------

# The trigger recorded on the run a tree change queues (RollupRun.trigger): an area moved, its level,
# population or service dates changed, or an area deleted.
TREE_TRIGGER = RollupRun.Trigger.TREE
# The trigger of the run an import of populations by year queues (dashboards.intake).
POPULATION_TRIGGER = RollupRun.Trigger.POPULATION


@receiver(pre_save, sender=Area, dispatch_uid="rollup-tree-changing")
def _tree_changing(sender, instance: Area, raw: bool = False, **kwargs) -> None:
    # Whether this save moves the area, changes its level, population or service dates (which periods
    # its zero counts fill), read before the row is written (one indexed read per update of an area;
    # none for a new one, which has no values yet).
    if raw or instance.pk is None:
        instance._tree_changed = False
        return
    fields = ("parent_id", "level", "population", "in_service_from", "in_service_until")
    before = Area.objects.filter(pk=instance.pk).values_list(*fields).first()
    instance._tree_changed = before is not None and before != tuple(getattr(instance, f) for f in fields)


@receiver(post_save, sender=Area, dispatch_uid="rollup-tree-changed")
def _tree_changed(sender, instance: Area, **kwargs) -> None:
    # The values' rows carry their area's parent and level when they were computed (rankings group
    # siblings by the stored parent, index value_ranking), and the old parent's sums still held the
    # moved area's: a grid moved in the admin was ranked under its old community, whose figures
    # still counted it, until the nightly run. Likewise a population corrected (the admin,
    # ``import_areas``): every per-10,000 rate of the area and of those above it divides by it. A run
    # queued once the change commits (a full rebuild: the tree, populations included, is part of
    # rollup.config_hash) puts it right within minutes.
    if not getattr(instance, "_tree_changed", False):
        return
    instance._tree_changed = False
    queue_rollup(TREE_TRIGGER)


@receiver(post_delete, sender=Area, dispatch_uid="rollup-tree-deleted")
def _tree_deleted(sender, instance: Area, **kwargs) -> None:
    # A deleted area's values go with it (CASCADE), but its siblings' rank_of still counted it, and
    # its parent's sums anything it had (only an area without records can go: they PROTECT it).
    queue_rollup(TREE_TRIGGER)


def queue_rollup(trigger: str) -> None:
    """Queue a rollup run for when the current transaction commits, once per transaction whatever
    else queues one in it: through the outbox, as every task that must not be lost. A run in progress
    when it arrives (it planned on the data before this change) makes the task come back later
    (dashboards.tasks). In eager mode (no broker) it runs in-process once the transaction commits."""
    # One per transaction: the first trigger is the one recorded (a tree change and a population
    # import in one transaction give a single run, full because the tree changed).
    connection = transaction.get_connection()
    if any(func is _tree_rollup_queued for _savepoints, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_tree_rollup_queued)
    outbox.enqueue("dashboards.rollup", trigger=trigger)


def _tree_rollup_queued() -> None:
    """Does nothing at commit: registered with the transaction, it marks it as one that already
    queued its run. (A message merely unsent is no such mark: one from a transaction committed a
    moment earlier may be running already, on the tree before this one's move.) A savepoint rolled
    back takes the mark away with the message it queued."""


from dashboards.assessment_models import *  # noqa: E402,F401,F403  (assessment models live in their own module)
