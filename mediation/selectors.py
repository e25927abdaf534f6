"""Scoped reads of the mediation app (STYLE.md "Access")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import ancestor_paths, get_visible_or_404, scope_paths, scope_q
from governance.models import Area, Role, User
from governance.periods import start_of_local_day
from governance.workflow import latest_step_subquery
from mediation.models import (
    REFERRER_ROLES,
    DisputeCase,
    DisputeCategory,
    DisputeEvent,
    DisputeParty,
    DisputeSession,
    MediationOrganisation,
    OrganisationMember,
    acting_members,
    head_organisation_ids,
    headless_organisation_ids,
    member_organisation_ids,
)
from mediation.models import (
    transfer_targets as case_transfer_targets,
)

ACTING_ROLES = {Role.MEDIATOR, Role.ADMIN}


def dispute_list(user: User) -> QuerySet[DisputeCase]:
    """Cases visible to ``user``, with what list rows show, in a constant number of queries."""
    return (
        DisputeCase.objects.visible_to(user)
        .with_relations()
        .prefetch_related(Prefetch("parties", queryset=DisputeParty.objects.order_by("position", "id")))
    )


def intake(user: User) -> QuerySet[DisputeCase]:
    """The cases registered in ``user``'s organisations, waiting for one of them to accept: the
    desk lists them and the home page counts them (what is new for a mediator)."""
    return dispute_list(user).filter(
        status=DisputeCase.Status.REGISTERED, organisation_id__in=member_organisation_ids(user)
    )


def closing_confirmations(user: User, now=None) -> QuerySet[DisputeCase]:
    """The cases whose judicial-confirmation window closes soon that ``user`` looks after: their own
    and, for a head, their organisations'. The desk lists them and the home page counts them (it
    counted the user's own only, 0 for a head whose desk listed several)."""
    return (
        dispute_list(user)
        .filter(Q(mediator=user) | Q(organisation_id__in=head_organisation_ids(user)))
        .confirmation_closing(now or timezone.now())
    )


def follow_ups_due(user: User, today=None) -> QuerySet[DisputeCase]:
    """The agreements ``user`` mediated that are due a follow-up visit (DOMAIN.md: follow-up visits
    check performance): concluded with success, the day by which they were to be carried out
    (``performance_due``; an oral agreement without one: the day it took effect) reached, and no
    visit yet that found them performed (none, or partly or not performed). A closed case is filed."""
    today = today or timezone.localdate()
    return (
        dispute_list(user)
        .filter(
            mediator=user,
            status=DisputeCase.Status.CONCLUDED,
            outcome__in=DisputeCase.SUCCESS_OUTCOMES,
        )
        .filter(
            Q(performance_due__lte=today) | Q(performance_due__isnull=True, agreement_effective_on__lte=today)
        )
        .exclude(follow_up=DisputeCase.FollowUp.PERFORMED)
    )


def cases_to_take_over(user: User) -> QuerySet[DisputeCase]:
    """The cases ``user`` may take over for want of a head (``models.may_take_over``): in their
    organisations that have no head, those still to be worked on (up to the follow-up of a concluded
    one) whose mediator can no longer act for the organisation. Nobody else is told of them: the
    head's workload page, which shows them, has no reader there."""
    orgs = headless_organisation_ids(member_organisation_ids(user))
    if not orgs:
        return DisputeCase.objects.none()
    acting = acting_members(orgs).filter(
        organisation_id=OuterRef("organisation_id"), user_id=OuterRef("mediator_id")
    )
    return (
        dispute_list(user)
        .filter(organisation_id__in=orgs, status__in=("accepted", "in_mediation", "concluded"))
        .exclude(Exists(acting))
    )


def dispute_get_for_user(user: User, code: str, *, write: bool = False) -> DisputeCase:
    """The case ``code`` if the user may see it (404 otherwise, same message for missing);
    ``write=True`` also refuses read-only staff (handlers) with 403."""
    case = get_visible_or_404(
        dispute_list(user).annotate(latest_step_id=latest_step_subquery(DisputeEvent, "case")), code=code
    )
    if write and not (user.is_superuser or user.has_role(*ACTING_ROLES) or member_organisation_ids(user)):
        raise PermissionDenied(_("Your role may only read dispute cases."))
    return case


def registered_out_of_reach(case: DisputeCase) -> str:
    """What a registration sent again (a retry after a lost answer) is told when the case its first
    send saved has since been transferred out of the registrar's sight: the number and where it
    went, nothing of its content."""
    return _(
        "This registration was saved already, as case %(code)s, and the case has since been "
        "transferred to %(organisation)s."
    ) % {"code": case.code, "organisation": case.organisation.name if case.organisation_id else "-"}


def dispute_events(case: DisputeCase) -> QuerySet[DisputeEvent]:
    return case.events.select_related("actor", "organisation")


def dispute_sessions(case: DisputeCase) -> QuerySet[DisputeSession]:
    return case.sessions.select_related("recorded_by")


def dispute_for_incident(incident: Any) -> DisputeCase | None:
    """Where a grid incident's dispute went: the case created from it, or None.

    For the grids pages (grids may not import mediation models; the incident page calls this). It
    returns number, status and organisation only: whether the reader may open the case is decided by
    the case page itself (404 outside their scope)."""
    if incident is None or getattr(incident, "pk", None) is None:
        return None
    return (
        DisputeCase.objects.filter(incident_id=incident.pk)
        .select_related("organisation")
        .only("code", "status", "outcome", "organisation__name", "incident_id")
        .first()
    )


# How many places the register page lists at most. A street centre has some dozens of communities
# and a few hundred grids; a district can have thousands of grids, which would make the page heavy
# and the list useless: there only the communities are listed (a grid code is still typed).
AREA_CHOICES_MAX = 1500


def registration_areas(user: User, received_on: dt.date | None = None) -> tuple[list[Area], bool]:
    """The places a case may be registered for by ``user`` (communities and grids, as
    ``services.dispute_register`` accepts: a referrer's scope and the user's organisations' areas), in
    path order so each community is followed by its grids; and whether the grids are included."""
    # A referrer's own area; a mediator's organisations' areas only (``services._check_referral``).
    q = scope_q(user, "", REFERRER_ROLES)
    if q is not None:
        for org in organisations_of(user):
            q |= Q(path__startswith=org.area.path)
    # Only places in service on the receipt day (today unless given), as the registration takes: not
    # one merged away before it or drawn for later.
    in_service = Area.in_service_on(received_on or timezone.localdate())
    places = Area.objects.filter(in_service, level__in=[Area.Level.COMMUNITY, Area.Level.GRID])
    if q is not None:
        places = places.filter(q)
    places = places.select_related("parent").only("code", "name", "level", "path", "parent__name")
    rows = list(places.order_by("path")[: AREA_CHOICES_MAX + 1])
    if len(rows) <= AREA_CHOICES_MAX:
        return rows, True
    return list(places.filter(level=Area.Level.COMMUNITY).order_by("path")[:AREA_CHOICES_MAX]), False


def organisations_of(user: User) -> QuerySet[MediationOrganisation]:
    return MediationOrganisation.objects.filter(pk__in=member_organisation_ids(user)).select_related("area")


def referral_organisations(user: User) -> QuerySet[MediationOrganisation]:
    """Where a user without an organisation of their own (a handler) may refer a case: the active
    organisations in their area and those whose area contains it (the street or district centre
    above a community), as ``services.dispute_register`` accepts."""
    ancestors = ancestor_paths(scope_paths(user, REFERRER_ROLES))
    visible = MediationOrganisation.objects.visible_to(user).values("pk")
    return (
        MediationOrganisation.objects.filter(is_active=True)
        .filter(Q(pk__in=visible) | Q(area__path__in=ancestors))
        .select_related("area")
        .order_by("area__code", "name")
    )


# How many organisations the register page offers at once. A city-level referrer may send a case to
# any of the city's ~2,000 bodies: listing them all made the page heavy and the list unusable, and
# the first 300 alone (what it offered) left the rest unchoosable. Past this the page asks for a
# filter; the form accepts any organisation of the full list, shown or not.
ORGANISATION_CHOICES_MAX = 300


def organisation_choices(
    organisations: QuerySet[MediationOrganisation], query: str = ""
) -> tuple[list[MediationOrganisation], bool]:
    """The organisations of ``organisations`` to offer, narrowed by ``query``, at most
    ``ORGANISATION_CHOICES_MAX``; and whether there were more. ``query`` is any part of an
    organisation's name, in any case ("医疗" finds "甲区医疗纠纷人民调解委员会": names start with
    their area's, so the start of a name was rarely what a user knew), or the start of its area's
    code, or an area's whole code (picked by name from the page's list of areas): then the
    organisations of that area and below it (the path prefix index). Two queries at most, however
    many organisations there are. No index serves the name, nor did the prefix index before: the
    OR with the area's code joins each of a city's ~2,000 organisations to its area whatever the
    match (15-21 ms, prefix and substring alike), and a trigram index would serve no query of fewer
    than three characters, which is most of them in Chinese (docs/benchmarks.md)."""
    query = (query or "").strip()
    if query:
        narrow = Q(name__icontains=query) | Q(area__code__startswith=query)
        area = Area.objects.filter(code=query).only("path").first()
        if area is not None:
            narrow |= Q(area__path__startswith=area.path)
        organisations = organisations.filter(narrow)
    rows = list(organisations[: ORGANISATION_CHOICES_MAX + 1])
    return rows[:ORGANISATION_CHOICES_MAX], len(rows) > ORGANISATION_CHOICES_MAX


def registration_organisations(user: User) -> QuerySet[MediationOrganisation]:
    """Every organisation ``services.dispute_register`` may accept from ``user`` (the place is
    checked with it): their own and, for a referrer (a handler, district staff), the ones they refer
    to. A handler who also sits on a committee was offered the committee alone, and the page
    refused the referral the API took."""
    q = Q(pk__in=member_organisation_ids(user))
    if user.is_superuser or user.has_role(*REFERRER_ROLES):
        q |= Q(pk__in=referral_organisations(user).values("pk"))
    return MediationOrganisation.objects.filter(q).select_related("area").order_by("area__code", "name")


def organisation_get_for_head(user: User, pk: int) -> MediationOrganisation:
    """The organisation page is for its head (and superusers); everyone else gets the same 404."""
    qs = MediationOrganisation.objects.select_related("area")
    if not user.is_superuser:
        qs = qs.filter(pk__in=head_organisation_ids(user))
    return get_visible_or_404(qs, pk=pk)


def organisation_members(organisation: MediationOrganisation) -> list[OrganisationMember]:
    return list(organisation.memberships.select_related("user").order_by("-is_head", "user__username"))


def assignable_members(organisation: MediationOrganisation) -> list[User]:
    """Those a case of ``organisation`` may be given to (``DisputeCase._mediator_of`` accepts only
    them): members who can act, not one who left (deactivated) or was signed off (role removed)."""
    members = acting_members({organisation.pk}).select_related("user").order_by("-is_head", "user__username")
    return [m.user for m in members]


def organisation_workload(organisation: MediationOrganisation) -> list[dict]:
    """Per member: open cases, overdue ones, and cases concluded this month (one grouped query)."""
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    counts = {
        row["mediator_id"]: row
        for row in DisputeCase.objects.filter(organisation=organisation, mediator__isnull=False)
        .values("mediator_id")
        .annotate(
            open=Count("id", filter=Q(status__in=DisputeCase.OPEN_STATUSES)),
            overdue=Count("id", filter=DisputeCase.overdue_q(now)),
            concluded_month=Count("id", filter=Q(concluded_at__gte=month_start)),
        )
        .order_by()
    }
    rows = []
    for m in organisation_members(organisation):
        c = counts.get(m.user_id, {})
        rows.append(
            {
                "member": m,
                "open": c.get("open", 0),
                "overdue": c.get("overdue", 0),
                "concluded_month": c.get("concluded_month", 0),
            }
        )
    return rows


def active_categories() -> QuerySet[DisputeCategory]:
    return DisputeCategory.objects.filter(is_active=True)


def transfer_targets(case: DisputeCase) -> QuerySet[MediationOrganisation]:
    """Where the case may be transferred (the page's choices; the transition accepts only these)."""
    return case_transfer_targets(case)


def parties_past_retention(closed_before: dt.date, now: dt.datetime) -> QuerySet[DisputeParty]:
    """The parties of the cases whose details ``manage.py erase_personal_data`` may erase: declined or
    closed before ``closed_before`` (local midnight), with no judicial confirmation still to come (an
    application awaiting the court's decision, or a written agreement's 30-day window not yet ended).
    A concluded case not yet closed keeps its parties: its confirmation and follow-up may still come."""
    cases = (
        DisputeCase.objects.filter(
            status__in=(DisputeCase.Status.CLOSED, DisputeCase.Status.DECLINED),
            closed_at__lt=start_of_local_day(closed_before),
        )
        .exclude(judicial_status=DisputeCase.Judicial.APPLIED)
        .exclude(judicial_status="", confirmation_due__gte=timezone.localdate(now))
    )
    return DisputeParty.objects.filter(case__in=cases)
