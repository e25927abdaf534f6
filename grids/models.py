"""Grid incidents (网格事件): categories, incidents, their timeline and photos.

The closed loop of DOMAIN.md "Grid incidents" (GB/T 30428, CJ/T 315): a grid worker reports an item,
the handling centre at the item's current level accepts (opens a case) or rejects it, dispatches it to a
responsible department, the department handles it and feeds back, the grid worker verifies on site (pass
-> the centre closes it, fail -> back to handling), and the item is finally evaluated. Items the grid
worker resolves on the spot (即办件) are closed at report time. An item the current level cannot handle
is escalated one level up (grid -> community -> street -> district).

All state changes go through ``Incident.transition`` (one method, one transition table, one event row
per change); pages, API and tasks call it through ``grids.services``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance import codes, periods, pii
from governance.access import InIds, ScopedQuerySet, area_in_scope
from governance.models import Area, Department, LocalizedName, Membership, Role, record_id
from governance.pictures import EXTENSIONS, THUMBNAIL_SIDE, thumbnail_type
from governance.workflow import (
    ActionForbidden,
    ActionInvalid,
    TimelineLabels,
    Transition,
    TransitionNotAllowed,
    Workflow,
    apply_locked,
    form_state,
    refuse_moved_on,
    refuse_stepped_since,
    repeated_event,
    split_state,
)

if TYPE_CHECKING:
    from governance.models import User


class Level(models.TextChoices):
    """The level at which an item is handled; the order is the escalation ladder."""

    GRID = codes.GRID, _("grid")
    COMMUNITY = codes.COMMUNITY, _("community")
    STREET = codes.STREET, _("street")
    DISTRICT = codes.DISTRICT, _("district")


LEVEL_LADDER = [Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT]
# Depth of an Area of each level (city 0 ... grid 4): the index of its code in a grid's path.
LEVEL_DEPTH = {codes.CITY: 0, codes.DISTRICT: 1, codes.STREET: 2, codes.COMMUNITY: 3, codes.GRID: 4}


# The longest time limits a category may set (``IncidentCategory``).
MAX_WORKING_HOURS = Decimal("1000")
MAX_HANDLE_HOURS = 8760


class IncidentCategory(LocalizedName, models.Model):
    """A kind of incident (fire hazard, dispute, sanitation, ...), in a tree editable in the admin.

    Each category carries its own time limits (DOMAIN.md defaults: accept within 2 working hours,
    dispatch within 1 working hour of acceptance, handle within 24 h / 3 days / 7 days by severity),
    the level that handles it by default, and whether it is a dispute that may become a mediation case.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(
        _("name in English"),
        max_length=100,
        blank=True,
        help_text=_("Shown on pages in English; empty: the name."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    default_level = models.CharField(
        _("default handling level"), max_length=10, choices=Level.choices, default=Level.COMMUNITY
    )
    is_dispute = models.BooleanField(
        _("dispute"),
        default=False,
        help_text=_("Incidents of this category can be turned into mediation cases."),
    )
    # Time limits are strictly positive: a negative or zero limit would put every new step's deadline
    # at or before its start (every item late the moment it arrives). And bounded: 1,000 working hours
    # (about half a year of working days) and a year of calendar hours; the admin took 99,999.9, and
    # every report of the category was a 500 (no working time found within ten years).
    accept_hours = models.DecimalField(
        _("accept within (working hours)"),
        max_digits=6,
        decimal_places=1,
        default=2,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_WORKING_HOURS)],
    )
    dispatch_hours = models.DecimalField(
        _("dispatch within (working hours)"),
        max_digits=6,
        decimal_places=1,
        default=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_WORKING_HOURS)],
    )
    handle_hours = models.PositiveIntegerField(
        _("handle within (hours)"),
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HANDLE_HOURS)],
    )
    verify_hours = models.DecimalField(
        _("verify and close within (working hours)"),
        max_digits=6,
        decimal_places=1,
        default=8,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_WORKING_HOURS)],
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("incident category")
        verbose_name_plural = _("incident categories")
        ordering = ["sort_order", "code"]

    def clean(self) -> None:
        # The admin took a category as its own parent, or under its own subcategory: a tree with no root.
        seen, parent_id = {self.pk}, self.parent_id
        while parent_id is not None and self.pk is not None:
            if parent_id in seen:
                raise ValidationError(
                    {"parent": _("A category cannot sit under itself or under one of its own subcategories.")}
                )
            seen.add(parent_id)
            parent_id = (
                IncidentCategory.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
            )


# The handlers' inbox order: soonest deadline first, finished items (no deadline: PostgreSQL's
# ascending order puts NULL last) newest first. Index incident_inbox_order has these columns.
INBOX_ORDER = ["due_at", "-reported_at", "-id"]


class IncidentQuerySet(ScopedQuerySet):
    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=Incident.OPEN_STATUSES)

    def overdue(self, now: dt.datetime | None = None) -> IncidentQuerySet:
        # Served by the partial index incident_open_due (status, due_at where due_at is set).
        return self.filter(Incident.overdue_q(now))

    def with_relations(self) -> IncidentQuerySet:
        return self.select_related("category", "grid", "level_area", "department", "reporter")

    def with_rejection_reason(self) -> IncidentQuerySet:
        """Each row's ``rejection_reason``: the note of the centre's rejection for a rejected item,
        None for the others, read in the list's own query (a scalar subquery, evaluated only on the
        rejected rows, through the events' index incident_event_timeline): a worker's lists show why
        a report was refused without opening it. A rejected item has one rejection (it is final)."""
        return self.annotate(
            rejection_reason=Case(
                When(
                    status=Incident.Status.REJECTED,
                    then=Subquery(
                        IncidentEvent.objects.filter(incident=OuterRef("pk"), action="reject")
                        .order_by("-id")
                        .values("note")[:1]
                    ),
                ),
                default=None,
                output_field=models.TextField(),
            )
        )

    def rejected_since(self, moment: dt.datetime) -> IncidentQuerySet:
        """The rejected items whose rejection (the event, not the report) came at or after ``moment``:
        an item escalated for days is rejected long after it was reported (index incident_status_reported
        for the status, incident_event_timeline for each one's rejection)."""
        rejection = IncidentEvent.objects.filter(incident=OuterRef("pk"), action="reject", at__gte=moment)
        return self.filter(Exists(rejection), status=Incident.Status.REJECTED)


class Incident(models.Model):
    """One item reported by a grid worker and followed to its closure and evaluation."""

    class Status(models.TextChoices):
        REPORTED = "reported", _("reported")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        DISPATCHED = "dispatched", _("dispatched")
        HANDLING = "handling", _("handling")
        FED_BACK = "fed_back", _("awaiting verification")
        VERIFIED = "verified", _("verified")
        CLOSED = "closed", _("closed")
        EVALUATED = "evaluated", _("evaluated")

    class Kind(models.TextChoices):
        ON_THE_SPOT = "on_the_spot", _("resolved on the spot")
        PROMISED = "promised", _("handled within a promised time")
        COORDINATION = "coordination", _("needs coordination")

    class Evaluation(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASICALLY = "basically_satisfied", _("basically satisfied")
        DISSATISFIED = "dissatisfied", _("dissatisfied")

    OPEN_STATUSES = ("reported", "accepted", "dispatched", "handling", "fed_back", "verified")
    # With the department it was dispatched to (and its supporters): its step, until it feeds back.
    WITH_DEPARTMENT = ("dispatched", "handling")
    DONE_STATUSES = ("closed", "evaluated")
    # Whose current step is timed in working hours (acceptance, dispatch, the on-site check, the
    # close): its deadline depends on the holiday calendar. A handling limit is clock hours.
    WORKING_HOUR_STATUSES = ("reported", "accepted", "fed_back", "verified")

    code = models.CharField(_("number"), max_length=20, unique=True)
    category = models.ForeignKey(
        IncidentCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="incidents"
    )
    grid = models.ForeignKey(Area, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="incidents")
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    description = models.TextField(_("description"))
    occurred_at = models.DateTimeField(_("occurred at"))
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        related_name="reported_incidents",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PROMISED)
    level = models.CharField(_("current level"), max_length=10, choices=Level.choices)
    # The area at ``level`` above the grid whose centre is responsible now (denormalised from grid +
    # level so that inboxes and "overdue per area" are plain indexed filters).
    level_area = models.ForeignKey(
        Area,
        verbose_name=_("responsible area"),
        on_delete=models.PROTECT,
        related_name="incidents_responsible",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    # A coordination item (协调件) has one lead department (``department``, 主办单位) that handles and
    # feeds back for all, and the departments that support it (协办单位), each recording its part
    # (``assist``). Named at dispatch, replaced by a re-dispatch, cleared by an escalation.
    supporting_departments = models.ManyToManyField(
        Department,
        verbose_name=_("supporting departments"),
        blank=True,
        related_name="incidents_supported",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    due_at = models.DateTimeField(_("current step due"), null=True, blank=True)
    # The limit (hours) the current step's deadline was set with (``start_step``); empty for a step
    # started before it was kept, which is recomputed with the category's limit.
    step_hours = models.DecimalField(
        _("current step's limit (hours)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        editable=False,
    )
    # The due time we last sent the "overdue" notification for: the periodic task skips rows where
    # it equals ``due_at``, so running it twice (or every 10 minutes) notifies once per late step.
    overdue_notified_for = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("overdue notice sent for")
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_level = models.CharField(
        _("resolved at level"), max_length=10, choices=Level.choices, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Who took this round's command steps (dispatch, feedback): ``may_perform`` keeps them from closing
    # it, the supervision step (``separate_duties``). Denormalised from the events so that an inbox of
    # many rows decides its buttons without reading timelines. Never filtered on: no index.
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, db_index=False,
        on_delete=models.PROTECT, related_name="+", verbose_name=_("dispatched by"),
    )  # fmt: skip
    fed_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, db_index=False,
        on_delete=models.PROTECT, related_name="+", verbose_name=_("fed back by"),
    )  # fmt: skip
    # Who last changed only the supporters of this round (a re-dispatch to the same lead): a dispatch
    # too, so they do not close the item either, while the lead's dispatcher stays ``dispatched_by``.
    supporters_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, db_index=False,
        on_delete=models.PROTECT, related_name="+", verbose_name=_("supporters changed by"),
    )  # fmt: skip
    evaluation = models.CharField(_("evaluation"), max_length=20, choices=Evaluation.choices, blank=True)
    evaluation_note = models.TextField(_("evaluation note"), blank=True)
    # The key of the report form (or API request) that created the item: a report sent again with the
    # same key (a phone that lost the answer on a weak network and retried, a double tap on a plain
    # form) gets the item it created instead of a second one. Unique per reporter.
    submission = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)

    SCOPE_AREA_FIELD = "grid"
    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-reported_at"], name="incident_status_reported"),
            models.Index(
                fields=["status", "due_at"], name="incident_open_due", condition=Q(due_at__isnull=False)
            ),
            # A scope's rows in the list's default order, the key last: a deep page's keys are read
            # from this index alone (governance/pagination.py), without the table.
            models.Index(fields=["grid", "-reported_at", "-id"], name="incident_grid_reported"),
            models.Index(fields=["level_area", "status"], name="incident_level_area_status"),
            models.Index(fields=["category", "-reported_at"], name="incident_category_reported"),
            # ``?level=`` (a centre's items at its level) and ``?kind=`` (coordination items), newest first.
            models.Index(fields=["level", "-reported_at"], name="incident_level_reported"),
            models.Index(fields=["kind", "-reported_at"], name="incident_kind_reported"),
            models.Index(fields=["reported_at"], name="incident_reported_at"),
            models.Index(fields=["closed_at"], name="incident_closed_at"),
            models.Index(fields=["reporter", "status"], name="incident_reporter_status"),
            # The inbox's order, read a page at a time: with finished items in the list (``?open=false``,
            # ``?status=closed``, a department's whole record) a district centre's inbox sorted every
            # item of the district on each request (docs/benchmarks.md "List pages' query plans").
            models.Index(fields=INBOX_ORDER, name="incident_inbox_order"),
            # A department's items in a state, by deadline: the departments' record counts, per
            # department, the items with it now, overdue, and open past a deadline in the month
            # (``grids.selectors.department_accountability``), which otherwise intersected every
            # open item's deadline with the department's items, page after page.
            models.Index(fields=["department", "status", "due_at"], name="incident_department_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "submission"],
                name="incident_reporter_submission",
                condition=Q(submission__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def resolution_refuted(self) -> bool:
        """Whether ``resolution`` is a feedback the on-site check found wrong: kept (the department
        answers to it) while the item is handled again, until the next feedback replaces it. Only a
        failed check brings an item with a resolution back before feedback (an on-the-spot report's
        is done at once; a return or an escalation comes before any feedback)."""
        return bool(self.resolution) and self.status in (self.Status.DISPATCHED, self.Status.HANDLING)

    @classmethod
    def involving_q(cls, department_id: int) -> Q:
        """Items a department works on: dispatched to it (the lead) or supported by it. A subquery, not
        a join, so an item with several supporters stays one row. ``department_id = X OR id IN (...)``
        can use no index (the department filter read every incident of the city to find a police
        station's twenty), and ``id IN (led UNION supported)`` made a district's police list join that
        union to every item of the district (docs/benchmarks.md "Inventory"); the supported ids as
        an array (``InIds``) make the OR a ``BitmapOr`` of the department's two indexes, read first."""
        supported = cls.supporting_departments.through.objects.filter(department_id=department_id)
        return Q(department_id=department_id) | Q(InIds("pk", supported.order_by().values("incident_id")))

    @classmethod
    def overdue_q(cls, now: dt.datetime | None = None) -> Q:
        """Open and past the current step's deadline: the one definition lists, filters and counts use."""
        return Q(status__in=cls.OPEN_STATUSES, due_at__lt=now or timezone.now())

    # --- derived ---------------------------------------------------------------------------------

    @property
    def is_overdue(self) -> bool:
        return bool(self.due_at and self.status in self.OPEN_STATUSES and self.due_at < timezone.now())

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_done(self) -> bool:
        """Closed, or closed and rated: its handling is over (a dispute no longer becomes a case)."""
        return self.status in self.DONE_STATUSES

    @staticmethod
    def area_code_at(grid: Area, level: str) -> str:
        """The code of the grid's ancestor at ``level`` (codes are in the materialised path)."""
        return grid.path.strip("/").split("/")[LEVEL_DEPTH[level]]

    @property
    def working_hour_due_at(self) -> dt.datetime | None:
        """The current deadline when it is counted in working hours (accept, dispatch, check, close),
        else None: handling limits are clock hours, which no holiday moves."""
        return self.due_at if self.status in self.WORKING_HOUR_STATUSES else None

    def running_due_dates(self) -> list[dt.datetime]:
        """The stored deadline a change to the calendar moves: the working-hour one, when running."""
        due = self.working_hour_due_at
        return [] if due is None else [due]

    def provisional_due_years(self) -> list[int]:
        """The year of the working-hour deadline, when the calendar has none of its dates, or []."""
        return periods.provisional_years(self.running_due_dates())

    def uncalendared_due_year(self) -> int | None:
        """The year of the working-hour deadline when the calendar has none of that year's dates, else
        None: it counts every weekday as worked (New Year's Day too, for a report late on 31 December)
        and moves once the year's holidays are entered (``governance.deadlines``)."""
        due = self.working_hour_due_at
        return periods.calendar_lacks_year(due) if due is not None else None

    def step_limit(self, status: str) -> Decimal | None:
        """The category's limit, in hours, for the step that starts in ``status`` (DOMAIN.md)."""
        c = self.category
        if status == self.Status.REPORTED:
            return c.accept_hours
        if status == self.Status.ACCEPTED:
            return c.dispatch_hours
        if status in (self.Status.DISPATCHED, self.Status.HANDLING):
            return Decimal(c.handle_hours)
        if status in (self.Status.FED_BACK, self.Status.VERIFIED):
            return c.verify_hours
        return None

    def step_due(self, status: str, start: dt.datetime, hours: Decimal | None = None) -> dt.datetime | None:
        """When the step that starts in ``status`` at ``start`` is due: ``hours`` (the limit the step
        started with, ``step_hours``) or the category's limit now."""
        hours = hours if hours is not None else self.step_limit(status)
        if hours is None:
            return None
        if status in (self.Status.DISPATCHED, self.Status.HANDLING):
            # Handling limits are calendar hours (24 h / 3 days / 7 days): departments work around the clock.
            # Counted from dispatch, or from a failed verification sending the item back to handling; the
            # ``handle`` action keeps the dispatch deadline (see ``_apply``).
            return start + dt.timedelta(hours=float(hours))
        return periods.add_working_hours(start, float(hours))

    def start_step(self, status: str, start: dt.datetime) -> None:
        """Set the deadline of the step that starts in ``status`` at ``start``, and remember the limit
        it was set with: a calendar change recomputes the deadline with that limit, not with one the
        category was given since (which would move a running step's deadline after the fact)."""
        self.step_hours = self.step_limit(status)
        self.due_at = self.step_due(status, start, self.step_hours)

    def accountable_area_id(self) -> int | None:
        """The area that answers for the current step (``STEP_OWNERS``): the department's area while a
        department has the item, the grid while its grid worker is to verify, otherwise the centre at
        the item's level (``level_area``; the grid itself for a grid-level item)."""
        owner = STEP_OWNERS.get(self.status)
        if owner == DEPARTMENT and self.department_id:
            return self.department.area_id
        if owner == GRID:
            return self.grid_id
        return self.level_area_id if owner else None

    # --- the state machine -------------------------------------------------------------------------

    def transition(
        self, *, action: str, actor: User, note: str = "", state: str | None = None, **fields: Any
    ) -> IncidentEvent:
        """Perform ``action`` on this incident: the one place an incident's status changes.

        Re-reads the row under ``select_for_update`` so two handlers clicking at once serialise and the
        second sees the new state (and gets 409 if its move no longer applies); refuses moves not in
        ``WORKFLOW``; saves with ``update_fields``; writes the event row in the same transaction.

        ``state`` is the status and level the step's form was drawn in (``step_state``). When the
        item has moved on from it by this very step of the same user, nobody acting since, the step
        was sent twice: the earlier event is returned (``repeated`` set) and nothing changes. Decided
        under the lock, so a second send that read the item before the first committed finds it too.
        A ``state`` with the latest event's id (``form_step_state``) also refuses (409) a form drawn
        before anyone else's step that left status and level as they were: a re-dispatch.
        """

        state, since = split_state(state)

        def apply(locked: Incident) -> IncidentEvent:
            own = refuse_stepped_since(locked, WORKFLOW, action, actor, since)
            repeat = locked.repeated_step(actor, action, state) or own
            if repeat is not None and action == "dispatch" and not _same_dispatch(repeat, fields):
                # A form drawn before this user's own dispatch, naming other departments: not the
                # same send twice, and "done" would have told them it went where it did not.
                raise TransitionNotAllowed(
                    gettext(
                        "You dispatched this incident to %(department)s meanwhile. To send it elsewhere, "
                        "dispatch it again with the reason."
                    )
                    % {"department": repeat.department.name}
                )
            if repeat is not None and _asks_the_same(locked, repeat, action, fields):
                repeat.repeated = True
                return repeat
            if repeat is None and state and state != locked.step_state():
                refuse_moved_on(locked, WORKFLOW, action)
            # Not yet taken, or a form drawn before the user's own step that asks something else
            # (a failed check after a passed one): taken or refused on its merits (409 when moved).
            return locked._apply(action=action, actor=actor, note=(note or "").strip(), **fields)

        return apply_locked(self, ("grid", "category", "level_area", "department"), apply)

    def step_state(self) -> str:
        """What a step's form remembers of the item it was drawn for: its status and level (an
        escalation changes only the level)."""
        return f"{self.status}/{self.level}"

    def form_step_state(self) -> str:
        """``step_state`` with the id of the latest event, as the step forms send it (``form_state``)."""
        return form_state(self, self.step_state())

    def repeated_step(self, user: User, action: str, state: str | None) -> IncidentEvent | None:
        """The event by which ``user`` has already taken ``action`` from ``state``: the item has moved
        on from that state and the event is the latest (nobody has acted since). Then the form was
        sent twice. A step another user took first, or a form drawn in the current state, is none."""
        return repeated_event(
            self.events,
            current=self.step_state(),
            user=user,
            action=action,
            state=state,
            state_of=lambda e: f"{e.from_status}/{e.from_level}",
        )

    def _check_sent_elsewhere(self, actor: User, action: str) -> None:
        """A department's step refused because the item was sent elsewhere (a re-dispatch, an
        escalation) since the department's page was drawn: the item moved on, a 409 that says where,
        not the 403 of a department that never had it."""
        if action not in ("handle", "return"):
            return
        own = {
            m.department_id for m in actor.memberships_cached() if m.role == Role.HANDLER and m.department_id
        }
        if own and self.events.filter(action="dispatch", department_id__in=own).exists():
            raise TransitionNotAllowed(
                gettext(
                    "This incident has been sent elsewhere since (now: %(where)s); it is no longer with your department."
                )
                % {"where": self.department.name if self.department_id else self.level_area.name}
            )

    def _apply(self, *, action: str, actor: User, note: str, **fields: Any) -> IncidentEvent:
        transition = WORKFLOW.check(action, self.status, self.get_status_display())
        if not may_perform(actor, self, transition):
            self._check_sent_elsewhere(actor, action)
            raise ActionForbidden(
                duty_conflict(actor, self, action)
                or _check_left_to_the_grid(actor, self, action)
                or gettext("Your role may not take this step on the incident: %(action)s.")
                % {"action": ACTION_LABELS.get(action, action)}
            )
        now = timezone.now()
        before = self.status
        step_due = self.due_at
        changed = {"status", "due_at"}
        # None in the table: the action records a part of the work and leaves the state (``assist``).
        target = transition.target or self.status
        department = None
        keeps_step = False  # a re-dispatch that changes only the supporters
        supporting: list[Department] | None = None  # set by dispatch: the new supporting departments
        level_before = self.level
        # Who answers for the step this action ends, read before the action moves the item on (an
        # escalation changes the centre and forgets the department).
        accountable = self.accountable_area_id()
        department_before = self.department

        if action == "reject":
            if not note:
                raise ActionInvalid("note", gettext("Give the reason for rejecting the incident."))
        elif action == "accept":
            self.accepted_at = self.accepted_at or now
            kind = fields.get("kind")
            if kind:
                if kind not in (self.Kind.PROMISED, self.Kind.COORDINATION):
                    raise ActionInvalid(
                        "kind",
                        gettext("Choose whether it is handled within a promised time or needs coordination."),
                    )
                self.kind = kind
                changed.add("kind")
            changed.add("accepted_at")
        elif action == "dispatch":
            department = fields.get("department")
            if department is None:
                raise ActionInvalid("department", gettext("Choose the department to dispatch to."))
            if not isinstance(department, Department):
                department = Department.objects.filter(pk=department).select_related("area").first()
            if (
                department is None
                or not department.is_active
                or not self.grid.path.startswith(department.area.path)
            ):
                raise ActionInvalid(
                    "department", gettext("Choose an active department responsible for this grid.")
                )
            supporting = self._supporting_for(department, fields.get("supporting_departments"))
            if before == self.Status.DISPATCHED:
                repeat = self._redispatch_checked(actor, department, supporting, note)
                if repeat is not None:
                    return repeat  # sent twice: the item is where the first send put it
                if department.pk == self.department_id:
                    # Only the supporters change: the lead keeps the item, its step and deadline
                    # (a new one would give a late lead more time and wipe its late step), and the
                    # dispatcher of the lead stays who dispatched it (separate duties: they do not
                    # close it because another handler added a supporter).
                    keeps_step = True
                else:
                    # Another lead: the step ends here, charged to the centre that dispatched wrongly.
                    accountable = self.level_area_id
            if keeps_step:
                self.supporters_by = actor
            else:
                self.department, self.dispatched_by, self.supporters_by = department, actor, None
                changed |= {"department", "dispatched_by"}
            changed.add("supporters_by")
        elif action == "return":
            if not note:
                raise ActionInvalid(
                    "note",
                    gettext(
                        "Say why this incident is not for your department, so the centre can send it on."
                    ),
                )
            # Back with the centre, which dispatches it again (the dispatch deadline runs anew).
            self.department = self.dispatched_by = self.supporters_by = None
            changed |= {"department", "dispatched_by", "supporters_by"}
            supporting = []
        elif action == "assist":
            if not note:
                raise ActionInvalid("note", gettext("Say what your department did for this incident."))
            department = self._assisting_department(actor, fields.get("department"))
            recorded = self._assist_recorded(department, note)
            if recorded is not None:
                return recorded  # sent twice: it is on the timeline already, nothing is written again
            changed = set()  # a part of the work, recorded on the timeline: the item stays as it is
        elif action == "feedback":
            if not fields.get("resolution", "").strip() and not note:
                raise ActionInvalid("resolution", gettext("Say what was done to resolve the incident."))
            self.resolution = (fields.get("resolution") or note).strip()
            self.fed_back_by = actor
            changed |= {"resolution", "fed_back_by"}
            # The timeline keeps what each round of handling did: a failed verification sends the item
            # back and the next feedback overwrites ``resolution``, so the event carries its own copy.
            if self.resolution != note:
                note = f"{self.resolution}\n{note}" if note else self.resolution
        elif action == "verify":
            result = fields.get("result")
            if result not in ("pass", "fail"):
                raise ActionInvalid("result", gettext("Say whether the on-site check passed or failed."))
            if result == "fail" and not note:
                raise ActionInvalid("note", gettext("Say what is still wrong on site."))
            target = self.Status.VERIFIED if result == "pass" else self.Status.HANDLING
            if result == "pass":
                self.resolved_at = now
                self.resolved_level = self.level
                changed |= {"resolved_at", "resolved_level"}
        elif action == "close":
            self.closed_at = now
            changed.add("closed_at")
        elif action == "escalate":
            if not note:
                raise ActionInvalid("note", gettext("Give the reason for escalating the incident."))
            position = LEVEL_LADDER.index(Level(self.level))
            if position + 1 >= len(LEVEL_LADDER):
                raise TransitionNotAllowed(
                    gettext("Cannot escalate: the incident is already at district level.")
                )
            self.level = LEVEL_LADDER[position + 1]
            self.level_area = Area.objects.get(code=self.area_code_at(self.grid, self.level))
            self.department = self.dispatched_by = self.fed_back_by = self.supporters_by = None
            changed |= {"level", "level_area", "department", "dispatched_by", "fed_back_by", "supporters_by"}
            supporting = []  # the next level dispatches anew, lead and supporters alike
        elif action == "evaluate":
            evaluation = fields.get("evaluation")
            if evaluation not in self.Evaluation.values:
                raise ActionInvalid(
                    "evaluation", gettext("Choose satisfied, basically satisfied or dissatisfied.")
                )
            self.evaluation = evaluation
            self.evaluation_note = note
            changed |= {"evaluation", "evaluation_note"}

        self.status = target
        if action in ("handle", "assist") or keeps_step:
            # Handle + feedback is one step whose deadline was set at dispatch (24/72/168 h from dispatch,
            # docs/incidents.md): starting to handle neither moves that deadline (a fresh one would let a
            # department double its time) nor completes the step, so this event has no deadline of its own
            # and the feedback event is marked against the dispatch deadline. Only dispatch and a failed
            # verification (back to handling) set a new one. A supporting department's ``assist`` is its
            # part of that same step: no deadline of its own, the lead's feedback answers for the step.
            changed.discard("due_at")
            step_due = None
        else:
            self.start_step(target, now)
            changed.add("step_hours")
        if changed:
            self.save(update_fields=sorted(changed))
        if supporting is not None:
            self.supporting_departments.set(supporting)
        # The department the event concerns: the one dispatched to, the one assisting, or the one
        # that had the item; for an escalation, the one it is taken from (None before dispatch),
        # whose step the escalation ends (``department_accountability`` reads it); for a return,
        # the department that returns it, whose step that was.
        event_department = department or (
            department_before if action in ("escalate", "return") else self.department
        )
        event = IncidentEvent.objects.create(
            incident=self,
            actor=actor,
            at=now,
            action=action,
            from_status=before,
            to_status=target,
            note=note,
            department=event_department,
            level=self.level,
            from_level=level_before,
            acting_department=IncidentEvent.acting_for(actor, action, event_department),
            step_due_at=step_due,
            on_time=None if step_due is None else now <= step_due,
            area_id=None if step_due is None else accountable,
        )
        if supporting and action == "dispatch":
            # The event keeps its own copy, so the timeline stays true after a re-dispatch.
            event.supporting_departments.set(supporting)
        return event

    def _redispatch_checked(
        self, actor: User, department: Department, supporting: list[Department], note: str
    ) -> IncidentEvent | None:
        """A re-dispatch gives its reason and changes something: the lead or the supporters. The
        same dispatch sent again by the same user, nobody acting since, is the first one (returned,
        nothing written): the step leaves the status and level as they were, so ``repeated_step``
        cannot tell it apart. Otherwise the same departments again are a 400 naming ``department``."""
        same = department.pk == self.department_id and {d.pk for d in supporting} == {
            d.pk for d in self.supporting_departments.all()
        }
        if same:
            latest = self.events.order_by("-id").first()
            if latest is not None and latest.action == "dispatch" and latest.actor_id == actor.pk:
                latest.repeated = True
                return latest
            raise ActionInvalid(
                "department",
                gettext(
                    "The incident is already dispatched to %(department)s: choose another department "
                    "(or other supporting departments)."
                )
                % {"department": department.name},
            )
        if not note:
            raise ActionInvalid("note", gettext("Give the reason for dispatching the incident again."))
        return None

    def _supporting_for(self, lead: Department, given: Any) -> list[Department]:
        """The supporting departments a dispatch names (``given``: ids or departments), checked:
        a coordination item needs at least one, a promised-time item none; each must be active and
        responsible for the grid like the lead, none twice, none the lead itself."""
        given = list(given or [])
        if self.kind != self.Kind.COORDINATION:
            if given:
                raise ActionInvalid(
                    "supporting_departments",
                    gettext(
                        "Only an item accepted as needing coordination has supporting departments; "
                        "this one is handled within a promised time."
                    ),
                )
            return []
        if not given:
            codes = self.grid.path.strip("/").split("/")
            others = Department.objects.filter(area__code__in=codes, is_active=True).exclude(pk=lead.pk)
            if not others.exists():
                # No other active department answers for the grid: the lead takes it alone. Refused,
                # the item was stuck (its kind is chosen at acceptance, and it could go nowhere else).
                return []
            raise ActionInvalid(
                "supporting_departments",
                gettext("Choose at least one supporting department for an item that needs coordination."),
            )
        ids = [d.pk if isinstance(d, Department) else record_id(d) for d in given]
        if None in ids:
            raise ActionInvalid("supporting_departments", gettext("Choose departments from the list."))
        if len(set(ids)) != len(ids):
            raise ActionInvalid("supporting_departments", gettext("Name each supporting department once."))
        if lead.pk in ids:
            raise ActionInvalid(
                "supporting_departments",
                gettext("The lead department cannot also be a supporting department."),
            )
        found = {d.pk: d for d in Department.objects.filter(pk__in=ids).select_related("area")}
        for pk in ids:
            d = found.get(pk)
            if d is None or not d.is_active or not self.grid.path.startswith(d.area.path):
                raise ActionInvalid(
                    "supporting_departments",
                    gettext(
                        "Department %(id)s cannot support this item: choose active departments "
                        "responsible for this grid."
                    )
                    % {"id": pk},
                )
        return [found[pk] for pk in ids]

    def _assist_recorded(self, department: Department, note: str) -> IncidentEvent | None:
        """The ``assist`` of ``department`` with these very words already recorded in this round of
        handling (since the latest dispatch, or failed check sending the item back), if any.

        An assist leaves the state as it is, so the page's and the API's ``state`` cannot tell a
        second send (a double tap on a slow phone, a client retrying after a lost answer) from a new
        part: the same department saying the same thing again in the same round is that send, and is
        answered with the first record. Read under the row lock of ``transition``, so two sends at
        once serialise and the second finds the first."""
        round_start = self.events.filter(action__in=("dispatch", "verify")).order_by("-id").values("id")[:1]
        return (
            self.events.filter(
                action="assist", department=department, note=note, id__gt=models.Subquery(round_start)
            )
            .order_by("id")
            .first()
        )

    def _assisting_department(self, actor: User, given: Any) -> Department:
        """Which supporting department an ``assist`` is recorded for: ``given`` (an id) if named,
        else the actor's own; ``may_perform`` has checked that the actor may act for it."""
        supporting = {d.pk: d for d in self.supporting_departments.all()}
        own = [m.department_id for m in actor.memberships_cached() if m.department_id in supporting]
        if given not in (None, ""):
            pk = given.pk if isinstance(given, Department) else given
            privileged = getattr(actor, "is_superuser", False) or actor.has_role(Role.ADMIN)
            if pk in supporting and (pk in own or privileged):
                return supporting[pk]
            raise ActionInvalid("department", gettext("Choose one of the supporting departments."))
        if own:
            return supporting[min(own)]
        raise ActionInvalid(
            "department", gettext("Choose the supporting department this assistance is recorded for.")
        )


# Who owns the step that starts in each open status (DOMAIN.md: "overdue items ... count against the
# responsible department and area"): the centre at the item's level accepts, dispatches and closes; the
# department it was dispatched to handles and feeds back; the grid worker of the item's grid verifies
# on site. A late step counts against that owner's area, whoever finally ends it (an escalation ends
# the step it interrupts, so a centre escalating an item its department sat on past the deadline
# leaves the lateness with the department). The on-time indicator and the per-department view key on
# it; docs/incidents.md "Who answers for a step".
CENTRE, DEPARTMENT, GRID = "centre", "department", "grid"
STEP_OWNERS = {
    "reported": CENTRE,
    "accepted": CENTRE,
    "dispatched": DEPARTMENT,
    "handling": DEPARTMENT,
    "fed_back": GRID,
    "verified": CENTRE,
}


def separate_duties() -> bool:
    return bool(getattr(settings, "INCIDENT_SEPARATE_DUTIES", True))


def duty_conflict(user: User, incident: Incident, action: str) -> str | None:
    """Why ``user`` may not close (or check on site) ``incident`` although their role could, or None.

    Supervision (accept, verify, close) and command (dispatch, receive feedback) are different roles
    (DOMAIN.md). Every centre handler holds the one ``handler`` role of DESIGN.md, so the rule is kept
    per item: whoever dispatched this round or fed its handling back does not also sign it off; another
    handler of the centre or of a level above closes it. ``INCIDENT_SEPARATE_DUTIES=0`` lifts the rule
    for centres of one person; administrators are not bound by it (``may_perform``)."""
    if action not in ("close", "verify") or not separate_duties():
        return None
    if action == "verify":
        # The on-site check is supervision too: a grid worker who is also the centre's handler that
        # fed the handling back does not check their own work; nor does a centre's handler standing
        # in for an unstaffed grid (``checks_for_the_grid``) check what they dispatched.
        in_grid = _works_in_grid(user, incident)
        if user.pk == incident.fed_back_by_id and in_grid:
            return gettext(
                "You fed back this incident's handling: another grid worker of the grid checks it on site "
                "(supervision and command are separate duties)."
            )
        if (
            not in_grid
            and _centre_over_grid(user, incident)
            and user.pk
            in (
                incident.dispatched_by_id,
                incident.fed_back_by_id,
                incident.supporters_by_id,
            )
        ):
            return gettext(
                "You dispatched this incident or fed back its handling: you do not also check it on site "
                "(supervision and command are separate duties)."
            )
        return None
    # Only whom the rule alone keeps from the step is told of it: a department's people, who feed
    # back, never close (nor check on site), and read "another handler closes it" as if they might.
    if user.pk not in (
        incident.dispatched_by_id,
        incident.fed_back_by_id,
        incident.supporters_by_id,
    ) or not centre_at_level(user, incident):
        return None
    return gettext(
        "You dispatched this incident or fed back its handling: another handler closes it "
        "(supervision and command are separate duties)."
    )


# The label of a dispatch of an item already dispatched (``IncidentEvent.action_label``), as its button.
REDISPATCH_LABEL = _("dispatch again")

# The steps a department takes with its own people, whom the timeline names it beside
# (``IncidentEvent.timeline_department``); a centre's handler standing in for it is not its people.
DEPARTMENT_STEPS = frozenset({"handle", "feedback", "return", "assist"})

ACTION_LABELS = {
    "report": _("report"),
    "accept": _("accept"),
    "reject": _("reject"),
    "escalate": _("escalate"),
    "dispatch": _("dispatch"),
    "return": _("return to the centre"),
    "handle": _("start handling"),
    "feedback": _("feed back"),
    "verify": _("verify"),
    "close": _("close"),
    "evaluate": _("evaluate"),
    "assist": _("assist"),
}


def _asks_the_same(locked: Incident, event: IncidentEvent, action: str, fields: dict) -> bool:
    """Does a step's form (``fields``) ask what ``event``, the user's own step from the same state,
    did? A check's result, an evaluation, an acceptance's kind sent again with another value is not
    the first one sent twice ("done" would say it was taken). Dispatch is judged apart (below)."""
    if action == "verify":
        return fields.get("result") == ("pass" if event.to_status == Incident.Status.VERIFIED else "fail")
    if action == "evaluate":
        return fields.get("evaluation") in (None, "", locked.evaluation)
    if action == "accept":
        return fields.get("kind") in (None, "", locked.kind)
    return True


def _same_dispatch(event: IncidentEvent, fields: dict) -> bool:
    """Does a dispatch's form (``fields``) name what ``event`` dispatched: the lead and, when it
    names any, the supporters?"""
    named = getattr(fields.get("department"), "pk", fields.get("department"))
    if named and str(named) != str(event.department_id):
        return False
    supporters = fields.get("supporting_departments") or []
    if supporters:
        asked = {str(getattr(d, "pk", d)) for d in supporters}
        return asked == {str(pk) for pk in event.supporting_departments.values_list("pk", flat=True)}
    return True


WORKFLOW = Workflow(
    [
        # Supervision (accept, verify, close) and command (dispatch, feedback) are different duties
        # (DOMAIN.md); the roles below name who may do each, ``may_perform`` adds level and grid rules.
        Transition("accept", ["reported"], "accepted", [Role.HANDLER]),
        Transition("reject", ["reported"], "rejected", [Role.HANDLER]),
        Transition(
            "escalate", ["reported", "accepted", "dispatched"], "reported", [Role.HANDLER, Role.GRID_WORKER]
        ),
        # Dispatched again (re-dispatch) by the centre while the department has not started: sent to
        # the wrong department, or the supporters of a coordination item need changing.
        Transition("dispatch", ["accepted", "dispatched"], "dispatched", [Role.HANDLER]),
        Transition("handle", ["dispatched"], "handling", [Role.HANDLER]),
        # The department it was dispatched to hands it back (退回) before starting: not its remit.
        Transition("return", ["dispatched"], "accepted", [Role.HANDLER]),
        Transition("feedback", ["handling"], "fed_back", [Role.HANDLER]),
        # A supporting department records its part of a coordination item; no state, no deadline.
        Transition("assist", ["dispatched", "handling"], None, [Role.HANDLER]),
        # The grid's worker checks on site; a centre's handler only for a grid with nobody to do it.
        Transition("verify", ["fed_back"], "verified", [Role.GRID_WORKER, Role.HANDLER]),
        Transition("close", ["verified"], "closed", [Role.HANDLER]),
        Transition("evaluate", ["closed"], "evaluated", [Role.GRID_WORKER, Role.HANDLER]),
    ],
    labels=ACTION_LABELS,
)


def _holds(user: User, role: str, *, area_path_prefix_of: str, min_depth: int | None = None, max_depth=None):
    for m in user.memberships_cached():
        if m.role != role or not area_path_prefix_of.startswith(m.area.path):
            continue
        if max_depth is not None and m.area.depth > max_depth:
            continue
        yield m


# Who works on an area's incidents (reports them, takes their steps): they read its free text in full.
WORKING_ROLES = frozenset({Role.GRID_WORKER, Role.HANDLER, Role.ADMIN})


def text_for_reader(user: User, incident: Incident, text: str) -> str:
    """An incident's free text (description, address, resolution, a step's note) as ``user`` may
    read it: in full to those who work on the incidents of its area (``WORKING_ROLES``, superusers),
    with identity and phone numbers masked to those who only read them (analysts, mediators and
    petition officers; an analyst reads statistics and nothing personal). A report asks for no
    names, but a worker types a resident's number into it for the centre to call back."""
    if not text or reads_in_full(user, incident):
        return text
    return pii.mask_numbers_in_text(text)


def reads_in_full(user: User, incident: Incident) -> bool:
    """Whether ``user`` works on the incidents of ``incident``'s area (``text_for_reader``)."""
    return area_in_scope(user, incident.grid, WORKING_ROLES)


def may_perform(user: User, incident: Incident, transition: Transition) -> bool:
    """Role + level + grid rules of one action (scope is already checked by the caller's selector).

    * Handlers act on items at their own level or below (a community centre cannot accept a street-level
      item; a street centre may act on its communities' items). A handler attached to a department acts
      only on items dispatched to that department (handle, feedback), or records its part of a
      coordination item it supports (assist).
    * Verification is done on site by a grid worker of the incident's grid; while the grid has none
      who may, by a centre's handler supervising it (``checks_for_the_grid``).
    """
    if transition.action == "assist" and (
        incident.kind != Incident.Kind.COORDINATION or not incident.supporting_departments.all()
    ):
        return False  # nobody supports it: there is no part to record, whoever asks
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    if not area_in_scope(user, incident.grid):
        return False
    if any(
        m.role == Role.ADMIN and incident.grid.path.startswith(m.area.path) for m in user.memberships_cached()
    ):
        return True
    if not user.has_role(*transition.roles):  # the table's roles first, then level and grid rules
        return False
    action = transition.action
    level_depth = LEVEL_DEPTH[incident.level]
    grid_path = incident.grid.path
    if action in ("handle", "feedback"):
        return any(
            m.department_id == incident.department_id
            or (m.department_id is None and m.area.depth <= level_depth)
            for m in _holds(user, Role.HANDLER, area_path_prefix_of=grid_path)
        )
    if action == "return":
        # Only the lead department's own people: a centre that finds it wrong dispatches again.
        return any(
            m.department_id == incident.department_id
            for m in _holds(user, Role.HANDLER, area_path_prefix_of=grid_path)
        )
    if action == "assist":
        # Only a supporting department's own people (not the lead's, not a centre's).
        if not any(m.department_id for m in _holds(user, Role.HANDLER, area_path_prefix_of=grid_path)):
            return False  # no department membership here: skip reading the supporters
        supporting = {d.pk for d in incident.supporting_departments.all()}
        return any(
            m.department_id in supporting for m in _holds(user, Role.HANDLER, area_path_prefix_of=grid_path)
        )
    if action == "verify":
        if duty_conflict(user, incident, action):
            return False
        return _works_in_grid(user, incident) or checks_for_the_grid(user, incident)
    if action == "evaluate":  # a centre at the item's level or above, as for its other steps
        return any(True for _m in _holds(user, Role.GRID_WORKER, area_path_prefix_of=grid_path)) or any(
            m.department_id is None and m.area.depth <= level_depth
            for m in _holds(user, Role.HANDLER, area_path_prefix_of=grid_path)
        )
    if action == "escalate" and incident.level == Level.GRID:
        return any(
            True for _m in _holds(user, Role.GRID_WORKER, area_path_prefix_of=grid_path)
        ) or _centre_over_grid(user, incident)
    if action == "close" and duty_conflict(user, incident, action):
        return False
    # accept, reject, dispatch, close, escalate: the centre at the item's level or above.
    return centre_at_level(user, incident)


def centre_at_level(user: User, incident: Incident) -> bool:
    """Is ``user`` a centre's handler (not a department's) at the item's level or above, who takes
    the centre's steps on it (accept, dispatch, close, ...)?"""
    level_depth = LEVEL_DEPTH[incident.level]
    return any(
        m.department_id is None and m.area.depth <= level_depth
        for m in _holds(user, Role.HANDLER, area_path_prefix_of=incident.grid.path)
    )


def _works_in_grid(user: User, incident: Incident) -> bool:
    """Is ``user`` a grid worker of the incident's grid (who checks it on site)?"""
    return any(
        m.area.level == codes.GRID
        for m in _holds(user, Role.GRID_WORKER, area_path_prefix_of=incident.grid.path)
    )


def grid_checkers(incident: Incident) -> frozenset[int]:
    """The active grid workers of the incident's grid who may check it on site: all of them but
    whoever fed it back (separate duties). Read once per incident object; a list reads them for all
    its rows in one query (``grid_checkers_known``)."""
    workers = getattr(incident, "_grid_workers", None)
    if workers is None:
        workers = frozenset(
            Membership.objects.filter(
                role=Role.GRID_WORKER, area_id=incident.grid_id, user__is_active=True
            ).values_list("user_id", flat=True)
        )
        incident._grid_workers = workers
    return workers - {incident.fed_back_by_id} if separate_duties() else workers


def grid_checkers_known(incidents: list[Incident]) -> None:
    """Read the grid workers of the grids of the fed-back items of a list in one query, so that
    deciding each row's steps (``allowed_actions``) reads none per row."""
    waiting = [i for i in incidents if i.status == Incident.Status.FED_BACK]
    if not waiting:
        return
    by_grid: dict[int, set[int]] = {i.grid_id: set() for i in waiting}
    for user_id, grid_id in Membership.objects.filter(
        role=Role.GRID_WORKER, area_id__in=by_grid, user__is_active=True
    ).values_list("user_id", "area_id"):
        by_grid[grid_id].add(user_id)
    for i in waiting:
        i._grid_workers = frozenset(by_grid[i.grid_id])


def _centre_over_grid(user: User, incident: Incident) -> bool:
    """Is ``user`` a handler of a centre (not a department) whose area holds the incident's grid?"""
    return any(
        m.department_id is None for m in _holds(user, Role.HANDLER, area_path_prefix_of=incident.grid.path)
    )


def _check_left_to_the_grid(user: User, incident: Incident, action: str) -> str | None:
    """Why a centre's handler may not check an item on site although one may stand in for an
    unstaffed grid (``checks_for_the_grid``), or None: the grid has a worker who checks it."""
    if action != "verify" or not _centre_over_grid(user, incident):
        return None
    return gettext(
        "A grid worker of %(grid)s checks this incident on site; a centre's handler does so only while "
        "the grid has no grid worker to check it."
    ) % {"grid": incident.grid.name}


def checks_for_the_grid(user: User, incident: Incident) -> bool:
    """May ``user``, a centre's handler, check the incident on site in place of its grid's workers?

    The check is the grid worker's (DOMAIN.md: "verify on site, usually by the reporting grid
    worker"). A grid nobody works in (its worker left, or it was never staffed), or whose only worker
    fed the handling back, would leave a fed-back item unchecked for ever: then the centre that
    supervises the grid, a handler of its community (or of a centre above it, which acts for the
    levels below as on every other step), goes on site instead. Not a department's people, and not
    whoever dispatched this round or fed it back (``duty_conflict``). While the grid has a worker who
    may check it, the centres may not: the check stays the grid's."""
    if not _centre_over_grid(user, incident):
        return False
    return not grid_checkers(incident)


def allowed_actions(user: User, incident: Incident) -> list[str]:
    """Actions the user could take now (for buttons); the transition method re-checks everything.

    No "escalate" at the top of the ladder: the button was offered to the district centre and the
    step always refused (the API still answers a request for it with its 409 and the reason).
    Escalating, the exception, comes after the step the item waits for (an accepted item's page and
    inbox row offered "Reason for escalating" above the dispatch); the workflow's order otherwise."""
    top = incident.level == LEVEL_LADDER[-1]
    actions = [
        t.action
        for t in WORKFLOW.available(incident.status)
        if not (top and t.action == "escalate") and may_perform(user, incident, t)
    ]
    return sorted(actions, key=lambda action: action == "escalate")


class IncidentEvent(TimelineLabels, models.Model):
    """One step in an incident's timeline: who did what, when, from which state to which.

    ``step_due_at`` is the deadline of the step this event completed and ``on_time`` whether it was met,
    so the on-time indicator is a plain aggregate over events."""

    STATUS = Incident.Status
    ACTION_LABELS = ACTION_LABELS

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", verbose_name=_("incident")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("done by")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("time"))
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=12, blank=True, verbose_name=_("status before"))
    to_status = models.CharField(max_length=12, verbose_name=_("status after"))
    note = models.TextField(_("note"), blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("department"),
    )
    level = models.CharField(max_length=10, choices=Level.choices, blank=True, verbose_name=_("level"))
    from_level = models.CharField(
        max_length=10, choices=Level.choices, blank=True, verbose_name=_("level before")
    )
    # The department whose own people took the step (``DEPARTMENT_STEPS``: the actor's handler
    # membership named it when the event was written), so the timeline still names it after the
    # handler moves to another department; null for a centre's handler acting for it and for every
    # other step (``acting_for``). Events older than the column were filled from the memberships as
    # they were when migration 0023 ran. No index: only read with the event.
    acting_department = models.ForeignKey(
        Department, verbose_name=_("acting for department"), null=True, blank=True, db_index=False,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    # A dispatch event's supporting departments (a coordination item's 协办单位), kept on the event
    # so that the timeline says who was named at each dispatch after a re-dispatch replaced them.
    supporting_departments = models.ManyToManyField(Department, blank=True, related_name="+")
    step_due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("step due"))
    on_time = models.BooleanField(null=True, verbose_name=_("on time"))
    # The area that answers for the step this event ended (``STEP_OWNERS``): set with ``step_due_at``
    # on timed steps only, so lateness counts against the centre, department or grid that owned the
    # step, not against the grid the item lies in. No index: only read inside the deadline-range scan.
    area = models.ForeignKey(
        Area, verbose_name=_("accountable area"), null=True, blank=True, db_index=False,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["incident", "at"], name="incident_event_timeline"),
            # The nightly rollup's question: which incidents changed since the last run?
            models.Index(fields=["at"], name="incident_event_at"),
            models.Index(
                fields=["step_due_at"], name="incident_event_due", condition=Q(on_time__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        # The step as a reader names it (the admin shows it on a photo's page): its label and local
        # time; not the item's code, which would cost a query for each event named.
        return f"{self.action_label} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"

    @property
    def action_label(self) -> str:
        # The step as its button named it: a dispatch of an item already dispatched was sent with
        # "Dispatch again" (重新派遣), and read "Dispatch" on the timeline as if it were the first.
        if self.action == "dispatch" and self.from_status == Incident.Status.DISPATCHED:
            return str(REDISPATCH_LABEL)
        return super().action_label

    def done_message(self, code: str) -> str:
        """An on-site check says how it went and what comes next: "核查：已完成" after a failed check
        read as if the item had passed, when it had gone back to the department to be handled again."""
        if self.action == "verify" and self.to_status == Incident.Status.HANDLING:
            if self.department_id:
                return gettext(
                    "On-site check failed (%(code)s): the item is back with %(department)s for handling again."
                ) % {"code": code, "department": self.department.name}
            return gettext("On-site check failed (%(code)s): the item is back in handling.") % {"code": code}
        if self.action == "verify" and self.to_status == Incident.Status.VERIFIED:
            return gettext("On-site check passed (%(code)s): the centre closes it next.") % {"code": code}
        return super().done_message(code)

    @staticmethod
    def acting_for(actor: User, action: str, department: Department | None) -> Department | None:
        """The department ``actor`` takes the step for as one of its own people: the event's
        ``department`` on a department's step when the actor's handler membership names it as the
        step is taken, else None (a centre's handler standing in for the department is not its
        people). Read from the memberships the step's permission check has already loaded."""
        if department is None or action not in DEPARTMENT_STEPS:
            return None
        memberships = actor.memberships_cached()
        if any(m.role == Role.HANDLER and m.department_id == department.pk for m in memberships):
            return department
        return None

    @property
    def timeline_department(self) -> Department | None:
        """The department the timeline names at this step: the one a dispatch sent the item to, or
        the one whose people took the step (``acting_department``, as they were at the step).
        ``department`` is the department the event concerns, which the statistics read: on a check,
        a close or an evaluation it is the one that had the item, on an escalation the one it was
        taken from, and a centre's handler may start or feed back the handling for the department;
        named beside them, it read as if the department had done it."""
        if self.action == "dispatch":
            return self.department
        return self.acting_department


def photo_upload_to(instance: IncidentPhoto, filename: str) -> str:
    # Generated names only: the uploaded file name is never used on disk (no path tricks, no leaks).
    now = timezone.localtime()
    return f"incidents/{now:%Y/%m}/{uuid.uuid4().hex}.{instance.extension}"


def thumbnail_upload_to(instance: IncidentPhoto, filename: str) -> str:
    now = timezone.localtime()
    return f"incidents/{now:%Y/%m}/{uuid.uuid4().hex}-small{EXTENSIONS[instance.thumbnail_type]}"


def display_upload_to(instance: IncidentPhoto, filename: str) -> str:
    now = timezone.localtime()
    return f"incidents/{now:%Y/%m}/{uuid.uuid4().hex}-640{EXTENSIONS[instance.thumbnail_type]}"


class IncidentPhoto(models.Model):
    """A photo of an incident: at report, with a resolution on the spot, with a department's feedback, or
    with the grid worker's on-site check.

    Files are re-encoded on save (EXIF and its location stripped) and served only through a scoped view."""

    class Stage(models.TextChoices):
        REPORT = "report", _("at report")
        FEEDBACK = "feedback", _("with feedback")
        VERIFY = "verify", _("at the on-site check")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="photos", verbose_name=_("incident")
    )
    event = models.ForeignKey(
        IncidentEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
        verbose_name=_("step"),
    )
    stage = models.CharField(
        max_length=10, choices=Stage.choices, default=Stage.REPORT, verbose_name=_("stage")
    )
    file = models.FileField(upload_to=photo_upload_to, max_length=200, verbose_name=_("file"))
    # What pages show (at most 320 px a side, see governance.pictures), made with the photo; empty for
    # a photo stored before thumbnails were, until ``grids_photo_thumbnails`` makes it: pages then
    # show the photo itself.
    thumbnail = models.FileField(
        upload_to=thumbnail_upload_to, max_length=200, blank=True, verbose_name=_("thumbnail")
    )
    thumbnail_width = models.PositiveIntegerField(default=0, verbose_name=_("thumbnail width"))
    thumbnail_height = models.PositiveIntegerField(default=0, verbose_name=_("thumbnail height"))
    # What a tap on the thumbnail opens (at most 640 px a side, of the thumbnail's type), made with the
    # photo; empty for a photo stored before, until ``grids_photo_thumbnails`` makes it: the tap then
    # opens the photo itself. The photo stays whole for those who open it on purpose.
    display = models.FileField(
        upload_to=display_upload_to, max_length=200, blank=True, verbose_name=_("display copy")
    )
    display_width = models.PositiveIntegerField(default=0, verbose_name=_("display copy width"))
    display_height = models.PositiveIntegerField(default=0, verbose_name=_("display copy height"))
    # In context: Django's own "content type" (ContentType, the admin's log and permissions) took
    # this translation, 文件类型, wherever the project's catalogue was loaded.
    content_type = models.CharField(max_length=20, verbose_name=pgettext_lazy("file", "content type"))
    width = models.PositiveIntegerField(default=0, verbose_name=_("width"))
    height = models.PositiveIntegerField(default=0, verbose_name=_("height"))
    size = models.PositiveIntegerField(default=0, verbose_name=_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(default=timezone.now, verbose_name=_("uploaded at"))

    def __str__(self) -> str:
        # The stage and local time, as its step is named: the generated storage path is no name
        # (it is on the page, as the file).
        return f"{self.get_stage_display()} · {timezone.localtime(self.uploaded_at):%Y-%m-%d %H:%M}"

    class Meta:
        verbose_name = _("incident photo")
        verbose_name_plural = _("incident photos")
        ordering = ["uploaded_at", "id"]

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, ".bin").lstrip(".")

    @property
    def thumbnail_type(self) -> str:
        return thumbnail_type(self.content_type)

    @property
    def shown_size(self) -> tuple[int, int]:
        """The size of what a page shows (the thumbnail, or the photo while it has none), for the
        img's width and height: the page keeps the picture's place before it arrives."""
        if self.thumbnail:
            return self.thumbnail_width, self.thumbnail_height
        # The photo itself, drawn at most as large as its thumbnail would be.
        scale = min(1.0, THUMBNAIL_SIDE / max(self.width, self.height, 1))
        return round(self.width * scale), round(self.height * scale)


@receiver(post_delete, sender=IncidentPhoto, dispatch_uid="incident-photo-file")
def _photo_deleted(sender, instance: IncidentPhoto, using: str, **kwargs) -> None:
    # Storage hygiene, not business logic: a resident's photo (faces, plates, doorways) must leave
    # MEDIA_ROOT with its row. A signal, not the admin's delete_model/delete_queryset, because it
    # catches every way a row goes: the admin's delete page and its "delete selected" action, a
    # queryset .delete() (with a receiver connected Django deletes row by row and sends this), and
    # the cascade from an incident. The file goes once the deletion commits: a rolled-back delete
    # keeps its row, and must keep the file the row names. robust: a storage failure after the
    # commit is logged, not raised into a response whose deletion already happened.
    # The thumbnail and the display copy go with it (a smaller copy shows the same faces and plates).
    names = [name for name in (instance.file.name, instance.thumbnail.name, instance.display.name) if name]
    storage = instance.file.storage
    if names:
        transaction.on_commit(partial(_delete_files, storage, names), using=using, robust=True)


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


@receiver(post_save, sender=Area, dispatch_uid="grid-moved-level-area")
def _grid_moved(sender, instance: Area, created: bool, raw: bool = False, **kwargs) -> None:
    # A grid redrawn into another community (or street, district): its open items kept the old
    # community as the area whose centre owns their step (``level_area``), so the old centre was told
    # of an item it could no longer open and the new one, offered the buttons, was never told; the
    # on-time indicator charged the new community's late steps to the old. The owner follows the grid
    # to its new ancestor at the item's level. One query for any other save of an area.
    if created or raw or instance.level != Area.Level.GRID:
        return
    stale = [
        item
        for item in Incident.objects.filter(grid=instance, status__in=Incident.OPEN_STATUSES).select_related(
            "level_area"
        )
        if item.level_area_id and not instance.path.startswith(item.level_area.path)
    ]
    if not stale:
        return
    owners = {a.code: a for a in Area.objects.filter(path__in=_ancestor_paths(instance.path))}
    for item in stale:
        item.level_area = owners[Incident.area_code_at(instance, item.level)]
    Incident.objects.bulk_update(stale, ["level_area"])


def _ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
