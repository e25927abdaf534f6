"""The petition list filters, shared by the API and the registry page.

Each filter is served by an index on Petition (status/received_at, partial due_at, channel,
handling_type, area/category, partial is_repeat and is_group) or by the Area path prefix index. An
area or department that names nothing the user may see is a 400 naming the filter."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from governance.api import (
    AreaSubtreeFilter,
    BooleanFilter,
    DateFilter,
    DateRangeForm,
    MultipleChoiceFilter,
    department_filter,
)
from governance.periods import start_of_local_day
from petitions.models import Category, Petition


class PetitionFilter(filters.FilterSet):
    status = MultipleChoiceFilter(choices=Petition.Status.choices, label=_("status"))
    open = BooleanFilter(method="filter_open", label=_("open petitions only"))
    channel = filters.ChoiceFilter(choices=Petition.Channel.choices, label=_("channel"))
    type = filters.ChoiceFilter(
        field_name="handling_type", choices=Petition.HandlingType.choices, label=_("handling type")
    )
    category = filters.ChoiceFilter(choices=Category.choices, label=_("category"))
    area = AreaSubtreeFilter(field_name="area", label=_("area code: its whole subtree"))
    department = department_filter(field_name="department", label=_("routed to (department id)"))
    overdue = BooleanFilter(method="filter_overdue", label=_("overdue"))
    due_soon = BooleanFilter(method="filter_due_soon", label=_("due within 3 days"))
    repeat = BooleanFilter(field_name="is_repeat", label=_("repeat petitions"))
    group = BooleanFilter(field_name="is_group", label=_("group petitions"))
    received_from = DateFilter(method="filter_received_from", label=_("received on or after"))
    received_to = DateFilter(method="filter_received_to", label=_("received on or before"))

    class Meta:
        model = Petition
        fields: list[str] = []
        form = DateRangeForm

    def filter_open(self, qs, name, value):
        if value is None:
            return qs
        q = Q(status__in=Petition.OPEN_STATUSES)
        return qs.filter(q) if value else qs.exclude(q)

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        late = Petition.overdue_q()
        return qs.filter(late) if value else qs.exclude(late)

    def filter_due_soon(self, qs, name, value):
        if value is None:
            return qs
        # false: those not due within 3 days (overdue, due later or with no running deadline).
        soon = Petition.due_soon_q()
        return qs.filter(soon) if value else qs.exclude(soon)

    def filter_received_from(self, qs, name, value):
        return qs.filter(received_at__gte=start_of_local_day(value)) if value else qs

    def filter_received_to(self, qs, name, value):
        return qs.filter(received_at__lt=start_of_local_day(value + dt.timedelta(days=1))) if value else qs
