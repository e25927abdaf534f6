"""REST API of statistics and intake (DESIGN.md section 7).

Reads (``stats/indicators|values|rankings|series|rollups``) are open to every signed-in user for the
areas in their scope; the analyst role (and its API tokens) exists for exactly this: statistics in
scope and nothing personal (no endpoint here carries personal data; who started a rollup run is
named to administrators only). Every read answers in JSON or CSV (``?format=csv`` or
``Accept: text/csv``, cells by ``csv_cell``) and carries an ETag and Last-Modified taken from the
last successful rollup run and the last change to the areas and memberships (names and scopes the
answer depends on), so a client polling unchanged data gets 304. A read costs a fixed number
of queries whatever the number of areas (areas come with ``select_related``).

Writes: the survey and case-count imports (analyst or admin, areas in scope) and starting a run
(admin).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import intake, ranking
from dashboards.exports import spreadsheet_safe
from dashboards.models import IndicatorValue, RollupRun
from dashboards.rollup import in_progress as rollup_in_progress
from dashboards.rollup import last_success
from governance import indicators as registry_api
from governance import outbox
from governance.access import get_visible_or_404
from governance.api import ChoiceFilter
from governance.models import Area, SequenceCounter
from governance.periods import PERIOD_TYPES, Period, parse_month
from governance.rest import (
    BoundedCountPagination,
    Conflict,
    ImportJSONParser,
    JSONParser,
    KnownFieldsSerializer,
    KnownParamsMixin,
    Pagination,
    conditional_read,
    entity_tag,
    refuse_unknown_params,
)
from governance.schema import request_too_large
from governance.text import join_sentences, join_sentences_lazy

# --- CSV and conditional GET ----------------------------------------------------------------------


class CSVRenderer(BaseRenderer):
    """Flat rows as CSV (a paginated answer exports its ``results``), each cell by ``csv_cell``.
    Errors never get here: see ``StatsReadMixin.finalize_response``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:  # a 304: no body
            return b""
        rows = data.get("results", data) if isinstance(data, dict) else data
        if isinstance(rows, dict):
            rows = [rows]
        out = io.StringIO()
        # No rows still gets its header (from the view's serializer): a bare BOM gave a client's CSV
        # reader no columns at all.
        columns = _serializer_fields((renderer_context or {}).get("view"))
        fields = list(rows[0].keys()) if rows else list(columns)
        times = {name for name, field in columns.items() if isinstance(field, serializers.DateTimeField)}
        if fields:
            writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: csv_cell(v, time=k in times) for k, v in row.items()} for row in rows or [])
        # A BOM so that spreadsheet programs open the Chinese names as UTF-8.
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_cell(value: Any, *, time: bool = False) -> Any:
    """One cell of the API's CSV, in the form docs/statistics.md ("CSV") gives for every endpoint:

    - a boolean is ``true`` or ``false``, as in the JSON (Python's ``True`` was written);
    - a time (``time``: the serializer's DateTimeField) is ISO 8601 to the second with the offset of
      TIME_ZONE, ``2026-11-23T16:44:15+08:00`` (isoformat gave microseconds or none, as they were 0);
    - null is an empty cell; a date stays ``2026-09-01``; an area code stays the bare code;
    - a nested list or object (an assessment's items, a result's veto events) is its JSON, as in the
      JSON answer (it was Python's repr, with single quotes, which no JSON reader takes);
    - text that a spreadsheet would run as a formula gets a leading apostrophe (``spreadsheet_safe``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    if isinstance(value, dt.datetime) or (time and isinstance(value, str) and value):
        return csv_time(value)
    return spreadsheet_safe(value)


def csv_time(value: str | dt.datetime) -> str:
    """A time as the API's CSV writes it: ISO 8601 to the second, in TIME_ZONE, with its offset (text
    that is no ISO time, as a DATETIME_FORMAT of REST_FRAMEWORK could give, is left as it is)."""
    try:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except ValueError:
        return spreadsheet_safe(value)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, zone)
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _serializer_fields(view) -> dict[str, serializers.Field]:
    """The view's columns, by name (the header of a CSV with no rows, and each column's type)."""
    if view is None or not hasattr(view, "get_serializer_class"):
        return {}
    return dict(view.get_serializer_class()().fields)


RENDERERS = [JSONRenderer, CSVRenderer, BrowsableAPIRenderer]

# When this process started (to the second, as HTTP dates go): what the code defines, the
# indicator registry, may have changed then.
PROCESS_STARTED = timezone.now().replace(microsecond=0)


# What every statistics and assessment read answers, after each operation's own description.
STATS_READ_DOC = gettext_lazy(
    "JSON, or CSV with `?format=csv` or `Accept: text/csv` (one page; the total is in `X-Total-Count`); "
    "each parameter is given once. Sending the `ETag` back in `If-None-Match` (or the date in "
    "`If-Modified-Since`) gets a 304 with no body while the data is unchanged."
)


def stats_read_doc(description):
    """A statistics or assessment read's description: its own, then what every such read answers."""
    return join_sentences_lazy((description, STATS_READ_DOC))


class StatsReadMixin(KnownParamsMixin):
    """ETag / Last-Modified from the last successful rollup, 304 when the client has it already."""

    renderer_classes = RENDERERS

    def check_params(self, request) -> None:
        super().check_params(request)
        # Every parameter of these reads takes one value: ?indicator=a&indicator=b answered b's rows
        # alone, read by the client as both's (django-filter and query_params.get keep the last).
        twice = [name for name in request.query_params if len(set(request.query_params.getlist(name))) > 1]
        if twice:
            message = _("Give this parameter once: it takes one value.")
            raise exceptions.ValidationError({name: [message] for name in twice})

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON whatever the client asked for (DESIGN.md section 7): as CSV, a 400 was a
        # "detail,errors" table whose second cell was a Python repr of the errors dict.
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and renderer is not None and renderer.format == CSVRenderer.format:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        _paging_headers(response)
        return super().finalize_response(request, response, *args, **kwargs)

    # The name a CSV answer is saved under (``Content-Disposition``; a browser or ``curl -OJ`` saved
    # every one as "values" or "rankings" with no sign of what it held): the endpoint's name, then
    # ``csv_name_parts``, the parameters as the read validated them (codes and periods, never the
    # text the client sent), then the page after the first. Empty: the path after /api/v1/.
    csv_name = ""
    csv_name_parts: list[str] = []

    def csv_filename(self, request) -> str:
        name = self.csv_name or request.path.removeprefix("/api/v1/").strip("/").replace("/", "-")
        parts = [name, *self.csv_name_parts]
        page = getattr(getattr(self, "paginator", None), "page", None)
        if page is not None and page.number > 1:
            parts.append(f"page{page.number}")
        return "-".join(_FILENAME_UNSAFE.sub("_", part) for part in parts if part) + ".csv"

    def _version(self) -> tuple[str, dt.datetime | None]:
        """What the data read depends on, and when it last changed: the last successful run."""
        run = last_success()
        finished = run.finished_at if run else None
        return f"{run.pk if run else 0}|{finished}", finished

    # Does the answer name areas and depend on the user's scope? Then it changes without a run when
    # an area is renamed, recoded or moved, or a membership is added or removed.
    reads_areas = True

    def _area_changes(self) -> tuple[str, list[dt.datetime]]:
        """The "areas" version (in the tag: a renamed area changes the rows) and the times areas and
        memberships last changed (in Last-Modified: the tag carries the scope itself, a date does
        not, and If-Modified-Since kept a client whose scope had changed on the old rows). One query."""
        if not self.reads_areas:
            return "", []
        counters = {
            key: (value, at)
            for key, value, at in SequenceCounter.objects.filter(
                key__in=("areas", "memberships"), year=0
            ).values_list("key", "value", "changed_at")
        }
        areas = counters.get("areas", (0, None))[0]
        return f"areas {areas}", [at for _value, at in counters.values() if at]

    def _validators(self, request) -> tuple[str, float | None]:
        version, finished = self._version()
        areas, changed = self._area_changes()
        if finished and changed:
            finished = max(finished, *changed)
        scope = sorted(m.area.path + m.role for m in request.user.memberships_cached())
        key = "|".join(
            [
                version,
                areas,
                request.get_full_path(),
                request.META.get("HTTP_ACCEPT", ""),
                request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else "",
                str(request.user.is_superuser),
                *scope,
            ]
        )
        return entity_tag(key), finished.timestamp() if finished else None

    def get(self, request, *args, **kwargs):
        etag, modified = self._validators(request)
        read = super().get
        response = conditional_read(request, etag, modified, lambda: read(request, *args, **kwargs))
        if response.status_code == 200 and request.accepted_renderer.format == CSVRenderer.format:
            response["Content-Disposition"] = f'attachment; filename="{self.csv_filename(request)}"'
        return response


# Anything but ASCII letters, digits, "_" and "-" in a part of a CSV's file name (RFC 6266: the name
# is quoted, and no quote, backslash, CR or LF may reach the header). The parts are validated codes
# and periods already; this holds the header safe whatever an area's code might come to hold.
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _paging_headers(response) -> None:
    """A CSV answer is one page of rows and nothing else: a client reading ``format=csv`` got the
    first 50 rows of a longer list with no sign that there were more. The page links and the total
    go in headers (RFC 8288 ``Link``; ``X-Total-Count``), for JSON answers too."""
    data = getattr(response, "data", None)
    if response.status_code != 200 or not isinstance(data, dict) or "count" not in data:
        return
    links = [f'<{data[rel]}>; rel="{rel}"' for rel in ("next", "previous") if data.get(rel)]
    if links:
        response["Link"] = ", ".join(links)
    if data.get("count_exact", True):  # an estimate (stats/values/ past its bound) is no total
        response["X-Total-Count"] = str(data["count"])


def _spec(code: str, field: str = "indicator") -> registry_api.IndicatorSpec:
    try:
        return registry_api.get(code)
    except KeyError:
        raise exceptions.ValidationError(
            {field: [_("Unknown indicator %(code)r.") % {"code": code}]}
        ) from None


def _period(text: str, field: str = "period") -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise exceptions.ValidationError({field: [str(exc)]}) from None


def _begun_period(text: str, field: str = "period") -> Period:
    """The one period of ``rankings`` and ``values``, which must have begun: a month or a year to come
    (a client's off-by-one) was an empty 200, read as "no data for that period"."""
    period = _period(text, field)
    refused = ranking.not_begun(period)
    if refused:
        raise exceptions.ValidationError({field: [refused]})
    return period


def _period_type(text: str, field: str = "period_type") -> str:
    if text not in PERIOD_TYPES:
        raise exceptions.ValidationError({field: [_("Use one of: %s.") % ", ".join(PERIOD_TYPES)]})
    return text


def _read_params(request, required: tuple[str, ...], readers: dict) -> dict[str, Any]:
    """The parameters of ``rankings`` and ``series``, each read by its reader (``_spec``,
    ``_period`` ...; None: the text as it is), every mistake named in one 400: a misspelt indicator
    and a bad period were told one per request. Those not given are left out (``required`` ones,
    which must be among ``readers``, are a 400)."""
    errors: dict[str, list] = {}  # in the order of ``readers``, as the documentation lists them
    values: dict[str, Any] = {}
    for name, reader in readers.items():
        text = request.query_params.get(name)
        if not text:
            if name in required:
                errors[name] = [_("This parameter is required.")]
            continue
        try:
            values[name] = reader(text, name) if reader else text
        except exceptions.ValidationError as exc:
            errors.update(exc.detail)
    if errors:
        raise exceptions.ValidationError(errors)
    return values


def _visible_area(user, code: str) -> Area:
    return get_visible_or_404(Area.objects.visible_to(user), code=code)


# --- stats/indicators -----------------------------------------------------------------------------


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.ChoiceField(choices=registry_api.UNITS)
    direction = serializers.ChoiceField(choices=registry_api.DIRECTIONS)
    description = serializers.CharField()
    headline = serializers.BooleanField()
    min_sample = serializers.IntegerField()


@extend_schema(
    summary=gettext_lazy("List the indicators"),
    description=stats_read_doc(
        gettext_lazy(
            "Every indicator the rollup computes, by code: its name, unit, direction, description, whether "
            "it is a headline one and its minimum sample. The same for every signed-in user."
        ),
    ),
)
class IndicatorListApi(StatsReadMixin, generics.ListAPIView):
    """The indicator registry: every indicator the rollup computes."""

    serializer_class = IndicatorSerializer
    filter_backends: list = []
    params = ()
    csv_name = "indicators"

    reads_areas = False

    def _version(self) -> tuple[str, dt.datetime | None]:
        # The registry is code, not data: a deploy that adds an indicator or changes one's minimum
        # sample got a 304 for the old list until the next run succeeded. Its content is in the tag,
        # and a deploy restarts the processes, so Last-Modified is never before this one started.
        version, finished = super()._version()
        content = repr([sorted(row.items()) for row in self.get_queryset()])
        modified = max(finished, PROCESS_STARTED) if finished else None
        return f"{version}|{hashlib.sha256(content.encode()).hexdigest()}", modified

    def get_queryset(self):
        return [
            {
                "code": s.code,
                "name": str(s.name),
                "unit": s.unit,
                "direction": s.direction,
                "description": str(s.description),
                "headline": s.headline,
                "min_sample": s.min_sample,
            }
            for s in sorted(registry_api.registry().values(), key=lambda s: s.code)
        ]


# --- stats/values, rankings, series ---------------------------------------------------------------


class IndicatorValueSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.code")
    area_name = serializers.CharField(source="area.name")
    parent = serializers.CharField(source="parent.code", default=None, allow_null=True)  # the city: none
    unit = serializers.SerializerMethodField()
    run = serializers.IntegerField(source="run_id", allow_null=True)

    class Meta:
        model = IndicatorValue
        fields = [
            "indicator", "unit", "period", "period_type", "area", "area_name", "level", "parent",
            "numerator", "denominator", "value", "rank", "rank_of", "previous_value", "delta",
            "previous_rank", "rank_change", "yoy_value", "yoy_delta", "run",
        ]  # fmt: skip

    def get_unit(self, obj: IndicatorValue) -> str:
        spec = registry_api.registry().get(obj.indicator)
        return spec.unit if spec else ""


def _level_refused(
    message: str, area: Area, level: str, key: str = "area_level"
) -> exceptions.ValidationError:
    """The 400 of a ``level`` that the area named with it cannot have: ``message`` names the area's
    code, its level (as ``key``) and the level asked for, each level by its label."""
    labels = {"code": area.code, key: Area.Level(area.level).label, "level": Area.Level(level).label}
    return exceptions.ValidationError({"level": [message % labels]})


def _nothing_below(grid: Area) -> exceptions.ValidationError:
    """The 400 of a grid named as a ``parent``: a grid has no smaller areas, and the empty list its
    children gave read as "no data yet"."""
    return exceptions.ValidationError(
        {"parent": [_("%(code)s is a grid: no area lies below it.") % {"code": grid.code}]}
    )


def _values_base(user):
    # The area and parent come with the row (one query whatever the number of areas).
    return IndicatorValue.objects.visible_to(user).select_related("area", "parent")


class IndicatorValueFilter(filters.FilterSet):
    # The descriptions are the schema's (/api/schema/): without them a client learnt only "string".
    indicator = filters.CharFilter(
        method="filter_indicator",
        help_text=gettext_lazy("an indicator code of stats/indicators/; another is a 400"),
    )
    period = filters.CharFilter(
        method="filter_period",
        help_text=gettext_lazy("one period: 2026-11 (month), 2026Q4, 2026H2 or 2026 (year)"),
    )
    area = filters.CharFilter(
        method="filter_area",
        help_text=gettext_lazy("area code: that area's rows (in your scope, else a 400)"),
    )
    level = ChoiceFilter(method="filter_level", choices=Area.Level.choices)
    parent = filters.CharFilter(
        method="filter_parent",
        help_text=gettext_lazy(
            "area code: the rows of its children (in your scope or just above it, else a 400); with "
            "a level further down, that level's rows in its subtree"
        ),
    )
    period_type = ChoiceFilter(field_name="period_type", choices=[(t, t) for t in PERIOD_TYPES])

    class Meta:
        model = IndicatorValue
        fields = ["indicator", "period", "area", "level", "parent", "period_type"]

    def is_valid(self) -> bool:
        """Every parameter that is wrong by itself is named in the one 400, as rankings and series
        name theirs: the form checked the choices (``level``, ``period_type``) and the filters then
        refused the rest one at a time, so ``indicator=nope&period=2026Q9&level=town`` took three
        round trips. The checks that relate two filters (an area its level does not match) follow
        in the filters, once each is good. An area is looked up once (``_known_area`` keeps it)."""
        super().is_valid()
        checks = {
            "indicator": _spec,
            "period": _begun_period,
            "area": lambda code, name: self._known_area(name, code),
            "parent": lambda code, name: self._known_area(name, code),
        }
        for name, check in checks.items():
            value = self.form.cleaned_data.get(name)
            if not value:
                continue
            try:
                check(value, name)
            except exceptions.ValidationError as exc:
                for field, messages in exc.detail.items():
                    # Each message is its own parameter: the REST framework formats a form's messages
                    # with their parameters, and one quoting a value such as "%s" was a 500.
                    self.form.add_error(
                        field, [DjangoValidationError("%(m)s", params={"m": str(m)}) for m in messages]
                    )
        if self.form.errors:  # named in the filters' order, as the docs list them
            errors = self.form.errors
            self.form._errors = type(errors)((key, errors[key]) for key in self.form.fields if key in errors)
        return not self.form.errors

    def filter_indicator(self, qs, name, value):
        # A misspelt code is a 400 as in rankings and series, not an empty list that reads as
        # "no data yet" (the registry is public: nothing leaks).
        return qs.filter(indicator=_spec(value).code)

    def _known_area(self, name: str, code: str) -> Area:
        # A misspelt code, or one outside the scope, is the same 400 as on every other area filter
        # (docs/api.md), not an empty list that reads as "no data yet".
        known = self.__dict__.setdefault("_areas", {})
        if (name, code) not in known:
            known[(name, code)] = self._find_area(name, code)
        return known[(name, code)]

    def _find_area(self, name: str, code: str) -> Area:
        visible = Area.objects.visible_to(self.request.user)
        area = visible.filter(code=code).first()
        if area is None and name == "parent":
            # The parent of an area in scope may lie above it (a street's district): its rows name it.
            area = Area.objects.filter(code=code, children__in=visible).first()
        if area is None:
            raise exceptions.ValidationError({name: [_("Unknown area code %(code)s.") % {"code": code}]})
        return area

    def filter_area(self, qs, name, value):
        area = self._known_area(name, value)
        # With a level or a parent the area does not have, the rows were filtered again to none: an
        # empty 200 read as "no data for this area". The filter that contradicts it is named.
        level, parent_code = self.form.cleaned_data.get("level"), self.form.cleaned_data.get("parent")
        if level and area.level != level:
            raise _level_refused(_("%(code)s is a %(area_level)s, not a %(level)s."), area, level)
        if parent_code and parent_code.strip():
            parent = self._known_area("parent", parent_code)
            # What the parent filter selects: its children, or with a level, that level in its subtree.
            selected = (
                area.path.startswith(parent.path) and area.pk != parent.pk
                if level
                else area.parent_id == parent.pk
            )
            if not selected:
                raise exceptions.ValidationError(
                    {
                        "parent": [
                            _("%(code)s is not among the areas parent %(parent)s selects.")
                            % {"code": area.code, "parent": parent.code}
                        ]
                    }
                )
        return qs.filter(area=area)

    # ``level`` and ``parent`` select areas: the rows are then those areas' (index value_series, or
    # with an indicator and a period value_unique_ind_period_area), selected by a subquery: a list of
    # ids bound one parameter each cost Django 70 ms for the 6,864 grids, twice a request
    # (docs/benchmarks.md, "Statistics API reads at city scale"). No index leads with
    # the rows' own level or parent column, and one per filter would cost every full rollup another
    # sort of all rows: ``?level=district`` read every row of the table for a dozen districts'.
    # (A row's level and parent are its area's: moving an area makes the next rollup a full one.)

    def filter_level(self, qs, name, value):
        if self.form.cleaned_data.get("parent"):
            return qs  # the parent's filter reads the level too (a blank parent is no filter)
        return qs.filter(area_id__in=Area.objects.filter(level=value).values("pk"))

    def filter_parent(self, qs, name, value):
        parent = self._known_area(name, value)
        level = self.data.get("level")
        levels = list(Area.Level.values)
        if level not in levels and parent.level == Area.Level.GRID:
            raise _nothing_below(parent)  # (with a level, the level is named below)
        if level not in levels or levels.index(level) == levels.index(parent.level) + 1:
            return qs.filter(area_id__in=parent.children.values("pk"))
        # DESIGN.md section 7: ``level`` + ``parent``. A level further down is that level's rows in
        # the parent's subtree (every community of a district); it matched nothing (the rows' parent
        # is a street), an empty answer read as "no data". A level at or above the parent's matches
        # nothing ever: a 400 naming it.
        if levels.index(level) <= levels.index(parent.level):
            raise _level_refused(
                _("%(code)s is a %(parent_level)s: no %(level)s lies below it."),
                parent,
                level,
                "parent_level",
            )
        below = Area.objects.filter(level=level, path__startswith=parent.path)
        return qs.filter(area_id__in=below.values("pk"))

    def filter_period(self, qs, name, value):
        period = _begun_period(value)
        asked_type = self.data.get("period_type")
        if asked_type in PERIOD_TYPES and asked_type != period.kind:
            # 2026Q3 with period_type=month matches nothing: an empty list read as "no data yet".
            raise exceptions.ValidationError(
                {
                    "period_type": [
                        _("%(period)s is not of period_type %(type)s.")
                        % {"period": period.code, "type": asked_type}
                    ]
                }
            )
        qs = qs.filter(period=period.code)
        if not self.data.get("indicator"):
            # The (indicator, period, area) index serves a period alone through the registry's codes.
            qs = qs.filter(indicator__in=list(registry_api.registry()))
        return qs


@extend_schema(
    summary=gettext_lazy("Indicator values"),
    description=stats_read_doc(
        gettext_lazy(
            "The stored values of the areas in your scope, by indicator, period and area code, paginated; any "
            "signed-in user. Each row has its rank among its siblings and `rank_of`. An `area` outside your "
            "scope is a 400 naming the filter, as an unknown code is; a `parent` may also be the area just "
            "above your scope."
        ),
    ),
)
class IndicatorValueListApi(StatsReadMixin, generics.ListAPIView):
    """Stored indicator values (DESIGN.md section 6) for the areas in your scope."""

    serializer_class = IndicatorValueSerializer
    filterset_class = IndicatorValueFilter
    # Its unfiltered list (a level, a period type) matches millions of rows at a city's scale:
    # counted up to a bound, then estimated (count_exact), the pages exact either way.
    pagination_class = BoundedCountPagination
    params = tuple(IndicatorValueFilter.base_filters)
    csv_name = "values"

    def get_queryset(self):
        # Indexes: value_unique_ind_period_area (indicator, period; with level or area too: at most
        # one row per area per indicator and period), value_ranking (parent), value_series (area).
        return _values_base(self.request.user).order_by("indicator", "period", "area__code")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)  # every filter validated here, else a 400
        # The filters as they matched: stripped (as the filter form strips them), the period as its
        # code (2026-11 for "２０２６-１１"); a blank one is no filter.
        given = {name: self.request.query_params.get(name, "").strip() for name in self.params}
        if given["period"]:
            given["period"] = Period.parse(given["period"]).code
        if given["parent"]:
            given["parent"] = f"parent_{given['parent']}"  # not to be read as the area's own code
        order = ("indicator", "period", "period_type", "level", "area", "parent")
        self.csv_name_parts = [given[name] for name in order]
        return queryset


@extend_schema_serializer(
    description=gettext_lazy(
        "A row of a ranking: a child in service without a stored value has nulls (nothing counted)."
    )
)
class RankingValueSerializer(IndicatorValueSerializer):
    """A row of a league: a child in service without a stored row has nulls (nothing counted)."""

    numerator = serializers.FloatField(
        allow_null=True, label=IndicatorValue._meta.get_field("numerator").verbose_name
    )
    denominator = serializers.FloatField(
        allow_null=True, label=IndicatorValue._meta.get_field("denominator").verbose_name
    )


_INDICATOR_DOC = gettext_lazy("an indicator code of stats/indicators/")


class RankingPagination(Pagination):
    """The page of a league and, beside it, ``parent_own_records``: the records filed at the parent
    itself, which its children's rows do not hold (the league page's last row). Null when there are
    none, or when the difference is below zero (a stored row out of step, no records)."""

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paged = super().get_paginated_response_schema(schema)
        number = {"type": "number", "format": "double"}
        paged["properties"]["parent_own_records"] = {
            "type": "object",
            "nullable": True,
            "description": gettext_lazy(
                "The parent's stored numerator and denominator less the sums of all its children "
                "listed (every page): the records filed at the parent itself, so that the children "
                "and this make the parent's sums. Null when there are none."
            ),
            "properties": {
                "numerator": number,
                "denominator": number,
                "value": {
                    **number,
                    "nullable": True,
                    "description": gettext_lazy(
                        "by the indicator's formula; null for a rate per residents (the parent "
                        "divides by its own population, which counts its children's residents) or "
                        "when there is nothing to divide"
                    ),
                },
            },
            "required": ["numerator", "denominator", "value"],
        }
        paged["required"] = [*paged.get("required", []), "parent_own_records"]
        return paged


@extend_schema(
    parameters=[
        OpenApiParameter("indicator", OpenApiTypes.STR, required=True, description=_INDICATOR_DOC),
        OpenApiParameter(
            "period",
            OpenApiTypes.STR,
            required=True,
            description=gettext_lazy("2026-11, 2026Q4, 2026H2, 2026"),
        ),
        OpenApiParameter(
            "parent",
            OpenApiTypes.STR,
            required=True,
            description=gettext_lazy(
                "code of the parent area (in your scope, else a 404; a grid, with nothing below it, is a 400)"
            ),
        ),
    ],
    summary=gettext_lazy("Rank the children of an area"),
    description=stats_read_doc(
        gettext_lazy(
            "Every child of `parent` in service in `period`, for one `indicator`, in rank order: the ranked "
            "ones, then the unranked (below the minimum sample, or with no records in the period), by code; "
            "beside the page, `parent_own_records`. `parent` must be in your scope (else a 404, as an "
            "unknown code is) and not a grid (a 400)."
        ),
    ),
)
class RankingListApi(StatsReadMixin, generics.ListAPIView):
    """Every child of ``parent`` in service in the period, in rank order: the ranked ones, then the
    unranked (below the minimum sample, or without any value: no records in the period), by code."""

    serializer_class = RankingValueSerializer
    pagination_class = RankingPagination
    filter_backends: list = []
    params = ("indicator", "period", "parent")
    own: ranking.OwnRecords | None = None
    csv_name = "rankings"

    def get_queryset(self):
        params = _read_params(
            self.request, self.params, {"indicator": _spec, "period": _begun_period, "parent": None}
        )
        spec, period = params["indicator"], params["period"]
        parent = _visible_area(self.request.user, params["parent"])
        if parent.level == Area.Level.GRID:
            # Its league was an empty 200 (the league page says a grid has nothing below it too).
            raise _nothing_below(parent)
        self.csv_name_parts = [spec.code, period.code, parent.code]
        # Index value_ranking (indicator, period, parent): a few dozen siblings, sorted here. The
        # children in service without a stored row follow, as on the league page (one more query;
        # the list is paginated as it is, without a count query).
        values = list(
            IndicatorValue.objects.filter(indicator=spec.code, period=period.code, parent=parent)
            .select_related("area", "parent")
            .order_by(F("rank").asc(nulls_last=True), "area__code")
        )
        values += ranking.children_without_value(values, spec.code, period, parent)
        # Ranked first by rank, then the unranked (stored or not) by code, as the page sorts by rank.
        values.sort(key=lambda v: (v.rank is None, v.rank or 0, v.area.code))
        # Of every child, not of the page (one more query: the parent's own stored row).
        self.own = ranking.own_records(spec, period, parent, values)
        return values

    def get_paginated_response(self, data):
        # Additive: the page keeps its keys; the CSV keeps one line per child (it renders
        # ``results`` only: docs/statistics.md "stats/rankings/" says why).
        response = super().get_paginated_response(data)
        own = self.own
        response.data["parent_own_records"] = (
            None
            if own is None
            else {"numerator": own.numerator, "denominator": own.denominator, "value": own.value}
        )
        return response


# The rows of a series, those of stats/values/: a component of its own all the same, since its page
# (counted exactly) is not the page of stats/values/ (count_exact), and drf-spectacular names a page
# after its rows' component (PaginatedSeriesValueList). No docstring: it would reach the schema.
class SeriesValueSerializer(IndicatorValueSerializer):
    pass


@extend_schema(
    parameters=[
        OpenApiParameter("indicator", OpenApiTypes.STR, required=True, description=_INDICATOR_DOC),
        OpenApiParameter(
            "area", OpenApiTypes.STR, required=True, description=gettext_lazy("area code (in your scope)")
        ),
        OpenApiParameter(
            "period_type", OpenApiTypes.STR, enum=PERIOD_TYPES, description=gettext_lazy("default month")
        ),
        OpenApiParameter(
            "from",
            OpenApiTypes.STR,
            description=gettext_lazy(
                "first period, inclusive, of the period_type: 2026-01, 2026Q1; one that has not begun is a 400"
            ),
        ),
        OpenApiParameter(
            "to",
            OpenApiTypes.STR,
            description=gettext_lazy("last period, inclusive, of the period_type: 2026-11, 2026Q4"),
        ),
    ],
    summary=gettext_lazy("An area's values over time"),
    description=stats_read_doc(
        gettext_lazy(
            "One area's values of one `indicator` for the periods of one `period_type` (default month), "
            "oldest first, from `from` to `to` (both inclusive, either optional). The area must be in your "
            "scope, else a 404, as an unknown code is."
        ),
    ),
)
class SeriesListApi(StatsReadMixin, generics.ListAPIView):
    """One area's values over time, oldest first."""

    serializer_class = SeriesValueSerializer
    filter_backends: list = []
    params = ("indicator", "area", "period_type", "from", "to")
    csv_name = "series"

    def get_queryset(self):
        kind = self.request.query_params.get("period_type") or "month"

        def bound(text: str, name: str) -> Period:
            period = _period(text, name)
            if kind in PERIOD_TYPES and period.kind != kind:  # (another period_type is named itself)
                raise exceptions.ValidationError({name: [_("Give a period of type %s.") % kind]})
            if name == "from":
                # A from to come matches no row: an empty list, read as "no data since then". (A to
                # to come is a range left open, through the year's end say, and keeps its rows.)
                _begun_period(text, name)
            return period

        params = _read_params(
            self.request,
            ("indicator", "area"),
            {"indicator": _spec, "area": None, "period_type": _period_type, "from": bound, "to": bound},
        )
        bounds: dict[str, Period] = {n: params[n] for n in ("from", "to") if n in params}
        if "from" in bounds and "to" in bounds and bounds["from"].code > bounds["to"].code:
            # A swapped range would answer an empty list, read as "no data in this range".
            raise exceptions.ValidationError(
                {
                    "from": [
                        _("from %(start)s is after to %(end)s.")
                        % {"start": bounds["from"].code, "end": bounds["to"].code}
                    ]
                }
            )
        area = _visible_area(self.request.user, params["area"])
        self.csv_name_parts = [params["indicator"].code, area.code, kind] + [
            f"{name}_{bounds[name].code}" for name in ("from", "to") if name in bounds
        ]
        # Index value_series (area, indicator): a few dozen rows; codes of one type sort by time.
        qs = IndicatorValue.objects.filter(indicator=params["indicator"].code, area=area, period_type=kind)
        if "from" in bounds:
            qs = qs.filter(period__gte=bounds["from"].code)
        if "to" in bounds:
            qs = qs.filter(period__lte=bounds["to"].code)
        return qs.select_related("area", "parent").order_by("period")


# --- stats/rollups ----------------------------------------------------------------------------------


class RollupRunSerializer(serializers.ModelSerializer):
    # A username is personal data: the analyst role reads "statistics in its scope and nothing
    # personal" (DESIGN.md section 7), and this list named the administrator behind each run to every
    # analyst token. ``trigger`` (nightly, command, api, tree, population, demo) says how a run started to all.
    requested_by = serializers.CharField(
        source="requested_by.username",
        default=None,
        allow_null=True,
        help_text=gettext_lazy(
            "the username of whoever started the run: to administrators only, null for everyone "
            "else (and for a run nobody started); `trigger` says how it started"
        ),
    )
    trigger = serializers.CharField(
        read_only=True,
        help_text=(
            gettext_lazy(
                "how the run started: nightly, command, api, tree (an area moved, its level or population "
                "changed, or an area deleted), population (populations by year imported) or demo"
            )
        ),
    )

    # The monotonic clock's difference, 4.545385736000014 with a float's noise: to the millisecond.
    seconds = serializers.SerializerMethodField()

    class Meta:
        model = RollupRun
        fields = [
            "id", "kind", "status", "trigger", "started_at", "finished_at", "seconds", "rows", "months",
            "periods", "statements", "since", "requested_by", "error",
        ]  # fmt: skip

    def get_seconds(self, instance: RollupRun) -> float | None:
        return None if instance.seconds is None else round(instance.seconds, 3)

    def to_representation(self, instance: RollupRun) -> dict:
        data = super().to_representation(instance)
        if not self.context.get("names_people"):
            data["requested_by"] = None
        return data


class RollupStartSerializer(KnownFieldsSerializer):
    # A misspelt field ("ful": true) was dropped without a word and an incremental run queued in
    # place of the full rebuild asked for: every field sent is one this endpoint reads.
    full = serializers.BooleanField(default=False)
    since = serializers.CharField(required=False, help_text=gettext_lazy("YYYY-MM"))

    def validate_since(self, value: str) -> str:
        # One reading with ``manage.py rollup --since`` (governance.periods.parse_month): full-width
        # digits are a month, Arabic-Indic ones and year 0 are not ("0000-01" was queued, 202, and
        # failed in the worker without a run to show for it).
        try:
            month = parse_month(value)
        except ValueError:
            raise serializers.ValidationError(_("Enter a month as YYYY-MM.")) from None
        # A later month has nothing to recompute: the run would be queued, "succeed" and do nothing.
        if month > timezone.localdate().replace(day=1):
            raise serializers.ValidationError(_("The month is in the future."))
        return f"{month.year:04d}-{month.month:02d}"  # not "%Y", which writes 999 for the year 0999


@extend_schema_view(
    get=extend_schema(
        summary=gettext_lazy("List the rollup runs"),
        description=stats_read_doc(
            gettext_lazy(
                "The rollup runs, newest first, paginated: kind, status, how each started, its times and counts, "
                "and its error if it failed. Any signed-in user; only administrators see who started a run "
                "(`requested_by`), others get null."
            ),
        ),
    )
)
class RollupRunListApi(StatsReadMixin, generics.ListCreateAPIView):
    """GET: the runs, newest first. POST (admin): start a run now (queued to the worker)."""

    serializer_class = RollupRunSerializer
    filter_backends: list = []
    params = ()
    csv_name = "rollups"
    parser_classes = [JSONParser, FormParser]

    def get_queryset(self):
        return RollupRun.objects.select_related("requested_by").order_by("-started_at", "-id")

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "names_people": self.request.user.is_administrator()}

    reads_areas = False

    def _area_changes(self) -> tuple[str, list[dt.datetime]]:
        # No area names, but the usernames depend on the reader's role: the tag carries the scope
        # (roles included) and the superuser flag, and Last-Modified the last change to either, or a
        # user made administrator kept the list without the names behind If-Modified-Since.
        changed = (
            SequenceCounter.objects.filter(key="memberships", year=0)
            .values_list("changed_at", flat=True)
            .first()
        )
        return "", [changed] if changed else []

    def _version(self) -> tuple[str, dt.datetime | None]:
        # The list changes when a run starts, fails or finishes, not only when one succeeds: a
        # client polling after POST must see the running or failed run and its error.
        run = RollupRun.objects.order_by("-id").only("id", "status", "started_at", "finished_at").first()
        if run is None:
            return "0", None
        return f"{run.pk}|{run.status}|{run.finished_at}", run.finished_at or run.started_at

    @extend_schema(
        request=RollupStartSerializer,
        responses={202: inline_serializer("RollupStarted", {"detail": serializers.CharField()})},
        summary=gettext_lazy("Start a rollup run"),
        description=gettext_lazy(
            "Queues a rollup run to the worker and answers 202: incremental by default, the full rebuild "
            "with `full`, and with `since` (YYYY-MM, not after this month) every month from then on "
            "recomputed too. Administrators only (others get 403); 409 while a run is in progress; an "
            "unknown field is a 400 naming it."
        ),
    )
    def post(self, request, *args, **kwargs):
        user = request.user
        if not user.is_administrator():
            raise exceptions.PermissionDenied(_("Only an administrator can start a rollup run."))
        data = RollupStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Decided by the engine's own lock, not by a row marked running: a killed worker's row stays
        # so until the next run marks it failed, and refusing that run kept it so for ever.
        if rollup_in_progress():
            raise Conflict(_("A rollup run is in progress; try again when it has finished."))
        # Through the outbox (governance/outbox.py), as every task that must not be lost: with the
        # broker down, rollup.delay() raised after its retries and the answer was a 500, although
        # the request was fine; now the run is kept and sent once Redis is back.
        outbox.enqueue(
            "dashboards.rollup",
            full=data.validated_data["full"],
            since=f"{data.validated_data['since']}-01" if data.validated_data.get("since") else None,
            trigger="api",
            user_id=user.pk,
        )
        return Response({"detail": _("The rollup run has been queued.")}, status=status.HTTP_202_ACCEPTED)


# --- intake ---------------------------------------------------------------------------------------


class ImportResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    rows = serializers.IntegerField()


class ImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        help_text=gettext_lazy("CSV: the header is line 1; JSON: items from 1; 0: the import")
    )
    field = serializers.CharField()
    message = serializers.CharField()


class ImportErrorsSerializer(serializers.Serializer):
    rows = ImportRowErrorSerializer(
        many=True, required=False, help_text=gettext_lazy("every bad row, in line order")
    )
    file = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=gettext_lazy("the body is neither a list nor a file"),
    )


@extend_schema_serializer(
    description=gettext_lazy(
        "The 400 of an import: not the `field: [messages]` of other errors, but the bad rows, each with its "
        "line, field and message."
    )
)
class ImportRejectedSerializer(serializers.Serializer):
    """The 400 of an import: not the flat ``field -> [messages]`` of other errors, but the bad rows."""

    detail = serializers.CharField()
    errors = ImportErrorsSerializer(required=False)  # none for a body that is not JSON at all
    error_count = serializers.IntegerField(required=False, help_text=gettext_lazy("every error found"))
    errors_not_listed = serializers.IntegerField(
        required=False, help_text=gettext_lazy("errors after the first 100, which `errors.rows` leaves out")
    )


_IMPORT_REJECTED = OpenApiResponse(
    ImportRejectedSerializer,
    description=gettext_lazy(
        "Nothing was imported: `errors.rows` lists the bad rows (line, field, message), the "
        "first 100 of `error_count`."
    ),
)
# The imports take larger JSON bodies than the other endpoints (rows sized for INTAKE_MAX_ROWS), and
# a CSV upload is held to the limit of every request (governance.middleware): over either is a 413.
_IMPORT_TOO_LARGE = OpenApiResponse(
    description=join_sentences_lazy(
        (
            request_too_large(settings.IMPORT_JSON_MAX_BYTES),
            gettext_lazy("Split the rows into several imports."),
        )
    )
)
_SAFETY_DOC = gettext_lazy(
    "a code (very_safe, safe, basically_safe, not_very_safe, unsafe, dont_know) or its label (很安全 ...)"
)
_SATISFACTION_DOC = gettext_lazy(
    "a code (satisfied, fairly_satisfied, basically_satisfied, not_very_satisfied, dissatisfied, "
    "dont_know) or its label (满意 ...)"
)


def _import(request, columns: list[str], service, *, again_allowed: bool = False) -> Response:
    user = request.user
    if not (user.is_superuser or user.has_role(*intake.IMPORT_ROLES)):
        raise exceptions.PermissionDenied(_("Only an analyst or an administrator can import statistics."))
    # The imports read their rows from the body and, the survey import, ``?again=``: any other
    # parameter is refused by name (``?dry_run=true``, the command's option, imported for real).
    refuse_unknown_params(request, ["again", "format"] if again_allowed else ["format"])
    extra = {}
    if again_allowed:
        # ?again=true imports answers identical to an earlier batch's on purpose (intake.AlreadyImported).
        again = request.query_params.get("again", "")
        if again not in ("", "true", "false"):
            raise exceptions.ValidationError({"again": [_("Use true or false.")]})
        extra["again"] = again == "true"
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if (
        upload is None
        and not isinstance(request.data, list)
        and not (isinstance(request.data, dict) and isinstance(request.data.get("rows"), list))
    ):
        raise exceptions.ValidationError(
            {
                "file": [
                    _("Send a JSON list of rows or upload a CSV file with columns: %s.") % ", ".join(columns)
                ]
            }
        )
    try:
        if upload is not None:
            table, source = intake.table_from_csv(intake.csv_text(upload.read())), upload.name
        else:
            rows = request.data if isinstance(request.data, list) else request.data["rows"]
            table, source = intake.table_from_list(rows), "api"
        batch = service(table=table, actor=user, source=source, **extra)
    except intake.AlreadyImported as done:
        message = done.message()
        return Response({"detail": message, "errors": {"again": [message]}}, status=status.HTTP_409_CONFLICT)
    except intake.ImportRejected as rejected:
        detail = join_sentences([rejected.summary(), "; ".join(str(e) for e in rejected.errors[:5])])
        if rejected.not_listed:
            detail = join_sentences(
                [detail, _("Only the first %(listed)d are listed.") % {"listed": len(rejected.listed)}]
            )
        return Response(
            {
                "detail": detail,
                "errors": {"rows": [e.as_dict() for e in rejected.listed]},
                "error_count": len(rejected.errors),
                "errors_not_listed": rejected.not_listed,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return Response({"batch": batch.pk, "rows": batch.rows}, status=status.HTTP_201_CREATED)


_ROWS_DOC = gettext_lazy("A JSON list of rows, or multipart with a CSV `file` (header line first).")
_IMPORT_RULES_DOC = gettext_lazy(
    "Analysts and administrators only (others get 403); an area outside your scope is a bad row, as an "
    "unknown one is. Every row is checked first: any bad row is a 400 listing the bad lines, and nothing "
    "is imported."
)


def _import_doc(what):
    """An import's description: what it imports, then what every import does."""
    return join_sentences_lazy((what, _IMPORT_RULES_DOC, _ROWS_DOC))


class SurveyResponseImportApi(APIView):
    """Import survey answers: every row is checked first; any bad row -> 400 listing every bad line."""

    parser_classes = [ImportJSONParser, MultiPartParser]

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "SurveyResponseRow",
                {
                    "area": serializers.CharField(),
                    "date": serializers.DateField(),
                    "age_group": serializers.ChoiceField(choices=[c[0] for c in intake.AgeGroup.choices]),
                    "safety": serializers.CharField(help_text=_SAFETY_DOC),
                    "satisfaction": serializers.CharField(help_text=_SATISFACTION_DOC),
                    "weight": serializers.DecimalField(
                        max_digits=8,
                        decimal_places=3,
                        min_value=Decimal("0.001"),
                        max_value=Decimal("99999"),
                        required=False,
                        help_text=gettext_lazy("default 1; 0.001 to 99999, at most 3 decimals"),
                    ),
                },
                many=True,
            ),
            "multipart/form-data": inline_serializer(
                "SurveyResponseUpload", {"file": serializers.FileField()}
            ),
        },
        parameters=[
            OpenApiParameter(
                "again",
                OpenApiTypes.BOOL,
                description=gettext_lazy(
                    "true: import answers identical to an earlier batch's (409 without it)"
                ),
            )
        ],
        responses={
            201: ImportResultSerializer,
            400: _IMPORT_REJECTED,
            409: OpenApiResponse(
                description=gettext_lazy("the same answers were imported already (names the batch)")
            ),
            413: _IMPORT_TOO_LARGE,
        },
        summary=gettext_lazy("Import survey answers"),
        description=_import_doc(
            gettext_lazy(
                "Imports survey answers (area, date, age group, safety, satisfaction, an optional weight) and "
                "answers the batch (201). Answers identical to an earlier batch's are a 409 unless "
                "`again=true`."
            )
        ),
    )
    def post(self, request):
        return _import(request, intake.SURVEY_COLUMNS, intake.survey_responses_import, again_allowed=True)


class CaseCountImportApi(APIView):
    """Import police preventable-case counts per area, month and kind; a re-sent row replaces the count."""

    parser_classes = [ImportJSONParser, MultiPartParser]

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "CaseCountRow",
                {
                    "area": serializers.CharField(),
                    "month": serializers.RegexField(r"^\d{4}-\d{2}$", help_text=gettext_lazy("YYYY-MM")),
                    "kind": serializers.CharField(
                        help_text=gettext_lazy(
                            "one of the setting PREVENTABLE_CASE_KINDS, or its name (入室盗窃 ...: "
                            "PREVENTABLE_CASE_KIND_LABELS)"
                        )
                    ),
                    "count": serializers.IntegerField(min_value=0, max_value=intake.MAX_COUNT),
                },
                many=True,
            ),
            "multipart/form-data": inline_serializer("CaseCountUpload", {"file": serializers.FileField()}),
        },
        responses={201: ImportResultSerializer, 400: _IMPORT_REJECTED, 413: _IMPORT_TOO_LARGE},
        summary=gettext_lazy("Import police case counts"),
        description=_import_doc(
            gettext_lazy(
                "Imports police counts of preventable cases per area, month and kind and answers the batch "
                "(201); a row sent again replaces its count."
            )
        ),
    )
    def post(self, request):
        return _import(request, intake.CASE_COUNT_COLUMNS, intake.case_counts_import)


class PopulationImportApi(APIView):
    """Import area populations by year, the denominators of the per-10,000 rates of that year's
    months; a re-sent (area, year) replaces the figure."""

    parser_classes = [ImportJSONParser, MultiPartParser]

    @extend_schema(
        request={
            "application/json": inline_serializer(
                "PopulationRow",
                {
                    "area": serializers.CharField(),
                    "year": serializers.IntegerField(
                        help_text=gettext_lazy("from the year of ROLLUP_FIRST_MONTH to this one")
                    ),
                    "population": serializers.IntegerField(min_value=1, max_value=intake.MAX_POPULATION),
                },
                many=True,
            ),
            "multipart/form-data": inline_serializer("PopulationUpload", {"file": serializers.FileField()}),
        },
        responses={201: ImportResultSerializer, 400: _IMPORT_REJECTED, 413: _IMPORT_TOO_LARGE},
        summary=gettext_lazy("Import area populations by year"),
        description=_import_doc(
            gettext_lazy(
                "Imports area populations by year, the denominators of that year's per-10,000 rates, and "
                "answers the batch (201); an area and year sent again replace the figure, and a rollup run "
                "is queued."
            )
        ),
    )
    def post(self, request):
        return _import(request, intake.POPULATION_COLUMNS, intake.populations_import)
