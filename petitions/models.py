"""Petitions (信访工作条例, 2022): letters and visits, petitioners, routing, replies, evaluations, reviews.

A *petition* (信访事项) arrives by one of six channels, is registered by a petition officer, and within
15 days is either routed (转送/交办) to the department responsible or redirected to the legal route
it belongs to (litigation, arbitration, administrative review). The department tells the petitioner
in writing within 15 days whether it accepts the matter (or returns a wrongly routed item within
5 *working* days), then answers with a written opinion (support / explain / not support) within 60
days of acceptance, extendable once by at most 30 days with an approver. The petitioner evaluates the
reply, may ask for a review (复查) within 30 days of it, decided within 30 days, then for a re-review
(复核) with the same limits; after re-review the matter is closed for good.

Every due date is a stored column computed here from the moment the step started (``deadlines``);
nobody types one in. ``due_at`` always holds the deadline of the step now running, so overdue lists
are one indexed query. All state changes go through ``Petition.transition`` (one method, one table,
one event row per action); pages, the API and the demo's loader follow the same table.

Petitioners' identity is encrypted at rest, masked everywhere, and revealed only to the officers
handling the item (petition officers of the area and the department it was routed to), never to
the unit complained about; every reveal is logged (``governance.services.personal_data_reveal``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from governance import pii
from governance.access import ScopedQuerySet, area_in_scope, scope_area_ids_q, scope_paths, scope_q
from governance.models import Area, Department, Membership, Role, record_id
from governance.periods import add_working_days, end_of_days_period, end_of_local_day, provisional_years
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

# Statutory limits (信访工作条例 arts. 22, 31-35). Calendar days unless the rule says working days.
ROUTE_DAYS = 15  # register and route / redirect
ACKNOWLEDGE_DAYS = 15  # the department tells the petitioner whether it accepts
RETURN_WORKING_DAYS = 5  # a wrongly routed item goes back within 5 working days
REPLY_DAYS = 60  # written opinion after acceptance
MAX_EXTENSION_DAYS = 30  # once only, approved
REVIEW_REQUEST_DAYS = 30  # review asked within 30 days of the reply (re-review: of the review)
REVIEW_DECISION_DAYS = 30
# A request that reached the office in time (a letter posted on the 30th day, one left in an inbox)
# may be recorded up to 15 days after the window closed, with the date it was received: the page
# offers the step that long, the request itself must fall within the 30 days.
REVIEW_RECORDING_GRACE_DAYS = 15
MAX_GROUP_REPRESENTATIVES = 5  # a group visit chooses at most five representatives
MAX_NAMED_PETITIONERS = 50  # a joint letter or online message: every signatory, within reason
DUE_SOON_DAYS = 3


def due_soon_edge(now: dt.datetime) -> dt.datetime:
    """The last instant a deadline may end and still be "due within 3 days": the end of the local
    day 3 days from today. A limit ends at 24:00 of its last day, so 72 hours from now reached only
    the limits ending the day after tomorrow (and today's last minutes of the third day): the row
    whose countdown reads "3 days left" was neither highlighted nor listed as due soon, and its
    notice came a day late. Counted in days, as the countdown (``Petition.days_left``) counts."""
    return end_of_local_day(now + dt.timedelta(days=DUE_SOON_DAYS))


OFFICER_ROLES = frozenset({Role.PETITION_OFFICER, Role.ADMIN})
# The roles through which a membership in a department acts for it on a petition routed to it or
# complaining about it. An analyst (or a mediator) placed in a department reads statistics, not
# petitions: a handler who becomes an analyst and keeps the department loses the petitions with it.
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.PETITION_OFFICER, Role.ADMIN})


def group_min_persons() -> int:
    """People who make a petition a group petition (集体访): the PETITION_GROUP_MIN_PERSONS setting."""
    return settings.PETITION_GROUP_MIN_PERSONS


def user_department_ids(user: Any) -> set[int]:
    """Departments the user works in for petitions: memberships with a department in one of
    ``DEPARTMENT_ROLES``."""
    return {dept for dept, role in _department_memberships(user) if role in DEPARTMENT_ROLES}


def user_unit_ids(user: Any) -> set[int]:
    """Every department the user is a member of, in any role: the units whose complaints they are
    kept from. A petition officer who is also an analyst in the unit complained about still works
    there, so the exclusions (no reveal, no repeat link, content only) look here, not at
    ``user_department_ids``."""
    return {dept for dept, _role in _department_memberships(user)}


def _department_memberships(user: Any) -> list[tuple[int, str]]:
    """(department id, role) of each of an active user's memberships that names a department."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return [(m.department_id, m.role) for m in user.memberships_cached() if m.department_id]


def officer_departments(user: Any) -> QuerySet[Department]:
    """Departments (active or not) in the area a petition officer (or admin) is responsible for,
    through those roles only: an officer of district A who is also a city-wide analyst or handler
    routed district A's petitions to district B's units, whose users then read and revealed them."""
    qs = Department.objects.select_related("area")
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    return qs.filter(scope_q(user, "area", OFFICER_ROLES))


def routable_departments(user: Any) -> QuerySet[Department]:
    """Departments ``user`` may route a petition to or name as the unit complained about: the active
    ones in their officer scope (any level), the list the pages offer. The API and a hand-made form
    post are held to it too: a department of another district would receive (or, complained about,
    read) a petition the office has no say over, and its users could then reveal the petitioner."""
    return officer_departments(user).filter(is_active=True)


def route_targets(user: Any) -> QuerySet[Department]:
    """The departments ``user`` may route a petition to: the routable ones (above) with someone to
    take it, an active user whose membership there acts for it (``DEPARTMENT_ROLES``). A petition
    routed to a department of nobody sat there for good: only its people accept, return or decline,
    and no notice went out."""
    staffed = Membership.objects.filter(
        department=OuterRef("pk"), role__in=DEPARTMENT_ROLES, user__is_active=True
    )
    return routable_departments(user).filter(Exists(staffed))


def department_unstaffed(petition: Petition) -> bool:
    """Whether the department ``petition`` is with has nobody left to act on it: no active user
    whose membership there is in ``DEPARTMENT_ROLES`` (its people left or were deactivated after it
    was routed). Only its people accept, return, decline, extend or reply."""
    return petition.department_id is not None and not (
        Membership.objects.filter(
            department_id=petition.department_id, role__in=DEPARTMENT_ROLES, user__is_active=True
        ).exists()
    )


def office_takes_back(user: Any, petition: Petition) -> bool:
    """Whether ``user``, an officer of the petition's area, may take a petition back from its
    department because nobody there can act on it any more: it sat there for good. A routed one is
    taken back as a return (the 5 working days to return do not bind the office) and routed again;
    an accepted one is handed to another department (``reroute``), accepted as it was, its reply
    limit running from that acceptance."""
    return (
        petition.status in (Petition.Status.ROUTED, Petition.Status.ACCEPTED)
        and petition.department_id is not None
        and is_officer_for(user, petition.area)
        and department_unstaffed(petition)
    )


def is_officer_for(user: Any, area: Area) -> bool:
    """A petition officer (or admin) whose scope covers the area: the registering office's side."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return area_in_scope(user, area, OFFICER_ROLES)


class Category(models.TextChoices):
    LAND = "land", _("land requisition and demolition")
    LABOUR = "labour", _("labour and social security")
    URBAN = "urban", _("urban construction and housing")
    ENVIRONMENT = "environment", _("environmental protection")
    LAW = "law", _("law enforcement and justice")
    SECURITY = "security", _("public security")
    HEALTH = "health", _("health care")
    EDUCATION = "education", _("education")
    AGRICULTURE = "agriculture", _("agriculture and rural affairs")
    CIVIL = "civil", _("civil affairs")
    TRANSPORT = "transport", _("transport")
    OTHER = "other", _("other")


# A petitioner's window to ask for a review (and, after its decision, a re-review) not yet used: its
# end follows the calendar (services.petition_refresh_deadlines) and the admin's preview of a year's
# holidays counts those ending in the year (services.petition_deadlines_between).
REVIEW_WINDOW_OPEN = Q(replied_at__isnull=False, review_requested_at=None, closed_for_good=False)
RE_REVIEW_WINDOW_OPEN = Q(reviewed_at__isnull=False, re_review_requested_at=None, closed_for_good=False)


class PetitionQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any) -> PetitionQuerySet:
        """Petition officers (and admins) read the petitions of their area subtree; department users
        read the items routed to their department and those complaining about it (content only:
        identities stay masked, see ``may_reveal``). Analysts and other handlers see no rows at all:
        statistics reach them through the indicators, which carry nothing personal."""
        if getattr(user, "is_superuser", False) and user.is_active:
            return self
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = Q(pk__in=[])
        if user.has_role(*OFFICER_ROLES):
            area_q = scope_area_ids_q(user, "area", OFFICER_ROLES)
            if area_q is not None:
                q |= area_q
        departments = user_department_ids(user)
        if departments:
            q |= Q(department_id__in=departments) | Q(complained_unit_id__in=departments)
        return self.filter(q)

    def open(self) -> PetitionQuerySet:
        return self.filter(status__in=Petition.OPEN_STATUSES)

    def overdue(self, now: dt.datetime | None = None) -> PetitionQuerySet:
        # Served by the partial index petition_running_due.
        return self.filter(Petition.overdue_q(now))

    def due_soon(self, now: dt.datetime | None = None) -> PetitionQuerySet:
        return self.filter(Petition.due_soon_q(now))

    def with_relations(self) -> PetitionQuerySet:
        return self.select_related("area", "department", "complained_unit", "repeat_of", "repeat_of__area")


def extension_approver_q(petition: Petition) -> Q:
    """Users who may approve extending ``petition``'s reply limit: the active heads of the department
    handling it (信访工作条例 art. 37: "approved by the head of the agency"; an accepted petition always
    has its department). ``Membership.is_head`` marks them, on a membership whose role acts for the
    department (``DEPARTMENT_ROLES``: an analyst who kept the flag approves nothing); docs/petitions.md."""
    return Q(
        is_active=True,
        memberships__is_head=True,
        memberships__department_id=petition.department_id,
        memberships__role__in=DEPARTMENT_ROLES,
    )


class Petition(models.Model):
    """One petition matter (信访事项) from registration to its final answer."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("registered")
        ROUTED = "routed", _("routed to a department")
        ACCEPTED = "accepted", _("accepted by the department")
        REDIRECTED = "redirected", _("redirected to another legal route")
        DECLINED = "declined", _("not accepted")
        REPLIED = "replied", _("replied")
        UNDER_REVIEW = "under_review", _("under review")
        REVIEWED = "reviewed", _("review decided")
        UNDER_RE_REVIEW = "under_re_review", _("under re-review")
        CLOSED = "closed", _("closed")

    class Channel(models.TextChoices):
        ONLINE = "online", _("online")
        LETTER = "letter", _("letter")
        # In context: "phone" alone is the petitioner's number (联系电话); the channel is 电话.
        PHONE = "phone", pgettext_lazy("petition channel", "phone")
        FAX = "fax", _("fax")
        VISIT = "visit", _("visit")
        RECEPTION_DAY = "reception_day", _("leader's reception day")

    class HandlingType(models.TextChoices):
        SUGGESTION = "suggestion", _("suggestion")
        REPORT = "report", _("report or accusation")
        CLAIM = "claim", _("claim or appeal")

    class Route(models.TextChoices):
        LITIGATION = "litigation", _("litigation")
        ARBITRATION = "arbitration", _("arbitration")
        ADMIN_REVIEW = "administrative_review", _("administrative review")

    class Opinion(models.TextChoices):
        # The written opinion on a claim or appeal (支持 / 解释说明 / 不予支持).
        SUPPORT = "support", _("support")
        EXPLAIN = "explain", _("explanation")
        NOT_SUPPORT = "not_support", _("not supported")

    class Adoption(models.TextChoices):
        # What became of a suggestion (采纳 / 部分采纳 / 不予采纳), stored in the same field.
        ADOPTED = "adopted", _("adopted")
        PART_ADOPTED = "part_adopted", _("partly adopted")
        NOT_ADOPTED = "not_adopted", _("not adopted")

    class Evaluation(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASICALLY = "basically", _("basically satisfied")
        DISSATISFIED = "dissatisfied", _("dissatisfied")

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("original opinion upheld")
        CHANGED = "changed", _("original opinion changed")

    OPEN_STATUSES = (
        "registered",
        "routed",
        "accepted",
        "replied",
        "under_review",
        "reviewed",
        "under_re_review",
    )

    code = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=14, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    handling_type = models.CharField(
        _("handling type"), max_length=12, choices=HandlingType.choices, default=HandlingType.CLAIM
    )
    category = models.CharField(_("category"), max_length=14, choices=Category.choices)
    content = models.TextField(_("content"))
    area = models.ForeignKey(
        Area, verbose_name=_("area concerned"), on_delete=models.PROTECT, related_name="+"
    )
    persons_count = models.PositiveIntegerField(_("number of persons"), default=1)
    is_group = models.BooleanField(_("group petition"), default=False, editable=False)
    complained_unit = models.ForeignKey(
        Department,
        verbose_name=_("unit complained about"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("repeat of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
    )
    is_repeat = models.BooleanField(_("repeat petition"), default=False, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    registered_at = models.DateTimeField(default=timezone.now, verbose_name=_("registered at"))
    # The intake form's key (or the API request's): a registration sent again with it gets this
    # petition, not a second one and a second number. Unique per registrar.
    submission = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED)
    department = models.ForeignKey(
        Department,
        verbose_name=_("routed to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The deadline of the step now running (null when nothing is waiting): overdue is due_at < now.
    due_at = models.DateTimeField(_("due"), null=True, blank=True, editable=False)
    route_due_at = models.DateTimeField(editable=False, verbose_name=_("routing due"))
    routed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("routed at"))
    redirected_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("redirected at")
    )
    redirect_route = models.CharField(_("legal route"), max_length=24, choices=Route.choices, blank=True)
    acknowledge_due_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("acceptance decision due")
    )
    return_due_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("return due"))
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("accepted at"))
    reply_due_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("reply due"))
    extended_days = models.PositiveSmallIntegerField(
        default=0, editable=False, verbose_name=_("days extended")
    )
    extension_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("extension approved by"),
    )
    extension_reason = models.TextField(blank=True, verbose_name=_("extension reason"))
    replied_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("replied at"))
    # The claim's opinion, the suggestion's adoption, blank for a report (``reply_choices``).
    reply_opinion = models.CharField(
        _("opinion"), max_length=12, choices=[*Opinion.choices, *Adoption.choices], blank=True
    )
    reply_text = models.TextField(_("reply"), blank=True)
    evaluation = models.CharField(_("evaluation"), max_length=12, choices=Evaluation.choices, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("evaluated at"))
    review_request_until = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("review may be requested until")
    )
    review_requested_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("review requested at")
    )
    review_due_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("review due"))
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("reviewed at"))
    review_decision = models.CharField(
        max_length=8, choices=Decision.choices, blank=True, verbose_name=_("review decision")
    )
    re_review_request_until = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("re-review may be requested until")
    )
    re_review_requested_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("re-review requested at")
    )
    re_review_due_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("re-review due")
    )
    re_reviewed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("re-reviewed at")
    )
    re_review_decision = models.CharField(
        max_length=8, choices=Decision.choices, blank=True, verbose_name=_("re-review decision")
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("closed at"))
    closed_for_good = models.BooleanField(default=False, editable=False, verbose_name=_("closed for good"))

    SCOPE_AREA_FIELD = "area"
    REVIEW_WINDOW_OPEN = REVIEW_WINDOW_OPEN
    RE_REVIEW_WINDOW_OPEN = RE_REVIEW_WINDOW_OPEN
    objects = PetitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="petition_status_received"),
            models.Index(fields=["due_at"], name="petition_running_due", condition=Q(due_at__isnull=False)),
            # The registry page's order (soonest deadline first, the closed ones, without one, last:
            # PostgreSQL's ascending order puts NULL last), read a page at a time instead of sorting
            # every visible petition on each request.
            models.Index(fields=["due_at", "-received_at", "-id"], name="petition_registry_order"),
            models.Index(fields=["department", "status"], name="petition_department"),
            # ``?department=`` on the registry: the scope's area part (``InAreaIds``) is probed with the
            # department in one index, an arm of the scope's BitmapOr, instead of comparing each of a
            # district police's 60,000 petitions with the district's 630 area ids (docs/benchmarks.md).
            models.Index(fields=["department", "area"], name="petition_department_area"),
            models.Index(fields=["complained_unit"], name="petition_complained"),
            models.Index(fields=["area", "category", "received_at"], name="petition_area_category"),
            models.Index(fields=["channel", "received_at"], name="petition_channel"),
            models.Index(fields=["category", "received_at"], name="petition_category"),
            # Indicator sources scan by month evaluated.
            models.Index(fields=["evaluated_at"], name="petition_evaluated", condition=~Q(evaluation="")),
            models.Index(fields=["handling_type"], name="petition_type"),
            models.Index(fields=["received_at"], name="petition_received"),
            models.Index(fields=["is_repeat"], name="petition_repeat", condition=Q(is_repeat=True)),
            models.Index(fields=["is_group"], name="petition_group", condition=Q(is_group=True)),
            models.Index(
                fields=["review_request_until"], name="petition_review_window", condition=REVIEW_WINDOW_OPEN
            ),
            models.Index(
                fields=["re_review_request_until"],
                name="petition_re_review_window",
                condition=RE_REVIEW_WINDOW_OPEN,
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_by", "submission"],
                name="petition_registrar_submission",
                condition=Q(submission__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.code

    @classmethod
    def overdue_q(cls, now: dt.datetime | None = None) -> Q:
        """Past the deadline of the step now running: the one definition lists, filters and counts use."""
        return Q(due_at__isnull=False, due_at__lt=now or timezone.now())

    @classmethod
    def due_soon_q(cls, now: dt.datetime | None = None) -> Q:
        """The running deadline ends today or within the next 3 days (not yet passed): its countdown
        reads "due today" to "3 days left" (``due_soon_edge``)."""
        now = now or timezone.now()
        return Q(due_at__gte=now, due_at__lte=due_soon_edge(now))

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def in_person(self) -> bool:
        """Brought in person (a visit, a leader's reception day): the petitioners recorded for a
        group are its representatives, not the signatories of a joint letter or message."""
        return self.channel in IN_PERSON_CHANNELS

    @property
    def is_overdue(self) -> bool:
        return self.due_at is not None and self.due_at < timezone.now()

    @property
    def return_window_ended(self) -> bool:
        """Routed, and the department's 5 working days to return it as wrongly routed are over."""
        return self.return_due_at is not None and self.return_due_at < timezone.now()

    @property
    def is_due_soon(self) -> bool:
        if self.due_at is None:
            return False
        now = timezone.now()
        return now <= self.due_at <= due_soon_edge(now)

    @property
    def days_left(self) -> int | None:
        """Whole days to the running deadline (negative when overdue), for the countdown."""
        if self.due_at is None:
            return None
        seconds = (self.due_at - timezone.now()).total_seconds()
        return int(seconds // 86400)

    def closed_for_good_original(self) -> Petition | None:
        """The earlier petition this one repeats (directly or along the chain of repeats) whose
        re-review closed it for good, if any: the same facts and reasons are not accepted again
        (信访工作条例 art. 35), so this one cannot be accepted. Chains are short (one query a link;
        ``with_relations`` loads the first)."""
        seen: set[int] = set()
        earlier = self.repeat_of if self.repeat_of_id else None
        while earlier is not None and earlier.pk not in seen:
            if earlier.closed_for_good:
                return earlier
            seen.add(earlier.pk)
            earlier = earlier.repeat_of if earlier.repeat_of_id else None
        return None

    @property
    def evaluation_pending(self) -> bool:
        """No evaluation recorded since the last answer (reply, review or re-review decision). The
        office usually closes a matter as soon as it is answered, and the petitioner's evaluation
        comes later: a closed petition still takes the one evaluation of its last answer."""
        answers = [t for t in (self.replied_at, self.reviewed_at, self.re_reviewed_at) if t]
        return bool(answers) and (self.evaluated_at is None or self.evaluated_at < max(answers))

    @property
    def review_stage(self) -> str:
        """Which review a request now would start: 'review', 're_review' or ''. A petition the office
        closed after its reply (or after the review decision) still takes the request: closing the
        matter does not end the petitioner's 30 days; only the re-review closes it for good."""
        if self.status == self.Status.REPLIED:
            return "review"
        if self.status == self.Status.REVIEWED:
            return "re_review"
        if self.status == self.Status.CLOSED and not self.closed_for_good:
            return "re_review" if self.reviewed_at else "review"
        return ""

    @property
    def review_request_deadline(self) -> dt.datetime | None:
        """The end of the window of the review a request now would start (see ``review_stage``)."""
        stage = self.review_stage
        return (
            self.review_request_until
            if stage == "review"
            else self.re_review_request_until
            if stage
            else None
        )

    def review_request_window_closed(self, now: dt.datetime | None = None) -> bool:
        until = self.review_request_deadline
        return bool(until and (now or timezone.now()) > until)

    # --- the state machine ---------------------------------------------------------------------

    def form_step_state(self) -> str:
        """The status with the id of the latest event, as the step forms send it (``form_state``)."""
        return form_state(self, self.status)

    def transition(
        self, *, action: str, actor: User, note: str = "", state: str | None = None, **fields: Any
    ) -> PetitionEvent:
        """Perform ``action``: the one place a petition's workflow state changes.

        The row is re-read under ``select_for_update`` so two officers acting at once serialise and
        the second sees the first's result (409 if its move no longer applies); the event row is
        written in the same transaction; only the changed columns are saved. ``state``, the status
        the step's form was drawn in, answers a step this user already took from it with its event
        (``repeated`` set): the form was sent twice, and the second send was a 409."""
        return take_step(
            self,
            ("area", "department", "complained_unit"),
            workflow=WORKFLOW,
            action=action,
            actor=actor,
            note=note,
            state=state,
            fields=fields,
        )

    def _apply(self, *, action: str, actor: User, note: str, now: dt.datetime | None = None, **fields: Any):
        transition = WORKFLOW.check(action, self.status, self.get_status_display())
        if not may_perform(actor, self, transition):
            raise ActionForbidden(
                gettext("Your role may not take this step on the petition: %(action)s.")
                % {"action": ACTION_LABELS.get(action, action)}
            )
        now = now or timezone.now()
        before = self.status
        before_department = self.department_id
        changed: set[str] = set()
        data: dict[str, Any] = {}
        stage = self.review_stage
        getattr(self, f"_do_{action}")(now=now, actor=actor, note=note, changed=changed, data=data, **fields)
        target = REVIEW_TARGETS[stage] if action == "request_review" else (transition.target or self.status)
        if target != self.status:
            self.status = target
            changed.add("status")
        due = self._running_due()
        if due != self.due_at:
            self.due_at = due
            changed.add("due_at")
        if changed:
            self.save(update_fields=sorted(changed))
        return PetitionEvent.objects.create(
            petition=self,
            actor=actor,
            at=now,
            action=action,
            from_status=before,
            to_status=self.status,
            note=note,
            department_id=self.department_id or before_department,
            data=data,
        )

    # The deadline of the step the petition is waiting for, by status (``due_at`` copies it).
    RUNNING_DUE_FIELD = {
        Status.REGISTERED: "route_due_at",
        Status.ROUTED: "acknowledge_due_at",
        Status.ACCEPTED: "reply_due_at",
        Status.UNDER_REVIEW: "review_due_at",
        Status.UNDER_RE_REVIEW: "re_review_due_at",
    }

    def _running_due(self) -> dt.datetime | None:
        field = self.RUNNING_DUE_FIELD.get(self.status)
        return getattr(self, field) if field else None

    def _running_steps(self) -> dict[str, Callable[[], dt.datetime]]:
        """The deadline fields of the steps still running (and of a review window not yet used),
        each with how it is computed afresh from the moment its step started."""
        s, out = self.Status, {}
        if self.status == s.REGISTERED:
            out["route_due_at"] = lambda: deadlines.route_due(self.received_at)
        elif self.status == s.ROUTED and self.routed_at:
            out["acknowledge_due_at"] = lambda: deadlines.acknowledge_due(self.routed_at)
            out["return_due_at"] = lambda: deadlines.return_due(self.routed_at)
        elif self.status == s.ACCEPTED and self.accepted_at:
            out["reply_due_at"] = lambda: deadlines.extended(self.accepted_at, self.extended_days)
        elif self.status == s.UNDER_REVIEW and self.review_requested_at:
            out["review_due_at"] = lambda: deadlines.review_due(self.review_requested_at)
        elif self.status == s.UNDER_RE_REVIEW and self.re_review_requested_at:
            out["re_review_due_at"] = lambda: deadlines.review_due(self.re_review_requested_at)
        if self.replied_at and not self.review_requested_at and not self.closed_for_good:
            out["review_request_until"] = lambda: deadlines.review_request_until(self.replied_at)
        if self.reviewed_at and not self.re_review_requested_at and not self.closed_for_good:
            out["re_review_request_until"] = lambda: deadlines.review_request_until(self.reviewed_at)
        return out

    def running_due_dates(self) -> list[dt.datetime]:
        """The stored deadlines of the steps still running and of the review windows not yet used:
        those a change to the calendar moves (``running_deadlines``)."""
        return [due for name in self._running_steps() if (due := getattr(self, name)) is not None]

    def provisional_due_years(self) -> list[int]:
        """The years of ``running_due_dates`` the calendar has no dates for (governance.periods)."""
        return provisional_years(self.running_due_dates())

    def running_deadlines(self) -> dict[str, dt.datetime]:
        """The deadlines of the steps still running (and of a review window not yet used), computed
        afresh from the moments they started, ``due_at`` included: what ``_apply`` would have stored
        had the calendar been as it is now (governance.deadlines). Completed steps are left out."""
        out = {name: compute() for name, compute in self._running_steps().items()}
        due = self.RUNNING_DUE_FIELD.get(self.status)
        if due in out:
            out["due_at"] = out[due]
        return out

    def _set(self, changed: set[str], **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)
            changed.add(name)

    # Each ``_do_<action>`` validates the action's own fields (ActionInvalid names the field) before
    # setting anything; ``_apply`` saves. The deadlines come from ``deadlines`` only.

    def _route_target(self, actor: Any, department: Any) -> Department:
        """The department ``actor`` names to route the petition to (``assign``, ``reroute``), or
        ActionInvalid naming ``department``."""
        dept = _department_of(department)
        if dept is not None and not officer_departments(actor).filter(pk=dept.pk).exists():
            # Outside the office's area: the answer for a department that does not exist, not the
            # check it fails (closed, another city), which would tell what lies outside the area.
            dept = None
        if dept is None:
            raise ActionInvalid("department", gettext("Choose the department to route the petition to."))
        if not dept.is_active:
            raise ActionInvalid("department", gettext("That department is no longer active."))
        if not dept.area.path.startswith(self.area.path.split("/")[0] + "/"):
            raise ActionInvalid("department", gettext("Choose a department in the petition's city."))
        if not routable_departments(actor).filter(pk=dept.pk).exists():
            # As the page's list: not a department outside the office's scope (another district's).
            raise ActionInvalid("department", gettext("Choose one of the departments you may route to."))
        if not route_targets(actor).filter(pk=dept.pk).exists():
            raise ActionInvalid(
                "department",
                gettext("Nobody in %(department)s can accept petitions yet: choose another department.")
                % {"department": dept.name},
            )
        if self.complained_unit_id and dept.pk == self.complained_unit_id:
            # 信访工作条例 art. 32 spirit: never hand a petition to the unit it complains about.
            raise ActionInvalid(
                "department", gettext("A petition is never routed to the unit it complains about.")
            )
        return dept

    def _do_assign(self, *, now, actor, note, changed, data, department=None, **_):
        dept = self._route_target(actor, department)
        self._set(
            changed,
            department=dept,
            routed_at=now,
            acknowledge_due_at=deadlines.acknowledge_due(now),
            return_due_at=deadlines.return_due(now),
        )
        data.update(department=dept.pk, department_name=dept.name, on_time=now <= self.route_due_at)

    def _do_reroute(self, *, now, actor, note, changed, data, department=None, **_):
        """An accepted petition whose department has nobody left, handed by the petition office to
        another department. It stays accepted: the acceptance was notified to the petitioner and the
        60 days to reply run from it (art. 33), so the reply limit, an extension already granted and
        the acceptance's date are kept; the new department owes the reply by the same day. Taken
        back to "registered" and routed again, it would have been accepted a second time, with a
        fresh 60 days the law does not give."""
        if not department_unstaffed(self):
            raise TransitionNotAllowed(
                gettext(
                    "%(department)s still has people who can act on this petition: the petition office "
                    "takes back an accepted petition only when nobody is left in its department."
                )
                % {"department": self.department.name}
            )
        dept = self._route_target(actor, department)
        before = self.department
        self._set(changed, department=dept)
        data.update(
            from_department=before.pk,
            from_department_name=before.name,
            department=dept.pk,
            department_name=dept.name,
        )

    def _do_redirect(self, *, now, actor, note, changed, data, route="", **_):
        if self.handling_type != self.HandlingType.CLAIM:
            # Art. 32: only a claim (申诉求决类) that belongs to litigation, arbitration or
            # administrative review is guided there; suggestions and accusations are handled.
            raise TransitionNotAllowed(
                gettext(
                    "Only a claim or appeal is redirected to another legal route; this petition is "
                    "a %(type)s. Route it to a department."
                )
                % {"type": self.get_handling_type_display()}
            )
        if route not in self.Route.values:
            raise ActionInvalid(
                "route", gettext("Name the legal route: litigation, arbitration or administrative review.")
            )
        self._set(changed, redirect_route=route, redirected_at=now, closed_at=now)
        data.update(route=route, on_time=now <= self.route_due_at)

    def _do_accept(self, *, now, actor, note, changed, data, **_):
        self._refuse_if_closed_for_good("accept", actor)  # the department declines it instead
        self._set(changed, accepted_at=now, reply_due_at=deadlines.reply_due(now))
        data.update(on_time=now <= (self.acknowledge_due_at or now))

    def _do_decline(self, *, now, actor, note, changed, data, route="", **_):
        if self.status == self.Status.REGISTERED and self.closed_for_good_original() is None:
            # Before routing the office declines only what art. 35 bars; anything else the
            # department it is routed to decides (or the office redirects a claim).
            raise TransitionNotAllowed(
                gettext(
                    "The petition office declines a petition before routing only when it repeats a "
                    "matter closed for good after its re-review; route it to the department responsible."
                )
            )
        if self.status == self.Status.ACCEPTED and self.closed_for_good_original() is None:
            # Once accepted the department owes a written opinion (a "not supported" one included);
            # only art. 35 takes that duty away, when the office finds the matter closed for good.
            raise TransitionNotAllowed(
                gettext(
                    "An accepted petition is answered with a written opinion; it is declined only when "
                    "it repeats a matter closed for good after its re-review."
                )
            )
        if route and route not in self.Route.values:
            raise ActionInvalid(
                "route", gettext("Name the legal route: litigation, arbitration or administrative review.")
            )
        if route and self.handling_type != self.HandlingType.CLAIM:
            # Art. 32 again: only a claim is pointed to another legal route (optional: a decline
            # for another reason names none).
            raise ActionInvalid(
                "route",
                gettext("Only a claim or appeal belongs to another legal route; this petition is a %(type)s.")
                % {"type": self.get_handling_type_display()},
            )
        if not note:
            raise ActionInvalid("note", gettext("Give the reason the petition is not accepted."))
        # The route the claim belongs to (the petitioner is told to take it there); not a redirect
        # by the office: ``redirected_at`` stays empty, the routing was done.
        self._set(changed, closed_at=now, **({"redirect_route": route} if route else {}))
        if route:
            data.update(route=route)
        # The limit of the step the decline ends: routing, the notice of acceptance, or the reply.
        due = {
            "registered": self.route_due_at,
            "routed": self.acknowledge_due_at,
            "accepted": self.reply_due_at,
        }[self.status]
        data.update(on_time=now <= (due or now))

    def _refuse_if_closed_for_good(self, action: str, actor: Any) -> None:
        """A repeat of a matter closed for good is not accepted again (art. 35): not accepted, and,
        when the repeat is found after its acceptance, neither answered nor given more time to
        answer. The department declines it instead (reason in the note)."""
        original = self.closed_for_good_original()
        if original is not None:
            raise TransitionNotAllowed(
                gettext(
                    "Cannot %(action)s: this petition repeats %(code)s, closed for good after its "
                    "re-review; the same facts and reasons are not accepted again. Decline it."
                )
                % {"action": ACTION_LABELS[action], "code": self.original_named_for(actor, original)}
            )

    def original_named_for(self, user: Any, original: Petition) -> str:
        """How ``user`` is told which earlier petition this one repeats: by its number, unless a
        petition on the way there (this one, the original, or any repeat between) complains about
        the user's unit. A repeat is the same person, so the number would tell the unit who
        complained about it, through the petition it handles and may reveal (``repeat_link_hidden``
        hides the direct link the same way; the closed-for-good notice named the end of the chain)."""
        if not petition_visible(user, original):  # outside the user's reach: never named
            return gettext("an earlier petition")
        units = user_unit_ids(user)
        link, seen = self, set()
        while units and link is not None and link.pk not in seen:
            if link.complained_unit_id in units:
                return gettext("an earlier petition")
            if link.pk == original.pk:
                break
            seen.add(link.pk)
            link = link.repeat_of if link.repeat_of_id else None
        return original.code

    def _do_return(self, *, now, actor, note, changed, data, **_):
        if not note:
            raise ActionInvalid("note", gettext("Say why the petition was wrongly routed."))
        if self.return_due_at and now > self.return_due_at and not office_takes_back(actor, self):
            raise TransitionNotAllowed(
                gettext(
                    "The 5 working days to return a wrongly routed petition ended on %(date)s; "
                    "accept it or ask the petition office."
                )
                % {"date": timezone.localtime(self.return_due_at).strftime("%Y-%m-%d")}
            )
        data.update(department=self.department_id)
        # Back to the petition office, which routes it again; the 15-day route limit still runs.
        self._set(changed, department=None, acknowledge_due_at=None, return_due_at=None, routed_at=None)

    def _do_extend(self, *, now, actor, note, changed, data, days=None, approver=None, notified=False, **_):
        from governance.models import User

        if self.extended_days:
            raise TransitionNotAllowed(gettext("The reply time limit can be extended only once."))
        self._refuse_if_closed_for_good("extend", actor)
        if now > self.reply_due_at:
            # An extension lengthens a limit still running; granted afterwards it would wipe an
            # overdue reply off the overdue list and count it as replied on time.
            raise TransitionNotAllowed(
                gettext(
                    "The reply time limit ended on %(date)s; an extension must be approved before it ends."
                )
                % {"date": timezone.localtime(self.reply_due_at).strftime("%Y-%m-%d")}
            )
        errors = FieldErrors()  # the days, the reason and the approver are reported together
        try:
            days = int(days)
        except (TypeError, ValueError):
            errors.add("days", gettext("Give the extension in days (1 to 30)."))
        else:
            if days < 1:  # no time at all: not "too long", which the message below would say
                errors.add("days", gettext("Give the extension in days (1 to 30)."))
            elif days > MAX_EXTENSION_DAYS:
                errors.add("days", gettext("An extension is at most 30 days."))
            elif deadlines.extended(self.accepted_at, days) <= self.reply_due_at:
                errors.add("days", self._extension_moving_nothing(days))
        if not note:
            errors.add("note", gettext("Give the reason for the extension."))
        user = approver if isinstance(approver, User) else None
        if user is None and approver not in (None, ""):
            user = User.objects.filter(
                Q(username=str(approver)) | Q(pk=record_id(approver)),
                is_active=True,
            ).first()
        if approver in (None, ""):
            errors.add("approver", gettext("Name the person who approved the extension."))
        elif user is not None and user.pk == actor.pk:
            errors.add("approver", gettext("Another person approves the extension you ask for."))
        elif user is None or not User.objects.filter(extension_approver_q(self), pk=user.pk).exists():
            # One answer for a name that is no account and one that is not a head: the form must not
            # tell a department's users which usernames exist.
            errors.add(
                "approver",
                gettext("The approver must be the head of %(department)s, the department handling it.")
                % {"department": self.department},
            )
        if notified is not True:
            # Art. 35: the extension and its reason are told to the petitioner.
            errors.add(
                "notified", gettext("Tell the petitioner of the extension and its reason, then confirm it.")
            )
        errors.raise_any()
        self._set(
            changed,
            extended_days=days,
            extension_approver=user,
            extension_reason=note,
            reply_due_at=deadlines.extended(self.accepted_at, days),
        )
        data.update(days=days, approver=user.username, notified=True)

    def _extension_moving_nothing(self, days: int) -> str:
        """Why an extension of ``days`` is refused that would end the reply limit no later than it
        ends now: 60 + ``days`` days from acceptance end on a rest day and are moved to the working
        day the limit already runs to (60 days ending on 1 October run to 8 October, and so do 65).
        Granted, it would use up the once-only extension and give the petitioner no time; the message
        names the fewest days that move the limit, counted the same way."""
        now_ends = timezone.localtime(self.reply_due_at).strftime("%Y-%m-%d")
        least = next(
            (
                n
                for n in range(days + 1, MAX_EXTENSION_DAYS + 1)
                if deadlines.extended(self.accepted_at, n) > self.reply_due_at
            ),
            None,
        )
        if least is None:
            return gettext(
                "No extension of up to 30 days would end the reply time limit later than it ends now (%(date)s)."
            ) % {"date": now_ends}
        return ngettext(
            "So extended, the reply time limit would end on %(new)s, no later than it ends "
            "now (%(date)s): a limit ending on a rest day runs to the next working day. Extend it by at "
            "least %(least)d day.",
            "So extended, the reply time limit would end on %(new)s, no later than it ends "
            "now (%(date)s): a limit ending on a rest day runs to the next working day. Extend it by at "
            "least %(least)d days.",
            least,
        ) % {
            "new": timezone.localtime(deadlines.extended(self.accepted_at, days)).strftime("%Y-%m-%d"),
            "date": now_ends,
            "least": least,
        }

    def reply_choices(self) -> list[tuple[str, str]]:
        """What the reply states, by handling type (信访工作条例 2022, chapter on handling): a claim
        or appeal gets the written opinion support / explanation / not supported, a suggestion is
        adopted, partly adopted or not, and a report or accusation is answered with the handling
        result alone: no choice, the written reply says it."""
        if self.handling_type == self.HandlingType.CLAIM:
            return self.Opinion.choices
        if self.handling_type == self.HandlingType.SUGGESTION:
            return self.Adoption.choices
        return []

    def _do_reply(self, *, now, actor, note, changed, data, opinion="", text="", **_):
        self._refuse_if_closed_for_good("reply", actor)
        allowed = [value for value, _label in self.reply_choices()]
        opinion = opinion or ""
        errors = FieldErrors()  # the opinion and the written reply are reported together
        if not allowed and opinion:
            errors.add(
                "opinion",
                gettext(
                    "A report or accusation is answered with the handling result in the written reply, "
                    "without an opinion."
                ),
            )
        if allowed and opinion not in allowed:
            errors.add(
                "opinion",
                gettext("Choose the opinion: support, explanation or not supported.")
                if self.handling_type == self.HandlingType.CLAIM
                else gettext("Say whether the suggestion is adopted, partly adopted or not adopted."),
            )
        text = (text or note or "").strip()
        if not text:
            errors.add("text", gettext("Write the reply."))
        errors.raise_any()
        self._set(
            changed,
            replied_at=now,
            reply_opinion=opinion,
            reply_text=text,
            review_request_until=deadlines.review_request_until(now),
        )
        data.update(opinion=opinion, on_time=now <= self.reply_due_at)

    def _do_evaluate(self, *, now, actor, note, changed, data, evaluation="", **_):
        # One evaluation per answer, whatever the status: a second one would silently replace the
        # first (and move the month it counts in), and the petitioner gave only one.
        if not self.evaluation_pending:
            raise TransitionNotAllowed(
                gettext("The petitioner's evaluation of the last answer is already recorded.")
            )
        if evaluation not in self.Evaluation.values:
            raise ActionInvalid(
                "evaluation", gettext("Choose satisfied, basically satisfied or dissatisfied.")
            )
        self._set(changed, evaluation=evaluation, evaluated_at=now)
        data.update(evaluation=evaluation)

    def _do_request_review(self, *, now, actor, note, changed, data, requested_at=None, **_):
        stage = self.review_stage
        if not stage:
            raise TransitionNotAllowed(
                gettext(
                    "Cannot request a review: the petition was closed for good after its re-review; "
                    "the same facts and reasons are not accepted again."
                )
            )
        # The request counts from when it reached the office (a letter may be recorded days later,
        # as a petition's receipt is): the 30-day window and the 30 days to decide run from then.
        answered = self.replied_at if stage == "review" else self.reviewed_at
        at = requested_at or now
        if not isinstance(at, dt.datetime) or timezone.is_naive(at):
            raise ActionInvalid("requested_at", gettext("Give the date and time the request was received."))
        if at > now + dt.timedelta(minutes=5):
            raise ActionInvalid(
                "requested_at", gettext("The request cannot have been received in the future.")
            )
        # To the minute: the page's field has no seconds, and a request may follow the answer at once.
        if answered and at < answered.replace(second=0, microsecond=0):
            raise ActionInvalid(
                "requested_at",
                gettext("The request cannot have been received before the answer it contests."),
            )
        until = self.review_request_deadline
        if until and now > until + dt.timedelta(days=REVIEW_RECORDING_GRACE_DAYS):
            # Past the grace for recording a request that came in time: a date back-dated into the
            # window months later (the page no longer offers the step; the API took it) would reopen
            # a settled matter with its review already overdue.
            raise TransitionNotAllowed(
                gettext(
                    "A request received in time had to be recorded by %(date)s: the review can no "
                    "longer be requested."
                )
                % {
                    "date": timezone.localtime(
                        until + dt.timedelta(days=REVIEW_RECORDING_GRACE_DAYS)
                    ).strftime("%Y-%m-%d")
                }
            )
        if until and at > until:
            if requested_at is not None:
                # The date given is the error: the field is named, as for any other bad date.
                raise ActionInvalid(
                    "requested_at",
                    gettext(
                        "The 30 days to ask for this review ended on %(date)s: a request received "
                        "later is not accepted."
                    )
                    % {"date": timezone.localtime(until).strftime("%Y-%m-%d")},
                )
            if stage == "review":
                raise TransitionNotAllowed(gettext("The 30 days to ask for a review have passed."))
            raise TransitionNotAllowed(gettext("The 30 days to ask for a re-review have passed."))
        if stage == "review":
            self._set(changed, review_requested_at=at, review_due_at=deadlines.review_due(at))
        else:
            self._set(changed, re_review_requested_at=at, re_review_due_at=deadlines.review_due(at))
        data.update(stage=stage)
        if requested_at is not None:
            data.update(requested_at=timezone.localtime(at).isoformat())
        if self.status == self.Status.CLOSED:
            self._set(changed, closed_at=None)  # the request reopens the matter

    def _decision(self, decision: str, note: str) -> None:
        errors = FieldErrors()  # both at once: the reasons' error came only on a second submit
        if decision not in self.Decision.values:
            errors.add("decision", gettext("Choose whether the original opinion is upheld or changed."))
        if not note:
            errors.add("note", gettext("Write the decision's reasons."))
        errors.raise_any()

    def _do_decide_review(self, *, now, actor, note, changed, data, decision="", **_):
        self._decision(decision, note)
        self._set(
            changed,
            reviewed_at=now,
            review_decision=decision,
            re_review_request_until=deadlines.review_request_until(now),
        )
        data.update(decision=decision, on_time=now <= self.review_due_at)

    def _do_decide_re_review(self, *, now, actor, note, changed, data, decision="", **_):
        self._decision(decision, note)
        # After re-review the same facts and reasons are not accepted again (art. 35).
        self._set(
            changed, re_reviewed_at=now, re_review_decision=decision, closed_at=now, closed_for_good=True
        )
        data.update(decision=decision, on_time=now <= self.re_review_due_at)

    def _do_link_repeat(self, *, now, actor, note, changed, data, repeat_of=None, **_):
        """Confirm a likely repeat found after registration: only a real match (same person by
        hash, same category and area, earlier, open or closed) may be linked."""
        from governance.services import advisory_xact_lock
        from petitions.services import likely_repeats_of

        # Two officers linking two petitions of the same minute each to the other at once both
        # passed the loop check (the other's link not yet committed) and made A -> B -> A, the
        # matter counted zero times. Links take turns: the second sees the first and is refused.
        advisory_xact_lock(REPEAT_LINK_LOCK_KEY)
        if self.repeat_of_id:
            raise ActionInvalid("repeat_of", gettext("This petition is already linked as a repeat."))
        code = repeat_of.code if isinstance(repeat_of, Petition) else str(repeat_of or "")
        earlier = likely_repeats_of(self, user=actor).filter(code=code).first() if code else None
        if earlier is None:
            raise ActionInvalid("repeat_of", gettext("That petition is not a likely repeat of this one."))
        self._set(changed, repeat_of=earlier, is_repeat=True)
        data.update(repeat_of=earlier.code)

    def _do_correct_type(self, *, now, actor, note, changed, data, type="", **_):
        """The office corrects the handling type chosen at registration while the matter is not yet
        answered: it decides whether a claim may be redirected to another legal route (art. 32)."""
        errors = FieldErrors()  # the type and the reason are reported together
        if type not in self.HandlingType.values:
            errors.add(
                "type",
                gettext("Choose the handling type: suggestion, report or accusation, or claim or appeal."),
            )
        elif type == self.handling_type:
            errors.add(
                "type",
                gettext("The petition is already a %(type)s; choose another handling type.")
                % {"type": self.get_handling_type_display()},
            )
        if not note:
            errors.add("note", gettext("Give the reason for correcting the handling type."))
        errors.raise_any()
        data.update({"from": self.handling_type, "to": type})
        self._set(changed, handling_type=type)

    def _do_close(self, *, now, actor, note, changed, data, **_):
        self._set(changed, closed_at=now)


# Key of the PostgreSQL transaction advisory lock a repeat link holds ("repeat" in ASCII).
REPEAT_LINK_LOCK_KEY = 0x726570656174


def _department_of(value: Any) -> Department | None:
    if isinstance(value, Department):
        return value
    if value in (None, ""):
        return None
    try:
        return Department.objects.select_related("area").filter(pk=int(value)).first()
    except (TypeError, ValueError):
        raise ActionInvalid("department", gettext("Choose the department by its id.")) from None


class deadlines:  # noqa: N801 - a namespace of pure functions, read like `deadlines.reply_due(at)`
    """Statutory due dates. Calendar days except the working-day return rule (governance.periods
    uses the editable Holiday calendar, including weekend make-up working days). Each ends at 24:00
    of its last local day (Civil Code arts. 201 and 203: the day of the event is not counted, the
    period ends with its last day), whatever the hour the period started; a period of calendar days
    whose last day is a rest day or a public holiday ends with the first working day after it (art.
    203, as the provincial petition regulations count theirs): the office is closed that day."""

    @staticmethod
    def route_due(received_at: dt.datetime) -> dt.datetime:
        return end_of_days_period(received_at, ROUTE_DAYS)

    @staticmethod
    def acknowledge_due(routed_at: dt.datetime) -> dt.datetime:
        return end_of_days_period(routed_at, ACKNOWLEDGE_DAYS)

    @staticmethod
    def return_due(routed_at: dt.datetime) -> dt.datetime:
        return end_of_local_day(add_working_days(routed_at, RETURN_WORKING_DAYS))

    @staticmethod
    def reply_due(accepted_at: dt.datetime) -> dt.datetime:
        return end_of_days_period(accepted_at, REPLY_DAYS)

    @staticmethod
    def extended(accepted_at: dt.datetime, days: int) -> dt.datetime:
        """The reply period extended by ``days``: 60 + ``days`` days from acceptance (art. 35: the
        limit is extended, not restarted), moved off a rest day once, at its new end; counting from
        the 60th day as moved would let one weekend lengthen the extension."""
        return end_of_days_period(accepted_at, REPLY_DAYS + days)

    @staticmethod
    def review_request_until(decided_at: dt.datetime) -> dt.datetime:
        """The end of the 30th local day after the reply (or review decision), or of the first
        working day after it: the petitioner's window is counted in days and ends at 24:00 of its
        last day (Civil Code art. 203), the date the petition page shows, not at the hour the reply
        happened to be recorded."""
        return end_of_days_period(decided_at, REVIEW_REQUEST_DAYS)

    @staticmethod
    def review_due(requested_at: dt.datetime) -> dt.datetime:
        return end_of_days_period(requested_at, REVIEW_DECISION_DAYS)


OFFICE, DEPARTMENT = "office", "department"

ACTION_LABELS = {
    "register": _("register"),
    "assign": _("route to a department"),
    "redirect": _("redirect to another legal route"),
    "accept": _("accept"),
    "decline": _("decline"),
    "return": _("return as wrongly routed"),
    "reroute": _("take back and route to another department"),
    "extend": _("extend the reply time limit"),
    # In context: "reply" alone is the reply's text (答复内容); the action is 答复.
    "reply": pgettext_lazy("petition action", "reply"),
    "evaluate": _("record the evaluation"),
    "request_review": _("request a review"),
    "decide_review": _("decide the review"),
    "decide_re_review": _("decide the re-review"),
    "close": _("close"),
    "link_repeat": _("link as a repeat"),
    "correct_type": _("correct the handling type"),
}

# The labels are the lazily translated ACTION_LABELS: they end up inside the 409 message
# ("Cannot close: ..."), which must read in the reader's language.
WORKFLOW = Workflow(
    [
        Transition("assign", ["registered"], "routed", [OFFICE]),
        Transition("redirect", ["registered"], "redirected", [OFFICE]),
        Transition("accept", ["routed"], "accepted", [DEPARTMENT]),
        Transition("decline", ["registered", "routed", "accepted"], "declined", [OFFICE, DEPARTMENT]),
        Transition("return", ["routed"], "registered", [DEPARTMENT]),
        # The office's only step on an accepted petition of a department with nobody left.
        Transition("reroute", ["accepted"], None, [OFFICE]),
        # The reply before the extension: the first action of a state is the form the page opens.
        Transition("reply", ["accepted"], "replied", [DEPARTMENT]),
        Transition("extend", ["accepted"], None, [DEPARTMENT, OFFICE]),
        Transition(
            "evaluate",
            ["replied", "under_review", "reviewed", "under_re_review", "closed"],
            None,
            [OFFICE, DEPARTMENT],
        ),
        Transition("request_review", ["replied", "reviewed", "closed"], None, [OFFICE]),
        Transition("decide_review", ["under_review"], "reviewed", [OFFICE]),
        Transition("decide_re_review", ["under_re_review"], "closed", [OFFICE]),
        Transition("close", ["replied", "reviewed"], "closed", [OFFICE]),
        Transition("link_repeat", ["registered", "routed", "accepted"], None, [OFFICE]),
        # Not yet answered: the reply (and what follows it) was given under the type it had.
        Transition("correct_type", ["registered", "routed", "accepted"], None, [OFFICE]),
    ],
    labels=ACTION_LABELS,
)

# request_review moves replied -> under_review and reviewed -> under_re_review (and a petition
# closed after either, by ``review_stage``): the table keeps target None and the stage decides;
# ``_apply`` reads the target from here.
REVIEW_TARGETS = {"review": "under_review", "re_review": "under_re_review"}


def may_perform(user: Any, petition: Petition, transition: Transition) -> bool:
    """The office side (petition officers of the area) registers, routes, redirects, records
    evaluations, handles review requests and closes; the department side (users of the department
    the item is routed to) accepts, declines, returns, extends and replies. Superusers do all."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    if transition.action == "link_repeat" and sees_masked_only(user, petition):
        # The office may itself be the unit complained about (信访局). Its officers see neither the
        # petitioner nor where a repeat link leads; the likely repeats this step lists would name
        # the same person's earlier petitions, which they handle and may reveal. Another officer
        # (or one of the level above) links it.
        return False
    roles = transition.roles
    if transition.action == "return" and office_takes_back(user, petition):
        return True
    if transition.action == "decline":
        # Not accepted (不予受理): by the office before routing (a repeat of a matter closed for
        # good, art. 35: 信访部门和其他机关、单位不再受理), by the department once routed to it.
        roles = frozenset({OFFICE if petition.status == Petition.Status.REGISTERED else DEPARTMENT})
    if OFFICE in roles and is_officer_for(user, petition.area):
        return True
    if DEPARTMENT in roles and petition.department_id:
        return petition.department_id in user_department_ids(user)
    return False


def allowed_actions(user: Any, petition: Petition) -> list[str]:
    """Actions the user could take now (for buttons); the transition method re-checks everything."""
    now = timezone.now()
    out = []
    closed_for_good: list[Petition | None] = []  # the chain is walked once, only when asked

    def repeats_closed_matter() -> bool:
        if not closed_for_good:
            closed_for_good.append(petition.closed_for_good_original() if petition.repeat_of_id else None)
        return closed_for_good[0] is not None

    for t in WORKFLOW.available(petition.status):
        if t.action == "extend" and (
            petition.extended_days
            or (petition.reply_due_at and now > petition.reply_due_at)
            or repeats_closed_matter()
        ):
            continue
        if t.action in ("accept", "reply") and repeats_closed_matter():
            continue
        if t.action == "redirect" and petition.handling_type != Petition.HandlingType.CLAIM:
            continue
        if t.action == "evaluate" and not petition.evaluation_pending:
            continue
        if t.action == "link_repeat" and petition.repeat_of_id:
            continue
        if (
            t.action == "decline"
            and petition.status in (Petition.Status.REGISTERED, Petition.Status.ACCEPTED)
            and not repeats_closed_matter()
        ):
            continue
        if t.action == "reroute" and not office_takes_back(user, petition):
            continue
        if (
            t.action == "return"
            and petition.return_due_at
            and now > petition.return_due_at
            and not office_takes_back(user, petition)
        ):
            continue
        if t.action == "request_review":
            # Offered for a while after the window closed, to record a request received in time.
            until = petition.review_request_deadline
            if not petition.review_stage or (
                until and now > until + dt.timedelta(days=REVIEW_RECORDING_GRACE_DAYS)
            ):
                continue
        if may_perform(user, petition, t):
            out.append(t.action)
    return out


def may_reveal(user: Any, petition: Petition) -> bool:
    """Identity may be unmasked only by the officers handling the item: petition officers of its
    area and users of the department it is routed to, never anyone in the unit complained about."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if petition.complained_unit_id and petition.complained_unit_id in user_unit_ids(user):
        return False
    departments = user_department_ids(user)
    # Petition officers, not administrators: an admin acts as the office where one is missing, but the
    # identity stays with the people handling the item (DESIGN.md section 4), as in mediation, where
    # district staff never unmask parties; a superuser is a technician, not an officer either.
    officer_roots = scope_paths(user, [Role.PETITION_OFFICER])
    return any(petition.area.path.startswith(root) for root in officer_roots) or (
        petition.department_id is not None and petition.department_id in departments
    )


def revealable_q(user: Any) -> Q:
    """``may_reveal`` as a filter: the petitions whose petitioners ``user`` may reveal. Matching a
    typed ID number or phone against petitioners (the repeat check) names who brought a petition as
    surely as a reveal does, so it looks only here: an administrator or a superuser, who reads the
    petitions of their scope but reveals no one, is told of no match."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for root in scope_paths(user, [Role.PETITION_OFFICER]):
        q |= Q(area__path__startswith=root)
    departments = user_department_ids(user)
    if departments:
        q |= Q(department_id__in=departments)
    units = user_unit_ids(user)
    if units:
        q &= ~Q(complained_unit_id__in=units)
    return q


def sees_masked_only(user: Any, petition: Petition) -> bool:
    """Users of the unit complained about see the content but not even masked contact details."""
    return bool(petition.complained_unit_id and petition.complained_unit_id in user_unit_ids(user))


def petition_visible(user: Any, petition: Petition) -> bool:
    """``Petition.objects.visible_to(user)`` for one petition whose area is loaded, without a query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if area_in_scope(user, petition.area, OFFICER_ROLES):
        return True
    units = user_department_ids(user)
    return petition.department_id in units or petition.complained_unit_id in units


def repeat_link_hidden(user: Any, petition: Petition) -> bool:
    """Is the link from ``petition`` to the one it repeats kept from ``user``? A repeat is the same
    person: for the unit complained about at either end, the link names who complained about it
    through the other end, a petition the unit may handle and reveal. On the complaint itself
    (``sees_masked_only``), and on a petition the unit handles that repeats a complaint about it.
    Nor is a petition the user may not see named at all (a department handling the repeat, the
    earlier one routed elsewhere): it would tell them the same person petitioned there, and its number."""
    if not petition.repeat_of_id:
        return False
    if not petition_visible(user, petition.repeat_of):
        return True
    units = user_unit_ids(user)
    if not units:
        return False
    return petition.complained_unit_id in units or petition.repeat_of.complained_unit_id in units


# Channels where the people come in person (a visit, a leader's reception day): a group chooses
# at most five representatives to speak for it.
IN_PERSON_CHANNELS = frozenset({Petition.Channel.VISIT, Petition.Channel.RECEPTION_DAY})


class Petitioner(models.Model):
    """A person who brought the petition (for a group visit: one of at most five representatives).

    Personal data is encrypted at rest; ID number and phone also keep keyed hashes so repeat
    petitioners are matched without decrypting anything (indexes petitioner_id_hash/phone_hash)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="petitioners")
    position = models.PositiveSmallIntegerField(default=0)
    name = pii.EncryptedTextField(_("name"))
    id_number = pii.EncryptedTextField(_("ID number"), blank=True)
    id_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone = pii.EncryptedTextField(_("phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    address = pii.EncryptedTextField(_("address"), blank=True)

    PERSONAL_FIELDS = ("name", "id_number", "phone", "address")

    class Meta:
        verbose_name = _("petitioner")
        verbose_name_plural = _("petitioners")
        ordering = ["petition", "position", "id"]
        indexes = [
            models.Index(fields=["id_hash"], name="petitioner_id_hash", condition=~Q(id_hash="")),
            models.Index(fields=["phone_hash"], name="petitioner_phone_hash", condition=~Q(phone_hash="")),
        ]

    def __str__(self) -> str:
        return self.masked_name

    @property
    def masked_name(self) -> str:
        if is_erased(self.name):
            return str(ERASED_NAME)
        return pii.mask_name(self.name)

    @property
    def has_personal_data(self) -> bool:
        """Is anything stored to reveal? Not once erased (``manage.py erase_personal_data``)."""
        return any(getattr(self, field) for field in self.PERSONAL_FIELDS)

    @property
    def masked_id_number(self) -> str:
        return pii.mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return pii.mask_phone(self.phone)

    @property
    def masked_address(self) -> str:
        return pii.mask_address(self.address)


class PetitionEvent(TimelineLabels, models.Model):
    """One step of a petition's timeline: who did what, when, from which state to which."""

    STATUS = Petition.Status
    ACTION_LABELS = ACTION_LABELS

    # Steps about the department itself (routed to it, handed to it, sent back from it): the
    # timeline names it whoever took them.
    DEPARTMENT_STEPS = frozenset({"assign", "reroute", "return"})

    @property
    def names_department(self) -> bool:
        """Whether the timeline names the event's department (the one in charge at the time) beside
        the actor: for the department's steps and its own people's. Beside the office's evaluation
        or review request it read as if the department, whose reply was at issue, had taken them.
        ``by_department`` is annotated by ``selectors.petition_events``."""
        if self.department_id is None:
            return False
        return self.action in self.DEPARTMENT_STEPS or bool(getattr(self, "by_department", True))

    @property
    def action_label(self) -> str:
        # One action asks for both reviews; the timeline names the one it started.
        if self.action == "request_review" and self.to_status == Petition.Status.UNDER_RE_REVIEW:
            return gettext("request a re-review")
        return super().action_label

    # The choice a step recorded, by the key its event keeps it under (``_do_<action>``).
    RESULT_KEYS = {
        "evaluate": "evaluation",
        "reply": "opinion",
        "decide_review": "decision",
        "decide_re_review": "decision",
        "redirect": "route",
        "decline": "route",
    }

    @property
    def result(self) -> str | None:
        """What the step recorded (the evaluation, the reply's opinion, a review's decision, the
        legal route), as stored; None for other steps. The petition keeps only the last of each."""
        key = self.RESULT_KEYS.get(self.action)
        return (self.data.get(key) or None) if key else None

    @property
    def extended_by(self) -> int | None:
        """The days an ``extend`` step added to the reply time limit; None for other steps."""
        return self.data.get("days") if self.action == "extend" else None

    @property
    def result_label(self) -> str:
        """The timeline's words for what the step recorded ("basically satisfied", "by 20 days, the
        petitioner notified"), "" when it recorded no choice."""
        if self.extended_by:
            return ngettext(
                "by %(days)d day, the petitioner notified",
                "by %(days)d days, the petitioner notified",
                self.extended_by,
            ) % {"days": self.extended_by}
        value = self.result
        if not value:
            return ""
        choices = {
            "evaluation": Petition.Evaluation.choices,
            "opinion": [*Petition.Opinion.choices, *Petition.Adoption.choices],
            "decision": Petition.Decision.choices,
            "route": Petition.Route.choices,
        }[self.RESULT_KEYS[self.action]]
        return str(dict(choices).get(value, value))

    @property
    def from_type(self) -> str | None:
        """The handling type before a correction (``correct_type``); None for other events."""
        return self.data.get("from") if self.action == "correct_type" else None

    @property
    def to_type(self) -> str | None:
        return self.data.get("to") if self.action == "correct_type" else None

    @property
    def from_type_label(self) -> str:
        return str(Petition.HandlingType(self.from_type).label) if self.from_type else ""

    @property
    def to_type_label(self) -> str:
        return str(Petition.HandlingType(self.to_type).label) if self.to_type else ""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="events", verbose_name=_("petition")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("done by")
    )
    at = models.DateTimeField(default=timezone.now, verbose_name=_("time"))
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=16, blank=True, verbose_name=_("status before"))
    to_status = models.CharField(max_length=16, verbose_name=_("status after"))
    note = models.TextField(_("note"), blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("department"),
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("petition event")
        verbose_name_plural = _("petition events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["petition", "at"], name="petition_event_timeline"),
            # The nightly rollup's question: which petitions changed since the last run?
            models.Index(fields=["at"], name="petition_event_at"),
        ]
