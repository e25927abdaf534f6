"""The case list filters, shared by the API and the list page.

Every filter is served by an index on DisputeCase (status/received_at, partial status/due_at,
category, origin, outcome/concluded_at, area, and the organisation's and mediator's foreign keys,
with status ``dispute_org_status`` / ``dispute_mediator_status``) or by the Area path prefix index
for ``area``; in a user's scope, status and category (which match most cases) are read from the area
index, which includes them (``dispute_area_received``, docs/benchmarks.md; the organisation and
mediator filters at city scale: "The case list's organisation and mediator filters"). An
area, organisation or mediator that names nothing the user may see is a 400 naming the filter."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import exceptions

from governance.access import scope_or_above_q
from governance.api import (
    AreaSubtreeFilter,
    BooleanFilter,
    DateFilter,
    DateRangeForm,
    KnownCodeFilter,
    KnownIdFilter,
    MultipleChoiceFilter,
)
from governance.models import User
from governance.periods import start_of_local_day
from mediation.models import (
    DisputeCase,
    DisputeCategory,
    MediationOrganisation,
    OrganisationMember,
    member_organisation_ids,
)


def _organisations_q(user, prefix: str = "") -> Q | None:
    """Organisations the user may name in a filter (``prefix`` leads from another model to one):
    their own, those in their scope and those above it (where a community refers its cases)."""
    q = scope_or_above_q(user, f"{prefix}area")
    if q is None:
        return None
    own = member_organisation_ids(user) if getattr(user, "is_authenticated", False) else set()
    return q | Q(**{f"{prefix}pk__in": own}) if own else q


def _mediators_q(user) -> Exists | None:
    """Mediators the user may name in a filter: members of an organisation they may name."""
    q = _organisations_q(user, "organisation__")
    return None if q is None else Exists(OrganisationMember.objects.filter(q, user=OuterRef("pk")))


class DisputeFilter(filters.FilterSet):
    status = MultipleChoiceFilter(choices=DisputeCase.Status.choices, label=_("status"))
    open = BooleanFilter(method="filter_open", label=_("open cases only"))
    category = filters.CharFilter(method="filter_category", label=_("category code"))
    source = filters.ChoiceFilter(field_name="origin", choices=DisputeCase.Origin.choices, label=_("source"))
    outcome = filters.ChoiceFilter(choices=DisputeCase.Outcome.choices, label=_("outcome"))
    area = AreaSubtreeFilter(field_name="area", label=_("area code: its whole subtree"))
    # Beyond those, an organisation or mediator the user's cases name (``KnownRecordMixin``).
    organisation = KnownIdFilter(
        field_name="organisation",
        records=MediationOrganisation.objects.all(),
        key="pk",
        visible=_organisations_q,
        unknown=_("Unknown mediation organisation %(value)s."),
        label=_("organisation id"),
    )
    mediator = KnownCodeFilter(
        field_name="mediator",
        records=User.objects.all(),
        key="username",
        visible=_mediators_q,
        unknown=_("Unknown mediator %(value)s."),
        names=("display_name", "username"),  # as the case rows name a mediator (str(user))
        label=_("mediator (username)"),
    )
    overdue = BooleanFilter(method="filter_overdue", label=_("overdue"))
    received_from = DateFilter(method="filter_received_from", label=_("received on or after"))
    received_to = DateFilter(method="filter_received_to", label=_("received on or before"))
    concluded_from = DateFilter(method="filter_concluded_from", label=_("concluded on or after"))
    concluded_to = DateFilter(method="filter_concluded_to", label=_("concluded on or before"))

    class Meta:
        model = DisputeCase
        fields: list[str] = []
        form = DateRangeForm

    def filter_open(self, qs, name, value):
        if value is None:
            return qs
        q = Q(status__in=DisputeCase.OPEN_STATUSES)
        return qs.filter(q) if value else qs.exclude(q)

    def filter_category(self, qs, name, value):
        # A misspelt code is a 400 naming the filter, not an empty list read as "no cases of this kind".
        category = DisputeCategory.objects.filter(code=value).first()
        if category is None:
            raise exceptions.ValidationError({name: [gettext("Unknown category %(c)s.") % {"c": value}]})
        return qs.filter(category=category)

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        late = DisputeCase.overdue_q()
        return qs.filter(late) if value else qs.exclude(late)

    def filter_received_from(self, qs, name, value):
        return qs.filter(received_at__gte=start_of_local_day(value)) if value else qs

    def filter_received_to(self, qs, name, value):
        return qs.filter(received_at__lt=start_of_local_day(value + dt.timedelta(days=1))) if value else qs

    def filter_concluded_from(self, qs, name, value):
        return qs.filter(concluded_at__gte=start_of_local_day(value)) if value else qs

    def filter_concluded_to(self, qs, name, value):
        return qs.filter(concluded_at__lt=start_of_local_day(value + dt.timedelta(days=1))) if value else qs
