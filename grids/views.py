"""Pages of the grids app: the grid worker's phone pages, the handler inbox and the incident page."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.exceptions import AuthenticationFailed

from governance.access import NOT_FOUND, scope_or_above_q, scope_q
from governance.forms import errors_text
from governance.models import Area, Department, Role
from governance.pagination import DeferredJoinPaginator
from governance.pictures import EXTENSIONS
from governance.rest import HashedTokenAuthentication, TooManyTokenFailures, may_take_step
from governance.templatetags.filters import summary_values
from governance.text import join_sentences
from governance.views import (
    area_filter_choices,
    filtered_rows,
    first_and_total,
    labels_in_scope,
    map_area_codes,
    namesake_labels,
    namesakes_in_scope,
)
from governance.workflow import ActionInvalid, WorkflowError, latest_step_subquery
from grids import photos, selectors, services
from grids.filters import IncidentFilter
from grids.forms import ActionForm, MonthForm, ReportForm
from grids.models import (
    ACTION_LABELS,
    INBOX_ORDER,
    WORKFLOW,
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentPhoto,
    Level,
    _check_left_to_the_grid,
    allowed_actions,
    checks_for_the_grid,
    duty_conflict,
    grid_checkers_known,
    may_perform,
    reads_in_full,
    text_for_reader,
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if selectors.worker_grids(request.user) and not request.user.has_role(Role.HANDLER):
        return redirect("grids-my")
    return redirect("grids-inbox")


# The most items each list of "My grid" shows; the rest are in the inbox, which the page links to.
MY_GRID_SHOWN = 100


@login_required
@require_GET
def my_grid(request: HttpRequest) -> HttpResponse:
    """The grid worker's start page: the grid on a map, the checks waiting for them, and their own
    open reports by status."""
    grids = selectors.worker_grids(request.user)
    mine = selectors.incident_list(request.user).filter(reporter=request.user)
    # Every item is counted, not only those shown: past the first MY_GRID_SHOWN the headings said
    # "200" (or "50") however many there were, and the rest went unmentioned.
    open_items, open_count = first_and_total(
        mine.filter(status__in=Incident.OPEN_STATUSES).order_by("due_at", "-reported_at"), MY_GRID_SHOWN
    )
    by_status: dict[str, list[Incident]] = {}
    for item in open_items:
        by_status.setdefault(item.get_status_display(), []).append(item)
    # The last ten that ended, the rejected apart: under "最近办结" alone a report the centre refused
    # read as resolved. Split from the one list read, no query of their own.
    # A rejected one brings its reason along, in the same query (shown shortened on its row).
    recent_ended = list(
        mine.exclude(status__in=Incident.OPEN_STATUSES).with_rejection_reason().order_by("-reported_at")[:10]
    )
    # The rejected first: they are the ones the worker acts on (report again with what was missing),
    # the finished ones need nothing more. Below them they went unseen under a long "已办结".
    ended = {
        pgettext("reports of mine that ended", "Rejected"): [
            i for i in recent_ended if i.status == Incident.Status.REJECTED
        ],
        pgettext("reports of mine that ended", "Finished"): [
            i for i in recent_ended if i.status != Incident.Status.REJECTED
        ],
    }
    to_verify, verify_count = first_and_total(selectors.checks_waiting(request.user), MY_GRID_SHOWN)
    markers = [
        {
            "lat": i.lat,
            "lng": i.lng,
            "code": i.code,
            "label": f"{i.code} {i.category.label}",
            "url": reverse("grids-incident", args=[i.code]),
        }
        for i in open_items
        if i.lat is not None
    ]
    return render(
        request,
        "grids/my_grid.html",
        {
            "grids": grids,
            "grid_codes": ",".join(g.code for g in grids),
            "by_status": by_status,
            "open_count": open_count,
            "open_shown": len(open_items),
            "ended": {label: items for label, items in ended.items() if items},
            "to_verify": to_verify,
            "verify_count": verify_count,
            "markers": markers,
            "uncalendared": selectors.uncalendared_years([*open_items, *to_verify]),
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The report form. With JavaScript it is sent by fetch (JSON answers) so that nothing typed is
    lost on a network or server failure; without it, a plain POST re-renders the form with errors."""
    grids = selectors.worker_grids(request.user)
    if not services.may_report(request.user):  # the same rule as the API (grids.services)
        raise PermissionDenied(_("Only grid workers and handlers report incidents."))
    # Only grids in service today are offered (and taken: grids.services): a worker's grid merged
    # away, or drawn for later, is no place for a new report.
    today = timezone.localdate()
    choices = [g for g in grids if g.serves_on(today)] or _unmapped_grids(request.user)
    form = ReportForm(
        request.POST if request.method == "POST" else None,
        grids=choices,
        on_the_spot=services.may_resolve_on_the_spot(request.user),
    )
    photo_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            incident = services.incident_report(
                actor=request.user,
                category=d["category"],
                description=d["description"],
                occurred_at=d.get("occurred_at"),
                lat=d.get("lat"),
                lng=d.get("lng"),
                grid=d.get("grid") or None,
                address=d.get("address", ""),
                kind=d["kind"],
                resolution=d.get("resolution", ""),
                photos=request.FILES.getlist("photos"),
                submission=d.get("submission"),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    if field == "photos":
                        photo_errors.append(error)  # not a form field: the files come from request.FILES
                    else:
                        form.add_error(field if field in form.fields else None, error)
        else:
            url = reverse("grids-reported", args=[incident.code])
            gone = selectors.reported_out_of_reach(request.user, incident)
            if gone:  # a draft resent after the worker moved: say so, not a 404 page
                messages.info(request, gone)
                url = reverse("grids-my")
            if _wants_json(request):
                return JsonResponse({"code": incident.code, "redirect": url}, status=201)
            return redirect(url)
    if request.method == "POST" and not form.is_valid():
        # The form stopped the report before the service: its photos and an on-the-spot item's needs
        # are told now too, not after the worker has fixed the rest and sent it all again.
        extra = services.report_photos_checked(
            kind=request.POST.get("kind", ""),
            resolution=request.POST.get("resolution", ""),
            photos=request.FILES.getlist("photos"),
        )[1]
        photo_errors = extra.pop("photos", [])
        # Where and when, too: a point outside the worker's grids or a time to come was told only
        # once the category had been chosen and the report sent again; and an item resolved on the
        # spot in a grid that is not the worker's, which only the grid found from them tells.
        extra.update(
            services.report_place_and_time_errors(
                actor=request.user, values=form.cleaned_data, refused=form.errors.keys()
            )
        )
        for field, errors in extra.items():
            if field in form.fields and field not in form.errors:
                form.add_error(field, errors)
    if request.method == "POST" and _wants_json(request):
        errors = {f: [str(e) for e in errs] for f, errs in form.errors.items()}
        if photo_errors:
            errors["photos"] = photo_errors
        return JsonResponse(
            {"detail": _("The report was not saved. Please check the marked fields."), "errors": errors},
            status=400,
        )
    return render(
        request,
        "grids/report.html",
        {
            "form": form,
            "grids": choices,
            "worker": bool(grids),
            # The worker's grids, or the reporter's areas (governance.views.map_area_codes).
            "grid_codes": ",".join(g.code for g in grids) or map_area_codes(request.user),
            "photo_errors": photo_errors,
            # The limits the page checks as photos are chosen (grids/photo_check.js), the server's own.
            "photo_max_count": photos.MAX_PER_STEP,
            "photo_max_bytes": photos.MAX_BYTES,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def reported(request: HttpRequest, code: str) -> HttpResponse:
    incident = selectors.incident_get_for_user(request.user, code)
    if incident.reporter_id != request.user.pk:
        # The reporter's confirmation: another user of the area made no report, and is shown the item.
        return redirect("grids-incident", code=incident.code)
    # Back to the reporter's own list: a grid worker's grid, a centre handler's inbox ("My grid"
    # told a handler "You are not a grid worker of any grid").
    worker = bool(selectors.worker_grids(request.user))
    return render(
        request,
        "grids/reported.html",
        {"incident": incident, "worker": worker, "centre": capfirst(CENTRES[Level(incident.level)])},
    )


def _departments_for(incidents: list[Incident]) -> dict[int, list[Department]]:
    """Dispatch choices per incident from ONE query: departments of every ancestor of the grids shown."""
    codes = {c for i in incidents for c in i.grid.path.strip("/").split("/")}
    if not codes:
        return {}
    departments = list(
        Department.objects.filter(area__code__in=codes, is_active=True)
        .select_related("area")
        .order_by("-area__depth", "name")
    )
    return {i.pk: [d for d in departments if i.grid.path.startswith(d.area.path)] for i in incidents}


def _duty_note(user, incident: Incident) -> str | None:
    """Why a handler who could close the item, or check it on site for a grid with nobody to do it,
    finds no button: they took a command step on it (separate duties)."""
    if not user.has_role(Role.HANDLER):
        return None
    if incident.status == Incident.Status.VERIFIED:
        return duty_conflict(user, incident, "close")
    if incident.status == Incident.Status.FED_BACK and checks_for_the_grid(user, incident):
        return duty_conflict(user, incident, "verify")
    return None


# The steps an inbox row takes in place; the others (feedback, verify, evaluate, assist) need the
# incident's page, which the row links to once.
INLINE_ACTIONS = {"accept", "handle", "close", "dispatch", "escalate", "reject"}


def _row_context(user, incidents: list[Incident], labels: dict[str, str] | None = None) -> list[dict]:
    """Each row's context; ``labels``: the grids' names that tell namesakes apart
    (``namesakes_in_scope``), read here when the caller has not (one query, not one per row)."""
    if labels is None:
        labels = namesakes_in_scope(user, {i.grid.name for i in incidents})
    departments = _departments_for(incidents)
    grid_checkers_known(incidents)  # who may check the fed-back rows on site: one query, not one per row
    # Each row's latest step (``latest_step_id``, annotated by the row's query), for why the item came
    # back: one query for the page's rows.
    latest = {
        e.pk: e
        for e in IncidentEvent.objects.filter(
            pk__in=[i.latest_step_id for i in incidents if getattr(i, "latest_step_id", None)],
            action__in=HANDED_BACK,
        ).select_related("actor")
    }
    rows = []
    for i in incidents:
        step = latest.get(getattr(i, "latest_step_id", None))
        actions = allowed_actions(user, i)
        # A re-dispatch asks for its reason and shows who has the item now: the incident's page.
        redispatch = i.status == Incident.Status.DISPATCHED and "dispatch" in actions
        inline = [a for a in actions if a in INLINE_ACTIONS and not (redispatch and a == "dispatch")]
        rows.append(
            {
                "incident": i,
                # A city's inbox listed two rows "桂花社区1第1网格" of two districts.
                "grid_label": labels.get(i.grid.code, i.grid.name),
                "actions": inline,
                "departments": departments.get(i.pk, []),
                # One "Next step" link, not one per such step: a department's row with feedback and
                # assist, or a worker's with verify and evaluate, had two identical links.
                "page_steps": len(inline) < len(actions),
                # As on the incident's page: why a handler who could close finds no button here.
                "duty_note": _duty_note(user, i),
                # As on the incident's page: who handed it back or up, and why. The row read "已受理"
                # alone, and a returned item was dispatched to the same department again.
                "handed_back": _handed_back(user, i, [step] if step else []),
            }
        )
    return rows


# The inbox form's own labels for its filters, in the order its ``filters_summary`` names them, and
# the names of a refused filter in its message: the filterset's labels are the API's ("area code:
# its whole subtree"), words the form beside the message shows nowhere.
INBOX_FILTER_LABELS = {
    "status": gettext_lazy("Status"),
    "open": gettext_lazy("Completion"),
    "category": gettext_lazy("Category"),
    "grid": gettext_lazy("Grid"),
    "level": gettext_lazy("Level"),
    "kind": gettext_lazy("Kind"),
    "department": gettext_lazy("Department"),
    "overdue": gettext_lazy("Overdue"),
    "mine": gettext_lazy("Reported by"),
    "reported_from": gettext_lazy("Reported from"),
    "reported_to": gettext_lazy("Reported to"),
    "rejected_from": gettext_lazy("Rejected from"),
    "area": gettext_lazy("Area"),
}


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Handlers' work list: everything in their subtree, open items by default, with one-click steps."""
    params = request.GET.copy()
    # Several statuses chosen (a department's "In hand", the departments' record) come back from the
    # form's status select as one option, "dispatched,handling": the select shows one value only.
    statuses = [s for value in params.getlist("status") for s in value.split(",") if s]
    if statuses:
        params.setlist("status", statuses)
    department = selectors.work_department(request.user)
    if not params and department:
        # A department's liaison starts at what is with it now (dispatched or handling, led or
        # supported), as its home's "In hand" counts: not the whole district, and not the items it fed
        # back, which wait for the grid's check and a centre's close (steps it cannot take). Opened
        # from the menu the list read "事件待办 4" beside the home's "在办 2".
        params["department"] = str(department)
        params.setlist("status", list(Incident.WITH_DEPARTMENT))
        statuses = list(Incident.WITH_DEPARTMENT)
    elif not params:
        params["open"] = "true"
    elif params.get("status"):
        # A status chosen in the form decides alone, as on the organisation page: the "open only"
        # select, shown at "open" by default, was sent along with it, and "closed" listed nothing.
        params.pop("open", None)
    filterset = IncidentFilter(
        params,
        # Its index's order; each row's latest event for its step forms' ``state`` (no query per row).
        # A rejected row's reason too, which a worker read only by opening it.
        queryset=selectors.incident_list(request.user)
        .annotate(latest_step_id=latest_step_subquery(IncidentEvent, "incident"))
        .with_rejection_reason()
        .order_by(*INBOX_ORDER),
        request=request,  # the area filter resolves codes within the user's scope
    )
    # A refused filter (a bad value, or a code naming nothing in the user's scope) is a 400 listing
    # each refused filter by its label, with no rows: never an empty list that reads as "all done".
    qs, error = filtered_rows(filterset, INBOX_FILTER_LABELS | {"sort": gettext_lazy("Order")})
    page = DeferredJoinPaginator(qs, 50).get_page(request.GET.get("page"))
    incidents = list(page.object_list)
    # The rows' grids and the filter summary's grid and area by names that tell namesakes of the
    # user's scope apart, in one query for them all.
    named = {f: filterset.filters[f].named for f in ("grid", "area")}
    labels = namesakes_in_scope(
        request.user, {i.grid.name for i in incidents} | {n for f in named.values() for n in f.values()}
    )
    rows = _row_context(request.user, incidents, labels)
    query = params.copy()
    query.pop("page", None)
    categories = list(IncidentCategory.objects.filter(is_active=True))  # the form's and the summary's
    # The department select's choices, grouped by area as its optgroups show them; the summary names
    # a department whose name another choice bears by its group's label too, as the select shows it.
    department_groups = _grouped(
        Department.objects.filter(pk=department).select_related(*AREA_NAMES_ABOVE)
        if department
        else _department_choices(request.user),
        "area",
    )
    department_labels = _namesake_departments(department_groups)
    area_choices = area_filter_choices(request.user)
    return render(
        request,
        "grids/inbox.html",
        {
            "filterset": filterset,
            "filter_errors": filterset.errors,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "statuses": Incident.Status.choices,
            "statuses_chosen": _statuses_chosen(statuses),
            "levels": Level.choices,
            "kinds": Incident.Kind.choices,
            "sorts": IncidentFilter.base_filters["sort"].extra["choices"],
            "categories": categories,
            # The summary names the values in force: the choices' labels, and a grid, department or
            # area by the name its filter read (no query of its own).
            "filter_labels": INBOX_FILTER_LABELS,
            "summary_values": summary_values(
                filterset,
                open={"true": _("open"), "false": _("finished")},
                # "Reported by" alone said nobody: the form's select reads "me".
                mine={"true": _("me")},
                category={c.code: c.label for c in categories},
                **{f: {code: labels.get(code, name) for code, name in n.items()} for f, n in named.items()},
                department={
                    pk: department_labels.get(pk, name)
                    for pk, name in filterset.filters["department"].named.items()
                },
            ),
            "area_choices": area_choices,
            "grids": _grouped(_grid_choices(request.user), "parent"),
            "departments": department_groups,
            "params": params,
            "may_view_departments": selectors.may_view_departments(request.user),
            # A grid worker's own reports ("All my finished or rejected reports" on their grid page) are not a
            # to-do list: the page is titled as what it lists, and a column of steps that nobody
            # here may take (an analyst's view, finished items) is left out instead of shown empty.
            "title": _("My reports")
            if params.get("mine") == "true"
            # What the department has in hand, the home's "In hand" list: the heading says what it counts.
            else _("In hand with my department")
            if department
            and params.get("department") == str(department)
            and sorted(statuses) == sorted(Incident.WITH_DEPARTMENT)
            else _("Incident inbox")
            if request.user.is_superuser or request.user.has_role(*selectors.ACTING_ROLES)
            else _("Incidents"),  # an analyst's: a list to read, not work to do
            "uncalendared": selectors.uncalendared_years(row["incident"] for row in rows),
            "hide_actions": not any(row["actions"] or row["page_steps"] or row["duty_note"] for row in rows),
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    """The departments' record for a month (docs/incidents.md "Departments' record"): the same rows
    as ``GET /api/v1/incidents/departments/``. A bad month is a 400 with the error under the picker."""
    if not selectors.may_view_departments(request.user):
        raise PermissionDenied(selectors.DEPARTMENTS_FORBIDDEN)
    form = MonthForm(request.GET)
    page = month = None
    rows: list = []
    if form.is_valid():
        month = form.cleaned_data["month"]
        records = selectors.DepartmentRecords(request.user, month)  # counted for the page's rows only
        page = Paginator(records, 100).get_page(request.GET.get("page"))
        # Each row's area by a name that tells it from a namesake's: a city's record listed two
        # "社区综治中心 · 桂花社区1" rows.
        labels = namesake_labels({row.department.area for row in page.object_list})
        rows = [(row, labels[row.department.area_id]) for row in page.object_list]
    # Not ``if page``: a page without departments is falsy, and it is an answer, not a bad request.
    return render(
        request,
        "grids/departments.html",
        {"form": form, "page": page, "rows": rows, "month": month},
        status=400 if month is None else 200,
    )


# A district's grids (about 550 in a city of 6,600) fit a select; a whole city's do not (hundreds of
# KB of options on every inbox page). Beyond this many the grid filter is a code to type instead: a
# select cut at the first N grids left the rest unreachable.
GRID_CHOICES_MAX = 1000


# The departments a centre dispatches to: its area's, and those of the areas above it (a community's
# street and district departments), about a hundred in a district.
DEPARTMENT_CHOICES_MAX = 300


def _statuses_chosen(statuses: list[str]) -> tuple[str, str] | None:
    """The status select's option for several statuses at once (value, label), else None."""
    labels = dict(Incident.Status.choices)
    if len(statuses) < 2 or not all(s in labels for s in statuses):
        return None
    return ",".join(statuses), " / ".join(str(labels[s]).capitalize() for s in statuses)


def _department_choices(user) -> list[Department]:
    """The inbox's department filter for a centre's handlers and analysts ("what is with the police?"): the API's
    ``?department=`` was on the page only for a department's own people, fixed to their department.
    Empty for the other roles, and beyond ``DEPARTMENT_CHOICES_MAX`` (the address still takes it).
    An analyst reads the departments' record, whose names link here with the department chosen."""
    if not (user.is_superuser or user.has_role(Role.HANDLER, Role.ADMIN, Role.ANALYST)):
        return []
    q = scope_or_above_q(user, "area")
    rows = Department.objects.all() if q is None else Department.objects.filter(q)
    rows = list(
        rows.select_related(*AREA_NAMES_ABOVE).order_by("area__code", "name")[: DEPARTMENT_CHOICES_MAX + 1]
    )
    return [] if len(rows) > DEPARTMENT_CHOICES_MAX else rows


def _unmapped_grids(user) -> list[Area]:
    """The grids a reporter without a grid of their own (a centre's handler) names on the report
    page: those of their area drawn without a boundary, where no point can find a grid. Such a grid,
    often one nobody works in yet, could otherwise be reported in only through the API; the others
    are found from the pin. At most ``GRID_CHOICES_MAX``."""
    q = scope_q(user, "", services.REPORTER_ROLES)
    grids = Area.objects.filter(Area.in_service_on(timezone.localdate()), level="grid", boundary__isnull=True)
    return list((grids if q is None else grids.filter(q)).order_by("code")[:GRID_CHOICES_MAX])


# The areas above a department's area or a grid's community loaded with them, for the names that
# tell one "桂花社区1" from another (``namesake_labels``): district, street and community, one join each.
AREA_NAMES_ABOVE = ("area__parent__parent",)


def _grouped(rows, under: str) -> list[tuple[str, list]] | None:
    """``rows`` (grids or departments, ordered by their area's code) grouped by the area ``under``
    them (a grid's community, a department's area) for a select's optgroups, each labelled by its
    area's name or, where another group's area has the same name, with the names above it: a city's
    inbox listed two "桂花社区1第1网格" nobody could tell apart. One group has no label (a community's
    own grids need no heading). None stays None (too many for a select)."""
    if rows is None:
        return None
    groups: dict[int, list] = {}
    areas = {}
    for row in rows:
        area = getattr(row, under)
        areas[area.pk] = area
        groups.setdefault(area.pk, []).append(row)
    labels = namesake_labels(areas.values()) if len(groups) > 1 else dict.fromkeys(groups, "")
    return [(labels[pk], members) for pk, members in groups.items()]


def _namesake_departments(groups: list[tuple[str, list]] | None) -> dict[str, str]:
    """Each department of the select's ``groups`` (``_grouped``) whose name another choice bears,
    by its id: its group's label before its name ("乙一街道 · 春晖社区 · 社区综治中心"), as the select
    shows it under that heading. No query: the choices are loaded already."""
    if not groups:
        return {}
    bearers = Counter(d.name for _label, members in groups for d in members)
    return {
        str(d.pk): f"{label} · {d.name}"
        for label, members in groups
        for d in members
        if label and bearers[d.name] > 1
    }


def _grid_choices(user) -> list[Area] | None:
    """The grids of the user's area for the inbox's select, or None if too many for one."""
    grids = list(
        Area.objects.visible_to(user)
        .filter(level="grid")
        .select_related("parent__parent__parent")
        .order_by("code")[: GRID_CHOICES_MAX + 1]
    )
    return None if len(grids) > GRID_CHOICES_MAX else grids


# Who takes the next step, by the item's status (``STEP_OWNERS``): the centre at its level (a grid-level
# item's is the community's, as no centre sits at a grid), the department, the grid's check.
CENTRES = {
    Level.GRID: gettext_lazy("the community centre"),
    Level.COMMUNITY: gettext_lazy("the community centre"),
    Level.STREET: gettext_lazy("the street centre"),
    Level.DISTRICT: gettext_lazy("the district centre"),
}
NEXT_STEPS = {
    Incident.Status.REPORTED: gettext_lazy("Next: %(centre)s accepts it, or rejects or escalates it."),
    Incident.Status.ACCEPTED: gettext_lazy("Next: %(centre)s dispatches it to a department."),
    Incident.Status.DISPATCHED: gettext_lazy("Next: %(department)s handles it and reports back."),
    Incident.Status.HANDLING: gettext_lazy("Next: %(department)s handles it and reports back."),
    Incident.Status.FED_BACK: gettext_lazy("Next: the result is checked on site in %(grid)s."),
    Incident.Status.VERIFIED: gettext_lazy("Next: %(centre)s closes it."),
    Incident.Status.CLOSED: gettext_lazy(
        "Next: the handling is rated, by a grid worker of the grid or a centre."
    ),
}


# A step that hands the item back or up carries a reason the next one to act needs before anything
# else: the centre dispatching a returned item again, the street accepting an escalated one, the
# department handling again what the on-site check found still wrong.
HANDED_BACK = {
    "return": gettext_lazy("Returned by %(who)s: %(reason)s"),
    "escalate": gettext_lazy("Escalated by %(who)s: %(reason)s"),
    "verify": gettext_lazy("The on-site check by %(who)s failed: %(reason)s"),
}


def _handed_back(user, incident: Incident, events: list[IncidentEvent]) -> str:
    """Why the item is where it is, when its latest step handed it back or up with a reason, else ''."""
    latest = events[-1] if events else None
    if latest is None or not latest.note or latest.action not in HANDED_BACK:
        return ""
    if latest.action == "verify" and latest.to_status != Incident.Status.HANDLING:
        return ""  # a passed check: nothing handed back
    return HANDED_BACK[latest.action] % {
        "who": latest.actor,
        "reason": text_for_reader(user, incident, latest.note),
    }


def _next_step(user, incident: Incident, events: list[IncidentEvent], grid_label: str) -> dict | None:
    """What comes next and who has the item now, for the line under its number: after a step the page
    said "Feedback: done" and the new status, and a user with no step of their own left (the department
    that fed back, the worker who checked) read nothing of whose turn it was. A rejected item says by
    whom and why (the reason sat at the foot of the timeline, below the map on a phone). From the row
    and the timeline already read: no query."""
    if incident.status == Incident.Status.REJECTED:
        rejection = next((e for e in reversed(events) if e.action == "reject"), None)
        return {
            "rejected_by": str(rejection.actor) if rejection else "",
            "reason": rejection.note if rejection else "",
        }
    text = NEXT_STEPS.get(incident.status)
    if text is None:
        return None
    return {
        "why": _handed_back(user, incident, events),
        "text": text
        % {
            "centre": CENTRES[Level(incident.level)],
            "department": incident.department.name if incident.department else "",
            "grid": grid_label,
        },
    }


def _incident_context(request: HttpRequest, incident: Incident) -> dict:
    events = list(selectors.incident_events(incident))
    # Photos are shown to those who work on the area's incidents only (selectors.photo_get_for_user);
    # the other readers are told how many there are.
    shows_photos = reads_in_full(request.user, incident)
    for event in events:
        # The report's photos (an on-the-spot item's too, kept with its close event) are shown once,
        # with the incident's facts; the timeline shows each feedback's and on-site check's photos at
        # its step.
        event.step_photos = [
            p for p in event.photos.all() if p.stage != IncidentPhoto.Stage.REPORT and shows_photos
        ]
    # A dispute can become a mediation case. The link goes by URL name only: grids never imports
    # mediation (DESIGN.md section 2), and without that app the link simply is not shown.
    mediation_url = None
    # A closed incident that never became a case is not offered any more (its handling is over);
    # one that did keeps the link to its case.
    if incident.category.is_dispute and (
        request.user.is_superuser or request.user.has_role(Role.HANDLER, Role.MEDIATOR, Role.ADMIN)
    ):
        try:
            mediation_url = reverse("mediation-from-incident", args=[incident.code])
        except NoReverseMatch:
            mediation_url = None
    actions = allowed_actions(request.user, incident)
    # The grid and the level's area named as the inbox's row names them: a city's two "春晖第1网格".
    labels = labels_in_scope(request.user, incident.grid, incident.level_area)
    return {
        "grid_label": labels[incident.grid.code],
        "next_step": _next_step(request.user, incident, events, labels[incident.grid.code]),
        "level_area_label": labels[incident.level_area.code],
        # The language switch comes back here after a step was refused on the page (posted to an
        # address that only takes POST, which answered the switch with a blank 405).
        "page_url": reverse("grids-incident", args=[incident.code]),
        "incident": incident,
        "events": events,
        "photos": [
            p for p in incident.photos.all() if p.stage == IncidentPhoto.Stage.REPORT and shows_photos
        ],
        "photos_withheld": 0 if shows_photos else len(incident.photos.all()),
        # The limits the feedback's and the check's photos are checked against as they are chosen
        # (grids/photo_check.js).
        "photo_max_count": photos.MAX_PER_STEP,
        "photo_max_bytes": photos.MAX_BYTES,
        "actions": actions,
        # Fed back, the item waits for its grid worker's check: a centre's handler with no step of
        # their own on it is told whose turn it is (the page had no "Next step" at all).
        "duty_note": _duty_note(request.user, incident)
        or (
            _check_left_to_the_grid(request.user, incident, "verify")
            if incident.status == Incident.Status.FED_BACK and "verify" not in actions
            else None
        ),
        "action_labels": ACTION_LABELS,
        "departments": selectors.dispatch_departments(incident) if "dispatch" in actions else [],
        "assist_departments": selectors.assist_departments(request.user, incident),
        "evaluations": Incident.Evaluation.choices,
        "mediation_url": mediation_url,
        "marker": {"lat": incident.lat, "lng": incident.lng, "label": incident.code}
        if incident.lat is not None
        else None,
    }


@login_required
@require_GET
def incident_detail(request: HttpRequest, code: str) -> HttpResponse:
    incident = selectors.incident_get_for_user(request.user, code)
    return render(request, "grids/incident.html", _incident_context(request, incident))


# The fields each action's form on the incident page shows, where a refusal naming one is displayed
# (templates/grids/incident.html). The assisting department is a select only for some users: its
# errors head the form like those of fields the page does not show.
ACT_FIELDS = {
    "dispatch": ("department", "supporting_departments"),
    "accept": ("kind",),
    "feedback": ("resolution", "photos", "note"),
    "verify": ("result", "photos", "note"),
    "evaluate": ("evaluation", "note"),
    "reject": ("note",),
    "escalate": ("note",),
    "return": ("note",),
    "assist": ("note",),
}


@require_POST
def incident_act(request: HttpRequest, code: str) -> HttpResponse:
    """One workflow step from a page. From the inbox (HTMX) it answers with the refreshed row."""
    if not request.user.is_authenticated:
        # The session ended while the page was open. Signing in must lead back to the incident (or the
        # inbox), not to this POST-only address (login_required's "next": a 405 dead end), and htmx must
        # navigate there rather than swap the login page into the inbox row.
        from_inbox = request.POST.get("from") == "inbox"
        back = reverse("grids-inbox") if from_inbox else reverse("grids-incident", args=[code])
        response = redirect_to_login(back)
        if request.headers.get("HX-Request"):
            response = HttpResponse(headers={"HX-Redirect": response["Location"]})
        return response
    incident = selectors.incident_get_for_user(request.user, code, write=True)
    form = ActionForm(request.POST)
    error = error_field = None
    # A refusal answers with the status the API gives (400 / 403 / 409), as the dispute and petition
    # pages do: a step from the wrong state was a 400 here and a 409 there.
    status = 400
    if not form.is_valid() and not may_take_step(
        request.user, incident, workflow=WORKFLOW, may_perform=may_perform, action=request.POST.get("action")
    ):
        # Not this user's step: the 403 the complete form gets, not what to fix (as the API's step_input).
        error, status = _("Your role may take no such step on this incident."), 403
    elif not form.is_valid():
        # Shown inside the action's own form, at the field it concerns (``ACT_FIELDS``).
        error = join_sentences(e for errors in form.errors.values() for e in errors)
        error_field = next(iter(form.errors))
    else:
        try:
            # ``state``: a second tap on a slow phone, or htmx sending a queued click, finds the step
            # the first send took and is answered as done. Taking it again would escalate twice (two
            # levels up) or be refused as if the first had failed.
            event = services.incident_transition(
                incident=incident,
                actor=request.user,
                action=form.cleaned_data["action"],
                note=form.cleaned_data.get("note", ""),
                photos=request.FILES.getlist("photos"),
                state=form.cleaned_data.get("state") or None,
                **form.action_fields(),
            )
        except ActionInvalid as exc:
            error, error_field = exc.message, exc.field
        except WorkflowError as exc:
            error, status = exc.message, exc.status_code
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                error_field = next(iter(exc.error_dict))
            error = errors_text(exc)
        else:
            done = event.done_message(incident.code)
    if request.headers.get("HX-Request") and request.POST.get("from") == "inbox":
        incident = selectors.incident_get_for_user(request.user, code)
        row = _row_context(request.user, [incident])[0]
        # A refused step keeps what was chosen and typed in its row's form (the department and the
        # ticked supporters of a dispatch, the reason of a rejection or an escalation), as the
        # incident page does: a handler does not choose it all again to fix one thing.
        kept = {"failed_action": request.POST.get("action", ""), "posted": request.POST} if error else {}
        return render(
            request,
            "grids/_inbox_row.html",
            {
                **row,
                **kept,
                "posted_supporting": request.POST.getlist("supporting_departments") if error else None,
                "row_error": error,
                # The row's field the refusal names, marked and described by the message.
                "row_error_field": error_field
                if error and error_field in ACT_FIELDS.get(request.POST.get("action", ""), ())
                else None,
                "row_done": None if error else done,
            },
        )
    if error:
        # Re-render rather than redirect: a worker who typed what was done on a phone (and picked
        # photos) must not lose it because one photo was refused or the step was taken meanwhile.
        incident = selectors.incident_get_for_user(request.user, code)
        context = _incident_context(request, incident)
        context.update(
            {
                "failed_action": request.POST.get("action", ""),
                "act_error": error,
                # The field the error is shown at; other errors head the action's form.
                "act_error_field": error_field
                if error_field in ACT_FIELDS.get(request.POST.get("action", ""), ())
                else None,
                "posted": request.POST,
                "posted_supporting": request.POST.getlist("supporting_departments"),
                # A browser cannot put chosen files back into the form: refused for another field,
                # the photo field says they must be chosen again (for the photos, it names the error).
                "photos_dropped": bool(request.FILES.getlist("photos")) and error_field != "photos",
            }
        )
        return render(request, "grids/incident.html", context, status=status)
    messages.success(request, done)
    return redirect("grids-incident", code=incident.code)


def _token_user(request: HttpRequest):
    """The user of an ``Authorization: Token ...`` header (a REST client), or None without one.

    The API's incident detail and timeline give each photo's ``url`` (this view): a client that signs
    in with a token, not a session, must be able to fetch it. A header with a wrong token is refused
    (401), as the API refuses it, rather than sent to the login page."""
    found = HashedTokenAuthentication().authenticate(request)  # AuthenticationFailed for a wrong token
    return found[0] if found else None


@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve a photo only to users who can see its incident (files are never public under MEDIA_URL):
    the signed-in user of a session, or of a REST client's token."""
    return _photo_response(request, pk, copy="")


@require_GET
def photo_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo's thumbnail, to the same users as the photo (``photo``). A photo stored before
    thumbnails were, and not yet given one (``grids_photo_thumbnails``), is served whole instead."""
    return _photo_response(request, pk, copy="thumbnail")


@require_GET
def photo_display(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo's display copy (at most 640 px a side), what a tap on its thumbnail opens: a phone
    fetches some 100 KB, not the 1-3 MB photo. To the same users as the photo; a photo stored before
    these copies were, and not yet given one (``grids_photo_thumbnails``), is served whole instead."""
    return _photo_response(request, pk, copy="display")


# The file name a copy is served under, after "photo-<id>".
COPY_SUFFIXES = {"thumbnail": "-small", "display": "-640"}


def _photo_response(request: HttpRequest, pk: int, *, copy: str) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        try:
            user = _token_user(request)
        except AuthenticationFailed as exc:
            return JsonResponse(
                {"detail": str(exc.detail)}, status=401, headers={"WWW-Authenticate": "Token"}
            )
        except TooManyTokenFailures as exc:  # outside DRF: its handler would have made this 429
            return JsonResponse(
                {"detail": str(exc.detail)}, status=429, headers={"Retry-After": str(exc.wait)}
            )
        if user is None:
            return redirect_to_login(request.get_full_path())
    item = selectors.photo_get_for_user(user, pk)
    handle = None
    content_type, name = item.content_type, f"photo-{item.pk}"
    if copy and getattr(item, copy):
        try:
            handle = getattr(item, copy).open("rb")
            content_type, name = item.thumbnail_type, f"photo-{item.pk}{COPY_SUFFIXES[copy]}"
        except FileNotFoundError:
            handle = None  # its file lost: the photo is shown rather than a broken picture
    if handle is None:
        try:
            handle = item.file.open("rb")
        except FileNotFoundError:
            raise Http404(str(NOT_FOUND)) from None
    # Shown inline with the type verified at upload (the file was decoded and re-encoded by Pillow),
    # under a sandbox policy: opened from its thumbnail it renders in an opaque origin, never ours.
    # It was an attachment, and tapping a thumbnail on a phone saved the photo (faces, plates,
    # doorways) into the phone's downloads, where the next user of a shared phone found it.
    extension = EXTENSIONS.get(content_type)
    if extension is None:
        handle.close()
        raise Http404(str(NOT_FOUND))
    response = FileResponse(
        handle, content_type=content_type, as_attachment=False, filename=f"{name}{extension}"
    )
    response["Content-Security-Policy"] = "sandbox"
    # Not kept by the browser: a photo can show faces, plates and doorways, and a shared phone's
    # next user must not find it in the cache after its grid worker signed out (as for every page).
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
