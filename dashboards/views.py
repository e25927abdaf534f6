"""Ranking pages (overview, league table with map and export, trends) and assessment pages."""

from __future__ import annotations

import io
import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboards import assessment, exports, forms, intake, ranking, rollup
from dashboards.assessment_models import (
    EVIDENCE_TYPES,
    Adjustment,
    AssessmentItem,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    ManualScore,
    VetoEvent,
    evidence_extension,
)
from dashboards.models import ImportBatch, IndicatorValue, preventable_case_kinds
from governance import indicators as registry
from governance.access import get_visible_or_404
from governance.models import Area
from governance.periods import MONTH, PERIOD_TYPES, Period
from governance.text import join_sentences
from governance.workflow import ActionInvalid, WorkflowError

PERIOD_TYPE_NAMES = {
    "month": gettext_lazy("month"),
    "quarter": gettext_lazy("quarter"),
    "half": gettext_lazy("half-year"),
    "year": gettext_lazy("year"),
}


class NoArea(Http404):
    """The user's scope holds no area: none imported yet (a fresh installation), or no membership.
    The pages explain it (``no_area``); elsewhere it stays a 404."""


def _no_area(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/no_area.html")


class BadParameter(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _selection(request: HttpRequest) -> dict:
    """Indicator, period and parent area from the query string, with defaults for the user's scope.
    An unknown indicator or a malformed period raises BadParameter naming the field; an area out of
    scope is a 404."""
    params = request.GET
    all_specs = ranking.specs()
    if not all_specs:
        raise Http404(_("No indicators are registered."))
    code = params.get("indicator") or ranking.headline_specs()[0].code
    spec = ranking.spec_or_none(code)
    if spec is None:
        raise BadParameter("indicator", _("Unknown indicator %(code)r.") % {"code": code})
    if params.get("parent"):
        parent = ranking.area_for(request.user, params["parent"])
    else:
        parent = ranking.home_area(request.user)
        if parent is None:
            raise NoArea(_("No area in your scope."))
    kind = params.get("period_type") or ""
    if kind and kind not in PERIOD_TYPES:
        raise BadParameter("period_type", _("Period type must be month, quarter, half or year."))
    # Never later than the month under way, even with values stored for one to come (a clock set
    # wrong at a rollup): the default and the list of periods start at most there.
    latest = min(ranking.latest_month(spec.code, parent), ranking.current_month())
    if params.get("period"):
        try:
            period = Period.parse(params["period"])
        except ValueError as exc:
            raise BadParameter("period", str(exc)) from None
        # As stats/rankings refuses it: its page of "no values" read as a period without data.
        refused = ranking.not_begun(period, for_people=True)
        if refused:
            raise BadParameter("period", refused)
        if kind and period.kind != kind:
            # The type was changed: the latest period of the new type that has begun (the year 2026
            # turned into months in March was 2026-12, nine months away).
            month = min(Period.of(MONTH, *_ym(period)), ranking.current_month())
            period = Period.of(kind, month.year, month.index)
    else:
        period = Period.of(kind or MONTH, latest.year, latest.index)
    return {
        "spec": spec,
        "specs": all_specs,
        # The current month (the default when it has values) is compared with whole months: its
        # closure rate of a few days read as a collapse (33.33%, -64.47 pts) with nothing to say why.
        "running": ranking.running(period),
        "parent": parent,
        "period": period,
        "period_type": period.kind,
        "period_choices": _choices(period, latest),
        "period_types": [(k, PERIOD_TYPE_NAMES[k]) for k in PERIOD_TYPES],
        "roots": ranking.scope_roots(request.user),
    }


def _choices(period: Period, latest: Period) -> list[tuple[str, str]]:
    """The periods the picker offers, newest first, down from the latest with a value, as (code,
    label) pairs. The one asked for is always among them: older than the list, it was missing and
    the list showed its first period, 2026-12, over a page of 2019-01. Later than the latest, it
    heads the list, above the latest: the list went back 24 months from it, and from 2030-01 no
    month with data was one click away."""
    choices = ranking.period_choices(period.kind, latest)
    if period.code not in choices:
        later = Period.of(MONTH, *_ym(period)) > latest
        choices.insert(0 if later else len(choices), period.code)
    return [(code, Period.parse(code).label) for code in choices]


def _period_label(period: Period, *, lines: bool = False) -> str:
    """A period as a chart or a table heads it: "2026年12月", or "2026年12月（至今）" while it runs
    (``lines``: the note on a line of its own, under "2026年12月", for the chart's axis)."""
    if not ranking.running(period):
        return period.label
    if lines:
        return _("%(period)s\n(so far)") % {"period": period.label}
    return _("%(period)s (so far)") % {"period": period.label}


def _ym(period: Period) -> tuple[int, int]:
    month = period.months()[-1]
    return month.year, month.month


# What the error page calls a parameter: the page is read by people, who chose an indicator or a
# period from a menu and do not know it by its query-string name (kept in data-field for scripts).
PARAMETER_LABELS = {
    "indicator": gettext_lazy("Indicator"),
    "period_type": gettext_lazy("Period type"),
    "period": gettext_lazy("Period"),
    "year": gettext_lazy("Year"),
    "sort": gettext_lazy("Sort by"),
    "dir": gettext_lazy("Direction"),
    "format": gettext_lazy("Export format"),
    "action": gettext_lazy("Action"),
    "adjustment": gettext_lazy("Adjustment"),
    "form": gettext_lazy("Form"),
    "run": gettext_lazy("Run"),
    "area": gettext_lazy("Area"),
    "item": gettext_lazy("Item"),
    "points": gettext_lazy("Points"),
    "evidence": gettext_lazy("Evidence"),
    "status": gettext_lazy("Status"),
    "event": gettext_lazy("Event"),
    "items": gettext_lazy("Items"),
    "kind": gettext_lazy("Kind"),
    "occurrences": gettext_lazy("Occurrences"),
    "approve": gettext_lazy("Decision"),
    "veto": gettext_lazy("Veto"),
    "reason": gettext_lazy("Reason"),
}


def _bad(
    request: HttpRequest,
    err: BadParameter,
    template: str = "dashboards/bad_parameter.html",
    back: str | None = None,
) -> HttpResponse:
    context = {
        "field": err.field,
        "label": PARAMETER_LABELS.get(err.field, err.field),
        "message": err.message,
        # Where the page's button leads: by default the same address without its query ("start
        # again"); a POST-only address names the page the form was on instead.
        "back": back,
    }
    if back:  # the language switch returns there too, not to a POST-only address (a blank 405)
        context["page_url"] = back
    return render(request, template, context, status=400)


def _breadcrumbs(area: Area, user) -> list[Area]:
    """The area and its ancestors that the user may see (paths are code/code/...)."""
    codes = [c for c in area.path.strip("/").split("/") if c]
    visible = {a.code: a for a in Area.objects.visible_to(user).filter(code__in=codes)}
    return [visible[c] for c in codes if c in visible]


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    try:
        sel = _selection(request)
    except BadParameter as err:
        return _bad(request, err)
    except NoArea:
        return _no_area(request)
    area = sel["parent"]
    headlines = ranking.headline_values(area, sel["period"])
    # A change not shown because the other period was covered only in part by the data says so.
    begins = rollup.data_begins([h["spec"].code for h in headlines])
    for h in headlines:
        h["partial"] = ranking.partial_comparisons(h["spec"], sel["period"], begins.get(h["spec"].code))
    return render(
        request,
        "dashboards/overview.html",
        {
            **sel,
            "area": area,
            "headlines": headlines,
            "overdue": ranking.overdue_counts(request.user, area),
            "breadcrumbs": _breadcrumbs(area, request.user),
        },
    )


def _league_context(request: HttpRequest, *, own: bool = True) -> dict:
    """The league table's rows, and with ``own`` (the page and its exports, not the map) the row of
    the records filed at the parent itself (``ranking.own_records``)."""
    sel = _selection(request)
    sort = request.GET.get("sort", "rank")
    if sort not in ranking.SORTS:
        raise BadParameter("sort", _("Sort by rank, value, delta, rank_change, yoy_delta, name or sample."))
    direction = request.GET.get("dir") or "asc"
    if direction not in ("asc", "desc"):  # "sideways" was taken silently as ascending
        raise BadParameter("dir", _("Direction must be asc or desc."))
    descending = direction == "desc"
    spec = sel["spec"]
    # A survey's table shows its sample, and a percentage's its denominator: a mediation success
    # rate of 100.00% ranked above 50.00% on one case against two, which only the hover said (never
    # a phone's card). A count or a rate per 10,000 residents has none to show.
    sample_column = spec.min_sample > 0 or spec.unit == registry.PERCENT
    if sort == "sample" and not sample_column:
        # Elsewhere the rows were ordered by a number that was not on the page, and no header said so.
        raise BadParameter("sort", _("Sort by rank, value, delta, rank_change, yoy_delta or name."))
    rows = ranking.league_rows(spec, sel["period"], sel["parent"], sort, descending)
    for row in rows:
        row.text = ranking.format_value(spec, row.value.value)
        row.delta_text = ranking.format_delta(spec, row.value.delta)
        row.yoy_text = ranking.format_delta(spec, row.value.yoy_delta)
        row.last_year_text = ranking.format_value(spec, row.value.yoy_value)
        row.change_text = ranking.format_rank_change(row.value.rank_change)
        row.arrow = ranking.arrow(row.value.rank_change)
        row.segments = ranking.sparkline_segments(row.spark)
        row.sample_text = ranking.format_sample(row.value.denominator)
        row.numerator_text = ranking.format_sample(row.value.numerator)
    leaf = sel["parent"].level == Area.Level.GRID
    yearly = sel["period"].kind == "year"
    # The changes not shown because the other period was covered only in part by the data: said once
    # above the table (for a year, the previous period is the same period last year).
    partial = ranking.partial_comparisons(spec, sel["period"], rollup.data_begins([spec.code]).get(spec.code))
    if yearly:
        partial.pop("last_year", None)
    itself = (
        ranking.own_records(spec, sel["period"], sel["parent"], [r.value for r in rows])
        if own and not leaf
        else None
    )
    if itself:
        itself.label = _("Counted at %(area)s itself, not in any area listed") % {"area": sel["parent"].name}
        itself.text = ranking.format_value(spec, itself.value)
        itself.numerator_text = ranking.format_sample(itself.numerator)
        itself.sample_text = ranking.format_sample(itself.denominator)
    return {
        **sel,
        "rows": rows,
        "own": itself,
        "partial": list(partial.values()),
        "sort": sort,
        "dir": "desc" if descending else "asc",
        "survey": spec.min_sample > 0,
        "min_sample": spec.min_sample,
        "sample_column": sample_column,
        "sample_label": _("Sample") if spec.min_sample else _("Denominator"),
        # A grid has no smaller areas: its league table would always be empty ("no values for this
        # period", which is not why), so the page says so, and rows and map shapes of grids do not
        # drill down into it.
        "leaf": leaf,
        "breadcrumbs": _breadcrumbs(sel["parent"], request.user),
        # A year's previous period is the same period last year: its "Change" and "Year on year"
        # columns gave the same numbers twice. It has one, named for what it compares.
        "yearly": yearly,
        "sort_columns": [
            ("name", _("Area")),
            ("rank", _("Rank")),
            ("value", _("Value")),
            (
                "delta",
                _("Change on last year")
                if yearly
                else pgettext("difference from the previous period", "Change"),
            ),
            ("rank_change", _("Places")),
            *([] if yearly else [("yoy_delta", _("Year on year"))]),
        ],
        # The row of the records filed at the parent: its note spans the columns after the value.
        "own_span": 3 + sample_column + (not yearly),
    }


@login_required
@require_GET
def league(request: HttpRequest) -> HttpResponse:
    try:
        ctx = _league_context(request)
    except BadParameter as err:
        return _bad(request, err)
    except NoArea:
        return _no_area(request)
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        return exports.league_csv(ctx)
    if fmt == "xlsx":
        return exports.league_xlsx(ctx)
    if fmt:
        return _bad(request, BadParameter("format", _("Export format must be csv or xlsx.")))
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("print", None)
    ctx["query"] = query.urlencode()
    # The column headings set sort and dir themselves: carried over, each click appended another pair.
    sort_query = query.copy()
    sort_query.pop("sort", None)
    sort_query.pop("dir", None)
    ctx["sort_query"] = sort_query.urlencode()
    ctx["print"] = request.GET.get("print") == "1"
    ctx["map_data_url"] = reverse("dashboards-map-data") + "?" + query.urlencode()
    # The map's tooltip puts the numbers in (choropleth.js). Not {% translate %} in the template,
    # which looks up "%" doubled and so missed the overview's "rank 1 of 2".
    ctx["rank_text"] = _("rank %(rank)s of %(of)s")
    return render(request, "dashboards/league.html", ctx)


@login_required
@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    """Values of the league table for the choropleth: {code: {value, text, rank}}, class breaks."""
    try:
        ctx = _league_context(request, own=False)
    except BadParameter as err:
        return JsonResponse({"detail": err.message, "errors": {err.field: [err.message]}}, status=400)
    except Http404 as err:  # an area out of scope or none at all: JSON like the 400, not the HTML page
        return JsonResponse({"detail": str(err)}, status=404)
    spec = ctx["spec"]
    # Values to the 2 decimals the table shows, as the class breaks are: 85.714286 shown "85.71%"
    # belongs in the class "<= 85.71", not the next one.
    # A survey value on fewer answers than the minimum is shown in the table but not ranked; on the map
    # it is grey like no value and stays out of the class breaks: 5 answers of "safe" (100%) painted the
    # area in the best class and moved every break, while the table said "not ranked".
    unranked = spec.min_sample > 0
    areas = {
        r.area.code: {
            "name": r.area.name,
            "value": (
                None
                if r.value.value is None or (unranked and not r.ranked)
                else float(ranking.two_decimals(r.value.value))
            ),
            "text": r.text if r.ranked or not unranked else f"{r.text} · {_('not ranked')}",
            "rank": r.value.rank,
            "rank_of": r.value.rank_of,
        }
        for r in ctx["rows"]
    }
    breaks = ranking.class_breaks([a["value"] for a in areas.values()])
    return JsonResponse(
        {
            "indicator": spec.code,
            "name": str(spec.name),
            "period": ctx["period"].code,
            "lower_better": spec.direction == "lower_better",
            "areas": areas,
            "breaks": breaks,
            # The legend writes the breaks as the table writes values ("90.00%", not "90%").
            "break_texts": [ranking.format_value(spec, b) for b in breaks],
            "suffix": ranking.unit_suffix(spec),
            "drill_url": reverse("dashboards-league"),
        }
    )


@login_required
@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    """An area against its parent and siblings over time (ECharts line chart)."""
    try:
        sel = _selection(request)
    except BadParameter as err:
        return _bad(request, err)
    except NoArea:
        return _no_area(request)
    area = sel["parent"]
    spec, period = sel["spec"], sel["period"]
    periods = []
    current = period
    for _i in range(ranking.PICKER_LENGTH[period.kind]):
        periods.append(current.code)
        current = current.previous()
    periods.reverse()
    family = [area.pk]
    if area.parent_id:
        family.append(area.parent_id)
    # In scope only, as in stats/series: the parent and the siblings appear when the user may see
    # them (a district's staff see their district; a community's grids are compared with each other).
    rows = (
        IndicatorValue.objects.visible_to(request.user)
        .filter(indicator=spec.code, period__in=periods)
        .select_related("area")
    )
    if area.parent_id:
        rows = rows.filter(parent_id=area.parent_id) | rows.filter(area_id=area.parent_id)
    else:
        rows = rows.filter(area_id=area.pk)
    series: dict[str, dict] = {}
    for v in rows:
        entry = series.setdefault(
            v.area.code,
            {
                "name": v.area.name,
                "role": "self"
                if v.area_id == area.pk
                else "parent"
                if v.area_id == area.parent_id
                else "sibling",
                "data": {},
                "thin": set(),
            },
        )
        entry["data"][v.period] = None if v.value is None else float(ranking.two_decimals(v.value))
        if spec.min_sample and v.value is not None and (v.denominator or 0) < spec.min_sample:
            entry["thin"].add(v.period)  # a survey value on too few answers to be ranked
    # Start at the first period with any value (the picker's 24 months often reach back before the data).
    first = next(
        (i for i, p in enumerate(periods) if any(p in s["data"] for s in series.values())), len(periods)
    )
    periods = periods[first:] or periods[-1:]
    ordered = sorted(series.values(), key=lambda s: {"self": 0, "parent": 1}.get(s["role"], 2))
    chart = {
        "periods": periods,
        # What the axis writes under each period, in the page's language ("2026年11月"); the period
        # not over yet says so ("2026年12月（至今）"): its few days' value stood like a whole month's,
        # and the line's plunge there read as a collapse with nothing under the point to say why.
        "labels": [_period_label(Period.parse(p)) for p in periods],
        # The axis puts that note on a line of its own: one wide label took the room of two others
        # on a phone, where ECharts then wrote only the first and a middle month.
        "axis_labels": [_period_label(Period.parse(p), lines=True) for p in periods],
        "series": [
            {"name": s["name"], "role": s["role"], "data": [s["data"].get(p) for p in periods]}
            for s in ordered
        ],
        "unit": spec.unit,
        # What the axis and the tooltip write after a number ("92.47%"), as the tables do.
        "suffix": ranking.unit_suffix(spec),
        # The name of the value axis: its ticks (0.9 … 2.7) said nothing of what they counted.
        "axis_name": ranking.unit_label(spec),
    }
    # The table under the chart: each value as the league table writes it ("92.47%", "1,204"), with
    # its period, which labels it when a phone shows an area's row as a card (the headings are hidden).
    # A survey value on fewer answers than the indicator's minimum is marked, as the league table
    # leaves it unranked: the line went through it like any other point.
    table = [
        {
            "name": s["name"],
            "role": s["role"],
            "cells": [
                (label, ranking.format_value(spec, s["data"].get(p)), p in s["thin"])
                for p, label in zip(periods, chart["labels"], strict=True)
            ],
        }
        for s in ordered
    ]
    return render(
        request,
        "dashboards/trends.html",
        {
            **sel,
            "area": area,
            # The way up, as the overview and the league table give it (the trends page had none).
            "breadcrumbs": _breadcrumbs(area, request.user),
            "chart": chart,
            "chart_json": json.dumps(chart),
            "table": table,
            "thin": any(thin for s in table for _p, _t, thin in s["cells"]),
            "min_sample": spec.min_sample,
            # The caption says which lines the chart has: a user who sees no parent (a community
            # handler) or whose area has no siblings read of lines that were not there.
            "roles": {s["role"]: True for s in chart["series"]},
        },
    )


# --- assessment pages -----------------------------------------------------------------------------


@login_required
@require_GET
def assessments(request: HttpRequest) -> HttpResponse:
    schemes = list(
        AssessmentScheme.objects.readable_by(request.user)
        .select_related("area", "published_run")
        # Whether any run was computed: one never computed was listed "Draft", where its page and
        # its CSV say "Not computed yet.".
        .annotate(computed=Exists(AssessmentRun.objects.filter(scheme=OuterRef("pk"))))
        .order_by("-year", "area__code")
    )
    for s in schemes:  # the memberships are loaded once: no query per scheme
        s.own_only = s.own_areas(request.user) is not None
    return render(request, "dashboards/assessments.html", {"schemes": schemes})


@login_required
@require_GET
def assessment_results(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = get_visible_or_404(
        AssessmentScheme.objects.readable_by(request.user)
        .select_related("area", "published_run")
        .prefetch_related(Prefetch("items", queryset=AssessmentItem.objects.order_by("order", "id"))),
        pk=pk,
    )
    # A street's staff reading the district's scheme that assesses their street: their row alone,
    # of the published run alone (docs/assessment.md "Who may do what").
    own = scheme.own_areas(request.user)
    latest = assessment.latest_run(scheme) if own is None else None
    try:
        run = assessment.readable_run(scheme, request.GET.get("run"), own)
    except ActionInvalid as err:
        return _bad(request, BadParameter(err.field, err.message))
    rows = AssessmentResult.objects.filter(run=run).select_related("area").order_by("rank", "area__code")
    results = list(rows if own is None else rows.filter(area__code__in=own)) if run else []
    # The rank's "of N" counts every area ranked, not only the rows shown.
    ranked = len(results) if own is None or not run else AssessmentResult.objects.filter(run=run).count()
    for r in results:
        r.change_text = ranking.format_rank_change(r.rank_change)
        r.arrow = ranking.arrow(r.rank_change)
        # The value an item was scored on, as the league table writes it: "92.28" of a percentage
        # read as a bare number beside the points.
        for i in r.items:
            if i.get("value") is not None:
                spec = ranking.spec_or_none(i.get("indicator"))
                i["value_text"] = (
                    ranking.format_value(spec, i["value"]) if spec else str(ranking.two_decimals(i["value"]))
                )
    items = assessment.run_columns(list(scheme.items.all()), results)
    if own is not None:
        _describe_items(scheme)
    # No run to give: the page's words for it (the assessed see no draft, so theirs is "unpublished").
    state = assessment.run_state(scheme, run) or ("unpublished" if own is not None else "none")
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        return exports.assessment_csv(scheme, run, items, results, state, ranked)
    if fmt:  # as the league table: "xlsx" answered the HTML page, which a script saved as a spreadsheet
        return _bad(request, BadParameter("format", _("Export format must be csv.")))
    return render(
        request,
        "dashboards/assessment_results.html",
        {
            "scheme": scheme,
            "items": items,
            "run": run,
            "state": state,
            "latest": latest,
            # Not on the newer draft's own page, which that note ("not shown until it is published")
            # contradicted, linking to itself.
            "newer_draft": bool(
                scheme.published_run
                and latest
                and latest != run
                and not assessment.same_results(latest, scheme.published_run)
            ),
            "results": results,
            "ranked": ranked,
            "own_only": own is not None,
            "can_manage": assessment.can_manage(request.user, scheme),
            "rules": assessment.grading_rules(scheme, run, ranked),
            "year_running": assessment.year_running(scheme),
            "year_not_begun": assessment.year_not_begun(scheme),
        },
    )


def _describe_items(scheme: AssessmentScheme) -> None:
    """Each item's rule in words for the assessed area's staff, who have no admin to read it in:
    its indicator and the target, or the values scoring zero and full marks, as the league table
    writes them."""
    for item in scheme.items.all():
        spec = ranking.spec_or_none(item.indicator)
        item.indicator_name = spec.name if spec else ""
        item.method_text = assessment.method_label(item.method, item.indicator)
        for field in ("target", "zero_at", "full_at"):
            value = getattr(item, field)
            text = "" if value is None else ranking.format_value(spec, value) if spec else f"{value:g}"
            setattr(item, f"{field}_text", text)


@login_required
@require_POST
def assessment_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Compute a new run, or publish a run (managers only; analysts read)."""
    scheme = get_visible_or_404(
        AssessmentScheme.objects.visible_to(request.user).select_related("area"), pk=pk
    )
    action = request.POST.get("action")
    # The refusal's button went to "?", this POST-only address: a GET of it is a blank 405 page,
    # and the officer whose "Compute now" was refused (items not adding to 100) was left there.
    back = reverse("dashboards-assessment", kwargs={"pk": scheme.pk})
    try:
        if action == "compute":
            before = assessment.latest_run(scheme)
            run = assessment.assessment_compute(scheme=scheme, actor=request.user)
            # Computing unchanged inputs returns the newest run instead of storing a copy: say so, or
            # the click seemed to do nothing.
            if before is not None and run.pk == before.pk:
                messages.info(
                    request,
                    _("Nothing changed since run %(run)s: no new run was stored.") % {"run": run.pk},
                )
            else:
                messages.success(
                    request,
                    _("Computed anew: run %(run)s, a draft until it is published.") % {"run": run.pk},
                )
                # The new draft, with its "Publish this result": the published result came back,
                # the draft behind a "See it" link, and publishing took a second look for it.
                return redirect(f"{back}?run={run.pk}")
        elif action == "publish":
            run = assessment.scheme_run(scheme, request.POST.get("run") or "")
            assessment.assessment_publish(run=run, actor=request.user, seen=request.POST.get("published"))
            messages.success(request, _("Run %(run)s published.") % {"run": run.pk})
        else:
            return _bad(request, BadParameter("action", _("Action must be compute or publish.")), back=back)
    except WorkflowError as err:
        if err.status_code == 403:
            raise PermissionDenied(err.message) from None
        return _bad(request, BadParameter(getattr(err, "field", "action"), err.message), back=back)
    return redirect("dashboards-assessment", pk=scheme.pk)


def _adjustment_entered(a: Adjustment) -> str:
    values = {"points": a.points, "area": a.area.name, "item": a.item.name}
    if a.kind == Adjustment.Kind.DEDUCTION:
        return (
            _(
                "Deduction of %(points)s points for %(area)s, %(item)s, entered: it counts once another "
                "manager approves it."
            )
            % values
        )
    return (
        _(
            "Bonus of %(points)s points for %(area)s, %(item)s, entered: it counts once another manager "
            "approves it."
        )
        % values
    )


def _adjustment_decided(a: Adjustment) -> str:
    values = {"kind": a.get_kind_display(), "points": a.points, "area": a.area.name, "item": a.item.name}
    if a.status == Adjustment.Status.APPROVED:
        return _("Approved: %(kind)s of %(points)s points for %(area)s, %(item)s.") % values
    return _("Rejected: %(kind)s of %(points)s points for %(area)s, %(item)s.") % values


ENTRY_FORMS = {"manual": forms.ManualScoreForm, "adjustment": forms.AdjustmentForm, "veto": forms.VetoForm}


def _entry_context(request: HttpRequest, scheme: AssessmentScheme, bound: dict | None = None) -> dict:
    context = {
        name: (bound or {}).get(name) or cls(scheme=scheme, prefix=name) for name, cls in ENTRY_FORMS.items()
    }
    context["pending"] = (
        Adjustment.objects.filter(scheme=scheme, status=Adjustment.Status.PENDING)
        .select_related("area", "item", "negative_entry", "entered_by")
        .order_by("entered_at")
    )
    context["vetoes"] = VetoEvent.objects.filter(scheme=scheme).select_related(
        "area", "decided_by", "withdrawn_by"
    )
    # Those decided, with who entered and who decided them: once approved an adjustment left the list
    # above, and no page said which deductions and bonuses the scores counted, nor on whose word.
    context["decided"] = (
        Adjustment.objects.filter(scheme=scheme)
        .exclude(status=Adjustment.Status.PENDING)
        .select_related("area", "item", "negative_entry", "entered_by", "approved_by")
        .order_by("-approved_at", "-id")
    )
    # The hand scores with their evidence, which the approvers and reviewers open here.
    context["manual_scores"] = (
        ManualScore.objects.filter(item__scheme=scheme)
        .select_related("area", "item", "entered_by")
        .order_by("area__code", "item__order", "item__pk")
    )
    context["scheme"] = scheme
    # The veto form, and the withdrawal of a veto, only to those who may use them: a street manager
    # on a street scheme was shown the form and refused on sending it.
    context["may_veto"] = assessment.can_veto(request.user, scheme, scheme.area)
    return context


@login_required
@require_GET
def assessment_evidence(request: HttpRequest, pk: int, score: int) -> HttpResponse:
    """A hand score's evidence, to those who manage the assessment (the entries page's users): files
    are never public under MEDIA_URL. An attachment of the type its extension was accepted as, in an
    opaque origin, not kept by the browser."""
    scheme = get_visible_or_404(AssessmentScheme.objects.visible_to(request.user), pk=pk)
    if not assessment.can_manage(request.user, scheme):
        raise PermissionDenied(_("Only staff of the assessing area may change this assessment."))
    item = get_visible_or_404(ManualScore.objects.filter(item__scheme=scheme), pk=score)
    extension = evidence_extension(item.evidence.name)
    try:
        handle = item.evidence.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The evidence file is missing.")) from None
    response = FileResponse(
        handle,
        content_type=EVIDENCE_TYPES.get(extension, "application/octet-stream"),
        as_attachment=True,
        filename=f"evidence-{item.pk}{extension}",
    )
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def assessment_entries(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand scores with evidence, deductions and bonuses, their approval, and vetoes (managers)."""
    scheme = get_visible_or_404(
        AssessmentScheme.objects.visible_to(request.user).select_related("area"), pk=pk
    )
    if not assessment.can_manage(request.user, scheme):
        raise PermissionDenied(_("Only staff of the assessing area may change this assessment."))
    if request.method == "GET":
        return render(request, "dashboards/assessment_entries.html", _entry_context(request, scheme))
    which = request.POST.get("form", "")
    try:
        if which == "decide":
            decide = forms.DecideForm(request.POST)
            if not decide.is_valid():  # named by the field in error, the adjustment's first
                raise BadParameter(next(iter(decide.errors)), _("Choose an adjustment and a decision."))
            # Another scheme's adjustment is not found here, as another scheme's veto is.
            adjustment = get_visible_or_404(
                Adjustment.objects.filter(scheme=scheme), pk=decide.cleaned_data["adjustment"]
            )
            # A rejection's reason is checked by the service, after who may decide.
            reason = request.POST.get("reason", "")
            try:
                adjustment = assessment.adjustment_decide(
                    adjustment=adjustment,
                    approve=decide.cleaned_data["approve"],
                    actor=request.user,
                    reason=reason,
                )
            except ActionInvalid as err:
                if err.field not in ("points", "reason"):
                    raise
                # A bonus the cap has no room left for (it stays pending, and can be rejected there),
                # or a rejection without a proper reason: back to the page, the error at its row, with
                # the reason as typed.
                context = _entry_context(request, scheme)
                context["decide"] = {
                    "adjustment": adjustment.pk,
                    "field": err.field,
                    "message": err.message,
                    "reason": reason,
                }
                return render(request, "dashboards/assessment_entries.html", context, status=400)
            messages.success(request, _adjustment_decided(adjustment))
            return redirect("dashboards-assessment-entries", pk=scheme.pk)
        if which == "withdraw":
            withdraw = forms.WithdrawVetoForm(request.POST)
            if not withdraw.is_valid():
                raise BadParameter("veto", _("Choose a veto and give the reason."))
            veto = get_visible_or_404(
                VetoEvent.objects.filter(scheme=scheme), pk=withdraw.cleaned_data["veto"]
            )
            # The reason is checked by the service, after who may withdraw; a missing or too long
            # one comes back to the page at the veto's reason box, with what was typed (it ended on
            # the bare bad-request page).
            reason = request.POST.get("reason", "")
            try:
                veto = assessment.veto_withdraw(veto=veto, reason=reason, actor=request.user)
            except ActionInvalid as err:
                if err.field != "reason":
                    raise
                context = _entry_context(request, scheme)
                context["withdraw"] = {
                    "veto": veto.pk,
                    "field": "reason",
                    "reason": reason,
                    "message": err.message,
                }
                return render(request, "dashboards/assessment_entries.html", context, status=400)
            messages.success(
                request,
                _("Veto withdrawn for %(area)s: %(event)s.") % {"area": veto.area.name, "event": veto.event},
            )
            return redirect("dashboards-assessment-entries", pk=scheme.pk)
        if which not in ENTRY_FORMS:
            raise BadParameter("form", _("Unknown form."))
        form = ENTRY_FORMS[which](request.POST, request.FILES, scheme=scheme, prefix=which)
        if not form.is_valid():
            return render(
                request,
                "dashboards/assessment_entries.html",
                _entry_context(request, scheme, {which: form}),
                status=400,
            )
        data = form.cleaned_data
        if which == "manual":
            score = assessment.manual_score_enter(
                item=data["item"],
                area=data["area"],
                points=data["points"],
                evidence=data["evidence"],
                note=data["note"],
                actor=request.user,
            )
            done = _("Score of %(points)s saved for %(area)s, %(item)s.") % {
                "points": score.points,
                "area": score.area.name,
                "item": score.item.name,
            }
        elif which == "adjustment":
            adjustment = assessment.adjustment_enter(
                scheme=scheme,
                area=data["area"],
                kind=data["kind"],
                reason=data["reason"],
                actor=request.user,
                item=data["item"],
                negative_entry=data["negative_entry"],
                occurrences=data["occurrences"] or 1,
                points=data["points"],
            )
            done = _adjustment_entered(adjustment)
        else:
            veto = assessment.veto_record(
                scheme=scheme, area=data["area"], event=data["event"], actor=request.user
            )
            done = _("Veto recorded for %(area)s: %(event)s.") % {"area": veto.area.name, "event": veto.event}
    except BadParameter as err:
        return _bad(request, err)
    except WorkflowError as err:
        if err.status_code == 403:
            raise PermissionDenied(err.message) from None
        form = ENTRY_FORMS.get(which)
        if form is not None:
            bound = form(request.POST, request.FILES, scheme=scheme, prefix=which)
            bound.is_valid()
            # At the field the service names (marked, under its translated label); its internal
            # name ("points") never reaches the page.
            for field, message in getattr(err, "errors", {None: err.message}).items():
                bound.add_error(field if field in bound.fields else None, message)
            return render(
                request,
                "dashboards/assessment_entries.html",
                _entry_context(request, scheme, {which: bound}),
                status=400,
            )
        return _bad(request, BadParameter(getattr(err, "field", "form"), err.message))
    # Said after the redirect: the form comes back empty, and without a word the user could not tell
    # a saved entry from a lost one (and entered a bonus twice).
    messages.success(request, done)
    return redirect("dashboards-assessment-entries", pk=scheme.pk)


def _may_import(user) -> None:
    if not (user.is_superuser or user.has_role(*intake.IMPORT_ROLES)):
        raise PermissionDenied(_("Only an analyst or an administrator can import statistics."))


@login_required
@require_http_methods(["GET", "POST"])
def data_import(request: HttpRequest) -> HttpResponse:
    """Survey answers, police case counts and populations from a CSV file, as the API and the command
    import them (all or nothing, every bad line listed): a statistics clerk with a file saved from
    Excel had no way in but curl or a shell on the server."""
    user = request.user
    _may_import(user)
    form = forms.ImportForm(request.POST, request.FILES) if request.method == "POST" else forms.ImportForm()
    context: dict = {"form": form}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            status, done = _data_import_run(request, form.cleaned_data, context)
            if done:
                return redirect("dashboards-import")
    context["formats"] = _import_formats()
    # The clerk's own recent imports: whether the file sent went in, and as which batch.
    context["batches"] = ImportBatch.objects.filter(created_by=user).order_by("-pk")[:10]
    return render(request, "dashboards/data_import.html", context, status=status)


# The file names of the templates, in the request's language.
_TEMPLATE_NAMES = {
    "surveys": gettext_lazy("survey-answers-template.csv"),
    "case-counts": gettext_lazy("case-counts-template.csv"),
    "populations": gettext_lazy("populations-template.csv"),
}


@login_required
@require_GET
def data_import_template(request: HttpRequest) -> HttpResponse:
    """An empty CSV file of one import with its header, to fill in: a clerk typed the header from the
    page, and a misspelt name was refused only once the file came back. In Chinese the header gives
    the columns' Chinese names (as a Chinese office heads a sheet), otherwise their English ones; the
    import reads both. UTF-8 with a BOM, so that Excel shows the Chinese names."""
    _may_import(request.user)
    kinds = request.GET.getlist("kind")
    if len(kinds) != 1 or kinds[0] not in intake.IMPORT_COLUMNS:
        return _bad(
            request,
            BadParameter(
                "kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(intake.IMPORT_COLUMNS)}
            ),
            back=reverse("dashboards-import"),
        )
    kind = kinds[0]
    columns = intake.IMPORT_COLUMNS[kind]
    if (translation.get_language() or "").startswith("zh"):
        columns = [intake.COLUMN_NAMES_ZH[c][0] for c in columns]
    data = ("\ufeff" + ",".join(columns) + "\r\n").encode()
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=str(_TEMPLATE_NAMES[kind]))
    response["Content-Type"] = "text/csv; charset=utf-8"
    return response


def _data_import_run(request: HttpRequest, data: dict, context: dict) -> tuple[int, bool]:
    """(the page's status, whether the rows were written) of one import or check."""
    kind, upload, again = data["kind"], data["file"], data["again"]
    name = upload.name
    try:
        table = intake.table_from_csv(intake.csv_text(upload.read()))
        if data["dry_run"]:
            rows = intake.check_only(kind, table, request.user, again=again)
            context["checked"] = _("%(path)s: %(rows)d rows are valid (dry run, nothing written)") % {
                "path": name,
                "rows": rows,
            }
            return 200, False
        extra = {"again": again} if kind == "surveys" else {}
        batch = intake.IMPORTS[kind][1](table=table, actor=request.user, source=name, **extra)
    except intake.AlreadyImported as done:
        context["refused"] = done.message(
            _("a tick at “%(label)s”") % {"label": context["form"]["again"].label}
        )
        return 409, False
    except intake.ImportRejected as rejected:
        context["rejected"] = rejected
        # Each error's column also by the Chinese name a Chinese-headed file gives it (年龄段).
        context["rejected_rows"] = [
            {**e.as_dict(), "name_zh": intake.COLUMN_NAMES_ZH.get(e.field, ("",))[0]} for e in rejected.listed
        ]
        # As the command and the API's detail say it.
        summary = [rejected.summary()]
        if rejected.not_listed:
            summary.append(_("Only the first %(listed)d are listed.") % {"listed": len(rejected.listed)})
        context["rejected_summary"] = join_sentences(summary)
        return 400, False
    later = (
        _("The rates of those years are recomputed within minutes.")
        if kind == "populations"
        else _("They appear in the statistics after the next rollup (the nightly run at the latest).")
    )
    imported = ngettext(
        "%(path)s: imported %(rows)d row (batch %(batch)d).",
        "%(path)s: imported %(rows)d rows (batch %(batch)d).",
        batch.rows,
    ) % {
        "path": name,
        "rows": batch.rows,
        "batch": batch.pk,
    }
    messages.success(request, join_sentences([imported, later]))
    return 201, True


# A value with a hyphen in it ("45-54", "35-44岁", "YYYY-MM-DD"): up to a space, comma, slash or
# bracket, Chinese ones included.
_HYPHENATED = re.compile(r"[^\s,，、;；/()（）]+-[^\s,，、;；/()（）]+")


def _whole_values(text: str) -> SafeString:
    """``text`` escaped, each hyphenated value in a ``nowrap`` span: a phone broke "45-54" after its
    hyphen, which read as two values. The hyphen stays a plain one, to be copied into the sheet."""
    return mark_safe(_HYPHENATED.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', escape(text)))  # noqa: S308


def _import_formats() -> list[dict]:
    """The columns and values of each import, as docs/statistics.md section 4 gives them (each
    value's text through ``_whole_values``)."""
    formats = _import_format_texts()
    for f in formats:
        f["values"] = [(name, _whole_values(allowed)) for name, allowed in f["values"]]
    return formats


def _scale_values(labels: dict[str, str]) -> str:
    """Each code of an answer scale with the labels a Chinese questionnaire gives it, as the police
    kinds are listed: "very_safe 很安全, …, dont_know 不清楚/不知道". The labels alone told an English
    reader nothing, and a file may give either."""
    names: dict[str, list[str]] = {}
    for label, code in labels.items():
        names.setdefault(code, []).append(label)
    return ", ".join(f"{code} {'/'.join(words)}" for code, words in names.items())


def _import_format_texts() -> list[dict]:
    safety = intake.answer_labels("SURVEY_SAFETY_LABELS", intake.DEFAULT_SAFETY_LABELS, intake.SafetyAnswer)
    satisfaction = intake.answer_labels(
        "SURVEY_SATISFACTION_LABELS", intake.DEFAULT_SATISFACTION_LABELS, intake.SatisfactionAnswer
    )
    names = {code: name for name, code in intake.case_kind_labels().items()}
    return [
        {
            "kind": "surveys",
            "title": _("Survey answers"),
            "columns": intake.SURVEY_COLUMNS,
            "names_zh": [intake.COLUMN_NAMES_ZH[c][0] for c in intake.SURVEY_COLUMNS],
            "values": [
                ("date", _("YYYY-MM-DD or 2026/11/5, not in the future")),
                (
                    "age_group",
                    _("%(codes)s (or 35-44岁, 65岁及以上)") % {"codes": ", ".join(intake.AgeGroup.values)},
                ),
                ("safety", _scale_values(safety)),
                ("satisfaction", _scale_values(satisfaction)),
                ("weight", _("optional, default 1; 0.001 to 99999")),
            ],
        },
        {
            "kind": "case-counts",
            "title": _("Police preventable-case counts"),
            "columns": intake.CASE_COUNT_COLUMNS,
            "names_zh": [intake.COLUMN_NAMES_ZH[c][0] for c in intake.CASE_COUNT_COLUMNS],
            "values": [
                ("month", _("YYYY-MM or 2026/11, not after this month")),
                ("kind", ", ".join(f"{k} {names.get(k, '')}".strip() for k in preventable_case_kinds())),
                ("count", _("whole number, 0 to 1000000")),
            ],
        },
        {
            "kind": "populations",
            "title": _("Area populations by year"),
            "columns": intake.POPULATION_COLUMNS,
            "names_zh": [intake.COLUMN_NAMES_ZH[c][0] for c in intake.POPULATION_COLUMNS],
            "values": [("year", _("e.g. 2026")), ("population", _("whole number, 1 to 100000000"))],
        },
    ]
