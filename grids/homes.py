"""The grids section of the role home pages: a grid worker's open items, a handler's inbox."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Role
from governance.periods import start_of_local_day
from governance.views import first_and_total, namesakes_in_scope
from grids.models import Incident
from grids.selectors import checks_waiting, uncalendared_years, work_department

# The most items the section lists; the pages its links open have them all.
HOME_SHOWN = 5
# How far back a grid worker's home counts their rejected reports: today and the six days before.
REJECTED_DAYS = 7


def new_today(incidents: QuerySet[Incident], list_url: str) -> dict:
    """The home's "New today" link: the items of ``incidents`` reported since the start of the local
    day (by anyone, whatever their status now), and ``list_url`` (ending in "?" or "&") filtered to
    exactly those. A fixed boundary, not "since your last visit": nothing is tracked per user, and the
    count reads the same on every device all day (index incident_grid_reported / incident_reported_at)."""
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "url": f"{list_url}reported_from={start_of_day:%Y-%m-%d}",
        "label": _("New today"),
        "count": incidents.filter(reported_at__gte=start_of_day).count(),
    }


def rejected_lately(user) -> dict | None:
    """The grid worker's "Rejected, last 7 days" link, or None when there is none: the worker's own
    reports that a centre rejected in the last ``REJECTED_DAYS`` local days. Of the workflow's ends
    it is the one that comes back to the reporter (the reason is on the incident's page and on the
    lists' rows: report it again with what was missing, or take it up with the centre); a failed
    check or a department's return goes to the department or the centre, not to them. A fixed window
    by the rejection's own day, not the report's: an item escalated for days is rejected long after
    it was sent, and was news the week it came back. The inbox filters the same way
    (``rejected_from``), so the link lists exactly what is counted; nothing is tracked per user
    (index incident_reporter_status, then each one's rejection through incident_event_timeline)."""
    since = timezone.localdate() - dt.timedelta(days=REJECTED_DAYS - 1)
    count = (
        Incident.objects.visible_to(user)
        .filter(reporter=user)
        .rejected_since(start_of_local_day(since))
        .count()
    )
    if not count:
        return None
    return {
        "url": reverse("grids-inbox") + f"?mine=true&status=rejected&rejected_from={since:%Y-%m-%d}",
        "label": _("Rejected, last 7 days"),
        "count": count,
    }


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated:
        return None
    if user.has_role(Role.HANDLER) or user.is_superuser:
        visible = Incident.objects.visible_to(user)
        department = work_department(user)
        now = timezone.now()
        new = visible
        if department:
            # A department's liaison counts its own work (led or supported): what is with it now. Once
            # fed back the item waits for the grid's check and a centre's close, steps that are not the
            # department's (docs/incidents.md "Who answers for a step"), as the departments' record counts.
            visible = visible.filter(Incident.involving_q(department))
            new = new.filter(Incident.involving_q(department))
            current = visible.filter(status__in=Incident.WITH_DEPARTMENT)
            inbox = reverse("grids-inbox") + f"?department={department}&status=dispatched&status=handling&"
            current_link = {"url": inbox.rstrip("&"), "label": _("In hand")}
            # The statistics section below counts every overdue item of the liaison's area (the
            # district): "Incidents: Overdue 0" beside "Incidents: 4" read as a contradiction.
            title = _("Incidents with my department")
            new_url = reverse("grids-inbox") + f"?department={department}&"
        else:
            current = visible.open()
            inbox = reverse("grids-inbox") + "?"
            current_link = {"url": f"{inbox}open=true", "label": _("Open")}
            title = _("Incidents")
            new_url = inbox
        counts = {"open": current.count(), "overdue": current.overdue(now).count()}
        items = list(current.overdue(now).with_relations().order_by("due_at")[:HOME_SHOWN]) or list(
            current.with_relations().order_by("due_at")[:HOME_SHOWN]
        )
        # A city's handler tells a namesake grid from another by its street (one query for the five).
        labels = namesakes_in_scope(user, {i.grid.name for i in items})
        for i in items:
            i.grid_label = labels.get(i.grid.code, i.grid.name)
        return {
            "title": title,
            "template": "grids/_home_section.html",
            "links": [
                {**current_link, "count": counts["open"]},
                {"url": f"{inbox}overdue=true", "label": _("Overdue"), "count": counts["overdue"]},
                new_today(new, new_url),
            ],
            "items": items,
            "uncalendared": uncalendared_years(items),
        }
    if user.has_role(Role.GRID_WORKER):
        mine = Incident.objects.visible_to(user).filter(reporter=user).open().with_relations()
        # The on-site checks waiting in the worker's grids come first: they are the worker's step,
        # with its deadline, whoever reported the item (a centre, another worker of the grid).
        checks, check_count = first_and_total(checks_waiting(user), HOME_SHOWN)
        links = [
            {"url": reverse("grids-report"), "label": _("Report an incident"), "count": None},
            # The number is the worker's own reports still open (not the grid's items, nor the checks
            # below): the label says so, and leads to that list on the grid page.
            {"url": reverse("grids-my") + "#my-open", "label": _("My open reports"), "count": mine.count()},
            # What is late of the worker's own (their open reports, the checks in their grids), as
            # every other role's home says what is overdue; "My grid" marks each late item.
            {
                "url": reverse("grids-my"),
                "label": _("Overdue"),
                "count": (mine.overdue() | checks_waiting(user).overdue()).count(),
            },
            # What came in to the worker's grids today, whoever reported it (a centre, a colleague):
            # the inbox lists the same items, as scoped to the worker (visible_to: their grids).
            new_today(Incident.objects.visible_to(user), reverse("grids-inbox") + "?"),
        ]
        if check_count:
            links.append(
                {
                    "url": reverse("grids-my") + "#to-verify",
                    "label": _("To verify on site"),
                    "count": check_count,
                }
            )
        rejected = rejected_lately(user)
        if rejected:
            links.append(rejected)
        shown = {i.pk for i in checks}
        items = checks + [i for i in mine.order_by("due_at")[:HOME_SHOWN] if i.pk not in shown]
        return {
            "title": _("My open incidents"),
            "template": "grids/_home_section.html",
            "links": links,
            "items": items[:HOME_SHOWN],
            "uncalendared": uncalendared_years(items[:HOME_SHOWN]),
        }
    return None
