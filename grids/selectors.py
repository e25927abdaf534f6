"""Scoped reads of the grids app (STYLE.md "Access")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance import codes, periods
from governance.access import NOT_FOUND, get_visible_or_404
from governance.indicators import local_bounds
from governance.models import Department, Role, User
from governance.periods import add_months
from governance.workflow import latest_step_subquery
from grids.models import (
    DEPARTMENT,
    LEVEL_DEPTH,
    STEP_OWNERS,
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentPhoto,
    reads_in_full,
    separate_duties,
)

ACTING_ROLES = {Role.GRID_WORKER, Role.HANDLER, Role.ADMIN}
# A coordination item's supporting departments, by name: one query for a whole list.
SUPPORTING = Prefetch("supporting_departments", queryset=Department.objects.order_by("name", "id"))


def incident_list(user: User) -> QuerySet[Incident]:
    return Incident.objects.visible_to(user).with_relations().prefetch_related(SUPPORTING)


def worker_grids(user: User) -> list:
    """The grids the user works in as a grid worker."""
    return [
        m.area for m in user.memberships_cached() if m.role == Role.GRID_WORKER and m.area.level == "grid"
    ]


def uncalendared_years(rows: Iterable[Incident]) -> str:
    """The years of the working-hour deadlines of ``rows`` the calendar lacks (as the petition lists
    say; governance.periods.uncalendared_years)."""
    return periods.uncalendared_years(i.working_hour_due_at for i in rows)


def checks_waiting(user: User) -> QuerySet[Incident]:
    """The items fed back in the user's grids that wait for their on-site check, due first: on "My
    grid" and the home page. Not those the user fed back as a centre's handler, which another checks."""
    waiting = (
        Incident.objects.visible_to(user)
        .with_relations()
        .filter(status=Incident.Status.FED_BACK, grid__in=worker_grids(user))
    )
    if separate_duties():
        waiting = waiting.exclude(fed_back_by=user)
    return waiting.order_by("due_at")


def work_department(user: User) -> int | None:
    """The department whose work list is the user's: set when every handler membership of the user is
    a department's (a liaison of the police, of urban management...), None for centre handlers. Such a
    user's inbox and home start at the open items dispatched to that department, not at every item of
    the district (docs/incidents.md "Pages"); with several departments, the first by id."""
    if user.is_superuser:
        return None
    handler = [m for m in user.memberships_cached() if m.role == Role.HANDLER]
    if not handler or any(m.department_id is None for m in handler):
        return None
    return min(m.department_id for m in handler)


def reported_out_of_reach(user: User, incident: Incident) -> str | None:
    """For a report sent again with its key (a retry, a draft resent days later): ``None`` while the
    incident it saved is in the reporter's area; once it is not (the worker moved to another grid),
    what to tell them instead of its details or a 404 as if nothing had been saved: its number only."""
    if Incident.objects.visible_to(user).filter(pk=incident.pk).exists():
        return None
    return _("This report was saved already, as incident %(code)s, which is no longer in your area.") % {
        "code": incident.code
    }


def incident_get_for_user(user: User, code: str, *, write: bool = False) -> Incident:
    """The incident ``code`` if the user may see it (404 otherwise, same message for missing);
    ``write=True`` also refuses read-only roles (analysts) with 403."""
    incident = get_visible_or_404(
        Incident.objects.visible_to(user)
        .with_relations()
        .annotate(latest_step_id=latest_step_subquery(IncidentEvent, "incident"))
        .with_rejection_reason()  # an inbox row swapped in after a rejection shows it, as the list
        .prefetch_related(
            Prefetch("photos", queryset=IncidentPhoto.objects.order_by("uploaded_at", "id")), SUPPORTING
        ),
        code=code,
    )
    if write and not (user.is_superuser or user.has_role(*ACTING_ROLES)):
        raise PermissionDenied(_("Your role may only read incidents."))
    return incident


def incident_events(incident: Incident) -> QuerySet[IncidentEvent]:
    """The events as the incident's page and the API list them: each step's departments
    (``IncidentEvent.timeline_department``) come with it, no memberships read."""
    return incident.events.select_related("actor", "department", "acting_department").prefetch_related(
        "photos", SUPPORTING
    )


def photo_get_for_user(user: User, photo_id: int) -> IncidentPhoto:
    """A photo, for those who work on its incident's area only (``reads_in_full``): a photo of a
    doorway, a face, a number plate cannot be masked as the text is for the other readers (analysts,
    mediators, petition officers), who get the 404 of a photo that is not there."""
    photo = get_visible_or_404(
        IncidentPhoto.objects.filter(incident__in=Incident.objects.visible_to(user)).select_related(
            "incident__grid"
        ),
        pk=photo_id,
    )
    if not reads_in_full(user, photo.incident):
        raise Http404(str(NOT_FOUND))
    return photo


def dispatch_departments(incident: Incident) -> QuerySet[Department]:
    """Active departments an incident may be dispatched to: those of its grid's ancestor areas."""
    codes = incident.grid.path.strip("/").split("/")
    return (
        Department.objects.filter(area__code__in=codes, is_active=True)
        .select_related("area")
        .order_by("-area__depth", "name")
    )


def assist_departments(user: User, incident: Incident) -> list[Department]:
    """The supporting departments of ``incident`` the user may record assistance for: their own
    (department memberships), or every one for a superuser or an administrator (the ``assist``
    action then needs to be told which)."""
    supporting = list(incident.supporting_departments.all())
    if not supporting or user.is_administrator():
        return supporting
    own = {m.department_id for m in user.memberships_cached() if m.role == Role.HANDLER}
    return [d for d in supporting if d.pk in own]


def active_categories() -> QuerySet[IncidentCategory]:
    return IncidentCategory.objects.filter(is_active=True).select_related("parent")


# --- departments' accountability (docs/incidents.md "Departments' record") ----------------------------

# The open statuses in which the department the item was dispatched to owns the step (handle + feedback).
DEPARTMENT_STEPS = [status for status, owner in STEP_OWNERS.items() if owner == DEPARTMENT]


DEPARTMENTS_FORBIDDEN = gettext_lazy(
    "Only centre handlers of a street, district or city, analysts and administrators see this."
)


def department_view_roots(user: User) -> list[str] | None:
    """Paths of the areas whose departments the user may hold to account: the subtrees of their analyst
    and admin memberships and of their centre handler memberships at a street, district or city. None
    for everything (superusers). A grid worker, mediator, petition officer, community handler or a
    department's own people get [] (403): the record is the supervising centres', and a department
    is not the one to rank its peers."""
    if user.is_superuser and user.is_active:
        return None
    if not user.is_active:
        return []
    paths = {
        m.area.path
        for m in user.memberships_cached()
        if m.role in (Role.ANALYST, Role.ADMIN)
        or (m.role == Role.HANDLER and m.department_id is None and m.area.depth <= LEVEL_DEPTH[codes.STREET])
    }
    return [p for p in sorted(paths) if not any(p != q and p.startswith(q) for q in paths)]


def may_view_departments(user: User) -> bool:
    return department_view_roots(user) != []


def _count(qs: QuerySet) -> Coalesce:
    """``SELECT COUNT(*)`` of ``qs`` as a correlated scalar subquery (COUNT through ``Func``, which
    Django does not take for an aggregate, so it adds no GROUP BY: one number per outer row)."""
    counted = qs.order_by().annotate(n=Func(F("id"), function="COUNT", output_field=IntegerField()))
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


RECORD_ORDER = ("area__code", "name", "id")  # the departments' record, by area then name


def departments_in_view(user: User) -> QuerySet[Department]:
    """The departments of the user's view (``department_view_roots``, 403 if none) in the record's
    order, with their areas: what the departments' record pages through (``DepartmentRecords``)."""
    roots = department_view_roots(user)
    if roots == []:
        raise PermissionDenied(DEPARTMENTS_FORBIDDEN)
    departments = Department.objects.select_related("area")
    if roots is not None:
        scope = Q()
        for root in roots:
            scope |= Q(area__path__startswith=root)
        departments = departments.filter(scope)
    return departments.order_by(*RECORD_ORDER)


def department_accountability(user: User, month: dt.date, *, now: dt.datetime | None = None) -> QuerySet:
    """Each department in the user's view (``departments_in_view``, 403 if none) with its record
    for the local ``month``, in ONE query (a correlated COUNT per column: no join fans out):

    * ``steps_due``: handle + feedback steps the department owned whose deadline falls in the month,
      done or still open past it; ``steps_late``: of them, done late or open past the deadline, as
      ``incidents_on_time_rate`` counts them for the department's area;
    * ``open_now``: open items with the department now (dispatched or handling); ``overdue_now``: of
      them, past the current deadline;
    * ``supporting_now``: open items in those steps that the department supports (a coordination item
      led by another department).

    Every incident of a department lies in its area's subtree (dispatch requires it), so a department
    in the user's view brings no item from outside their scope. Pages read ``DepartmentRecords``."""
    return _with_record(departments_in_view(user), month, now=now)


class DepartmentRecords:
    """The departments' record for a paginator (``Paginator(DepartmentRecords(...), 100)``, DRF's
    pagination): counted as the plain departments of ``departments_in_view``, and a page, a slice of
    them, read with its counts in one query that counts for that page's rows only (``id IN`` the
    slice). Sliced, ``department_accountability`` computes the counts of the rows its OFFSET skips
    too: seconds on the last page of a city's 2,500 departments (docs/benchmarks.md "List pages'
    query plans")."""

    def __init__(self, user: User, month: dt.date, *, now: dt.datetime | None = None) -> None:
        self.departments = departments_in_view(user)
        self.month = month
        self.now = now

    def count(self) -> int:
        return self.departments.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[DepartmentRecord]:
        ids = self.departments[page].values("pk")
        # The areas above too, for the page's names of namesake areas (``namesake_labels``).
        rows = (
            Department.objects.select_related("area__parent__parent")
            .filter(pk__in=ids)
            .order_by(*RECORD_ORDER)
        )
        return [department_record(d) for d in _with_record(rows, self.month, now=self.now)]


def _with_record(departments: QuerySet[Department], month: dt.date, *, now: dt.datetime | None) -> QuerySet:
    """``departments`` with the columns of ``department_accountability`` annotated."""
    now = now or timezone.now()
    lo, hi = local_bounds(month, add_months(month, 1))

    # Which recorded steps were a department's: ``IncidentEvent.department`` alone does not say (the
    # dispatch event names the new department but ends the centre's dispatch step; verify and close
    # events copy the item's department but end the grid's and the centre's steps). The owner is read
    # as ``STEP_OWNERS`` reads it, from ``from_status`` (dispatched, handling: the department's;
    # ``handle`` and ``assist`` carry no deadline, so these are feedback and escalate events), and
    # those events name the department whose step they end: the feedback its own, the escalation the
    # one it took the item from (recorded since grids migration 0010, which filled in older ones).
    # A re-dispatch also ends a department's step, but names the department it sends the item to;
    # the one it takes it from had an item that was never its own, so the step counts for the area
    # (``incidents_on_time_rate``: the centre's wrong dispatch, late if the deadline had passed) and
    # for no department.
    steps = IncidentEvent.objects.filter(
        department_id=OuterRef("pk"),
        step_due_at__gte=lo,  # partial index incident_event_due serves the range
        step_due_at__lt=hi,
        on_time__isnull=False,
        from_status__in=DEPARTMENT_STEPS,
    ).exclude(action="dispatch")
    with_it = Incident.objects.filter(department_id=OuterRef("pk"), status__in=DEPARTMENT_STEPS)
    # An open step past its deadline in the month is due and late (the indicator's rule); once done,
    # its event takes over and the item leaves ``with_it``'s late part: it is never counted twice.
    late_open = with_it.filter(due_at__gte=lo, due_at__lt=min(hi, now))
    return departments.annotate(
        steps_done=_count(steps),
        steps_done_late=_count(steps.filter(on_time=False)),
        steps_open_late=_count(late_open),
        open_now=_count(with_it),
        overdue_now=_count(with_it.filter(due_at__lt=now)),
        supporting_now=_count(
            Incident.objects.filter(supporting_departments=OuterRef("pk"), status__in=DEPARTMENT_STEPS)
        ),
    )


@dataclass(frozen=True)
class DepartmentRecord:
    """One row of the departments' record (``department_accountability`` after counting)."""

    department: Department
    steps_due: int
    steps_late: int
    open_now: int
    overdue_now: int
    supporting_now: int

    @property
    def on_time_rate(self) -> float | None:
        """Steps done by their deadline / steps due, in percent to 2 decimals, as every rate of the
        statistics is written (the dashboards' incidents_on_time_rate of the same steps read 33.33%
        where this record read 33.3%), a half away from zero (四舍五入, docs/statistics.md
        "Precision"): 745 of 800 is 93.13%, where ``round`` of the float gave 93.12; None with none due."""
        if not self.steps_due:
            return None
        percent = Decimal(100 * (self.steps_due - self.steps_late)) / Decimal(self.steps_due)
        return float(percent.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def department_record(department: Department) -> DepartmentRecord:
    """A row of ``department_accountability`` as its record (sums made here, not in SQL, where each
    would repeat its subqueries)."""
    return DepartmentRecord(
        department=department,
        steps_due=department.steps_done + department.steps_open_late,
        steps_late=department.steps_done_late + department.steps_open_late,
        open_now=department.open_now,
        overdue_now=department.overdue_now,
        supporting_now=department.supporting_now,
    )
