"""REST plumbing shared by every app (pagination, errors, token) and the areas endpoints.

Errors are JSON with a human-readable ``detail``; validation errors also carry ``errors`` keyed by
field, and ``detail`` names the fields. Workflow errors map to 400 / 403 / 409.
"""

from __future__ import annotations

import datetime as dt
import math

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError as FormValidationError
from django.core.validators import EMPTY_VALUES
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import fields as django_filters_fields
from django_filters import rest_framework as filters
from django_filters import widgets as django_filters_widgets
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import get_visible_or_404, scope_or_above_q, scope_q
from governance.geo import locator, simplified
from governance.models import MAX_ID, Area, Department, Notification
from governance.periods import FIRST_YEAR, LAST_YEAR
from governance.rest import (  # noqa: F401  (exception_handler re-exported)
    Conflict,
    JSONParser,
    KnownFieldsSerializer,
    KnownParamsMixin,
    Pagination,
    conditional_read,
    entity_tag,
    exception_handler,
)
from governance.services import notification_mark_read, notifications_mark_read, user_token_issue

# --- auth -----------------------------------------------------------------------------------------


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token. Failed attempts count towards lockout."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    # JSON only. A form post needs no CORS preflight, so any page on another site could make its
    # visitor's browser send failed logins for a chosen username (locking them out) or guess passwords
    # on an intranet server from outside; a cross-site JSON post is preflighted and never allowed.
    parser_classes = [JSONParser]

    class TokenInputSerializer(serializers.Serializer):
        # As long as a username can be (the login form has the same limit). Unbounded, a name over 255
        # characters reached django-axes, whose failed-attempt row could not store it: a 500.
        username = serializers.CharField(max_length=get_user_model()._meta.get_field("username").max_length)
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        auth=[],
        summary=gettext_lazy("Get an API token"),
        description=gettext_lazy(
            "Exchanges a username and password (a JSON body only) for a new token, sent from then on as "
            "`Authorization: Token <key>`; the user's previous token stops working. Needs no authentication. "
            "A wrong username or password is a 401, and so is a temporary password an administrator set, "
            "until it is changed on My account (/accounts/); repeated failures lock the account for a while "
            "(429, `Retry-After`: the seconds to wait). The answer is never cached."
        ),
    )
    def post(self, request):
        data = self.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request=request, **data.validated_data)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                # 429 with Retry-After, as the login page answers (django-axes): a 403 read as "this
                # account may not have a token", and a client had no way to know when to try again.
                return Response(
                    {"detail": _("Too many failed logins: this account is locked for a while.")},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))},
                )
            return Response(
                {"detail": _("Wrong username or password.")},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        if user.must_change_password:
            # A temporary password from an administrator opens the page that replaces it, nothing
            # more: a token would outlive it.
            return Response(
                {
                    "detail": _(
                        "This is a temporary password: choose your own on My account (/accounts/) first."
                    )
                },
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        # A new token each time, the previous one revoked: only its digest is kept, so the key a client
        # was given cannot be handed out again (docs/api.md).
        return Response({"token": user_token_issue(user=user)})

    def finalize_response(self, request, response, *args, **kwargs):
        # Never kept by a cache on the way (RFC 6749 5.1): the caller is anonymous, so the site's
        # no-store for signed-in users (NoStoreMiddleware) did not cover the answer carrying a token.
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


# --- fields and filters shared by the apps ---------------------------------------------------------


class BoundedDateField(forms.DateField):
    """A date a list filter can turn into local midnight and the day after without overflowing.

    The filters compare ``reported_at`` etc. with local midnight of the date (``_to``: of the next day),
    so 9999-12-31 overflowed (OverflowError, a 500) and, on SQLite, so did 0001-01-01 once converted
    to UTC. Out of range is a validation error of the field, reported like any bad filter value: a 400
    keyed by the field in the API, the page's list of filter errors on a page."""

    MIN = dt.date(FIRST_YEAR, 1, 1)
    MAX = dt.date(LAST_YEAR, 12, 31)

    def clean(self, value):
        day = super().clean(value)
        if day is not None and not self.MIN <= day <= self.MAX:
            raise FormValidationError(
                _("Enter a date between %(min)s and %(max)s.")
                % {"min": self.MIN.isoformat(), "max": self.MAX.isoformat()},
                code="date_out_of_range",
            )
        return day


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, but a naive time near year 1 is its "out of range" 400, not a 500: DRF
    checks a naive input by converting it to UTC, which overflows (0001-01-01T00:00 at +08:00). Every
    date-time an API client sends (``occurred_at``, ``received_at``, ``held_at``) goes through it."""

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class FloatField(serializers.FloatField):
    """DRF's FloatField, but JSON ``true`` and ``false`` are no numbers: DRF reads them as 1.0 and 0.0
    (``float(True)``), so a report's ``"lng": true`` was looked up as the point (31.8, 1.0) and refused
    as "outside every grid", not as the wrong type it is."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateFilter(filters.DateFilter):
    """``django_filters.DateFilter`` limited to the dates ``BoundedDateField`` accepts."""

    field_class = BoundedDateField


class DateRangeForm(forms.Form):
    """The form of a list's filters (``Meta.form``): a ``<x>_from`` after its ``<x>_to`` is an error
    of the ``_to`` field (a 400 naming it in the API, the filter errors on a page), not an empty list
    that reads as "nothing happened then"."""

    def clean(self):
        cleaned = super().clean()
        for name, start in list(cleaned.items()):  # add_error removes the field from cleaned_data
            if not name.endswith("_from") or start is None:
                continue
            to = name.removesuffix("_from") + "_to"
            end = cleaned.get(to)
            if end is not None and end < start:
                self.add_error(
                    to,
                    FormValidationError(
                        _("The end of the range (%(end)s) is before its start (%(start)s).")
                        % {"end": end.isoformat(), "start": start.isoformat()},
                        code="range_reversed",
                    ),
                )
        return cleaned


class BooleanFilterField(forms.NullBooleanField):
    """``true`` or ``false`` (also ``1``/``0``, any case); empty is no filter; anything else is an error."""

    default_error_messages = {"invalid": gettext_lazy("Use true or false.")}

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        text = str(value).lower()
        if text == "":
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise FormValidationError(self.error_messages["invalid"], code="invalid")


class BooleanWidget(django_filters_widgets.BooleanWidget):
    def value_from_datadict(self, data, files, name):
        # django-filter's widget turns what it does not know into None: no filter at all.
        value = super().value_from_datadict(data, files, name)
        return data.get(name) if value is None else value


class BooleanFilter(filters.BooleanFilter):
    """A yes/no filter (``?open=``, ``?overdue=``, ``?repeat=``): django-filter read ``maybe`` or a
    typo as no filter, a 200 with every record that answered a question the client did not ask.
    It is a 400 naming the filter, like every other bad filter value."""

    field_class = BooleanFilterField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", BooleanWidget)
        super().__init__(*args, **kwargs)


class ChoicesField(forms.MultipleChoiceField):
    """The values of a repeatable choice filter, an empty one left out: a list page's "any" option sends
    ``status=``, which the plain field refused as an unknown choice (a 400 and no rows for the default
    filter form). Empty is no filter, as it is for every other filter."""

    def clean(self, value):
        if value:
            value = [v for v in value if v not in EMPTY_VALUES]
        return super().clean(value)


class MultipleChoiceFilter(filters.MultipleChoiceFilter):
    """``?status=a&status=b``: records in any of the states; an unknown one is a 400 naming the filter.
    Not DISTINCT (django-filter's default for this filter): it filters a plain column, which cannot
    repeat a row, and ``SELECT DISTINCT`` over every column made each list sort all its matching
    rows on disk instead of reading its page through an index."""

    field_class = ChoicesField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class ListedChoiceField(django_filters_fields.ChoiceField):
    """A choice field whose refusal lists the values it takes ("Use one of: month, quarter, half,
    year."), as the statistics' own checks word it, instead of Django's "Select a valid choice. week
    is not one of the available choices.", which left the client to look them up in the schema."""

    def validate(self, value):
        try:
            super().validate(value)
        except FormValidationError as err:
            if err.code != "invalid_choice":
                raise
            values = ", ".join(str(key) for key, _label in self.choices if key not in EMPTY_VALUES)
            raise FormValidationError(_("Use one of: %s.") % values, code="invalid_choice") from None


class ChoiceFilter(filters.ChoiceFilter):
    """django-filter's, with ``ListedChoiceField``."""

    field_class = ListedChoiceField


class IdFilter(filters.NumberFilter):
    """A filter on a record's id (``?department=``, ``?organisation=``): a whole number within a 64-bit
    key. A plain NumberFilter passed 10**20 or 1e30 on to the lookup, which SQLite cannot bind
    (OverflowError, a 500); out of range is a 400 naming the filter, on every database."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


# --- filters naming a record -----------------------------------------------------------------------


def filter_param(flt: filters.Filter) -> str:
    """The query parameter a filter reads (its key in the filterset), which its errors are keyed by."""
    return next((name for name, f in flt.parent.filters.items() if f is flt), flt.field_name)


class KnownRecordMixin:
    """A filter naming one record by a key (``?grid=`` a code, ``?mediator=`` a username,
    ``?department=`` an id): a value that names no record the user may see is a 400 naming the
    filter ("Unknown grid NOPE."), not an empty 200 that reads as "nothing there yet".

    "May see" is ``visible(user)`` (a Q on the named model; None: everything, for superusers), or
    being named by a record of the list the filterset starts from (already ``visible_to(user)``):
    those rows tell the user the record exists anyway. A record that exists outside both gets the
    same 400 as a missing one, so the filter confirms nothing (DESIGN.md section 4). One query,
    whatever the number of rows; a known value with no matching rows is a 200 with an empty list.

    ``records`` is what the value may name (``Area.objects.filter(level="grid")``), ``key`` the field
    it is matched against, ``field_name`` the filtered model's foreign key to it, and ``unknown`` the
    message, formatted with ``%(value)s`` (or the key's name: ``%(code)s``). ``named_by_rows=False``
    where the list's rows are visible by the same scope as ``visible`` (incidents by their grid's
    area): no row can name a record outside it, and the lookup reads the named table only, instead
    of also asking the list's table about a value outside the scope.

    The same query reads the record's name (the first of ``names`` not empty), which ``named`` keeps
    by value for a list page's filter summary ("Grid: …"): a name is known only for a record the
    filter accepted, never for one outside what the user may see.

    A page that read the record itself before the filterset ran (an area typed by name,
    ``governance.views.area_typed_by_name``) hands the filter what it found with ``settle``: the
    lookup then asks nothing more, so a name costs the page the queries a code does."""

    column = "pk"  # what identifies the record to ``narrow``

    def __init__(
        self,
        *args,
        records,
        key: str,
        visible,
        unknown,
        named_by_rows: bool = True,
        names: tuple[str, ...] = ("name",),
        **kwargs,
    ) -> None:
        self.records = records
        self.key = key
        self.visible = visible
        self.unknown = unknown
        self.named_by_rows = named_by_rows
        self.names = names
        self.named: dict[str, str] = {}  # each filterset deep-copies its filters: one per request
        # value -> (column, name) found by the page, or (None, refusal) for a value it refused
        self.settled: dict[str, tuple] = {}
        super().__init__(*args, **kwargs)

    def may_see(self, records):
        """``records`` narrowed to those the user may see (the lookup's rule, for a page's own read)."""
        user = getattr(getattr(self.parent, "request", None), "user", None)
        q = self.visible(user)
        if q is None:
            return records
        return records.filter((q | self.rows_naming()) if self.named_by_rows else q)

    def settle(self, value: str, found=None, name: str = "", refusal: str = "") -> None:
        """What ``value`` names, read by the page before the filterset ran: the record's ``column``
        and name, or ``found=None`` for a value refused (``refusal``, else the ``unknown`` message)."""
        self.settled[value] = (found, name) if found is not None else (None, refusal)

    def refusal(self, value) -> str:
        """The message refusing ``value``: the page's, or "Unknown …"."""
        found, refusal = self.settled.get(str(value), (None, ""))
        return refusal or self.unknown % {"value": value, self.key: value}

    def lookup(self, value):
        """The ``column`` of the record ``value`` names, among those the user may see, or None."""
        if str(value) in self.settled:
            found, name = self.settled[str(value)]
            if found is not None:
                self.named[str(value)] = name
            return found
        row = (
            self.may_see(self.records.filter(**{self.key: value}))
            .values_list(self.column, *self.names)
            .first()
        )
        if row is None:
            return None
        self.named[str(value)] = next((n for n in row[1:] if n), str(value))
        return row[0]

    def known(self, value):
        """The ``column`` of the record ``value`` names, or the 400 naming every unknown record."""
        found = self.lookup(value)
        if found is None:
            raise exceptions.ValidationError(self.every_unknown(value))
        return found

    def every_unknown(self, value) -> dict[str, list[str]]:
        """This filter's refusal and those of the filterset's other record filters: a request naming
        two unknown records was told of the first, and of the second only on the next try. Their
        lookups run only here, on the way to the 400."""
        errors = {}
        data = getattr(self.parent.form, "cleaned_data", {})
        for name, other in self.parent.filters.items():
            named = value if other is self else data.get(name)
            if not isinstance(other, KnownRecordMixin) or named in EMPTY_VALUES:
                continue
            if other is self or other.lookup(named) is None:
                errors[filter_param(other)] = [other.refusal(named)]
        return errors

    def rows_naming(self) -> Exists:
        """Some row of the filterset's base list names the record (correlated on its pk)."""
        return Exists(self.parent.queryset.order_by().filter(**{self.field_name: OuterRef("pk")}))

    def narrow(self, qs, found):
        return qs.filter(**{self.field_name: found})

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return self.narrow(qs, self.known(value))


class KnownCodeFilter(KnownRecordMixin, filters.CharFilter):
    """A record named by a code or a username (see ``KnownRecordMixin``)."""


class KnownIdFilter(KnownRecordMixin, IdFilter):
    """A record named by its id, a whole number in range first (see ``KnownRecordMixin``)."""


def areas_in_scope(user) -> Q | None:
    """The areas a user may see (``visible`` of a filter naming an area)."""
    return scope_q(user, "")


def department_filter(filter_class: type[KnownIdFilter] = KnownIdFilter, **kwargs) -> KnownIdFilter:
    """``?department=`` on a list: a department in the user's scope or at an area above it (where
    their items are dispatched or routed), or one their rows name. ``filter_class`` may say how the
    department narrows the list (its ``narrow``) where a row names departments in more than one way."""
    return filter_class(
        records=Department.objects.all(),
        key="pk",
        visible=lambda user: scope_or_above_q(user, "area"),
        unknown=gettext_lazy("Unknown department %(value)s."),
        **kwargs,
    )


class AreaSubtreeFilter(KnownRecordMixin, filters.CharFilter):
    """Filter records by the code of an area: the record's area (``field_name``) lies in its subtree.

    Other apps use it as ``area = AreaSubtreeFilter(field_name="grid")``; the filterset needs the request
    (DRF passes it; pages pass ``request=request``) and a base queryset already ``visible_to(user)``.

    The code is resolved within what the user may see (``KnownRecordMixin``), so an area outside their
    scope gives the same 400 as a missing code instead of an empty 200 that confirms it exists. "May
    see" is the user's area scope, or an area with records the user reads through a narrower rule (a
    mediator's organisation cases, a department's petitions) in its subtree: those records already
    tell them the area exists."""

    column = "path"

    def __init__(self, *args, **kwargs) -> None:
        # ``field_name=""``: the filtered rows are areas themselves (``areas/?within=``).
        self.subtree = (
            f"{kwargs['field_name']}__path__startswith" if kwargs["field_name"] else "path__startswith"
        )
        kwargs.setdefault("records", Area.objects.all())
        kwargs.setdefault("key", "code")
        kwargs.setdefault("visible", areas_in_scope)
        kwargs.setdefault("unknown", gettext_lazy("Unknown area code %(code)s."))
        super().__init__(*args, **kwargs)

    def rows_naming(self) -> Exists:
        return Exists(self.parent.queryset.order_by().filter(**{self.subtree: OuterRef("path")}))

    def narrow(self, qs, found):
        return qs.filter(**{self.subtree: found})


# --- areas ----------------------------------------------------------------------------------------


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )  # the city: none
    centroid = serializers.SerializerMethodField()

    class Meta:
        model = Area
        fields = [
            "code", "name", "level", "parent", "population", "households", "centroid",
            "in_service_from", "in_service_until",
        ]  # fmt: skip
        # The API reads areas; their service dates are set in the admin or by import_areas.
        read_only_fields = fields

    def get_centroid(self, obj: Area) -> dict | None:
        if obj.centroid_lat is None:
            return None
        return {"lat": obj.centroid_lat, "lng": obj.centroid_lng}


@extend_schema_serializer(
    description=gettext_lazy(
        "An area named only: code, name, level and parent. Its figures (population, households, "
        "centroid) are read at `areas/{code}/`, which checks your scope."
    )
)
class AreaBriefSerializer(serializers.ModelSerializer):
    """An area named, not described: the ancestors of a located grid. Those above the user's scope
    were given with their population, households and centroid, which ``areas/<code>/`` refuses (404)
    to the same user; an area's figures are read there, where scope is checked."""

    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent"]


class AreaFilter(filters.FilterSet):
    level = filters.ChoiceFilter(choices=Area.Level.choices)
    # The parent of an area in scope may lie above it (a street's district): the rows name it.
    parent = KnownCodeFilter(
        field_name="parent",
        records=Area.objects.all(),
        key="code",
        visible=areas_in_scope,
        unknown=gettext_lazy("Unknown area code %(code)s."),
        label=gettext_lazy("parent code"),
    )
    # An area above the scope is known when areas in scope lie under it (a community worker's street,
    # which their rows name as a parent anyway): the list is then the part of its subtree in scope, as
    # ``?parent=`` of that street gives the community. Elsewhere the same 400 as a missing code.
    within = AreaSubtreeFilter(field_name="", label=gettext_lazy("area code: its whole subtree"))
    code = filters.BaseInFilter(method="filter_code", label=gettext_lazy("comma-separated area codes"))

    class Meta:
        model = Area
        fields = ["level", "parent", "within", "code"]

    def filter_code(self, queryset, name, value):
        # Each code must name an area the user may see: a typo in a list of five is a 400 naming it,
        # not four features and silence. One query for the whole list. Codes are read as the other
        # filters read theirs, blanks around them ignored, and an empty item (a trailing comma) is
        # none: "a, b" and "a," were refused as "Unknown area code  b." and "Unknown area code .".
        codes = list(dict.fromkeys(code.strip() for code in value if code.strip()))
        if not codes:  # only commas: no filter, as an empty value is
            return queryset
        found = set(self.queryset.filter(code__in=codes).values_list("code", flat=True))
        missing = [code for code in codes if code not in found]
        if missing:
            raise exceptions.ValidationError(
                {name: [_("Unknown area code %(code)s.") % {"code": code} for code in missing]}
            )
        return queryset.filter(code__in=codes)


@extend_schema(
    summary=gettext_lazy("List areas"),
    description=gettext_lazy(
        "The areas in your scope (your areas and every area below them), by code, paginated; any role. "
        "Filters: `level`, `parent`, `within` (a whole subtree) and `code` (codes separated by commas). A "
        "`code` outside your scope, or a `parent` or `within` neither in it nor above it, is a 400 naming "
        "the filter, as an unknown code is."
    ),
)
class AreaListApi(KnownParamsMixin, generics.ListAPIView):
    """The areas in the user's scope, by code, filtered by level, parent, subtree or codes."""

    serializer_class = AreaSerializer
    filterset_class = AreaFilter
    params = tuple(AreaFilter.base_filters)

    def get_queryset(self):
        return Area.objects.visible_to(self.request.user).select_related("parent").order_by("code")


@extend_schema(
    summary=gettext_lazy("Read an area"),
    description=gettext_lazy(
        "One area in your scope: its level, parent, population, households, centroid and service dates; "
        "any role. An area outside your scope is the same 404 as one that does not exist."
    ),
)
class AreaDetailApi(generics.RetrieveAPIView):
    serializer_class = AreaSerializer

    def get_object(self):
        return get_visible_or_404(
            Area.objects.visible_to(self.request.user).select_related("parent"), code=self.kwargs["code"]
        )


class AreaGeoJsonApi(KnownParamsMixin, generics.GenericAPIView):
    """A FeatureCollection of the areas matching the filters, geometry simplified for display."""

    filterset_class = AreaFilter
    pagination_class = None
    params = (*AreaFilter.base_filters, "tolerance")
    COMMON_PARAMS = ("format",)

    def get_queryset(self):
        return Area.objects.visible_to(self.request.user).select_related("parent").order_by("code")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tolerance", OpenApiTypes.FLOAT, description=gettext_lazy("simplification, degrees")
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
        summary=gettext_lazy("Area boundaries as GeoJSON"),
        description=gettext_lazy(
            "A GeoJSON FeatureCollection of the areas in your scope that match the filters of `areas/`, "
            "not paginated; any role. Each feature has the area's code, name, level and parent, and its "
            "boundary simplified to `tolerance` degrees (0 to 1, default 0.0002; 0: as stored). Areas "
            "without a boundary are left out; more than 10,000 areas is a 400 keyed `level`: narrow the "
            "filter."
        ),
        filters=True,  # not a list view to drf-spectacular, which then left out level, parent, within, code
    )
    def get(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        try:
            # Empty is the default, as an empty value of any filter is no filter (a form's blank field).
            tolerance = float(request.query_params.get("tolerance") or "0.0002")
        except ValueError:
            raise exceptions.ValidationError({"tolerance": [_("A number is required.")]}) from None
        if not 0 <= tolerance <= 1:
            raise exceptions.ValidationError({"tolerance": [_("Must be between 0 and 1.")]})
        if queryset.count() > 10000:
            raise exceptions.ValidationError({"level": [_("Too many areas: narrow the filter.")]})
        features = [
            {
                "type": "Feature",
                "id": area.code,
                "properties": {
                    "code": area.code,
                    "name": area.name,
                    "level": area.level,
                    "parent": area.parent.code if area.parent else None,
                },
                "geometry": simplified(area.boundary, tolerance) if tolerance else area.boundary,
            }
            for area in queryset.exclude(boundary=None)
        ]
        return Response({"type": "FeatureCollection", "features": features})


class AreaLocateApi(KnownParamsMixin, APIView):
    """The grid containing a point, with its ancestors; 404 outside every grid (or outside scope)."""

    params = ("lat", "lng")
    COMMON_PARAMS = ("format",)

    @extend_schema(
        parameters=[
            # The bounds and the 400 the view answers (the schema said "number" and nothing else).
            OpenApiParameter(
                "lat",
                {"type": "number", "minimum": -90, "maximum": 90},
                required=True,
                description=gettext_lazy(
                    "latitude in degrees (WGS 84), -90 to 90; missing, not a number or outside the range "
                    "is a 400 keyed lat"
                ),
            ),
            OpenApiParameter(
                "lng",
                {"type": "number", "minimum": -180, "maximum": 180},
                required=True,
                description=gettext_lazy(
                    "longitude in degrees (WGS 84), -180 to 180; missing, not a number or outside the "
                    "range is a 400 keyed lng"
                ),
            ),
        ],
        responses={
            200: inline_serializer(
                "LocateResponse", {"grid": AreaSerializer(), "ancestors": AreaBriefSerializer(many=True)}
            )
        },
        summary=gettext_lazy("Find the grid at a point"),
        description=gettext_lazy(
            "The grid in your scope, in service today, that contains the point `lat`, `lng`: the grid in "
            "full and its ancestors named only (code, name, level, parent); any role. On a border shared "
            "by grids, the first by code. A point outside every grid of your area is a 404, whether or not "
            "a grid outside your scope lies there."
        ),
    )
    def get(self, request):
        errors = {}
        values = {}
        for name, limit in (("lat", 90), ("lng", 180)):
            raw = request.query_params.get(name)
            try:
                values[name] = float(raw)
                if not -limit <= values[name] <= limit:
                    errors[name] = [_("Must be between -%(limit)d and %(limit)d.") % {"limit": limit}]
            except (TypeError, ValueError):
                errors[name] = [_("A number is required.")]
        if errors:
            raise exceptions.ValidationError(errors)
        codes = locator.locate_all(values["lat"], values["lng"])
        # On a border shared by grids the first the user may see: a worker standing on the edge of
        # their own grid got a 404 when the neighbour's code came first. A point in grids the user
        # may not see answers as one in none: the two messages differed, and probing points mapped
        # where grids lie outside the user's area.
        # Only a grid in service today: a grid merged away keeps its boundary (its records were
        # located in it), one drawn for next month already has its own.
        in_service = Area.in_service_on(timezone.localdate())
        grid = (
            Area.objects.visible_to(request.user).filter(in_service, code__in=codes).order_by("code").first()
            if codes
            else None
        )
        if grid is None:
            raise exceptions.NotFound(_("No grid here: the point is outside every grid of your area."))
        ancestors = grid.ancestors()
        return Response(
            {
                "grid": AreaSerializer(grid).data,
                "ancestors": AreaBriefSerializer(ancestors.select_related("parent"), many=True).data,
            }
        )


# --- notifications --------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    # In the request's language (Accept-Language, else the site's): ``Notification.text``.
    message = serializers.CharField(source="text", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "message", "link", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilter(filters.FilterSet):
    # The list is always one user's: ``read_at`` is the second column of index notification_unread
    # (user, read_at), which serves the filter (tests/api/test_filter_indexes.py).
    unread = BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=gettext_lazy("true: unread only; false: read only")
    )

    class Meta:
        model = Notification
        fields = ["unread"]


def notifications_of(user):
    """The caller's notices, newest first (index notification_user_created; the id breaks a tie
    between notices written in the same instant, so a page never repeats or skips one)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


@extend_schema(
    summary=gettext_lazy("List your notices"),
    description=gettext_lazy(
        "Your own in-app notices, newest first, paginated; any role, and only the caller's. `unread=true` "
        "lists the unread ones, `false` the read ones; `message` is in the request's language. Send the "
        "answer's `ETag` back in `If-None-Match` to get a 304 with no body while nothing has changed (for "
        "polling)."
    ),
)
class NotificationListApi(KnownParamsMixin, generics.ListAPIView):
    """The caller's own notices, whatever their role (docs/api.md "Notifications")."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    params = tuple(NotificationFilter.base_filters)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: nobody signed in
            return Notification.objects.none()
        return notifications_of(self.request.user)

    def get(self, request, *args, **kwargs):
        # A phone polls the list: while nothing it shows changed, a 304 with no body for the price
        # of one aggregate (``notifications_version``), instead of the count, the page and its JSON.
        version, modified = notifications_version(request.user)
        etag = entity_tag(
            "notifications",
            request.user.pk,
            version,
            request.get_full_path(),
            request.META.get("HTTP_ACCEPT", ""),
            getattr(request, "LANGUAGE_CODE", ""),
        )
        read = super().get
        if modified is None:
            return conditional_read(request, etag, None, lambda: read(request, *args, **kwargs))
        # If-Modified-Since names a whole second: a notice written later in the second the client
        # last read, dated by it, was answered 304 and missed. A 304 only when the last change's
        # second ended by the date sent ("end" below); Last-Modified is that end once it has passed,
        # and the second itself (the next read a 200, spurious at worst) while changes may still land in it.
        end = math.floor(modified) + 1
        response = conditional_read(request, etag, end, lambda: read(request, *args, **kwargs))
        if response.has_header("Last-Modified"):
            response["Last-Modified"] = http_date(min(end, math.floor(timezone.now().timestamp())))
        return response


def notifications_version(user) -> tuple[str, float | None]:
    """What the caller's notices are, as the list shows them, and when they last changed: one
    aggregate over the user's rows (through the index of their user). A new notice raises the count
    and the newest id, one read raises the count of read ones and the last read time, one deleted
    (an administrator's, in the admin) lowers the count. Notices are never edited but there (their
    text and link are written once), and neither is a read one made unread. The time: the last
    notice written or read (Last-Modified, rounded up to the end of its second)."""
    seen = Notification.objects.filter(user=user).aggregate(
        n=Count("id"),
        newest=Max("id"),
        read=Count("read_at"),
        last_read=Max("read_at"),
        last=Max("created_at"),
    )
    times = [t for t in (seen["last"], seen["last_read"]) if t is not None]
    version = "{n} {newest} {read} {last_read}".format(**seen)
    return version, max(times).timestamp() if times else None


class NotificationReadApi(KnownParamsMixin, APIView):
    """Mark one of the caller's notices read; one read already keeps its first time. Another user's
    notice is the same 404 as a missing one."""

    # JSON alone, as the schema lists (a form or multipart body was read all the same, its 415 untrue);
    # no body at all is read as empty whatever its declared type.
    parser_classes = [JSONParser]

    @extend_schema(
        # No field: an empty body, ``{}``, or none. A body is still read, so one of a type the
        # endpoint does not read is a 415 as on every other write, and not silently passed over.
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: NotificationSerializer},
        operation_id="v1_notification_read",  # drf-spectacular's name is mark-all's, numbered
        summary=gettext_lazy("Mark a notice read"),
        description=gettext_lazy(
            "Marks one of your notices read and answers it as the list shows it; a notice read already "
            "keeps its first `read_at`. No fields: an empty body, `{}` or none (JSON only). Another user's "
            "notice is the same 404 as a missing one."
        ),
    )
    def post(self, request, pk: int):
        # The notice first: another user's is the 404 of a missing one whatever the body.
        notice = get_visible_or_404(Notification.objects.filter(user=request.user), pk=pk)
        request.data  # noqa: B018  (parsed for its 415 / 413 / 400)
        notice = notification_mark_read(notification=notice, actor=request.user)
        return Response(NotificationSerializer(notice).data)


class NotificationsReadApi(KnownParamsMixin, APIView):
    """Mark the caller's unread notices up to an id read (docs/api.md "Notifications")."""

    class InputSerializer(KnownFieldsSerializer):
        up_to = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            help_text=gettext_lazy(
                "the newest id the client has listed: unread notices with an id up to it are marked, "
                "not one that arrived after"
            ),
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()})},
        operation_id="v1_notifications_read",
        summary=gettext_lazy("Mark your notices read up to an id"),
        description=gettext_lazy(
            "Marks your unread notices with an id up to `up_to` read and answers how many (`marked`). Send "
            "the highest id you have listed, so that a notice that arrived since stays unread."
        ),
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(actor=request.user, up_to=data.validated_data["up_to"])
        return Response({"marked": marked})
