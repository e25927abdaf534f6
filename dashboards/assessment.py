"""Assessment scoring (DOMAIN.md "Assessment"; rules written out in docs/assessment.md).

The arithmetic is in pure functions (``score_target``, ``score_linear``, ``score_rank``, ``grade_for``,
``rank_totals``, ``apply_excellent_cap``, ``score_scheme``) so it can be tested on crafted numbers;
the services below read the inputs (published indicator values, manual scores, approved adjustments,
vetoes), call them, and store a run. Every hand entry, approval and veto is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboards.assessment_models import (
    Adjustment,
    AssessmentItem,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    ManualScore,
    NegativeListEntry,
    VetoEvent,
)
from governance import indicators as registry
from governance.models import Area, Role, User, record_id
from governance.periods import Period
from governance.services import audit, notify
from governance.workflow import ActionForbidden, ActionInvalid, FieldErrors

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
ZERO = Decimal("0")
GRADES = ("excellent", "good", "pass", "fail")
MANAGER_ROLES = frozenset({"handler", "admin"})
DECIDING_LEVELS = frozenset({"city", "district"})
# A deduction is capped per item (at most 100 points a year); more occurrences than this is a typo.
MAX_OCCURRENCES = 999
MAX_POINTS = Decimal("99999.99")  # what the points columns hold (7 digits, 2 of them decimals)


def points_text(value: Decimal) -> str:
    """20.00 -> "20", 17.50 -> "17.5": a number of points as a person writes it."""
    return f"{value.normalize():f}"


def at_most_points(limit: Decimal) -> str:
    """The error of a score or bonus above its item's limit.

    Exactly 1 has its own sentence ("1 points" read wrong). Not ngettext: points are decimals, which
    gettext refuses as a plural count, and in English only exactly 1 is singular ("0.5 points").
    """
    if limit == 1:
        return _("At most 1 point for this item.")
    return _("At most %(max)s points for this item.") % {"max": points_text(limit)}


def q2(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def grade_thresholds() -> tuple[Decimal, Decimal, Decimal]:
    """(excellent, good, pass) lower bounds; setting ASSESSMENT_GRADE_THRESHOLDS, default 90/80/60."""
    values = getattr(settings, "ASSESSMENT_GRADE_THRESHOLDS", (90, 80, 60))
    # Checked as read: thresholds in the wrong order, (60, 80, 90), rated every area of 60 points or
    # more "excellent" without a word; a setting that is not three numbers crashed mid-computation.
    try:
        excellent, good, passing = (Decimal(str(v)) for v in values)
        if not excellent > good > passing >= 0:
            raise ValueError
    except (TypeError, ValueError, ArithmeticError):
        raise ImproperlyConfigured(
            "ASSESSMENT_GRADE_THRESHOLDS must be three numbers, excellent > good > pass >= 0, "
            f"such as (90, 80, 60); it is {values!r}."
        ) from None
    return excellent, good, passing


def veto_effect() -> str:
    """What a veto does: "fail" (default, the grade becomes fail) or "no_excellent" (capped at good)."""
    effect = getattr(settings, "ASSESSMENT_VETO_EFFECT", "fail")
    if effect not in {"fail", "no_excellent"}:
        raise ValueError("ASSESSMENT_VETO_EFFECT must be 'fail' or 'no_excellent'")
    return effect


# --- pure scoring -------------------------------------------------------------------------------


def score_target(
    value: float | None, target: float, max_points: Decimal, *, lower_better: bool = False
) -> Decimal:
    """Full marks at or beyond the target, proportional short of it (no value scores zero)."""
    if value is None:
        return ZERO
    if lower_better:
        if value <= target:
            return q2(max_points)
        return q2(max_points * Decimal(str(target)) / Decimal(str(value))) if value else q2(max_points)
    if value >= target:
        return q2(max_points)
    if target <= 0:
        return ZERO
    return q2(max_points * Decimal(str(max(value, 0))) / Decimal(str(target)))


def score_linear(value: float | None, zero_at: float, full_at: float, max_points: Decimal) -> Decimal:
    """Zero at ``zero_at``, full marks at ``full_at``, a straight line between (either direction)."""
    if value is None or zero_at == full_at:
        return ZERO
    share = (Decimal(str(value)) - Decimal(str(zero_at))) / (Decimal(str(full_at)) - Decimal(str(zero_at)))
    share = min(max(share, ZERO), Decimal(1))
    return q2(max_points * share)


def competition_ranks(values: dict, *, higher_better: bool = True) -> dict:
    """Rank keys by value, ties share the rank (1, 2, 2, 4); None values are not ranked."""
    present = [(k, v) for k, v in values.items() if v is not None]
    present.sort(key=lambda kv: kv[1], reverse=higher_better)
    ranks: dict = {}
    for index, (key, value) in enumerate(present):
        if index and value == present[index - 1][1]:
            ranks[key] = ranks[present[index - 1][0]]
        else:
            ranks[key] = index + 1
    return ranks


def score_rank(rank: int | None, count: int, max_points: Decimal) -> Decimal:
    """First place full marks, then down in equal steps: max * (count - rank + 1) / count."""
    if rank is None or count <= 0:
        return ZERO
    return q2(max_points * Decimal(count - rank + 1) / Decimal(count))


def grade_for(total: Decimal, *, vetoed: bool = False) -> str:
    excellent, good, passing = grade_thresholds()
    if vetoed and veto_effect() == "fail":
        return "fail"
    if total >= excellent:
        grade = "excellent"
    elif total >= good:
        grade = "good"
    elif total >= passing:
        grade = "pass"
    else:
        grade = "fail"
    if vetoed and grade == "excellent":
        grade = "good"  # "no_excellent": barred from excellent only
    return grade


@dataclass
class AreaScore:
    """The working record of one area while a scheme is scored."""

    area_id: int
    code: str
    name: str = ""
    items: list[dict] = field(default_factory=list)
    total: Decimal = ZERO
    deductions: Decimal = ZERO  # points taken off, after each item's cap
    # Deduction points approved, before the caps: the tie rule's "fewer deductions" (an area with
    # 10 points approved on an item capped at 2 does not tie-break ahead of one with 3).
    approved_deductions: Decimal = ZERO
    bonus: Decimal = ZERO
    vetoed: bool = False
    veto_events: list[str] = field(default_factory=list)
    grade: str = "fail"
    capped: bool = False
    rank: int = 0
    previous_rank: int | None = None
    rank_change: int | None = None


def rank_totals(scores: Sequence[AreaScore]) -> None:
    """Rank by total (ties share a rank); vetoed areas rank after every area without a veto."""
    ordered = sorted(scores, key=lambda s: (s.vetoed, -s.total, s.code))
    previous: AreaScore | None = None
    for index, score in enumerate(ordered):
        if previous is not None and (previous.vetoed, previous.total) == (score.vetoed, score.total):
            score.rank = previous.rank
        else:
            score.rank = index + 1
        previous = score


def excellent_allowed(areas: int, share: Decimal) -> int:
    """How many of ``areas`` the excellent-share cap lets keep "excellent": floor(share x areas)."""
    return int((Decimal(areas) * share).to_integral_value(rounding="ROUND_FLOOR"))


def apply_excellent_cap(scores: Sequence[AreaScore], share: Decimal | None, tie_rule: str) -> None:
    """At most floor(share x areas) are rated excellent. Candidates are ordered by total, then by the
    scheme's tie rule (fewer approved deduction points first, or by area code), then by area code; the ones
    past the cap become "good" and are flagged ``capped``."""
    if share is None:
        return
    allowed = excellent_allowed(len(scores), share)
    candidates = [s for s in scores if s.grade == "excellent"]
    if tie_rule == AssessmentScheme.TieRule.FEWER_DEDUCTIONS:
        candidates.sort(key=lambda s: (-s.total, s.approved_deductions, s.code))
    else:
        candidates.sort(key=lambda s: (-s.total, s.code))
    for score in candidates[allowed:]:
        score.grade = "good"
        score.capped = True


@dataclass(frozen=True)
class ItemRule:
    id: int
    name: str
    method: str
    max_points: Decimal
    indicator: str = ""
    lower_better: bool = False
    target: float | None = None
    zero_at: float | None = None
    full_at: float | None = None
    deduction_cap: Decimal | None = None
    bonus_cap: Decimal = Decimal("5")


def score_scheme(
    *,
    items: Sequence[ItemRule],
    areas: Sequence[tuple[int, str, str]],
    values: dict[tuple[str, int], float | None],
    manual: dict[tuple[int, int], Decimal],
    deductions: dict[tuple[int, int], Decimal],
    bonuses: dict[tuple[int, int], Decimal],
    vetoes: dict[int, list[str]],
    previous_ranks: dict[int, int],
    excellent_share_cap: Decimal | None = None,
    tie_rule: str = AssessmentScheme.TieRule.FEWER_DEDUCTIONS,
) -> list[AreaScore]:
    """Score every area (id, code, name) on every item. ``values`` maps (indicator, area id) to the
    published value; ``manual``/``deductions``/``bonuses`` map (item id, area id) to points."""
    scores = {a_id: AreaScore(area_id=a_id, code=code, name=name) for a_id, code, name in areas}
    for item in items:
        ranks: dict = {}
        if item.method == AssessmentItem.Method.RANK:
            ranks = competition_ranks(
                {a_id: values.get((item.indicator, a_id)) for a_id in scores},
                higher_better=not item.lower_better,
            )
        for a_id, score in scores.items():
            value = values.get((item.indicator, a_id)) if item.indicator else None
            if item.method == AssessmentItem.Method.TARGET:
                base = score_target(value, item.target or 0, item.max_points, lower_better=item.lower_better)
            elif item.method == AssessmentItem.Method.LINEAR:
                base = score_linear(value, item.zero_at or 0, item.full_at or 0, item.max_points)
            elif item.method == AssessmentItem.Method.RANK:
                base = score_rank(ranks.get(a_id), len(ranks), item.max_points)
            else:
                base = min(q2(manual.get((item.id, a_id), ZERO)), q2(item.max_points))
            cap = item.max_points if item.deduction_cap is None else item.deduction_cap
            deducted = min(deductions.get((item.id, a_id), ZERO), cap, base)
            bonus = min(bonuses.get((item.id, a_id), ZERO), item.bonus_cap)
            item_score = q2(base - deducted + bonus)
            score.items.append(
                {
                    "item": item.id,
                    "name": item.name,
                    "method": item.method,
                    "max_points": str(q2(item.max_points)),
                    "indicator": item.indicator,
                    # As stored by the rollup (6 decimals): rounded to 4 here, 93.12496 became
                    # 93.1250 and was shown "93.13" where the league table shows "93.12".
                    "value": None if value is None else round(value, 6),
                    "rank": ranks.get(a_id),
                    "base": str(q2(base)),
                    "deductions": str(q2(deducted)),
                    "bonus": str(q2(bonus)),
                    "score": str(item_score),
                }
            )
            score.total += item_score
            score.deductions += deducted
            score.approved_deductions += deductions.get((item.id, a_id), ZERO)
            score.bonus += bonus
    result = list(scores.values())
    for score in result:
        score.total = q2(score.total)
        score.vetoed = bool(vetoes.get(score.area_id))
        score.veto_events = list(vetoes.get(score.area_id, []))
        score.grade = grade_for(score.total, vetoed=score.vetoed)
    apply_excellent_cap(result, excellent_share_cap, tie_rule)
    rank_totals(result)
    for score in result:
        score.previous_rank = previous_ranks.get(score.area_id)
        if score.previous_rank is not None:
            score.rank_change = score.previous_rank - score.rank
    result.sort(key=lambda s: (s.rank, s.code))
    return result


# --- permissions --------------------------------------------------------------------------------


def _holds_at_level(user: User, area: Area, roles: Iterable[str], levels: Iterable[str] | None) -> bool:
    if user.is_superuser and user.is_active:
        return True
    wanted, lv = set(roles), set(levels) if levels is not None else None
    # A handler in a functional department (the police, urban management) works that department's
    # incidents and petitions; the area's assessment is kept by its own staff, not by a department
    # that is itself judged through the area's figures.
    return any(
        m.role in wanted
        and not (m.role == Role.HANDLER and m.department_id is not None)
        and (lv is None or m.area.level in lv)
        and area.path.startswith(m.area.path)
        for m in user.memberships_cached()
    )


def can_manage(user: User, scheme: AssessmentScheme) -> bool:
    """Enter scores and adjustments, approve them, compute and publish: a handler (or admin) at the
    assessing area or above. Analysts read only."""
    return _holds_at_level(user, scheme.area, MANAGER_ROLES, None)


def can_veto(user: User, scheme: AssessmentScheme, area: Area) -> bool:
    """Only district level or above decides a veto (DOMAIN.md)."""
    return _holds_at_level(user, area, MANAGER_ROLES, DECIDING_LEVELS) and can_manage(user, scheme)


def _require_manage(user: User, scheme: AssessmentScheme) -> None:
    if not can_manage(user, scheme):
        raise ActionForbidden(_("Only staff of the assessing area may change this assessment."))


def _scheme_days(scheme: AssessmentScheme) -> tuple[dt.date, dt.date]:
    """The first and last day of the scheme's period. Only the children in service on at least one
    of them are assessed, as the rollup ranks them: a grid drawn in 2026 is no last place of 2025."""
    period = Period.parse(scheme.period)
    return period.start, period.end - dt.timedelta(days=1)


def assessed_areas(scheme: AssessmentScheme) -> models.QuerySet[Area]:
    """The areas a scheme assesses (its runs, and the hand entries' choices): the children of its
    level in service on a day of its period."""
    in_service = Area.in_service_on(*_scheme_days(scheme))
    return Area.objects.filter(in_service, parent_id=scheme.area_id, level=scheme.level).order_by("code")


def _assessed_area(scheme: AssessmentScheme, area: Area) -> None:
    if (
        area.parent_id != scheme.area_id
        or area.level != scheme.level
        or not area.serves_on(*_scheme_days(scheme))
    ):
        raise ActionInvalid("area", _("This area is not assessed by this scheme."))


# --- services -----------------------------------------------------------------------------------


@transaction.atomic
def manual_score_enter(
    *, item: AssessmentItem, area: Area, points: Decimal, evidence, note: str = "", actor: User
) -> ManualScore:
    scheme = item.scheme
    _require_manage(actor, scheme)
    _assessed_area(scheme, area)
    if item.method != AssessmentItem.Method.MANUAL:
        raise ActionInvalid("item", _("This item is scored from an indicator, not by hand."))
    if points < 0 or points > item.max_points:
        raise ActionInvalid("points", _("Points must be between 0 and the item's maximum."))
    if not evidence:
        raise ActionInvalid("evidence", _("Attach the evidence for a score entered by hand."))
    # The first score of an (item, area) has no row to lock: two first entries at once both inserted,
    # and the second failed on the unique constraint (a 500). Serialised on the scheme row, as the
    # adjustments are, the second finds the first's row and replaces it (audited with before/after).
    AssessmentScheme.objects.select_for_update(of=("self",), no_key=True).filter(pk=scheme.pk).first()
    existing = ManualScore.objects.filter(item=item, area=area).first()
    before = {"points": str(existing.points), "evidence": existing.evidence.name} if existing else None
    score = existing or ManualScore(item=item, area=area)
    score.points, score.evidence, score.note = q2(points), evidence, note
    score.entered_by, score.entered_at = actor, timezone.now()
    score.full_clean()
    score.save()
    audit(
        actor=actor,
        action="assessment.manual_score",
        obj=score,
        before=before,
        after={"points": str(score.points), "evidence": score.evidence.name, "note": note},
    )
    return score


@transaction.atomic
def adjustment_enter(
    *,
    scheme: AssessmentScheme,
    area: Area,
    kind: str,
    reason: str,
    actor: User,
    item: AssessmentItem | None = None,
    negative_entry: NegativeListEntry | None = None,
    occurrences: int = 1,
    points: Decimal | None = None,
) -> Adjustment:
    """A deduction names an entry of the negative list (points = its points x occurrences); a bonus
    names an item and its points. Both wait for approval by someone else."""
    _require_manage(actor, scheme)
    _assessed_area(scheme, area)
    errors = FieldErrors()  # the reason and the kind's own fields are reported together
    if not reason.strip():
        errors.add("reason", _("Give the reason."))
    if kind == Adjustment.Kind.DEDUCTION:
        if negative_entry is None or negative_entry.scheme_id != scheme.pk:
            errors.add("negative_entry", _("A deduction must name an entry of this scheme's negative list."))
        if occurrences < 1:
            errors.add("occurrences", _("At least one occurrence."))
        if occurrences > MAX_OCCURRENCES:
            errors.add("occurrences", _("At most %(max)d occurrences.") % {"max": MAX_OCCURRENCES})
        errors.raise_any()
        item, points = negative_entry.item, q2(negative_entry.points * occurrences)
        if points > MAX_POINTS:  # full_clean would refuse it with a 500 on a field not on the form
            raise ActionInvalid(
                "occurrences",
                _("%(n)d occurrences come to %(points)s points, more than can be recorded.")
                % {"n": occurrences, "points": points},
            )
    elif kind == Adjustment.Kind.BONUS:
        occurrences = 1  # a bonus is its points: a count sent along means nothing and is not kept
        # Nor a negative-list entry left chosen on the form: kept, it barred deleting the entry (a
        # protected reference) and made the same bonus a different one for the twin check below.
        negative_entry = None
        if item is None or item.scheme_id != scheme.pk:
            errors.add("item", _("A bonus must name an item of this scheme."))
        if points is None or points <= 0:
            errors.add("points", _("Bonus points must be more than zero."))
        elif item is not None and points > item.bonus_cap:  # more could never count: capped there
            errors.add("points", at_most_points(item.bonus_cap))
    else:
        errors.add("kind", _("Kind must be deduction or bonus."))
    errors.raise_any()
    # A second click or a resubmitted page entered the same adjustment twice, both pending, and an
    # approver could count it twice. Entries are serialised on the scheme row so that two requests at
    # once cannot both miss the other; a separate event of the same size has its own reason.
    AssessmentScheme.objects.select_for_update(of=("self",), no_key=True).filter(pk=scheme.pk).first()
    what = {
        "scheme": scheme,
        "area": area,
        "kind": kind,
        "item": item,
        "negative_entry": negative_entry,
        "points": q2(points),
        "reason": reason.strip(),
    }
    twin = (
        Adjustment.objects.filter(**what, status=Adjustment.Status.PENDING)
        .select_related("entered_by")
        .first()
    )
    if twin is not None:
        raise ActionInvalid(
            "reason",
            _(
                "The same %(kind)s (area, item, points and reason) is already awaiting approval, "
                "entered by %(who)s on %(when)s. If this is a separate one, say so in the reason."
            )
            % {
                "kind": twin.get_kind_display(),
                "who": twin.entered_by,
                "when": timezone.localtime(twin.entered_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
    if kind == Adjustment.Kind.BONUS:
        _bonus_room(scheme=scheme, area=area, item=item, points=q2(points))
    adjustment = Adjustment(**what, occurrences=occurrences, entered_by=actor, entered_at=timezone.now())
    adjustment.full_clean()
    adjustment.save()
    audit(actor=actor, action=f"assessment.{kind}", obj=adjustment, after=_adjustment_state(adjustment))
    _notify_approvers(adjustment, actor)
    return adjustment


def _notify_approvers(adjustment: Adjustment, actor: User) -> int:
    """Tell the other managers at the assessing area (handlers not of a department, admins) that an
    adjustment awaits their approval: it waited under "Awaiting approval" until one happened to open
    the entries page. Once per adjustment; the notice names the area and the kind, never the reason
    (free text that may name people). Not those above the assessing area, who may approve too but
    would hear of every entry below them."""
    scheme = adjustment.scheme
    approvers = (
        User.objects.filter(
            memberships__area_id=scheme.area_id,
            memberships__role__in=MANAGER_ROLES,
            memberships__department__isnull=True,
            is_active=True,
        )
        .exclude(pk=actor.pk)
        .distinct()
    )
    if adjustment.kind == Adjustment.Kind.DEDUCTION:
        message = gettext_lazy("A deduction for %(area)s in %(scheme)s awaits your approval.")
    else:
        message = gettext_lazy("A bonus for %(area)s in %(scheme)s awaits your approval.")
    params = {"area": adjustment.area.name, "scheme": scheme.name}
    link = reverse("dashboards-assessment-entries", args=[scheme.pk])
    key = f"assessment-adjustment:{adjustment.pk}"
    return sum(notify(user=u, key=key, message=message, params=params, link=link) for u in approvers)


def _bonus_taken(scheme_id: int, area_id: int, item: AssessmentItem, counted: models.Q) -> Decimal:
    """The points of the item's bonuses for the area that take room under its cap (``counted``)."""
    bonuses = Adjustment.objects.filter(
        scheme_id=scheme_id, area_id=area_id, item=item, kind=Adjustment.Kind.BONUS
    )
    return bonuses.filter(counted).aggregate(total=models.Sum("points"))["total"] or ZERO


def _bonus_room(*, scheme: AssessmentScheme, area: Area, item: AssessmentItem, points: Decimal) -> None:
    """Refuse a bonus that would take the item's bonuses for the area past its cap.

    Each bonus was held to the cap alone, so three of 2 points came to 6 under a cap of 5 and the
    approvers were never told that the last could not count. Those approved and those awaiting
    approval both take room (either may count); a rejected one gives its room back. The caller holds
    the scheme row's lock, so two entries at once cannot both read the room before the other.
    """
    taken = _bonus_taken(scheme.pk, area.pk, item, ~models.Q(status=Adjustment.Status.REJECTED))
    if taken + points > item.bonus_cap:
        raise ActionInvalid(
            "points",
            _(
                "This item's bonus cap is %(max)s for each area: %(taken)s already entered "
                "(approved or awaiting approval), %(left)s left."
            )
            % {
                "max": points_text(item.bonus_cap),
                "taken": points_text(taken),
                "left": points_text(max(item.bonus_cap - taken, ZERO)),
            },
        )


def _bonus_fits_when_approved(adjustment: Adjustment) -> None:
    """Refuse to approve a bonus that would take the item's approved bonuses for the area past its cap.

    The entry holds those approved and pending together to the cap, but bonuses stored before it did,
    or entered before the admin lowered the cap, could each fit alone and pass it together once
    approved: the score then dropped the excess without a word to the approver. Here only the
    approved ones take room (a pending one may yet be rejected); the caller holds the scheme row's
    lock, so two approvals at once cannot both read the room before the other.
    """
    item = adjustment.item
    taken = _bonus_taken(
        adjustment.scheme_id, adjustment.area_id, item, models.Q(status=Adjustment.Status.APPROVED)
    )
    if taken + adjustment.points > item.bonus_cap:
        raise ActionInvalid(
            "points",
            _(
                "Approving this bonus of %(points)s points would take the item past its bonus cap of "
                "%(max)s for this area: %(taken)s already approved, %(left)s left. Reject it, and enter "
                "one that fits if the area earned more."
            )
            % {
                "points": points_text(adjustment.points),
                "max": points_text(item.bonus_cap),
                "taken": points_text(taken),
                "left": points_text(max(item.bonus_cap - taken, ZERO)),
            },
        )


def _adjustment_state(a: Adjustment) -> dict:
    return {
        "kind": a.kind,
        "area": a.area.code,
        "item": a.item_id,
        "points": str(a.points),
        "status": a.status,
        "rejection_reason": a.rejection_reason,
    }


# The bounds of a rejection's reason, as of the platform's other reasons (a reveal's, a withdrawal's).
REJECTION_REASON_MIN, REJECTION_REASON_MAX = 2, 500


@transaction.atomic
def adjustment_decide(*, adjustment: Adjustment, approve: bool, actor: User, reason: str = "") -> Adjustment:
    """Approve, or reject with a reason (2 to 500 characters) told to whoever entered it: a rejection
    without one left them knowing it was rejected and not why. Approving takes no reason."""
    # The scheme row first, as an entry takes it: two approvals of the item's bonuses at once are
    # serialised there, so the second reads the room the first left (below).
    AssessmentScheme.objects.select_for_update(of=("self",), no_key=True).filter(
        pk=adjustment.scheme_id
    ).first()
    adjustment = (
        Adjustment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("scheme__area", "area", "item", "entered_by")
        .get(pk=adjustment.pk)
    )
    _require_manage(actor, adjustment.scheme)
    if adjustment.entered_by_id == actor.pk:
        raise ActionForbidden(_("Someone other than the person who entered it must approve it."))
    if adjustment.status != Adjustment.Status.PENDING:
        raise ActionInvalid("status", _("This adjustment was already decided."))
    reason = "" if approve else reason.strip()
    if not approve and len(reason) < REJECTION_REASON_MIN:
        raise ActionInvalid("reason", _("Give the reason for the rejection (at least 2 characters)."))
    if len(reason) > REJECTION_REASON_MAX:
        raise ActionInvalid("reason", _("At most 500 characters."))
    if approve and adjustment.kind == Adjustment.Kind.BONUS:
        _bonus_fits_when_approved(adjustment)
    before = _adjustment_state(adjustment)
    adjustment.status = Adjustment.Status.APPROVED if approve else Adjustment.Status.REJECTED
    adjustment.approved_by, adjustment.approved_at = actor, timezone.now()
    adjustment.rejection_reason = reason
    adjustment.save(update_fields=["status", "approved_by", "approved_at", "rejection_reason"])
    audit(
        actor=actor,
        action="assessment.approve",
        obj=adjustment,
        before=before,
        after=_adjustment_state(adjustment),
    )
    _notify_entrant(adjustment)
    return adjustment


# The decision told to whoever entered the adjustment, by kind and outcome.
DECISION_NOTICES = {
    (Adjustment.Kind.DEDUCTION, Adjustment.Status.APPROVED): gettext_lazy(
        "Your deduction for %(area)s in %(scheme)s was approved: it counts from the next computation."
    ),
    (Adjustment.Kind.BONUS, Adjustment.Status.APPROVED): gettext_lazy(
        "Your bonus for %(area)s in %(scheme)s was approved: it counts from the next computation."
    ),
    (Adjustment.Kind.DEDUCTION, Adjustment.Status.REJECTED): gettext_lazy(
        "Your deduction for %(area)s in %(scheme)s was rejected: %(reason)s"
    ),
    (Adjustment.Kind.BONUS, Adjustment.Status.REJECTED): gettext_lazy(
        "Your bonus for %(area)s in %(scheme)s was rejected: %(reason)s"
    ),
}


def _notify_entrant(adjustment: Adjustment) -> bool:
    """Tell the person who entered an adjustment that it was approved or rejected: they submitted it
    for approval and heard nothing after, the outcome only on the entries page. Once per adjustment
    (it is decided once); the area and the scheme, never the entry's reason (free text, it may name a
    resident), and for a rejection the rejecter's reason, which is about the entry and was written to
    be told to them."""
    entrant = adjustment.entered_by
    if not entrant.is_active:
        return False
    return notify(
        user=entrant,
        key=f"assessment-decision:{adjustment.pk}",
        message=DECISION_NOTICES[(adjustment.kind, adjustment.status)],
        params={
            "area": adjustment.area.name,
            "scheme": adjustment.scheme.name,
            "reason": adjustment.rejection_reason,
        },
        link=reverse("dashboards-assessment-entries", args=[adjustment.scheme_id]),
    )


@transaction.atomic
def veto_record(*, scheme: AssessmentScheme, area: Area, event: str, actor: User) -> VetoEvent:
    if not can_veto(actor, scheme, area):
        raise ActionForbidden(_("Only district level or above can decide a one-vote veto."))
    _assessed_area(scheme, area)
    if not event.strip():
        raise ActionInvalid("event", _("Name the event."))
    # A second click or a resubmitted page recorded the same veto twice. Serialised on the scheme
    # row, as adjustments are, so that two requests at once cannot both miss the other.
    AssessmentScheme.objects.select_for_update(of=("self",), no_key=True).filter(pk=scheme.pk).first()
    twin = (
        VetoEvent.objects.filter(scheme=scheme, area=area, event=event.strip(), withdrawn_at__isnull=True)
        .select_related("decided_by")
        .first()
    )
    if twin is not None:
        raise ActionInvalid(
            "event",
            _("This veto is already recorded for the area, by %(who)s on %(when)s.")
            % {
                "who": twin.decided_by,
                "when": timezone.localtime(twin.decided_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
    veto = VetoEvent(
        scheme=scheme, area=area, event=event.strip(), decided_by=actor, decided_at=timezone.now()
    )
    veto.full_clean()
    veto.save()
    audit(actor=actor, action="assessment.veto", obj=veto, after={"area": area.code, "event": veto.event})
    return veto


@transaction.atomic
def veto_withdraw(*, veto: VetoEvent, reason: str, actor: User) -> VetoEvent:
    """Withdraw a veto recorded by mistake: by someone allowed to decide one (district level or
    above, so never the assessed area's own staff) other than who recorded it, as a deduction is
    approved by someone other than who entered it. The row stays, marked withdrawn with who, when
    and why; the next computation leaves it out, and the published run stays until republished."""
    veto = (
        VetoEvent.objects.select_for_update(of=("self",), no_key=True)
        .select_related("scheme", "area")
        .get(pk=veto.pk)
    )
    if not can_veto(actor, veto.scheme, veto.area):
        raise ActionForbidden(_("Only district level or above can withdraw a one-vote veto."))
    if veto.decided_by_id == actor.pk:
        raise ActionForbidden(_("Someone other than the person who recorded the veto must withdraw it."))
    if veto.withdrawn_at is not None:
        raise ActionInvalid("veto", _("This veto was already withdrawn."))
    reason = reason.strip()
    if not reason:
        raise ActionInvalid("reason", _("Give the reason for the withdrawal."))
    if len(reason) > 500:
        raise ActionInvalid("reason", _("At most 500 characters."))
    veto.withdrawn_by, veto.withdrawn_at, veto.withdrawal_reason = actor, timezone.now(), reason
    veto.save(update_fields=["withdrawn_by", "withdrawn_at", "withdrawal_reason"])
    audit(
        actor=actor,
        action="assessment.veto_withdraw",
        obj=veto,
        before={"area": veto.area.code, "event": veto.event, "withdrawn": False},
        after={"area": veto.area.code, "event": veto.event, "withdrawn": True, "reason": reason},
    )
    return veto


def previous_scheme(scheme: AssessmentScheme) -> AssessmentScheme | None:
    """Last year's scheme for the same assessing area and level."""
    return (
        AssessmentScheme.objects.filter(year=scheme.year - 1, area_id=scheme.area_id, level=scheme.level)
        .select_related("published_run")
        .first()
    )


def _min_sample(spec) -> float:
    return float(spec.min_sample) if spec else 0.0


def _inputs(scheme: AssessmentScheme) -> dict:
    from dashboards.models import IndicatorValue

    items = list(scheme.items.all())
    areas = list(assessed_areas(scheme))
    codes = {i.indicator for i in items if i.indicator}
    specs = registry.registry()
    # An area below the indicator's minimum sample is shown "not ranked" in the league tables; its
    # value is no more a basis for points than for a rank (5 answers, all "safe", would otherwise
    # take first place): it counts as no value, as the rollup's own ranking does.
    values = {
        (row["indicator"], row["area_id"]): (
            row["value"] if row["denominator"] >= _min_sample(specs.get(row["indicator"])) else None
        )
        for row in IndicatorValue.objects.filter(
            indicator__in=codes, period=scheme.period, parent_id=scheme.area_id
        ).values("indicator", "area_id", "value", "denominator")  # index value_ranking
    }
    rules = []
    for i in items:
        spec = specs.get(i.indicator)
        rules.append(
            ItemRule(
                id=i.pk,
                name=i.name,
                method=i.method,
                max_points=i.max_points,
                indicator=i.indicator,
                lower_better=bool(spec and spec.direction == registry.LOWER_BETTER),
                target=i.target,
                zero_at=i.zero_at,
                full_at=i.full_at,
                deduction_cap=i.deduction_cap,
                bonus_cap=i.bonus_cap,
            )
        )
    manual = {
        (m.item_id, m.area_id): m.points
        for m in ManualScore.objects.filter(item__scheme=scheme).only("item", "area", "points")
    }
    deductions: dict = defaultdict(lambda: ZERO)
    bonuses: dict = defaultdict(lambda: ZERO)
    for a in Adjustment.objects.filter(scheme=scheme, status=Adjustment.Status.APPROVED):
        target = deductions if a.kind == Adjustment.Kind.DEDUCTION else bonuses
        target[(a.item_id, a.area_id)] += a.points
    vetoes: dict = defaultdict(list)
    for v in VetoEvent.objects.filter(scheme=scheme, withdrawn_at__isnull=True).order_by("decided_at", "id"):
        vetoes[v.area_id].append(v.event)
    previous_ranks: dict = {}
    last = previous_scheme(scheme)
    if last is not None and last.published_run_id:
        previous_ranks = dict(
            AssessmentResult.objects.filter(run_id=last.published_run_id).values_list("area_id", "rank")
        )
    return {
        "items": rules,
        "areas": [(a.pk, a.code, a.name) for a in areas],
        "values": values,
        "manual": manual,
        "deductions": dict(deductions),
        "bonuses": dict(bonuses),
        "vetoes": dict(vetoes),
        "previous_ranks": previous_ranks,
        "excellent_share_cap": scheme.excellent_share_cap,
        "tie_rule": scheme.tie_rule,
    }


def run_rules(scheme: AssessmentScheme, areas: int) -> dict:
    """The rules that decide a grade, as they are now, stored with a run when it is computed
    (``AssessmentRun.rules``): the grade thresholds and the veto's effect (settings), the scheme's
    excellent-share cap with how many of ``areas`` it lets be excellent, and its tie rule at the cap.
    Numbers as text, as a person writes them ("72.5", "0.34")."""
    excellent, good, passing = grade_thresholds()
    share = scheme.excellent_share_cap
    return {
        "thresholds": {
            "excellent": points_text(excellent),
            "good": points_text(good),
            "pass": points_text(passing),
        },
        "veto_effect": veto_effect(),
        "excellent_share_cap": None if share is None else points_text(share),
        "excellent_allowed": None if share is None else excellent_allowed(areas, share),
        "areas": areas,
        "tie_rule": scheme.tie_rule,
    }


def _fingerprint(scores: Sequence[AreaScore], rules: dict) -> str:
    # The item values count to 4 decimals, as they were stored before they kept 6: no scheme gets a
    # new draft whose only change is a longer decimal. The rules count too: grades recomputed under
    # new thresholds are a new run, though equal, as a run states the rules it was graded by (a run
    # stored before runs recorded them is followed by one that does, once).
    payload = [
        [
            s.area_id, str(s.total), s.grade, s.rank, s.vetoed, s.capped, s.previous_rank,
            [{**i, "value": None if i["value"] is None else round(i["value"], 4)} for i in s.items],
        ]
        for s in scores
    ]  # fmt: skip
    payload = {"results": payload, "rules": rules}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _same_vetoes(run: AssessmentRun, scores: Sequence[AreaScore]) -> bool:
    """Whether ``run`` lists the same veto events per area as ``scores``. The digest holds whether an
    area is vetoed, not the events: a second event for an area already vetoed gave the same digest,
    no new run was stored, and the results went on listing the first event only. Compared here
    rather than added to the digest, which would differ for every run stored before and show each
    published scheme a "newer computation" with the same results. One query."""
    stored = dict(AssessmentResult.objects.filter(run=run, vetoed=True).values_list("area_id", "veto_events"))
    return stored == {s.area_id: s.veto_events for s in scores if s.vetoed}


def same_results(run: AssessmentRun, other: AssessmentRun) -> bool:
    """Whether two runs of a scheme have the same results: the digest and the veto events (as
    ``assessment_compute`` compares a new run with the newest). A score corrected and then put back
    stores a run identical to the published one, which is no "newer computation that differs"."""
    if run.pk == other.pk:
        return True
    if run.fingerprint != other.fingerprint:
        return False
    vetoes = AssessmentResult.objects.filter(vetoed=True).values_list("area_id", "veto_events")
    return dict(vetoes.filter(run=run)) == dict(vetoes.filter(run=other))


class StoredSchemeInvalid(ActionInvalid):
    """A stored value of a scheme that its model's validation refuses: saved before the admin checked
    it, or written around the admin (a shell, a data migration, an SQL fix)."""


def _refuse_stored(obj: models.Model, exclude: list[str], message: str, field_name: str | None) -> None:
    """Run the model's own validation (the admin's rules, kept in one place) on a stored row; the
    first error becomes StoredSchemeInvalid on ``field_name`` (else the model field) with ``message``
    formatted with the field's label and the error."""
    try:
        obj.clean_fields(exclude=exclude)
        obj.clean()
    except ValidationError as err:
        name, errors = next(iter(err.message_dict.items()))
        label = capfirst(obj._meta.get_field(name).verbose_name) if name != NON_FIELD_ERRORS else ""
        text = message % {"name": str(obj), "field": label, "error": errors[0]}
        raise StoredSchemeInvalid(field_name or name, text) from None


def check_stored(scheme: AssessmentScheme, items: Sequence[AssessmentItem]) -> None:
    """Refuse a scheme whose stored values the admin refuses now. Rows saved before it checked them
    were scored as they were: a negative deduction cap added the deductions as points, a negative bonus
    cap took off points nobody approved, an excellent share below 0 demoted an excellent area (above 1
    it is no cap), and a level other than the one below the assessing area assessed no area at all
    (an empty table). Refused, nothing is stored: the previous runs, the published one included, stay
    as they were."""
    _refuse_stored(
        scheme,
        ["area", "published_run"],  # foreign keys: the database holds them to existing rows
        _("%(field)s of the scheme: %(error)s Correct it in the admin, then compute again."),
        None,
    )
    for item in items:
        _refuse_stored(
            item,
            ["scheme"],
            _("Item %(name)s, %(field)s: %(error)s Correct it in the admin, then compute again."),
            "items",
        )
    for entry in scheme.negative_list.select_related("item"):
        _refuse_stored(
            entry,
            ["scheme", "item"],
            _(
                "Negative-list entry %(name)s, %(field)s: %(error)s "
                "Correct it in the admin, then compute again."
            ),
            "negative_list",
        )


def check_items(scheme: AssessmentScheme, items: Sequence[AssessmentItem]) -> None:
    """A scheme's items must add to 100 points (DOMAIN.md) and indicator items must name a known
    indicator with the parameters their method needs."""
    total = sum((i.max_points for i in items), ZERO)
    if total != Decimal(100):
        raise ActionInvalid("items", _("The items add to %(total)s points, not 100.") % {"total": q2(total)})
    known = registry.registry()
    for i in items:
        if i.method != AssessmentItem.Method.MANUAL and i.indicator not in known:
            raise ActionInvalid("items", _("Item %(name)s names no known indicator.") % {"name": i.name})
        if i.method == AssessmentItem.Method.TARGET and i.target is None:
            raise ActionInvalid("items", _("Item %(name)s needs a target.") % {"name": i.name})
        if i.method == AssessmentItem.Method.LINEAR and (
            i.zero_at is None or i.full_at is None or i.zero_at == i.full_at
        ):
            raise ActionInvalid(
                "items", _("Item %(name)s needs two different thresholds.") % {"name": i.name}
            )


@transaction.atomic
def assessment_compute(
    *,
    scheme: AssessmentScheme,
    actor: User | None = None,
    trigger: str = "manual",
    rollup_run_id: int | None = None,
) -> AssessmentRun:
    """Score the scheme and store a new run, unless the newest run already has identical results
    (computing twice stores one run). Published runs are never touched."""
    if actor is not None:
        _require_manage(actor, scheme)
    # Serialise computations of the same scheme (a task after a rollup and a click at once), and
    # score the row as it is now, not as the caller read it before someone changed it.
    scheme = (
        AssessmentScheme.objects.select_for_update(of=("self",), no_key=True)
        .select_related("area")
        .filter(pk=scheme.pk)
        .first()
        or scheme
    )
    refused = year_not_begun(scheme)
    if refused:  # a run of a year without values, which could be published as its result
        raise ActionInvalid("year", refused)
    items = list(scheme.items.all())
    check_stored(scheme, items)
    check_items(scheme, items)
    inputs = _inputs(scheme)
    scores = score_scheme(**inputs)
    rules = run_rules(scheme, len(inputs["areas"]))
    fingerprint = _fingerprint(scores, rules)
    latest = scheme.runs.order_by("-computed_at", "-id").first()
    if latest is not None and latest.fingerprint == fingerprint and _same_vetoes(latest, scores):
        return latest
    run = AssessmentRun.objects.create(
        scheme=scheme,
        computed_at=timezone.now(),
        trigger=trigger,
        requested_by=actor,
        rollup_run_id=rollup_run_id,
        fingerprint=fingerprint,
        rules=rules,
    )
    AssessmentResult.objects.bulk_create(
        [
            AssessmentResult(
                run=run,
                area_id=s.area_id,
                total=s.total,
                deductions=q2(s.deductions),
                bonus=q2(s.bonus),
                vetoed=s.vetoed,
                veto_events=s.veto_events,
                grade=s.grade,
                capped=s.capped,
                rank=s.rank,
                previous_rank=s.previous_rank,
                rank_change=s.rank_change,
                items=s.items,
            )
            for s in scores
        ]
    )
    return run


@transaction.atomic
def assessment_publish(*, run: AssessmentRun, actor: User, seen: str | None = None) -> AssessmentRun:
    """Publish ``run``. ``seen`` is the published run the page showed ("" for none), when the request
    comes from one: another publication since then is not undone without a word."""
    scheme = AssessmentScheme.objects.select_for_update(no_key=True).get(pk=run.scheme_id)
    _require_manage(actor, scheme)
    if run.scheme_id != scheme.pk:
        raise ActionInvalid("run", _("This run belongs to another scheme."))
    if scheme.published_run_id == run.pk:
        return run  # published already (a second click, a form sent again): when and by whom stay
    if seen is not None and seen != str(scheme.published_run_id or ""):
        raise ActionInvalid(
            "run",
            _(
                "Run %(published)s has been published since this page was shown. Look at it before publishing another."
            )
            % {"published": scheme.published_run_id},
        )
    before = {"published_run": scheme.published_run_id}
    run.published_at, run.published_by = timezone.now(), actor
    run.save(update_fields=["published_at", "published_by"])
    scheme.published_run = run
    scheme.save(update_fields=["published_run"])
    audit(
        actor=actor, action="assessment.publish", obj=scheme, before=before, after={"published_run": run.pk}
    )
    return run


def compute_all(*, rollup_run_id: int | None = None, trigger: str = "rollup") -> list[int]:
    """Recompute every scheme of the current and last year (what a rollup can have changed); one of
    a year to come, set up ahead, has nothing to be scored on yet."""
    year = timezone.localdate().year
    runs = []
    schemes = AssessmentScheme.objects.filter(year__gte=year - 1, year__lte=year).select_related("area")
    for scheme in schemes:
        try:
            runs.append(assessment_compute(scheme=scheme, trigger=trigger, rollup_run_id=rollup_run_id).pk)
        except StoredSchemeInvalid as exc:  # set up wrongly, not still being set up: say it loudly
            logger.error("assessment scheme %s not scored: %s: %s", scheme.pk, exc.field, exc.message)
        except ActionInvalid as exc:  # a scheme still being set up must not stop the others
            logger.warning("assessment scheme %s not scored: %s: %s", scheme.pk, exc.field, exc.message)
    return runs


def latest_run(scheme: AssessmentScheme) -> AssessmentRun | None:
    return scheme.runs.order_by("-computed_at", "-id").first()


def shown_run(scheme: AssessmentScheme) -> AssessmentRun | None:
    """The published run when there is one, else the newest draft."""
    return scheme.published_run or latest_run(scheme)


def readable_run(scheme: AssessmentScheme, wanted: str, own: list[str] | None) -> AssessmentRun | None:
    """The run a reader is shown: ``?run=`` (``wanted``) or the published run, else the newest. A
    reader who sees only their own areas' rows (``own``, from ``AssessmentScheme.own_areas``) sees the
    published run alone: no draft, no run since replaced, and a run named otherwise is "no such run",
    as one that does not exist."""
    if wanted:
        run = scheme_run(scheme, wanted)
        if own is not None and run.pk != scheme.published_run_id:
            raise ActionInvalid("run", _("This scheme has no such run."))
        return run
    return scheme.published_run if own is not None else shown_run(scheme)


def method_label(method: str, indicator: str = "") -> str:
    """An item's method in words, as ``score_target`` scores it: a target gives full marks at or
    above it on a higher-is-better indicator, at or below it, max x target / value above, on a
    lower-is-better one (the method's own label leaves the side to the indicator's direction)."""
    spec = registry.registry().get(indicator) if indicator else None
    if method == AssessmentItem.Method.TARGET and spec:
        if spec.direction == registry.LOWER_BETTER:
            return _(
                "target, lower is better (full marks at or below it, the points times target ÷ value above)"
            )
        return _("target (full marks at or above it, proportional below)")
    return AssessmentItem.Method(method).label


def run_columns(items: Sequence[AssessmentItem], results: Sequence[AssessmentResult]) -> list[dict]:
    """The item columns of a run's table (item id, name, maximum, method): the items the run was
    scored on, stored with every result, not the scheme's items now. An item added, removed or
    renamed after a run was published shifted its cells under the wrong headings. The scheme's items
    head a run without results."""
    if results:
        entries = results[0].items
    else:
        entries = [
            {
                "item": i.pk,
                "name": i.name,
                "max_points": str(q2(i.max_points)),
                "method": i.method,
                "indicator": i.indicator,
            }
            for i in items
        ]
    return [
        {
            "item": e["item"],
            "name": e["name"],
            "max_points": e["max_points"],
            "method": method_label(e["method"], e.get("indicator", "")),
        }
        for e in entries
    ]


def year_running(scheme: AssessmentScheme) -> str:
    """The warning of a scheme whose year is not over yet ("" once it is): its indicator items are
    scored on the values so far, as the league tables flag for a period not over yet."""
    period = Period.parse(scheme.period)
    if not period.start <= timezone.localdate() < period.end:
        return ""
    return _(
        "%(year)s is not over yet: the items scored from indicators use its values so far, which "
        "change with each rollup until it ends."
    ) % {"year": period.label}


def year_not_begun(scheme: AssessmentScheme) -> str:
    """Why a scheme of a year to come is not scored ("" once its year has begun)."""
    period = Period.parse(scheme.period)
    if period.start <= timezone.localdate():
        return ""
    return _("%(year)s has not begun yet: nothing can be scored before it does.") % {"year": period.label}


def grading_rules(scheme: AssessmentScheme, run: AssessmentRun | None, areas: int) -> dict:
    """What the results page states under the table: the grade thresholds, the veto's effect, the
    excellent-share cap with how many of the run's areas it lets keep the grade, and who keeps it
    among those tied at the cap: the rules ``run`` was graded by (``AssessmentRun.rules``), not
    those in force now. A run computed before runs recorded them is given the current ones
    (``unrecorded``: the page says so); no run, the current ones, as what a computation would use."""
    recorded = run.rules if run is not None else None
    rules = recorded or run_rules(scheme, areas)
    share = rules["excellent_share_cap"]
    return {
        **rules["thresholds"],
        "veto_fails": rules["veto_effect"] == "fail",
        "cap_percent": None if share is None else points_text(Decimal(share) * 100),
        "cap_count": rules["excellent_allowed"],
        "areas": rules["areas"],
        # Which of the areas tied at the cap keep excellent: the run's rule, as it was graded.
        "tie_by_deductions": rules["tie_rule"] == AssessmentScheme.TieRule.FEWER_DEDUCTIONS,
        "unrecorded": run is not None and not recorded,
    }


def run_state(scheme: AssessmentScheme, run: AssessmentRun | None) -> str:
    """ "published" for the scheme's published run, "replaced" for a run published before another
    was published in its place, "draft" for a run never published. ``run.published_at`` stays on a
    replaced run (when it was published), so it alone cannot say which run is the published one."""
    if run is None:
        return ""
    if run.pk == scheme.published_run_id:
        return "published"
    return "replaced" if run.published_at else "draft"


def scheme_run(scheme: AssessmentScheme, text: str) -> AssessmentRun:
    """The run of ``scheme`` a query or form value names, or ActionInvalid on field ``run``."""
    pk = record_id(text)
    if pk is None:
        raise ActionInvalid("run", _("A run is a whole number."))
    run = AssessmentRun.objects.filter(scheme=scheme, pk=pk).first()
    if run is None:
        raise ActionInvalid("run", _("This scheme has no such run."))
    return run
