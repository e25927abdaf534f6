"""Dispute mediation (人民调解法, 2010): organisations, mediators, dispute cases, parties, sessions.

A *mediation organisation* (a people's mediation committee of a community, a street or district
mediation centre, a police-people joint mediation room, court-stationed or industry committee) has
members; a member with ``is_head`` is the organisation's head, who sees all its cases, assigns and
reassigns them and watches each mediator's workload.

A *dispute case* is registered (own initiative, a party's application, or referred by police, court,
petition office or a grid incident), accepted by an organisation (which names the mediator) or
declined with a suggested route, mediated in sessions and concluded with an outcome. A successful
mediation ends in an agreement (written, 调解协议书, or oral, recorded); within 30 days of a written
agreement taking effect both parties may apply jointly to a court for judicial confirmation
(司法确认), and follow-up visits check that it is carried out.

All state changes go through ``DisputeCase.transition`` (one method, one transition table, one event
row per action); pages, the API and the demo's bulk loader all respect the same table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from governance import pii
from governance.access import ScopedQuerySet, scope_q
from governance.models import Area, LocalizedName, Role
from governance.periods import (
    add_months,
    calendar_lacks_year,
    end_of_local_day,
    first_working_day_from,
    provisional_years,
    start_of_local_day,
)
from governance.retention import ERASED_NAME, is_erased
from governance.workflow import (
    ActionForbidden,
    ActionInvalid,
    FieldErrors,
    TimelineLabels,
    Transition,
    TransitionNotAllowed,
    Workflow,
    form_state,
    take_step,
)

if TYPE_CHECKING:
    from governance.models import User

# Staff who may read cases in their area (progress, referrals) but never parties' personal data.
# Analysts are not among them: their job is the statistics, which reach them through the indicators,
# and a case's free-text description and its parties (even masked) say who quarrelled with whom.
READER_ROLES = frozenset({Role.HANDLER, Role.ADMIN})
# Who refers a case to an organisation they are not a member of (a handler, e.g. from a grid incident).
REFERRER_ROLES = frozenset({Role.HANDLER, Role.ADMIN})
CONFIRMATION_WINDOW_DAYS = 30  # 人民调解法 art. 33: joint application within 30 days of effect
CONFIRMATION_WARN_DAYS = 7
# The most people one case can involve: the registration's bound on "people involved", and a prevention
# record's persons, which raise that number (a record of 99,999,999,999 persons was taken, and counted).
PERSONS_MAX = 100000
# Days before a running case's time limit ends that whoever acts on it is told (and again once it
# has passed): services.dispute_notify_limits.
LIMIT_WARN_DAYS = 3


def time_limit_months() -> int:
    """The time limit in months (人民调解工作若干规定: generally concluded within one month)."""
    return int(settings.MEDIATION_TIME_LIMIT_MONTHS)


def time_limit_last_day(start: dt.datetime) -> dt.date:
    """The last day of a time limit starting at ``start`` as counted in months, before any move off
    a rest day: the local day with the same number ``time_limit_months()`` months later, or that
    month's last day (Civil Code art. 202)."""
    return timezone.localdate(add_months(start, time_limit_months()))


def _step_day(value: Any, now: dt.datetime, field: str, future: str, errors: FieldErrors) -> dt.date | None:
    """A step's day (a date, ISO text, or nothing for today), or None with ``field``'s error added
    when it does not read as a date or is to come (``future`` says so)."""
    today = timezone.localdate(now)
    day = value or today
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            errors.add(field, gettext("Enter a date as YYYY-MM-DD."))
            return None
    if day > today:
        errors.add(field, future)
        return None
    return day


def time_limit_due(start: dt.datetime) -> dt.datetime:
    """The end of a time limit starting at ``start`` (acceptance, or the due date being extended):
    24:00 local time of its last day (``time_limit_last_day``), or of the first working day after it
    when that day is a rest day or a public holiday (Civil Code arts. 201-203; the calendar as in
    ``confirmation_window_end``). A month is not 30 days: accepted on 31 January, due at the end of
    28 February; accepted on 15 March, due at the end of 15 April. Accepted on 1 September 2026: the
    limit's last day, 1 October, is the first of the National Day holiday, so due at the end of
    8 October, the first working day after it."""
    last = first_working_day_from(time_limit_last_day(start))
    return end_of_local_day(start_of_local_day(last))


def confirmation_window_end(effective: dt.date) -> dt.date:
    """The last day on which the parties may apply jointly for judicial confirmation of an agreement
    that took effect on ``effective``: 30 days later (the day of effect is not counted), or, when that
    day is a rest day or a public holiday, the first working day after it (Civil Code art. 203; the
    Civil Procedure Law counts its periods the same way: 期间届满的最后一日是法定休假日的，以法定休假日后的
    第一日为期间届满的日期). A window ending on a Saturday runs to Monday: the court takes the
    application then, so the platform must record it. Working days come from the calendar
    (``governance.periods.is_working_day``: weekends, listed holidays, weekend working days)."""
    return first_working_day_from(effective + dt.timedelta(days=CONFIRMATION_WINDOW_DAYS))


# The name given to the parties of a case converted from a grid incident, which does not name them;
# the mediator completes them at intake (``services.dispute_from_incident``).
PLACEHOLDER_NAME = _("(to be completed)")


def is_placeholder_name(name: str) -> bool:
    """Is ``name`` the placeholder, in whichever language it was stored (the converting user's)?"""
    names = {"(to be completed)"}
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            names.add(str(PLACEHOLDER_NAME))
    return (name or "").strip() in names


class MediationOrganisation(models.Model):
    """A body that mediates disputes, attached to the area it serves."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("people's mediation committee")
        STREET_CENTRE = "street_centre", _("street mediation centre")
        DISTRICT_CENTRE = "district_centre", _("district mediation centre")
        POLICE_JOINT = "police_joint", _("police-people joint mediation room")
        COURT = "court", _("court-stationed mediation")
        INDUSTRY = "industry", _("industry mediation committee")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    industry = models.CharField(
        _("industry"), max_length=40, blank=True, help_text=_("for industry committees: medical, labour, ...")
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="mediation_organisations"
    )
    is_active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="OrganisationMember", related_name="mediation_organisations"
    )

    SCOPE_AREA_FIELD = "area"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("mediation organisation")
        verbose_name_plural = _("mediation organisations")
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="mediation_org_unique_name_per_area")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """An organisation is not closed while it has cases still to take a step: its members lose
        every action on them with it (they act through active organisations only), and the cases sat
        with nobody to move them. Closed and declined cases stay where they are."""
        super().clean()
        self._check_level()
        if self.pk and not self.is_active:
            waiting = (
                DisputeCase.objects.filter(organisation_id=self.pk, organisation__is_active=True)
                .exclude(status__in=("closed", "declined"))
                .count()
            )
            if waiting:
                raise ValidationError(
                    {
                        "is_active": ngettext(
                            "%(n)d case of this organisation is still open: transfer or close it first.",
                            "%(n)d cases of this organisation are still open: transfer or close them first.",
                            waiting,
                        )
                        % {"n": waiting}
                    }
                )

    def _check_level(self) -> None:
        # The admin took a "street mediation centre" at a grid and a district centre at a community.
        # Committees are the communities' and villages' (and streets', enterprises'); a centre is its
        # level's; nothing mediates at a grid, whose disputes go to the community's committee.
        if self.area_id is None:
            return
        level = self.area.level
        if level == Area.Level.GRID:
            message = _("A mediation organisation serves a community, street, district or city, not a grid.")
        elif self.kind == self.Kind.STREET_CENTRE and level != Area.Level.STREET:
            message = _("A street mediation centre serves a street: choose the street.")
        elif self.kind == self.Kind.DISTRICT_CENTRE and level != Area.Level.DISTRICT:
            message = _("A district mediation centre serves a district: choose the district.")
        else:
            return
        raise ValidationError({"area": message})


class OrganisationMember(models.Model):
    """A mediator in an organisation; ``is_head`` marks the head (主任) of the organisation."""

    organisation = models.ForeignKey(
        MediationOrganisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mediation_memberships",
        verbose_name=_("user"),
    )
    is_head = models.BooleanField(_("head of the organisation"), default=False)
    joined_on = models.DateField(
        _("joined on"), default=timezone.localdate
    )  # the local day (TIME_ZONE), not the server's

    class Meta:
        verbose_name = _("organisation member")
        verbose_name_plural = _("organisation members")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="mediation_member_unique")
        ]
        indexes = [models.Index(fields=["user", "organisation"], name="mediation_member_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation}"

    def clean(self) -> None:
        # A member without the mediator role would be given nothing (``_memberships``): the admin
        # says so instead of saving a membership that silently does not work.
        if self.user_id and not self.user.has_role(Role.MEDIATOR):
            raise ValidationError(
                {
                    "user": gettext(
                        "%(user)s does not hold the mediator role: give them a mediator membership "
                        "first (organisation members read and act on cases only as mediators)."
                    )
                    % {"user": self.user}
                }
            )


class DisputeCategory(LocalizedName, models.Model):
    """A kind of dispute, as in the official monthly reports (editable in the admin)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(
        _("name in English"),
        max_length=60,
        blank=True,
        help_text=_("Shown on pages in English; empty: the name."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dispute category")
        verbose_name_plural = _("dispute categories")
        ordering = ["sort_order", "code"]


def _memberships(user: User) -> list[OrganisationMember]:
    """The user's organisation memberships, loaded once per user object (like memberships_cached).

    They count only while the user holds the mediator role (a ``Membership``): ending someone's
    memberships is how they are signed off (docs/api.md: "with no membership left, lists are empty
    and every record is a 404"), and a mediator whose roles were removed kept reading their
    organisation's cases and revealing the parties through the organisation rows left behind."""
    cached = getattr(user, "_mediation_memberships_cache", None)
    if cached is None:
        cached = (
            list(OrganisationMember.objects.filter(user=user, organisation__is_active=True))
            if getattr(user, "is_authenticated", False) and user.has_role(Role.MEDIATOR)
            else []
        )
        user._mediation_memberships_cache = cached
    return cached


def member_organisation_ids(user: User) -> set[int]:
    return {m.organisation_id for m in _memberships(user)}


def head_organisation_ids(user: User) -> set[int]:
    return {m.organisation_id for m in _memberships(user) if m.is_head}


def acting_members(organisation_ids: Any) -> models.QuerySet[OrganisationMember]:
    """The members who can act for their organisation, as ``_memberships`` counts them: an active
    account holding the mediator role, in an active organisation. A head who left (deactivated, or
    signed off by removing the role) is no head any more."""
    from governance.models import Membership

    return OrganisationMember.objects.filter(
        organisation_id__in=organisation_ids,
        organisation__is_active=True,
        user__is_active=True,
        user_id__in=Membership.objects.filter(role=Role.MEDIATOR).values("user_id"),
    )


def headless_organisation_ids(organisation_ids: Any) -> set[int]:
    """Those of ``organisation_ids`` with no head who can act (one query).

    An organisation without a head is not frozen (docs/mediation.md "An organisation without a
    head"): its members are told what its head would be, and a member takes on a case whose
    mediator can no longer act, the one step that waited for a head."""
    ids = set(organisation_ids)
    if not ids:
        return set()
    return ids - set(acting_members(ids).filter(is_head=True).values_list("organisation_id", flat=True))


class DisputeCaseQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any) -> DisputeCaseQuerySet:
        """Mediators see their organisations' cases (and cases assigned to them); district staff
        (handlers, admins) read the cases in their area subtree. Nobody else sees any (analysts
        included: statistics reach them through the indicators, as for petitions).

        Mediators are deliberately *not* scoped by area: a street centre's mediator must not read
        the community committee's files just because the community lies in the street."""
        if getattr(user, "is_superuser", False) and user.is_active:
            return self
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = Q(pk__in=[])
        orgs = member_organisation_ids(user)
        if orgs:
            q |= Q(organisation_id__in=orgs)
        if orgs or user.has_role(Role.MEDIATOR):
            # Cases assigned to them, only while they are a mediator: someone who left mediation (now
            # an analyst, or with no role at all) kept reading every case once assigned to them,
            # closed ones for ever (their mediator never changes), description and parties included.
            q |= Q(mediator=user)
        if user.has_role(*READER_ROLES):
            area_q = scope_q(user, "area", READER_ROLES)
            if area_q is not None:
                q |= area_q
        return self.filter(q)

    def open(self) -> DisputeCaseQuerySet:
        return self.filter(status__in=DisputeCase.OPEN_STATUSES)

    def overdue(self, now: dt.datetime | None = None) -> DisputeCaseQuerySet:
        # Served by the partial index dispute_open_due.
        return self.filter(DisputeCase.overdue_q(now))

    def confirmation_closing(self, now: dt.datetime | None = None) -> DisputeCaseQuerySet:
        """Successful cases whose judicial-confirmation window ends within CONFIRMATION_WARN_DAYS and
        no application was made yet (index dispute_confirmation_due)."""
        today = timezone.localdate(now or timezone.now())
        return self.filter(
            outcome__in=DisputeCase.CONFIRMABLE_OUTCOMES,
            judicial_status=DisputeCase.Judicial.NONE,
            confirmation_due__gte=today,
            confirmation_due__lte=today + dt.timedelta(days=CONFIRMATION_WARN_DAYS),
        )

    def with_relations(self) -> DisputeCaseQuerySet:
        return self.select_related("category", "area", "organisation", "mediator", "incident")


class DisputeCase(models.Model):
    """One dispute, from intake to outcome, agreement and judicial confirmation."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("registered")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        IN_MEDIATION = "in_mediation", _("in mediation")
        CONCLUDED = "concluded", _("concluded")
        CLOSED = "closed", _("closed")

    class Origin(models.TextChoices):
        OWN_INITIATIVE = "own_initiative", _("own initiative")
        APPLICATION = "application", _("party's application")
        POLICE = "police", _("referred by police")
        COURT = "court", _("referred by court")
        PETITION_OFFICE = "petition_office", _("referred by petition office")
        GRID_INCIDENT = "grid_incident", _("grid incident")

    class Outcome(models.TextChoices):
        SUCCESS_WRITTEN = "success_written", _("success: written agreement")
        SUCCESS_ORAL = "success_oral", _("success: oral agreement")
        FAILURE = "failure", _("failure")
        WITHDRAWN = "withdrawn", _("withdrawn")
        REFUSED = "refused", _("one party refuses mediation")

    class Judicial(models.TextChoices):
        NONE = "", _("not applied")
        APPLIED = "applied", _("applied")
        CONFIRMED = "confirmed", _("confirmed")
        REJECTED = "rejected", _("rejected")

    class FollowUp(models.TextChoices):
        PERFORMED = "performed", _("performed")
        PARTLY = "partly", _("partly performed")
        NOT_PERFORMED = "not_performed", _("not performed")

    class Route(models.TextChoices):
        LITIGATION = "litigation", _("litigation")
        ARBITRATION = "arbitration", _("arbitration")
        ADMINISTRATIVE = "administrative", _("administrative handling")

    # The origins that come with a referring record (委托移送: its number); a grid incident's is the
    # incident's number. The committee's own initiative and a party's application have none.
    REFERRAL_ORIGINS = ("police", "court", "petition_office", "grid_incident")
    OPEN_STATUSES = ("registered", "accepted", "in_mediation")
    RUNNING_STATUSES = ("accepted", "in_mediation")  # the one-month clock runs
    # A case with a mediator and steps still to take (sessions, outcome, confirmation, follow-up).
    REASSIGN_STATUSES = ("accepted", "in_mediation", "concluded", "closed")
    SUCCESS_OUTCOMES = ("success_written", "success_oral")
    # What a court may confirm (司法确认): the written agreement. 人民调解法 art. 33 counts the 30 days
    # from receiving the 调解协议书 and the court is handed it; an oral agreement, recorded by the
    # mediator and effective the same day (art. 28), has none. The parties who want a confirmation
    # have a written agreement drawn up.
    CONFIRMABLE_OUTCOMES = ("success_written",)
    # What may end an accepted case before any mediation took place: one party refuses (人民调解法
    # art. 17: a party's clear refusal ends it) or the applicant withdraws. Success and failure are
    # the results of mediating, so they need the case in mediation.
    UNMEDIATED_OUTCOMES = ("refused", "withdrawn")
    RATED_OUTCOMES = ("success_written", "success_oral", "failure")  # success rate denominator

    code = models.CharField(_("number"), max_length=20, unique=True)
    category = models.ForeignKey(
        DisputeCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="cases"
    )
    origin = models.CharField(_("origin"), max_length=20, choices=Origin.choices)
    referral_reference = models.CharField(
        _("referring record"), max_length=60, blank=True, help_text=_("number of the referring record")
    )
    # The grid incident this case came from (one case per incident); the incident page reads it back
    # through ``mediation.selectors.dispute_for_incident``.
    incident = models.OneToOneField(
        "grids.Incident",
        verbose_name=_("grid incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispute_case",
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="dispute_cases"
    )
    description = models.TextField(_("description"))
    amount = models.DecimalField(
        _("amount in dispute (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    persons_involved = models.PositiveIntegerField(_("people involved"), default=2)
    risk_violence = models.BooleanField(_("may turn violent"), default=False)
    # When the mediator last reported a risk of violence to the police (``report_risk``): DOMAIN.md's
    # escalation duty. Found during mediation as often as at intake, so it is a step, not a field of
    # the registration alone.
    police_reported_at = models.DateTimeField(
        _("risk reported to the police"), null=True, blank=True, editable=False
    )
    risk_group = models.BooleanField(_("group dispute"), default=False)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    # The key of the registration form (or API request) that created the case: a registration sent
    # again with it gets this case, not a second one and a second number. Unique per registrar.
    submission = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)
    organisation = models.ForeignKey(
        MediationOrganisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mediator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispute_cases",
    )
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.REGISTERED)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("conclude by"), null=True, blank=True)
    extended = models.BooleanField(_("time limit extended"), default=False)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    suggested_route = models.CharField(_("route suggested"), max_length=200, blank=True)

    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    concluded_on_time = models.BooleanField(_("concluded on time"), null=True, blank=True)
    other_routes = models.JSONField(_("other routes explained"), default=list, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    # The agreement (调解协议书 or the mediator's record of an oral agreement).
    agreement_facts = models.TextField(_("facts and responsibilities"), blank=True)
    agreement_terms = models.TextField(_("terms agreed"), blank=True)
    agreement_amount = models.DecimalField(
        _("amount agreed (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    performance_method = models.CharField(_("how it is carried out"), max_length=200, blank=True)
    performance_due = models.DateField(_("carried out by"), null=True, blank=True)
    agreement_effective_on = models.DateField(_("agreement effective on"), null=True, blank=True)
    confirmation_due = models.DateField(_("judicial confirmation window ends"), null=True, blank=True)
    judicial_status = models.CharField(
        _("judicial confirmation"), max_length=10, choices=Judicial.choices, blank=True, default=""
    )
    judicial_applied_on = models.DateField(_("applied to court on"), null=True, blank=True)
    judicial_decided_on = models.DateField(_("court decided on"), null=True, blank=True)
    follow_up = models.CharField(_("follow-up"), max_length=14, choices=FollowUp.choices, blank=True)
    follow_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    # Escalation duty (防止民转刑, 群体性纠纷化解).
    escalation_prevented = models.BooleanField(_("criminal escalation prevented"), default=False)
    escalation_persons = models.PositiveIntegerField(_("persons (escalation prevented)"), default=0)
    group_defused = models.BooleanField(_("group dispute defused"), default=False)
    group_persons = models.PositiveIntegerField(_("persons (group dispute)"), default=0)
    prevention_recorded_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("prevention first recorded at")
    )
    # When each fact was recorded: the month it counts in. A group dispute defused in April is April's
    # statistic even on a case where a criminal escalation was prevented in March (whose report is out).
    escalation_recorded_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("criminal escalation prevention recorded at")
    )
    group_recorded_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("group dispute defusal recorded at")
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    SCOPE_AREA_FIELD = "area"
    objects = DisputeCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispute case")
        verbose_name_plural = _("dispute cases")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="dispute_status_received"),
            models.Index(
                fields=["status", "due_at"], name="dispute_open_due", condition=Q(due_at__isnull=False)
            ),
            models.Index(fields=["organisation", "status"], name="dispute_org_status"),
            models.Index(fields=["mediator", "status", "due_at"], name="dispute_mediator_status"),
            # As incident_grid_reported: the key last, for a deep page's keys from the index alone.
            # Status and category included: a scope's count by either (status=closed is 97% of the
            # cases, a category a fifth) reads its areas' entries only, not the whole table.
            models.Index(
                fields=["area", "-received_at", "-id"],
                name="dispute_area_received",
                include=["status", "category"],
            ),
            models.Index(fields=["category", "-received_at"], name="dispute_category_received"),
            models.Index(fields=["origin", "-received_at"], name="dispute_origin_received"),
            models.Index(fields=["received_at"], name="dispute_received_at"),
            models.Index(fields=["outcome", "concluded_at"], name="dispute_outcome_concluded"),
            models.Index(fields=["concluded_at"], name="dispute_concluded_at"),
            models.Index(
                fields=["confirmation_due"],
                name="dispute_confirmation_due",
                condition=Q(confirmation_due__isnull=False),
            ),
            # The prevention indicators' scans, one per fact (mediation/indicators.py).
            models.Index(
                fields=["escalation_recorded_at"],
                name="dispute_escalation_at",
                condition=Q(escalation_recorded_at__isnull=False),
            ),
            models.Index(
                fields=["group_recorded_at"],
                name="dispute_group_at",
                condition=Q(group_recorded_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_by", "submission"],
                name="dispute_registrar_submission",
                condition=Q(submission__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.code

    @classmethod
    def overdue_q(cls, now: dt.datetime | None = None) -> Q:
        """Running and past the time limit: the one definition lists, filters and counts use."""
        return Q(status__in=cls.RUNNING_STATUSES, due_at__lt=now or timezone.now())

    # --- derived -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def agreement_earliest_day(self) -> dt.date:
        """The earliest day an agreement may take effect: the day the case was received, or that of
        its first session once one is recorded (an agreement does not predate the mediation that
        reached it, and the 30-day confirmation window runs from it). One query (index on case)."""
        day = timezone.localdate(self.received_at)
        first = self.sessions.order_by("held_at").values_list("held_at", flat=True).first()
        return max(day, timezone.localdate(first)) if first is not None else day

    def extension_in_force(self, events: Iterable[DisputeEvent]) -> bool:
        """Is the running time limit the extended one? ``extended`` says the case's one extension is
        used; a transfer after it gave the receiving organisation a month of its own (``_do_accept``),
        not extended, and that date is not what the parties consented to. ``events`` are the case's
        (the page has them loaded: no query); a case marked extended without its event (none is
        written otherwise) is taken at its word."""
        if not self.extended:
            return False
        extended_at = max((e.at for e in events if e.action == "extend"), default=None)
        return extended_at is None or not any(e.action == "transfer" and e.at > extended_at for e in events)

    @property
    def is_overdue(self) -> bool:
        return bool(self.due_at and self.status in self.RUNNING_STATUSES and self.due_at < timezone.now())

    def running_due(self) -> dt.datetime | None:
        """The time limit of a running case computed afresh from its acceptance (and from the due date
        so reached, when extended): what ``accept`` and ``extend`` would have stored had the calendar
        been as it is now (governance.deadlines). None when the stored ``due_at`` was not counted so:
        one stored under the old 30-day rule (at the hour of acceptance), or under another
        ``MEDIATION_TIME_LIMIT_MONTHS``, is kept as it is."""
        if self.status not in self.RUNNING_STATUSES or self.accepted_at is None or self.due_at is None:
            return None
        stored = timezone.localtime(self.due_at)
        if stored != end_of_local_day(stored):
            return None
        # An extended case runs to the limit counted again from the first one; but one extended with
        # an organisation before it was transferred runs to the receiving one's month only (the
        # extension stays used). The two ends lie a month apart, the stored one near one of them.
        starts = [self.accepted_at] + ([time_limit_due(self.accepted_at)] if self.extended else [])
        for start in reversed(starts):
            last = time_limit_last_day(start)
            # Moved off a rest day by at most a holiday week and its weekends.
            if last <= stored.date() <= last + dt.timedelta(days=14):
                return time_limit_due(start)
        return None

    @property
    def is_success(self) -> bool:
        return self.outcome in self.SUCCESS_OUTCOMES

    @property
    def is_confirmable(self) -> bool:
        """Has the case an agreement a court may confirm (``CONFIRMABLE_OUTCOMES``)?"""
        return self.outcome in self.CONFIRMABLE_OUTCOMES

    @property
    def confirmation_days_left(self) -> int | None:
        """Days left to apply for judicial confirmation (None when it no longer applies)."""
        if not self.is_confirmable or self.judicial_status or self.confirmation_due is None:
            return None
        return (self.confirmation_due - timezone.localdate()).days

    @property
    def confirmation_closing(self) -> bool:
        left = self.confirmation_days_left
        return left is not None and 0 <= left <= CONFIRMATION_WARN_DAYS

    def other_route_labels(self) -> list[str]:
        return [str(self.Route(r).label) for r in self.other_routes if r in self.Route.values]

    def running_due_dates(self) -> list[dt.datetime | dt.date]:
        """The time limit of a running case and the last day of a judicial-confirmation window not
        yet used nor ended: the dates a calendar change still moves (``governance.deadlines``)."""
        out: list[dt.datetime | dt.date] = []
        if self.due_at is not None and self.status in self.RUNNING_STATUSES:
            out.append(self.due_at)
        left = self.confirmation_days_left
        if left is not None and left >= 0:
            out.append(self.confirmation_due)
        return out

    def provisional_due_years(self) -> list[int]:
        """The years of ``running_due_dates`` the calendar has no dates for: those count every
        weekday as worked (New Year's Day too) and move once the year's holidays are entered."""
        return provisional_years(self.running_due_dates())

    @property
    def uncalendared_due_year(self) -> int | None:
        """The year of the running time limit when the calendar has none of its dates, else None."""
        if self.due_at is None or self.status not in self.RUNNING_STATUSES:
            return None
        return calendar_lacks_year(self.due_at)

    @property
    def uncalendared_confirmation_year(self) -> int | None:
        """The year of an open judicial-confirmation window's last day when the calendar has none of
        its dates, else None."""
        left = self.confirmation_days_left
        return calendar_lacks_year(self.confirmation_due) if left is not None and left >= 0 else None

    # --- the state machine ---------------------------------------------------------------------

    def form_step_state(self) -> str:
        """The status with the id of the latest event, as the step forms send it (``form_state``)."""
        return form_state(self, self.status)

    def transition(
        self, *, action: str, actor: User, note: str = "", state: str | None = None, **fields: Any
    ) -> DisputeEvent:
        """Perform ``action``: the one place a case's workflow state changes.

        The row is re-read under ``select_for_update`` so two people acting at once serialise and the
        second sees the first's result (409 if its move no longer applies); the event row is written
        in the same transaction; only the changed columns are saved. ``state``, the status the step's
        form was drawn in, answers a step this user already took from it with its event
        (``repeated`` set): the form was sent twice, and the second send was a 409."""
        return take_step(
            self,
            ("organisation", "area", "category"),
            workflow=WORKFLOW,
            action=action,
            actor=actor,
            note=note,
            state=state,
            fields=fields,
        )

    def _apply(self, *, action: str, actor: User, note: str, **fields: Any) -> DisputeEvent:
        transition = WORKFLOW.check(action, self.status, self.get_status_display())
        if not may_perform(actor, self, transition):
            raise ActionForbidden(
                gettext("Your role may not take this step on the case: %(action)s.")
                % {"action": ACTION_LABELS.get(action, action)}
            )
        now = timezone.now()
        before = self.status
        target = transition.target or self.status
        changed: set[str] = set()
        data: dict[str, Any] = {}
        handler = getattr(self, f"_do_{action}")
        handler(now=now, actor=actor, note=note, changed=changed, data=data, **fields)
        if target != self.status:
            self.status = target
            changed.add("status")
        if changed:
            self.full_clean(exclude=["incident", "code"], validate_unique=False, validate_constraints=False)
            self.save(update_fields=sorted(changed))
        return DisputeEvent.objects.create(
            case=self,
            actor=actor,
            at=now,
            action=action,
            from_status=before,
            to_status=self.status,
            note=note,
            organisation_id=self.organisation_id,
            data=data,
        )

    # Each ``_do_<action>`` validates the action's own fields (ActionInvalid names the field) and sets
    # the columns; ``_apply`` saves them. Nothing is written before every check has passed.

    def _mediator_of(self, value: Any, organisation: MediationOrganisation) -> User:
        from governance.models import User

        if value in (None, ""):
            raise ActionInvalid("mediator", gettext("Choose the mediator."))
        user = value if isinstance(value, User) else User.objects.filter(pk=value, is_active=True).first()
        # A member who can act (``acting_members``): one signed off (the mediator role removed, the
        # organisation row left) or deactivated was given the case, then saw no case at all.
        if user is None or not acting_members({organisation.pk}).filter(user=user).exists():
            raise ActionInvalid("mediator", gettext("The mediator must be a member of the organisation."))
        return user

    def _do_accept(self, *, now, actor, note, changed, data, mediator=None, organisation=None, **_):
        org = self.organisation
        if organisation not in (None, ""):
            org_id = organisation.pk if isinstance(organisation, MediationOrganisation) else organisation
            if org is not None and str(org.pk) != str(org_id):
                raise ActionInvalid(
                    "organisation", gettext("The case is with another organisation: transfer it instead.")
                )
            org = MediationOrganisation.objects.filter(pk=org_id, is_active=True).first()
            if org is None or org.pk not in _acting_org_ids(actor):
                raise ActionInvalid("organisation", gettext("Choose an organisation you belong to."))
        if org is None:
            raise ActionInvalid("organisation", gettext("Choose the organisation that takes the case."))
        if mediator in (None, "") and org.pk in member_organisation_ids(actor):
            mediator = actor  # a mediator accepting a case takes it on themselves
        chosen = self._mediator_of(mediator, org)
        if chosen.pk != actor.pk and not (_is_head(actor, org.pk) or _is_superior(actor)):
            raise ActionForbidden(gettext("Only the organisation head assigns a case to someone else."))
        self.organisation, self.mediator = org, chosen
        self.accepted_at = now
        # A month of its own, also for a case transferred here; ``extended`` is not reset: the one
        # extension is the case's, not each organisation's (a transfer bought a second one).
        self.due_at = time_limit_due(now)
        changed |= {"organisation", "mediator", "accepted_at", "due_at"}
        data["mediator"] = chosen.pk

    def _do_decline(self, *, now, actor, note, changed, data, suggested_route="", **_):
        errors = FieldErrors()  # the reason and the route together, not one submit for each
        if not note:
            errors.add("note", gettext("Give the reason for declining the case."))
        route = (suggested_route or "").strip()
        if not route:
            errors.add("suggested_route", gettext("Suggest where the parties can turn instead."))
        errors.raise_any()
        self.decline_reason, self.suggested_route = note, route[:200]
        self.closed_at = now
        changed |= {"decline_reason", "suggested_route", "closed_at"}

    def _do_start(self, **_):
        pass

    def _do_record_session(self, **_):
        pass  # the session row is written by the service in the same transaction

    def _do_transfer(self, *, now, actor, note, changed, data, organisation=None, **_):
        # Every field in error at once: a missing reason with an organisation missing, the case's own
        # or out of reach, not the reason first and the organisation one submit later.
        errors = FieldErrors()
        if not note:
            errors.add("note", gettext("Give the reason for the transfer."))
        org = None
        org_id = organisation.pk if isinstance(organisation, MediationOrganisation) else organisation
        if organisation in (None, ""):
            errors.add("organisation", gettext("Choose the organisation to transfer to."))
        elif org_id == self.organisation_id:
            errors.add("organisation", gettext("Choose another active organisation."))
        else:
            # The same list the case page offers: not any organisation of the city.
            org = transfer_targets(self).filter(pk=org_id).first()
            if org is None:
                errors.add(
                    "organisation",
                    gettext("Transfer to an active organisation of the case's district or of the city."),
                )
        errors.raise_any()
        data["from_organisation"] = self.organisation_id
        if self.due_at is not None and now > self.due_at:
            # The receiving organisation gets a time limit of its own, but the case was already late:
            # concluded later it does not count as on time (a transfer would wipe the lateness).
            data["late"] = True
        self.organisation, self.mediator = org, None
        self.accepted_at = self.due_at = None
        changed |= {"organisation", "mediator", "accepted_at", "due_at"}

    def _do_reassign(self, *, now, actor, note, changed, data, mediator=None, **_):
        if not (_is_head(actor, self.organisation_id) or _is_superior(actor)):
            # A member taking over in an organisation without a head (``may_perform``) takes the case
            # on themselves: handing a colleague work is still a head's decision.
            if mediator not in (None, "") and str(getattr(mediator, "pk", mediator)) != str(actor.pk):
                raise ActionForbidden(
                    gettext(
                        "While the organisation has no head, a member takes over a case themselves; "
                        "only a head assigns it to someone else."
                    )
                )
            mediator, data["taken_over"] = actor, True
        chosen = self._mediator_of(mediator, self.organisation)
        if chosen.pk == self.mediator_id:
            raise ActionInvalid("mediator", gettext("The case is already assigned to this mediator."))
        data["from_mediator"], data["mediator"] = self.mediator_id, chosen.pk
        self.mediator = chosen
        changed.add("mediator")

    def _do_extend(self, *, now, actor, note, changed, data, consent=False, **_):
        if self.extended:
            raise TransitionNotAllowed(gettext("Cannot extend: the time limit was already extended once."))
        if self.due_at is not None and now > self.due_at:
            # An extension is agreed while the limit runs: granted afterwards it would wipe the case
            # off the overdue list and count its late conclusion as on time.
            raise TransitionNotAllowed(
                gettext("Cannot extend: the time limit ended on %(d)s.")
                % {"d": timezone.localdate(self.due_at).isoformat()}
            )
        if consent is not True:
            raise ActionInvalid("consent", gettext("An extension needs both parties' consent."))
        # The same number of months again, counted from the current due date (not from today).
        before = self.due_at
        self.due_at = time_limit_due(self.due_at or now)
        self.extended = True
        changed |= {"due_at", "extended"}
        # What makes it lawful (both parties consented) and what it moved, on the event: the case's
        # due date moves again with a transfer or a calendar change.
        data.update(consent=True, due=timezone.localdate(self.due_at).isoformat())
        if before is not None:
            data["from_due"] = timezone.localdate(before).isoformat()

    def _do_conclude(
        self,
        *,
        now,
        actor,
        note,
        changed,
        data,
        outcome=None,
        other_routes=None,
        agreement_facts="",
        agreement_terms="",
        agreement_amount=None,
        performance_method="",
        performance_due=None,
        agreement_effective_on=None,
        **_,
    ):
        if outcome in (None, ""):
            raise ActionInvalid("outcome", gettext("Choose the outcome of the mediation."))
        if outcome not in self.Outcome.values:
            raise ActionInvalid("outcome", gettext("Unknown outcome %(o)s.") % {"o": outcome})
        if self.status == self.Status.ACCEPTED and outcome not in self.UNMEDIATED_OUTCOMES:
            raise TransitionNotAllowed(
                gettext(
                    "Cannot conclude with %(outcome)s: the case is accepted and no mediation has taken "
                    "place yet; before a session only a party's refusal or a withdrawal ends it."
                )
                % {"outcome": self.Outcome(outcome).label}
            )
        self.outcome = outcome
        changed |= {"outcome", "concluded_at", "concluded_on_time", "outcome_note"}
        if outcome in self.SUCCESS_OUTCOMES:
            # Every missing or wrong part of the agreement is reported together.
            errors = FieldErrors()
            terms = (agreement_terms or "").strip()
            if not terms:
                errors.add("agreement_terms", gettext("Write down the terms the parties agreed."))
            written = outcome == self.Outcome.SUCCESS_WRITTEN
            # A written agreement states the parties, the facts and each one's responsibility, the
            # terms, and how and when they are carried out (人民调解法 art. 29; DOMAIN.md).
            if written and not (agreement_facts or "").strip():
                errors.add(
                    "agreement_facts",
                    gettext("State the main facts of the dispute and each party's responsibility."),
                )
            if written and not (performance_method or "").strip():
                errors.add("performance_method", gettext("Say how and when the agreement is carried out."))
            if any(is_placeholder_name(p.name) for p in self.parties.all()):
                errors.add(
                    "parties",
                    gettext("Complete the parties' names first: an agreement names the people bound by it."),
                )
            if agreement_amount in ("",):
                agreement_amount = None
            if agreement_amount is not None:
                try:
                    agreement_amount = Decimal(str(agreement_amount))
                except ArithmeticError:
                    errors.add("agreement_amount", gettext("Enter an amount in yuan."))
                else:
                    if agreement_amount < 0 or not agreement_amount.is_finite():
                        errors.add("agreement_amount", gettext("The amount cannot be negative."))
            # An oral agreement takes effect the same day; a written one when all have signed and
            # the committee has sealed it (by default the day of conclusion).
            # Oral: the date field is hidden and ignored (a value left in it from choosing "written"
            # first refused the oral agreement over a field the mediator could not see).
            oral = outcome == self.Outcome.SUCCESS_ORAL
            effective = timezone.localdate(now) if oral else agreement_effective_on or timezone.localdate(now)
            if isinstance(effective, str):
                try:
                    effective = dt.date.fromisoformat(effective)
                except ValueError:
                    errors.add("agreement_effective_on", gettext("Enter a date as YYYY-MM-DD."))
                    effective = None
            # The 30-day confirmation window runs from this date: it must be a real one, not a date
            # before the dispute even reached the organisation.
            received_on = timezone.localdate(self.received_at)
            if effective is not None and effective > timezone.localdate(now):
                errors.add(
                    "agreement_effective_on", gettext("The agreement cannot take effect in the future.")
                )
            elif effective is not None and effective < received_on:
                errors.add(
                    "agreement_effective_on",
                    gettext("The agreement cannot take effect before the case was received (%(d)s).")
                    % {"d": received_on.isoformat()},
                )
            elif effective is not None and effective < (earliest := self.agreement_earliest_day()):
                errors.add(
                    "agreement_effective_on",
                    gettext("The agreement cannot take effect before the first mediation session (%(d)s).")
                    % {"d": earliest.isoformat()},
                )
            # The date printed on the agreement as "carried out by": not before it takes effect.
            if isinstance(performance_due, str) and performance_due:
                try:
                    performance_due = dt.date.fromisoformat(performance_due)
                except ValueError:
                    errors.add("performance_due", gettext("Enter a date as YYYY-MM-DD."))
                    performance_due = None
            elif written and not performance_due:
                errors.add("performance_due", gettext("Give the date by which the agreement is carried out."))
            if performance_due and effective is not None and performance_due < effective:
                errors.add(
                    "performance_due",
                    gettext("The agreement cannot be carried out before it takes effect (%(d)s).")
                    % {"d": effective.isoformat()},
                )
            errors.raise_any()
            self.agreement_facts = (agreement_facts or "").strip()
            self.agreement_terms = terms
            self.agreement_amount = agreement_amount
            self.performance_method = (performance_method or "").strip()[:200]
            self.performance_due = performance_due or None
            self.agreement_effective_on = effective
            self.confirmation_due = None if oral else confirmation_window_end(effective)
            changed |= {
                "agreement_facts", "agreement_terms", "agreement_amount", "performance_method",
                "performance_due", "agreement_effective_on", "confirmation_due",
            }  # fmt: skip
        elif outcome == self.Outcome.FAILURE:
            routes = [r for r in (other_routes or []) if r]
            unknown = [r for r in routes if r not in self.Route.values]
            if not routes or unknown:
                raise ActionInvalid(
                    "other_routes",
                    gettext(
                        "Say which other routes the parties were told of: litigation, arbitration, administrative."
                    ),
                )
            self.other_routes = sorted(set(routes))
            changed.add("other_routes")
        self.outcome_note = note
        self.concluded_at = now
        self.concluded_on_time = (self.due_at is None or now <= self.due_at) and not (
            self.pk and self.events.filter(action="transfer", data__late=True).exists()
        )
        data["outcome"] = outcome

    def _do_apply_confirmation(self, *, now, actor, note, changed, data, applied_on=None, joint=False, **_):
        if not self.is_success:
            raise TransitionNotAllowed(gettext("Only a successful mediation's agreement can be confirmed."))
        if not self.is_confirmable:
            raise ActionInvalid(
                "outcome",
                gettext(
                    "Judicial confirmation is applied for with a written agreement: an oral agreement is "
                    "not confirmed by a court. If the parties want it confirmed, draw up a written "
                    "agreement with them."
                ),
            )
        if self.judicial_status:
            raise TransitionNotAllowed(
                gettext("Cannot apply: judicial confirmation is already %(s)s.")
                % {"s": self.get_judicial_status_display()}
            )
        # Every field's error at once (the date and the joint application): one refusal per field
        # had the page refuse again for a box left unticked once the date was put right.
        errors = FieldErrors()
        applied_on = _step_day(
            applied_on, now, "applied_on", gettext("The application cannot be dated in the future."), errors
        )
        if (
            applied_on is not None
            and self.agreement_effective_on
            and applied_on < self.agreement_effective_on
        ):
            errors.add(
                "applied_on",
                gettext("The application cannot be dated before the agreement took effect (%(d)s).")
                % {"d": self.agreement_effective_on.isoformat()},
            )
        elif applied_on is not None and self.confirmation_due and applied_on > self.confirmation_due:
            errors.add(
                "applied_on",
                gettext("The 30-day window for judicial confirmation ended on %(d)s.")
                % {"d": self.confirmation_due.isoformat()},
            )
        if joint is not True:
            # 人民调解法 art. 33: the parties apply together; one party's application is not one the
            # court takes, and recording it would count a confirmation pending that is not.
            errors.add(
                "joint",
                gettext("Judicial confirmation is applied for by both parties together: confirm they did."),
            )
        errors.raise_any()
        self.judicial_status, self.judicial_applied_on = self.Judicial.APPLIED, applied_on
        changed |= {"judicial_status", "judicial_applied_on"}
        data.update(joint=True, applied_on=applied_on.isoformat())  # the timeline's date

    def _do_record_confirmation(self, *, now, actor, note, changed, data, result=None, decided_on=None, **_):
        if self.judicial_status != self.Judicial.APPLIED:
            raise TransitionNotAllowed(
                gettext("Cannot record the court's decision: no application was made.")
            )
        errors = FieldErrors()  # the result and the date together, as for the application
        if result not in (self.Judicial.CONFIRMED, self.Judicial.REJECTED):
            errors.add("result", gettext("Say whether the court confirmed or rejected the agreement."))
        # The day the court decided (often recorded days later), by default today.
        decided_on = _step_day(
            decided_on,
            now,
            "decided_on",
            gettext("The court's decision cannot be dated in the future."),
            errors,
        )
        if decided_on is not None and self.judicial_applied_on and decided_on < self.judicial_applied_on:
            errors.add(
                "decided_on",
                gettext("The court cannot have decided before the application (%(d)s).")
                % {"d": self.judicial_applied_on.isoformat()},
            )
        errors.raise_any()
        self.judicial_status, self.judicial_decided_on = result, decided_on
        changed |= {"judicial_status", "judicial_decided_on"}
        data.update(result=result, decided_on=decided_on.isoformat())

    def _do_follow_up(self, *, now, actor, note, changed, data, performance=None, **_):
        if not self.is_success:
            raise TransitionNotAllowed(gettext("Follow-up visits check an agreement: this case has none."))
        if performance not in self.FollowUp.values:
            raise ActionInvalid(
                "performance", gettext("Say whether the agreement was performed, partly or not.")
            )
        self.follow_up, self.follow_up_at = performance, now
        changed |= {"follow_up", "follow_up_at"}
        data["performance"] = performance

    def _do_record_prevention(
        self,
        *,
        now,
        actor,
        note,
        changed,
        data,
        escalation_prevented=False,
        escalation_persons=0,
        group_defused=False,
        group_persons=0,
        **_,
    ):
        errors = FieldErrors()
        for flag, persons, flag_name, name in (
            (escalation_prevented, escalation_persons, "escalation_prevented", "escalation_persons"),
            (group_defused, group_persons, "group_defused", "group_persons"),
        ):
            if flag and (not isinstance(persons, int) or persons < 1):
                errors.add(name, gettext("Give the number of persons (at least 1)."))
            elif flag and persons > PERSONS_MAX:
                errors.add(
                    name,
                    gettext("At most %(n)s persons: one case does not involve more.") % {"n": PERSONS_MAX},
                )
            elif not flag and persons:
                # Persons typed for a fact not ticked were dropped without a word (the page's two
                # boxes sit side by side): say which box goes with them.
                errors.add(
                    flag_name,
                    gettext("Persons are given for this: tick it, or clear its number of persons."),
                )
        if not escalation_prevented and not group_defused:
            errors.add(
                "escalation_prevented",
                gettext("Record a prevented criminal escalation or a defused group dispute."),
            )
        errors.raise_any()
        # What this record says, on its event: a second record moments later (the group dispute
        # after the escalation, or a corrected number of persons) is not the first one sent again.
        data.update(
            {name: persons for flag, name, persons in (
                (escalation_prevented, "escalation_persons", escalation_persons),
                (group_defused, "group_persons", group_persons),
            ) if flag}
        )  # fmt: skip
        # The persons of a record are people the dispute involves (the group, those kept from a
        # criminal escalation): the case read "people involved: 2" above "group dispute defused:
        # 12 persons". The number given at registration grows to the largest; it never shrinks.
        # The event keeps the number after the record, raised or not: the same record sent twice
        # has the same details (governance.workflow, "sent twice").
        most = max(escalation_persons if escalation_prevented else 0, group_persons if group_defused else 0)
        if most > self.persons_involved:
            self.persons_involved = most
            changed.add("persons_involved")
        data["persons_involved"] = self.persons_involved
        # Each record adds to what was recorded: the page's form and an API call name what this visit
        # achieved, so a group dispute defused in April must not wipe the escalation prevented in March.
        # Each fact counts in the month it was first recorded (a record that corrects its persons
        # keeps that month), and that is April for the group dispute, not the month of the case's
        # first record.
        if escalation_prevented:
            if not self.escalation_prevented or self.escalation_recorded_at is None:
                self.escalation_recorded_at = now
            self.escalation_prevented, self.escalation_persons = True, escalation_persons
        if group_defused:
            if not self.group_defused or self.group_recorded_at is None:
                self.group_recorded_at = now
            self.group_defused, self.group_persons = True, group_persons
            # A group dispute defused is a group dispute: the case page and the list's "group" mark
            # left it out when it was not marked so at registration.
            self.risk_group = True
        self.prevention_recorded_at = self.prevention_recorded_at or now
        changed |= {
            "escalation_prevented", "escalation_persons", "group_defused", "group_persons",
            "prevention_recorded_at", "escalation_recorded_at", "group_recorded_at", "risk_group",
        }  # fmt: skip

    def _do_report_risk(self, *, now, actor, note, changed, data, **_):
        """The dispute may turn violent: the mediator has reported it to the police (DOMAIN.md,
        escalation duty). The case is marked at risk, as one registered so, from now on."""
        if not note:
            raise ActionInvalid(
                "note", gettext("Say what was reported to the police, and to which police station.")
            )
        self.risk_violence, self.police_reported_at = True, now
        changed |= {"risk_violence", "police_reported_at"}

    def _do_close(self, *, now, actor, note, changed, data, **_):
        self.closed_at = now
        changed.add("closed_at")


ACTION_LABELS = {
    "register": _("register"),
    "update_party": _("update a party"),
    "accept": _("accept"),
    "decline": _("decline"),
    "transfer": _("transfer"),
    "start": _("start mediation"),
    "record_session": _("record a session"),
    "reassign": _("reassign"),
    "extend": _("extend the time limit"),
    "record_prevention": _("record escalation prevention"),
    "report_risk": _("report a risk of violence to the police"),
    "conclude": _("conclude"),
    "apply_confirmation": _("apply for judicial confirmation"),
    "record_confirmation": _("record the court's decision"),
    "follow_up": _("record a follow-up visit"),
    "close": _("close"),
    "correct_prevention": _("correct the prevention record (admin)"),
}

# The labels are the lazily translated ACTION_LABELS: they end up inside the 409 message
# ("Cannot close: ..."), which must read in the reader's language.
WORKFLOW = Workflow(
    [
        Transition("accept", ["registered"], "accepted", [Role.MEDIATOR]),
        Transition("decline", ["registered"], "declined", [Role.MEDIATOR]),
        # The order in which a case's page and the API's ``actions`` offer the steps: once accepted,
        # the usual next one (start mediation) before the occasional transfer.
        Transition("start", ["accepted"], "in_mediation", [Role.MEDIATOR]),
        Transition("transfer", ["registered", "accepted", "in_mediation"], "registered", [Role.MEDIATOR]),
        Transition("record_session", ["accepted", "in_mediation"], "in_mediation", [Role.MEDIATOR]),
        # Also once concluded: the judicial confirmation and the follow-up visits are still to come,
        # and a mediator who left took them along (only the head could act on the case then).
        Transition("reassign", DisputeCase.REASSIGN_STATUSES, None, [Role.MEDIATOR]),
        Transition("extend", ["accepted", "in_mediation"], None, [Role.MEDIATOR]),
        Transition(
            "record_prevention", ["accepted", "in_mediation", "concluded", "closed"], None, [Role.MEDIATOR]
        ),
        # While the dispute is still live: a threat of violence may come at intake or mid-mediation.
        Transition("report_risk", ["registered", "accepted", "in_mediation"], None, [Role.MEDIATOR]),
        # From accepted only with a refusal or a withdrawal (``UNMEDIATED_OUTCOMES``, ``_do_conclude``).
        Transition("conclude", ["accepted", "in_mediation"], "concluded", [Role.MEDIATOR]),
        Transition("apply_confirmation", ["concluded", "closed"], None, [Role.MEDIATOR]),
        Transition("record_confirmation", ["concluded", "closed"], None, [Role.MEDIATOR]),
        Transition("follow_up", ["concluded", "closed"], None, [Role.MEDIATOR]),
        Transition("close", ["concluded"], "closed", [Role.MEDIATOR]),
    ],
    labels=ACTION_LABELS,
)


def transfer_targets(case: DisputeCase) -> models.QuerySet[MediationOrganisation]:
    """Organisations the case may be transferred to: the active ones of the case's district and the
    city-wide ones. Transfers cross committees and centres, not the whole city's ~2,000 bodies, and
    never into another district (whose staff could not then read the case)."""
    district_path = "/".join(case.area.path.split("/")[:2]) + "/"
    return (
        MediationOrganisation.objects.filter(is_active=True)
        .filter(Q(area__path__startswith=district_path) | Q(area__level="city"))
        .exclude(pk=case.organisation_id)
        .select_related("area")
        .order_by("area__code", "name")
    )


# Actions open to any member of the case's organisation (intake); the rest need the assigned
# mediator or the organisation head; reassignment only the head.
# A registered case has no mediator yet: its organisation's members take these (a threat of violence
# at intake is reported by whoever took the intake).
MEMBER_ACTIONS = {"accept", "decline", "transfer", "report_risk"}
HEAD_ACTIONS = {"reassign"}


def _is_superior(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def _is_head(user: User, organisation_id: int | None) -> bool:
    return organisation_id is not None and organisation_id in head_organisation_ids(user)


def _acting_org_ids(user: User) -> set[int]:
    return member_organisation_ids(user)


def may_perform(user: User, case: DisputeCase, transition: Transition) -> bool:
    """Who may do what (scope is checked by the caller's selector):

    * intake (accept, decline, transfer of a registered case): members of the case's organisation;
      a case registered without organisation can be accepted by any mediator naming their own;
    * reassignment: the organisation head;
    * everything else: the assigned mediator or the organisation head.
    District staff only read; superusers may act on everything."""
    if _is_superior(user):
        return True
    if not user.has_role(Role.MEDIATOR) and not member_organisation_ids(user):
        return False
    action = transition.action
    org_id = case.organisation_id
    if action in HEAD_ACTIONS:
        return _is_head(user, org_id) or may_take_over(user, case)
    if _is_head(user, org_id):
        return True
    if action in MEMBER_ACTIONS and case.status == DisputeCase.Status.REGISTERED:
        return org_id in member_organisation_ids(user) if org_id else bool(member_organisation_ids(user))
    return case.mediator_id == user.pk and (org_id is None or org_id in member_organisation_ids(user))


def may_take_over(user: User, case: DisputeCase) -> bool:
    """May ``user`` take on ``case`` for want of a head? Only in an organisation that has no head who
    can act, only a member of it, and only a case still to be worked on whose assigned mediator can
    no longer act for the organisation (left it, deactivated, signed off). Such a case waited for an
    admin to appoint a head, as only a head reassigns: its time limit or its window for judicial
    confirmation ran out meanwhile. The head of the street or district centre above does not take
    it: other organisations do not read a committee's files (``DisputeCaseQuerySet.visible_to``);
    and a colleague's live case is not taken from them without a head's decision."""
    org_id = case.organisation_id
    if (
        org_id is None
        or case.mediator_id == user.pk
        or org_id not in member_organisation_ids(user)
        or org_id not in headless_organisation_ids({org_id})
    ):
        return False
    return not acting_members({org_id}).filter(user_id=case.mediator_id).exists()


def allowed_actions(user: User, case: DisputeCase) -> list[str]:
    """Actions the user could take now (for buttons); the transition method re-checks everything."""
    out = []
    for t in WORKFLOW.available(case.status):
        if t.action in ("apply_confirmation", "record_confirmation", "follow_up") and not case.is_success:
            continue
        if t.action == "apply_confirmation" and (case.judicial_status or not case.is_confirmable):
            continue
        if t.action == "record_confirmation" and case.judicial_status != DisputeCase.Judicial.APPLIED:
            continue
        if t.action == "extend" and (case.extended or case.is_overdue):
            continue
        if may_perform(user, case, t):
            out.append(t.action)
    return out


def may_reveal(user: User, case: DisputeCase) -> bool:
    """Parties' personal data may be unmasked only by the assigned mediator and the organisation head
    (never by district staff, whatever their scope)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return (
        case.mediator_id == user.pk and case.organisation_id in member_organisation_ids(user)
    ) or _is_head(user, case.organisation_id)


class DisputeParty(models.Model):
    """A party to a dispute. Personal data is encrypted at rest (``governance.pii``); the ID number
    also keeps a keyed hash so repeat parties can be matched without decrypting anything."""

    class PartyRole(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        RESPONDENT = "respondent", _("respondent")
        OTHER = "other", _("other party")

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=12, choices=PartyRole.choices)
    name = pii.EncryptedTextField(_("name"))
    id_number = pii.EncryptedTextField(_("ID number"), blank=True)
    id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = pii.EncryptedTextField(_("phone"), blank=True)
    address = pii.EncryptedTextField(_("address"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    PERSONAL_FIELDS = ("name", "id_number", "phone", "address")

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["case", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.masked_name}"

    @property
    def masked_name(self) -> str:
        # The placeholder of a case converted from a grid incident is nobody's name: masked, "（****"
        # read as a person's, and the mediator had to reveal it (a logged reveal) to learn that the
        # party was still to be completed.
        if is_placeholder_name(self.name):
            return str(PLACEHOLDER_NAME)
        if is_erased(self.name):
            return str(ERASED_NAME)
        return pii.mask_name(self.name)

    @property
    def has_personal_data(self) -> bool:
        """Is anything stored to reveal? Not for a placeholder party of a converted incident with no
        detail typed in yet: revealing it showed nothing and logged a reveal of nothing. Nor for a
        party whose details were erased (``manage.py erase_personal_data``)."""
        named = not (is_placeholder_name(self.name) or is_erased(self.name))
        return named or any((self.id_number, self.phone, self.address))

    @property
    def erased(self) -> bool:
        return is_erased(self.name) and not self.has_personal_data

    @property
    def masked_id_number(self) -> str:
        return pii.mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return pii.mask_phone(self.phone)

    @property
    def masked_address(self) -> str:
        return pii.mask_address(self.address)

    def masked(self) -> dict[str, str]:
        return {
            "id": self.pk,
            "role": self.role,
            "name": self.masked_name,
            "id_number": self.masked_id_number,
            "phone": self.masked_phone,
            "address": self.masked_address,
        }


class DisputeSession(models.Model):
    """One mediation session: when, where, who attended, what was said, what comes next."""

    case = models.ForeignKey(
        DisputeCase, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("case")
    )
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=200)
    attendees = models.CharField(_("attendees"), max_length=400)
    summary = models.TextField(_("summary"))
    next_step = models.CharField(_("next step"), max_length=400, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))
    # The session form's key: a session sent again with it is recorded once. Unique per recorder.
    submission = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)

    def __str__(self) -> str:
        # Not the place: it may be a party's home, and the admin names a session by this.
        return f"{timezone.localtime(self.held_at):%Y-%m-%d %H:%M}"

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["held_at", "id"]
        indexes = [models.Index(fields=["case", "held_at"], name="dispute_session_case")]
        constraints = [
            models.UniqueConstraint(
                fields=["recorded_by", "submission"],
                name="dispute_session_submission",
                condition=Q(submission__isnull=False),
            )
        ]


class DisputeEvent(TimelineLabels, models.Model):
    """One step of a case's timeline: who did what, when, from which state to which."""

    STATUS = DisputeCase.Status
    ACTION_LABELS = ACTION_LABELS

    case = models.ForeignKey(
        DisputeCase, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("done by")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("time"))
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(max_length=14, blank=True, verbose_name=_("status before"))
    to_status = models.CharField(max_length=14, verbose_name=_("status after"))
    note = models.TextField(_("note"), blank=True)
    organisation = models.ForeignKey(
        MediationOrganisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="dispute_event_timeline"),
            # The nightly rollup's question: which cases changed since the last run?
            models.Index(fields=["at"], name="dispute_event_at"),
        ]

    @property
    def detail(self) -> str:
        """What the step recorded, from its ``data``, for the timeline: the outcome, the court's
        decision, each follow-up visit's finding (the case keeps the last one only), the new time
        limit, the facts of a prevention record. Nothing personal: a note is shown apart, masked."""
        data = self.data or {}
        parts: list[str] = []
        if self.action == "conclude" and data.get("outcome") in DisputeCase.Outcome.values:
            parts.append(DisputeCase.Outcome(data["outcome"]).label)
        elif self.action == "extend" and data.get("due"):
            parts.append(gettext("conclude by %(date)s") % {"date": data["due"]})
        elif self.action == "apply_confirmation" and data.get("applied_on"):
            parts.append(gettext("applied to court on %(date)s") % {"date": data["applied_on"]})
        elif self.action == "record_confirmation" and data.get("result") in DisputeCase.Judicial.values:
            parts.append(DisputeCase.Judicial(data["result"]).label)
            if data.get("decided_on"):
                parts.append(gettext("court decided on %(date)s") % {"date": data["decided_on"]})
        elif self.action == "follow_up" and data.get("performance") in DisputeCase.FollowUp.values:
            parts.append(DisputeCase.FollowUp(data["performance"]).label)
        elif self.action == "record_prevention":
            for key, fact in (
                ("escalation_persons", _("criminal escalation prevented")),
                ("group_persons", _("group dispute defused")),
            ):
                if isinstance(data.get(key), int):
                    n = data[key]
                    parts.append(
                        ngettext("%(fact)s: %(n)d person", "%(fact)s: %(n)d persons", n)
                        % {"fact": fact, "n": n}
                    )
            if isinstance(data.get("persons_involved"), int):
                parts.append(gettext("people involved: %(n)s") % {"n": data["persons_involved"]})
        text = " · ".join(str(p) for p in parts)
        return text[:1].upper() + text[1:]
