"""Scoped reads of the petitions app (STYLE.md "Access")."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import ancestor_paths, get_visible_or_404, scope_paths, scope_q
from governance.models import Area, Department, Membership, User, record_id
from governance.periods import start_of_local_day
from governance.workflow import latest_step_subquery
from petitions.models import (
    OFFICER_ROLES,
    REVIEW_RECORDING_GRACE_DAYS,
    Petition,
    Petitioner,
    PetitionEvent,
    extension_approver_q,
    is_officer_for,
    routable_departments,
    route_targets,
    user_department_ids,
)

# The intake page lists every area (department) of the officer's scope up to this many; a wider
# scope (a city-wide office: ~12 districts, ~130 streets, ~1,700 communities) gets a narrowed list
# instead, in a fixed number of queries. A select of thousands of options weighed hundreds of KB
# on every intake page and could not be read.
INTAKE_CHOICES_MAX = 300

Choices = list[tuple[str, list[tuple[str, str]]]]  # (group label, [(value, label)]): <optgroup>s

LISTED_LEVELS = (Area.Level.DISTRICT, Area.Level.STREET, Area.Level.COMMUNITY)


def _officer_areas(user: User, received_on: dt.date | None = None) -> QuerySet[Area]:
    """The areas a registration by ``user`` may name (``services._resolve_area``: the officer's own
    area, ``OFFICER_ROLES``), with what an option's label and group need."""
    scope = scope_q(user, "", OFFICER_ROLES)
    # Only areas in service on the receipt day (today unless given), as the registration takes: one
    # merged away before it or drawn for later is not offered.
    areas = Area.objects.filter(Area.in_service_on(received_on or timezone.localdate()))
    areas = areas if scope is None else areas.filter(scope)
    # Not the boundaries (a polygon each): names and levels up to the district, for labels and groups.
    up = ("parent", "parent__parent", "parent__parent__parent")
    return areas.select_related(up[-1]).only(
        "code", "name", "level", "path", *up, *(f"{p}__{f}" for p in up for f in ("name", "level"))
    )


def _district_of(area: Area) -> Area:
    while area.level not in (Area.Level.DISTRICT, Area.Level.CITY) and area.parent_id:
        area = area.parent
    return area


def _area_label(area: Area) -> str:
    # A community's (grid's) name repeats between streets: "street · community".
    if area.level in (Area.Level.COMMUNITY, Area.Level.GRID) and area.parent_id:
        return f"{area.parent.name} · {area.name}"
    return area.name


def intake_area_choices(
    user: User, chosen: str = "", received_on: dt.date | None = None
) -> tuple[Choices, bool]:
    """The intake page's "area concerned" options, grouped by district. Every district, street and
    community of the officer's scope while they are at most ``INTAKE_CHOICES_MAX``; beyond that the
    districts and streets, and the communities of one street: the street chosen, or the chosen
    community's (the page asks for them when a street is picked). A chosen area of the scope is
    always listed (a grid, as the API may register one). Grids are not listed: a petition concerns
    the street or community the office routes for, not a grid worker's patrol beat (docs/petitions.md).
    Only areas in service on ``received_on``, the receipt day (today unless given). At most four
    queries, whatever the number of areas. Also whether the list was narrowed."""
    areas = _officer_areas(user, received_on)
    listed = areas.filter(level__in=LISTED_LEVELS)
    rows = list(listed.order_by("path")[: INTAKE_CHOICES_MAX + 1])
    current = areas.filter(code=chosen).first() if chosen and "\x00" not in chosen else None
    narrowed = len(rows) > INTAKE_CHOICES_MAX
    if narrowed:
        rows = list(
            listed.filter(level__in=[Area.Level.DISTRICT, Area.Level.STREET]).order_by("path")[
                :INTAKE_CHOICES_MAX
            ]
        )
        street = current
        while street is not None and street.level in (Area.Level.COMMUNITY, Area.Level.GRID):
            street = street.parent
        if street is not None and street.level == Area.Level.STREET:
            rows += list(listed.filter(parent=street, level=Area.Level.COMMUNITY).order_by("path"))
    if current is not None and all(a.pk != current.pk for a in rows):
        rows.append(current)
    rows.sort(key=lambda a: a.path)
    return _grouped(rows, _district_of, lambda a: (a.code, _area_label(a))), narrowed


def intake_unit_choices(
    user: User, area: str = "", chosen: str = "", received_on: dt.date | None = None
) -> tuple[Choices, bool]:
    """The intake page's "unit complained about" options, grouped by their area: every department
    the officer may name (``routable_departments``) while they are at most ``INTAKE_CHOICES_MAX``;
    beyond that those of the officer's own area(s) and of the line of the area concerned (its
    community, street, district: the units a complaint about a place names), and the one chosen.
    The service takes any routable department, listed or not. The area concerned is looked up among
    those in service on ``received_on`` (as ``intake_area_choices`` lists them: a community merged
    away since is still listed, and so are the units of its line). Three queries at most. Also
    whether the list was narrowed."""
    departments = routable_departments(user).order_by("area__path", "name")
    rows = list(departments[: INTAKE_CHOICES_MAX + 1])
    narrowed = len(rows) > INTAKE_CHOICES_MAX
    if narrowed:
        paths = set(scope_paths(user, OFFICER_ROLES))
        place = (
            _officer_areas(user, received_on).filter(code=area).first()
            if area and "\x00" not in area
            else None
        )
        if place is not None:
            paths |= {place.path} | ancestor_paths([place.path])
        pk = record_id(chosen) if chosen else None
        rows = list(
            departments.filter(Q(area__path__in=paths) | Q(pk=pk if pk is not None else -1))[
                :INTAKE_CHOICES_MAX
            ]
        )
    return _grouped(rows, lambda d: d.area, lambda d: (str(d.pk), d.name)), narrowed


def _grouped(rows: list, group_of, option_of) -> Choices:
    out: Choices = []
    for row in rows:
        label = group_of(row).name
        if not out or out[-1][0] != label:
            out.append((label, []))
        out[-1][1].append(option_of(row))
    return out


def petition_list(user: User) -> QuerySet[Petition]:
    """Petitions visible to ``user`` with what list rows show, in a constant number of queries."""
    return (
        Petition.objects.visible_to(user)
        .with_relations()
        .prefetch_related(Prefetch("petitioners", queryset=Petitioner.objects.order_by("position", "id")))
    )


def registered_out_of_reach(user: User, petition: Petition) -> str | None:
    """For a registration sent again with its key: ``None`` while the petition it saved is in the
    registrar's area; once it is not, what to tell them instead of a 404 as if nothing had been
    saved: its number only."""
    if Petition.objects.visible_to(user).filter(pk=petition.pk).exists():
        return None
    return _(
        "This registration was saved already, as petition %(code)s, which is no longer in your area."
    ) % {"code": petition.code}


def petition_get_for_user(user: User, code: str, *, write: bool = False) -> Petition:
    """The petition ``code`` if the user may see it; 404 with the same message when missing.
    ``write=True`` also refuses, with 403 and before any input is read, a reader who has no side
    on it: the unit complained about, which reads the content only."""
    petition = get_visible_or_404(
        petition_list(user).annotate(latest_step_id=latest_step_subquery(PetitionEvent, "petition")),
        code=code,
    )
    if write and not (
        user.is_superuser
        or is_officer_for(user, petition.area)
        or (petition.department_id and petition.department_id in user_department_ids(user))
    ):
        raise PermissionDenied(_("You may take no step on this petition."))
    return petition


def petition_events(petition: Petition) -> QuerySet[PetitionEvent]:
    # ``by_department``: the step's actor works in the department the event names (in the same
    # query, no query per entry): the timeline names it beside its own people only
    # (``PetitionEvent.names_department``).
    return petition.events.select_related("actor", "department").annotate(
        by_department=Exists(
            Membership.objects.filter(user=OuterRef("actor_id"), department=OuterRef("department_id"))
        )
    )


def department_inbox(user: User) -> QuerySet[Petition]:
    """Items routed to the user's departments that still wait for them (acceptance or reply)."""
    return (
        petition_list(user)
        .filter(department_id__in=user_department_ids(user), status__in=["routed", "accepted"])
        .order_by("due_at")
    )


def extension_approvers(petition: Petition, actor: User) -> QuerySet[User]:
    """Who may approve extending the reply limit, for the page's suggestions: the heads of the
    department handling the petition other than the actor (the check ``Petition._do_extend`` makes).
    One query."""
    return (
        User.objects.filter(extension_approver_q(petition))
        .exclude(pk=actor.pk)
        .distinct()
        .order_by("username")
    )


def routing_departments(user: User, petition: Petition | None = None) -> QuerySet[Department]:
    """Departments an officer may route to: active ones in the officer's scope (any level) with
    someone to accept (``route_targets``), the same list ``Petition._do_assign`` holds a route to."""
    return route_targets(user)


def petitioners_past_retention(closed_before: dt.date, now: dt.datetime) -> QuerySet[Petitioner]:
    """The petitioners whose details ``manage.py erase_personal_data`` may erase: of petitions not
    accepted, redirected to another legal route or closed before ``closed_before`` (local midnight),
    and past every review window. A closed petition not closed for good still takes a review (or
    re-review) request until its window ends, and one received in time is recorded up to
    ``REVIEW_RECORDING_GRACE_DAYS`` after it: until then its petitioners keep their details."""
    still_open = now - dt.timedelta(days=REVIEW_RECORDING_GRACE_DAYS)
    window = Q(review_request_until__gte=still_open) | Q(re_review_request_until__gte=still_open)
    petitions = Petition.objects.filter(
        status__in=(Petition.Status.CLOSED, Petition.Status.DECLINED, Petition.Status.REDIRECTED),
        closed_at__lt=start_of_local_day(closed_before),
    ).exclude(Q(closed_for_good=False) & window)
    return Petitioner.objects.filter(petition__in=petitions)
