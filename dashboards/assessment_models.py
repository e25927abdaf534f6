"""Assessment of areas (平安建设考核, DOMAIN.md "Assessment").

A city assesses its districts (or a district its streets) once a year against a *scheme*: 100 points
split into *items*. An item is scored from a published indicator value (target, linear between two
thresholds, or rank among the assessed areas) or entered by hand with evidence. *Adjustments* deduct
points (an entry of the scheme's negative list, per occurrence) or add bonus points; each has a reason,
who entered it and who approved it, and only approved ones count, capped per item. A *veto* (一票否决)
decided at district level or above bars the area from an excellent grade (by default: the grade
becomes "fail").

Every computation is an ``AssessmentRun`` holding its own ``AssessmentResult`` rows; the scheme points
at the run that was published. Recomputing never rewrites a published run: it adds a new run, and the
pages say when the newest run differs from the published one, so a published result never changes
silently.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboards.homes import STAFF_ROLES
from governance import codes
from governance.access import ScopedQuerySet, area_in_scope, scope_q
from governance.models import Area, SequenceCounter
from governance.periods import FIRST_YEAR, LAST_YEAR

POINTS = {"max_digits": 7, "decimal_places": 2}


# The roles that read the statistics (the navigation's "Assessment"): those of them at an assessed
# area (or inside one) read the scheme and their area's result. A grid worker does not.
ASSESSED_READER_ROLES = frozenset(STAFF_ROLES)


def _assessed_links(user) -> set[tuple[str, str, str]]:
    """(assessing area code, level assessed, assessed area code) for every area above the user's staff
    memberships: a street handler of 甲一街道 is assessed by the district (as 甲一街道) and by the city
    (as 甲区). No query: the memberships are loaded once per request. A parent is always the level just
    above its child (codes.PARENT_LEVEL), so each ancestor's level follows from the membership's."""
    links = set()
    for m in user.memberships_cached() if getattr(user, "is_authenticated", False) and user.is_active else ():
        if m.role not in ASSESSED_READER_ROLES:
            continue
        chain = m.area.path.strip("/").split("/")
        last = codes.LEVEL_ORDER.index(m.area.level)
        for i in range(len(chain) - 1):
            level = last - (len(chain) - 1) + i + 1
            if level > 0:
                links.add((chain[i], codes.LEVEL_ORDER[level], chain[i + 1]))
    return links


class AssessmentSchemeQuerySet(ScopedQuerySet):
    def readable_by(self, user) -> AssessmentSchemeQuerySet:
        """The schemes whose results ``user`` may read: those of ``visible_to`` (the assessing area in
        scope: the whole table, drafts included) and those assessing an area the user is staff of or
        inside (that area's rows of the published run only: ``AssessmentScheme.own_areas``). The
        entry pages, the actions and the evidence stay with ``visible_to``."""
        whole = scope_q(user, "area")
        if whole is None:
            return self
        for assessing, level, _child in _assessed_links(user):
            whole |= Q(area__code=assessing, level=level)
        return self.filter(whole)


class AssessmentScheme(models.Model):
    """The rules for one year and one level: which children of ``area`` are assessed, and how."""

    class TieRule(models.TextChoices):
        # Applied after the total when the excellent-share cap falls inside a tie.
        FEWER_DEDUCTIONS = "fewer_deductions", _("fewer deduction points, then area code")
        AREA_CODE = "area_code", _("area code")

    # A year the periods know (its period is str(year)): 20266, a digit too many, was saved, and
    # its results page failed on the period it could not read.
    year = models.PositiveIntegerField(
        _("year"), validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)]
    )
    name = models.CharField(_("name"), max_length=200)
    area = models.ForeignKey(
        Area, verbose_name=_("assessing area"), on_delete=models.PROTECT, related_name="+"
    )
    # The areas assessed are the children of ``area``: one level below it.
    level = models.CharField(_("level assessed"), max_length=10, choices=Area.Level.choices)
    # A share of the areas, 0 to 1: a negative one demoted an excellent area (floor(-0.1 x 3) = -1
    # keeps "all but the last"), and 30 (per cent) is no cap at all.
    excellent_share_cap = models.DecimalField(
        _("maximum share rated excellent"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("e.g. 0.300 for at most 30 per cent of the areas; empty for no cap"),
    )
    tie_rule = models.CharField(
        _("tie rule at the excellent cap"),
        max_length=20,
        choices=TieRule.choices,
        default=TieRule.FEWER_DEDUCTIONS,
    )
    published_run = models.ForeignKey(
        "AssessmentRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("published run"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    SCOPE_AREA_FIELD = "area"
    objects = AssessmentSchemeQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["-year", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "area", "level"], name="scheme_unique_year_area_level")
        ]

    def __str__(self) -> str:
        # The year only when the name lacks it: "2026 2026 年度平安建设考核" read it twice (in the
        # admin's titles, the runs' list and the exported heading alike).
        return self.name if str(self.year) in self.name else f"{self.name} ({self.year})"

    @property
    def period(self) -> str:
        return str(self.year)

    def own_areas(self, user) -> list[str] | None:
        """None when ``user`` reads the whole scheme (the assessing area in their scope); else the
        codes of the assessed areas they are staff of or inside (``readable_by``), whose rows of the
        published run are all they see."""
        if area_in_scope(user, self.area):
            return None
        return sorted(
            child
            for assessing, level, child in _assessed_links(user)
            if (assessing, level) == (self.area.code, self.level)
        )

    def clean(self) -> None:
        # A level that is not the one below the assessing area assesses no area at all: the scheme
        # is computed into an empty table and nobody is told why.
        if self.area_id and self.level:
            order = codes.LEVEL_ORDER
            below = order.index(self.area.level) + 1
            if below >= len(order) or self.level != order[below]:
                raise ValidationError(
                    {
                        "level": _(
                            "The areas assessed are the children of the assessing area, one level below it."
                        )
                    }
                )


class AssessmentItem(models.Model):
    """One item of a scheme, with its maximum points (the items of a scheme add to 100)."""

    class Method(models.TextChoices):
        # Neutral: which side of the target scores full marks is the indicator's direction (the
        # label said "at or above it" for preventable cases too); the field's help and the results
        # page (assessment.method_label) say how each direction is scored.
        TARGET = "target", _("target (full marks on reaching it, see the indicator's direction)")
        LINEAR = "linear", _("linear between two thresholds")
        RANK = "rank", _("rank among the assessed areas")
        MANUAL = "manual", _("entered by hand with evidence")

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="items", verbose_name=_("scheme")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    max_points = models.DecimalField(_("maximum points"), validators=[MinValueValidator(0)], **POINTS)
    method = models.CharField(
        _("method"),
        max_length=10,
        choices=Method.choices,
        help_text=_(
            "target: an indicator better when higher scores full marks at or above the target and the "
            "points × value ÷ target below it; one better when lower (such as preventable cases) full "
            "marks at or below it and the points × target ÷ value above it."
        ),
    )
    indicator = models.CharField(_("indicator"), max_length=60, blank=True)
    target = models.FloatField(_("target"), null=True, blank=True)
    # Linear: the value scoring zero and the value scoring full marks (zero_at > full_at for a
    # lower-is-better indicator).
    zero_at = models.FloatField(_("value scoring zero"), null=True, blank=True)
    full_at = models.FloatField(_("value scoring full marks"), null=True, blank=True)
    # Caps are at least 0: a negative deduction cap turned the deductions into points added, a
    # negative bonus cap the bonus into a deduction nobody approved.
    deduction_cap = models.DecimalField(
        _("deduction cap"),
        null=True,
        blank=True,
        help_text=_("empty: the item's maximum points"),
        validators=[MinValueValidator(0)],
        **POINTS,
    )
    bonus_cap = models.DecimalField(
        _("bonus cap"), default=Decimal("5"), validators=[MinValueValidator(0)], **POINTS
    )

    class Meta:
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        ordering = ["scheme", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A linear item runs from zero to full marks in its indicator's direction. Set the other way
        # round (zero at 2 preventable cases per 10,000 residents, full marks at 10), it gave the most
        # points to the worst areas without a word; the admin refuses it, and computing refuses a
        # scheme stored with it (check_stored).
        if self.method != self.Method.LINEAR or self.zero_at is None or self.full_at is None:
            return
        from governance import indicators as registry

        spec = registry.registry().get(self.indicator)
        if spec is None or self.zero_at == self.full_at:
            return  # check_items names these
        if spec.direction == registry.LOWER_BETTER and self.zero_at < self.full_at:
            message = _(
                "%(indicator)s is better when lower: the value scoring zero must be above the value "
                "scoring full marks."
            )
        elif spec.direction != registry.LOWER_BETTER and self.zero_at > self.full_at:
            message = _(
                "%(indicator)s is better when higher: the value scoring zero must be below the value "
                "scoring full marks."
            )
        else:
            return
        raise ValidationError({"zero_at": message % {"indicator": spec.name}})


class NegativeListEntry(models.Model):
    """An entry of the negative list (e.g. "serious incident in the area"): points per occurrence."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="negative_list", verbose_name=_("scheme")
    )
    item = models.ForeignKey(
        AssessmentItem, on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )
    name = models.CharField(_("name"), max_length=200)
    points = models.DecimalField(_("points per occurrence"), validators=[MinValueValidator(0)], **POINTS)

    class Meta:
        verbose_name = _("negative-list entry")
        verbose_name_plural = _("negative list")
        ordering = ["scheme", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Deductions are charged to the entry's item; an item of another scheme is one this scheme
        # never scores, so its deductions would silently count nowhere.
        if self.item_id and self.scheme_id and self.item.scheme_id != self.scheme_id:
            raise ValidationError({"item": _("Choose an item of this scheme.")})


# The evidence a hand score may attach: documents and pictures an office keeps (OFD is China's
# standard electronic document). Served back as an attachment of this type (views.assessment_evidence).
EVIDENCE_TYPES = {
    ".pdf": "application/pdf",
    ".ofd": "application/ofd",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# What a document of each extension begins with. Pictures are decoded instead (governance.pictures).
# A PDF reader finds its header within the first kilobyte (a byte-order mark or a mailer's junk may
# come first); OFD, .docx and .xlsx are ZIP packages; .doc and .xls are OLE2 compound files.
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EVIDENCE_SIGNATURES = {".pdf": None, ".ofd": _ZIP, ".docx": _ZIP, ".xlsx": _ZIP, ".doc": _OLE2, ".xls": _OLE2}
PDF_HEADER_WITHIN = 1024


def evidence_content_matches(extension: str, head: bytes) -> bool:
    """Whether a document's first bytes are those of the kind its extension names: a file renamed to
    .pdf or .docx (an HTML page, a program) is not stored and handed to the managers as one."""
    if extension == ".pdf":
        return b"%PDF" in head[:PDF_HEADER_WITHIN]
    return head.startswith(EVIDENCE_SIGNATURES[extension])


def evidence_extension(name: str) -> str:
    """The file's extension if it is one of EVIDENCE_TYPES, else ""."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in EVIDENCE_TYPES else ""


def evidence_path(instance: ManualScore, filename: str) -> str:
    """A generated name: the uploaded one ("王建国家门口.jpg") can name a resident, and was kept on
    disk under a guessable path."""
    return f"assessment/evidence/{timezone.localdate().year}/{uuid.uuid4().hex}{evidence_extension(filename)}"


class ManualScore(models.Model):
    """An item scored by hand for one area, with the evidence (an attachment)."""

    item = models.ForeignKey(AssessmentItem, on_delete=models.CASCADE, related_name="manual_scores")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("points"), validators=[MinValueValidator(0)], **POINTS)
    evidence = models.FileField(_("evidence"), upload_to=evidence_path)
    note = models.CharField(_("note"), max_length=500, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("manual score")
        verbose_name_plural = _("manual scores")
        constraints = [models.UniqueConstraint(fields=["item", "area"], name="manualscore_unique_item_area")]


class Adjustment(models.Model):
    """A deduction (from the negative list) or a bonus for one area and item. Counts once approved
    by someone other than the person who entered it."""

    class Kind(models.TextChoices):
        DEDUCTION = "deduction", _("deduction")
        BONUS = "bonus", _("bonus")

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="adjustments")
    item = models.ForeignKey(AssessmentItem, on_delete=models.CASCADE, related_name="adjustments")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    negative_entry = models.ForeignKey(
        NegativeListEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    points = models.DecimalField(_("points"), validators=[MinValueValidator(0)], **POINTS)
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Why it was rejected, told to whoever entered it (2 to 500 characters, required to reject; blank
    # when approved, and on rows rejected before a reason was asked: "not recorded").
    rejection_reason = models.CharField(_("reason for the rejection"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["scheme", "area", "id"]
        indexes = [models.Index(fields=["scheme", "status"], name="adjustment_scheme_status")]


class VetoEvent(models.Model):
    """一票否决: a listed event (e.g. a major incident) that bars the area from an excellent grade and
    honours for the year. Only users at district level or above decide it."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="vetoes")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(_("event"), max_length=500)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"))
    # A veto recorded by mistake (on the wrong area, the wrong event) is withdrawn, with the reason,
    # by someone else allowed to decide one; the row stays, marked, so the record of what was decided
    # and undone is kept. A withdrawn veto counts in no run computed after it.
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("reason for the withdrawal"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("veto event")
        verbose_name_plural = _("veto events")
        ordering = ["scheme", "area", "id"]
        # The vetoes in force of a scheme (computing, the twin check).
        indexes = [models.Index(fields=["scheme", "withdrawn_at"], name="veto_scheme_withdrawn")]


class AssessmentRun(models.Model):
    """One computation of a scheme. Its results never change after it is written."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="runs", verbose_name=_("scheme")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("started by hand")
        TASK = "task", _("background task")
        ROLLUP = "rollup", _("after the rollup")
        DEMO = "demo", _("demo data")

    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    rollup_run_id = models.IntegerField(null=True, blank=True, verbose_name=_("rollup run"))
    # A digest of the results and of the rules they were graded by: a new run equal to the previous
    # one is not stored twice.
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    # The rules the run was graded by, as they were when it was computed (``assessment.run_rules``):
    # the grade thresholds and the veto's effect (settings), the scheme's excellent-share cap, its tie
    # rule and how many of the run's areas the cap let be excellent. The page stated the rules in
    # force now, so a setting changed since explained last year's published grades by rules they
    # were not graded by. Empty on a run computed before runs recorded them: nobody can know them.
    rules = models.JSONField(_("grading rules"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("published by"),
    )

    def __str__(self) -> str:
        return f"#{self.pk} · {timezone.localtime(self.computed_at):%Y-%m-%d %H:%M} · {self.get_trigger_display()}"

    class Meta:
        verbose_name = _("assessment run")
        verbose_name_plural = _("assessment runs")
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["scheme", "-computed_at"], name="assessrun_scheme_time")]


class AssessmentResult(models.Model):
    """One area's result in a run: total, per-item breakdown (``items``), veto, grade and rank."""

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("excellent")
        GOOD = "good", _("good")
        PASS = "pass", _("pass")
        FAIL = "fail", _("fail")

    run = models.ForeignKey(AssessmentRun, on_delete=models.CASCADE, related_name="results")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(_("total"), **POINTS)
    deductions = models.DecimalField(_("deductions"), **POINTS)
    bonus = models.DecimalField(_("bonus"), **POINTS)
    vetoed = models.BooleanField(_("vetoed"), default=False)
    veto_events = models.JSONField(default=list)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    # Would have been excellent but the excellent-share cap moved it down.
    capped = models.BooleanField(default=False)
    rank = models.PositiveIntegerField(_("rank"))
    previous_rank = models.PositiveIntegerField(null=True)
    rank_change = models.IntegerField(null=True)
    items = models.JSONField(default=list)

    class Meta:
        verbose_name = _("assessment result")
        verbose_name_plural = _("assessment results")
        ordering = ["run", "rank", "area__code"]
        constraints = [models.UniqueConstraint(fields=["run", "area"], name="assessresult_unique_run_area")]


# The version of what the assessment API reads (its ETag and Last-Modified, dashboards.assessment_api):
# the schemes with their items and published run, and the runs. A run's results are written with it
# (bulk_create, in the computing transaction) and never change; the entries, adjustments and vetoes
# reach the API only through a new run. In the writer's transaction, as the "areas" version is.
ASSESSMENTS_VERSION = "assessments"


@receiver([post_save, post_delete], sender=AssessmentScheme, dispatch_uid="assessment-scheme-version")
@receiver([post_save, post_delete], sender=AssessmentItem, dispatch_uid="assessment-item-version")
@receiver([post_save, post_delete], sender=AssessmentRun, dispatch_uid="assessment-run-version")
def _assessment_changed(sender, **kwargs) -> None:
    SequenceCounter.bump(ASSESSMENTS_VERSION)


__all__ = [
    "AssessmentScheme",
    "AssessmentItem",
    "NegativeListEntry",
    "ManualScore",
    "Adjustment",
    "VetoEvent",
    "AssessmentRun",
    "AssessmentResult",
]
