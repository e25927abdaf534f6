"""The incident list filters, shared by the API and the handler inbox page.

Every filter is served by an index on Incident (status/reported_at, partial status/due_at, grid,
category, level, kind, department) or by the Area path prefix index for ``area``
(tests/api/test_filter_indexes.py). A grid, area or department that
names nothing the user may see is a 400 naming the filter (``governance.api.KnownRecordMixin``)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import exceptions

from governance.api import (
    AreaSubtreeFilter,
    BooleanFilter,
    DateFilter,
    DateRangeForm,
    KnownCodeFilter,
    KnownIdFilter,
    MultipleChoiceFilter,
    areas_in_scope,
    department_filter,
)
from governance.models import Area
from governance.periods import start_of_local_day
from grids.models import INBOX_ORDER, Incident, IncidentCategory, Level

# ``?sort=``: the list's order, each ending in the key (a total order: pages neither repeat nor skip
# an item) and each read from an index: ``incident_inbox_order`` by deadline, the scope's
# ``incident_grid_reported`` (or ``incident_reported_at``) forwards or backwards by report time.
SORTS = {
    "due": INBOX_ORDER,
    "newest": ["-reported_at", "-id"],
    "oldest": ["reported_at", "id"],
}


class IncidentDepartmentFilter(KnownIdFilter):
    """``?department=``: the items a department works on, as the lead (dispatched to it) or as one of
    the supporting departments of a coordination item: a department's work list."""

    def narrow(self, qs, found):
        return qs.filter(Incident.involving_q(found))


class IncidentFilter(filters.FilterSet):
    status = MultipleChoiceFilter(choices=Incident.Status.choices, label=_("status"))
    open = BooleanFilter(method="filter_open", label=_("open items only"))
    category = filters.CharFilter(method="filter_category", label=_("category code"))
    # An incident is visible by its grid's area alone (``IncidentQuerySet.visible_to``, the scope of
    # ``areas_in_scope``): no visible row names an area outside the scope, so an area or grid there
    # is refused from the areas' indexes, without asking the incidents (``named_by_rows``).
    area = AreaSubtreeFilter(field_name="grid", label=_("area code: its whole subtree"), named_by_rows=False)
    grid = KnownCodeFilter(
        field_name="grid",
        records=Area.objects.filter(level=Area.Level.GRID),
        key="code",
        visible=areas_in_scope,
        named_by_rows=False,
        unknown=_("Unknown grid %(code)s."),
        label=_("grid code"),
    )
    level = filters.ChoiceFilter(choices=Level.choices, label=_("current level"))
    kind = filters.ChoiceFilter(choices=Incident.Kind.choices, label=_("kind"))
    department = department_filter(
        IncidentDepartmentFilter, field_name="department", label=_("department (id)")
    )
    overdue = BooleanFilter(method="filter_overdue", label=_("overdue"))
    # A grid worker's own reports, all of them ("My grid" lists the last ten finished); the reporter's
    # foreign key is indexed.
    mine = BooleanFilter(method="filter_mine", label=_("reported by me"))
    reported_from = DateFilter(method="filter_from", label=_("reported on or after (date)"))
    reported_to = DateFilter(method="filter_to", label=_("reported on or before (date)"))
    # The items rejected on or after a day, by the rejection's own time (a grid worker's home counts
    # "Rejected, last 7 days" so and links here): rejected items only.
    rejected_from = DateFilter(method="filter_rejected_from", label=_("rejected on or after (date)"))
    # Last, so that it orders what the filters leave (a filter's own order would come after it).
    sort = filters.ChoiceFilter(
        choices=[
            ("due", _("deadline first")),
            ("newest", _("newest reported first")),
            ("oldest", _("oldest reported first")),
        ],
        method="filter_sort",
        label=_("order"),
    )

    class Meta:
        model = Incident
        fields: list[str] = []
        form = DateRangeForm

    def filter_open(self, qs, name, value):
        if value is None:
            return qs
        return (
            qs.filter(status__in=Incident.OPEN_STATUSES)
            if value
            else qs.exclude(status__in=Incident.OPEN_STATUSES)
        )

    def filter_category(self, qs, name, value):
        # A misspelt code is a 400 naming the filter, not an empty list read as "none of this kind".
        category = IncidentCategory.objects.filter(code=value).first()
        if category is None:
            raise exceptions.ValidationError({name: [gettext("Unknown category %(c)s.") % {"c": value}]})
        return qs.filter(category=category)

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        late = Incident.overdue_q()
        return qs.filter(late) if value else qs.exclude(late)

    def filter_mine(self, qs, name, value):
        if value is None:
            return qs
        user = getattr(self.request, "user", None)
        return qs.filter(reporter=user) if value else qs.exclude(reporter=user)

    def filter_from(self, qs, name, value):
        return qs.filter(reported_at__gte=start_of_local_day(value)) if value else qs

    def filter_to(self, qs, name, value):
        return qs.filter(reported_at__lt=start_of_local_day(value + dt.timedelta(days=1))) if value else qs

    def filter_rejected_from(self, qs, name, value):
        return qs.rejected_since(start_of_local_day(value)) if value else qs

    def filter_sort(self, qs, name, value):
        return qs.order_by(*SORTS[value]) if value else qs
