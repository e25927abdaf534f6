"""``assessments/`` and ``assessments/{id}/results/`` (DESIGN.md section 7): schemes with their items,
and per area the total, item scores, veto, grade and rank of the run shown (the published run, else the
newest; ``?run=`` picks another run of the scheme). Read-only; scoped by the assessing area, and for
the staff of an assessed area by that area (their rows of the published run only:
``AssessmentScheme.objects.readable_by``), so an outsider gets the same 404 as for a scheme that does
not exist.

As the statistics API (dashboards.api): JSON or CSV, an ETag and Last-Modified, 304 for a client that
has the answer already. The validators come from the "assessments" version (bumped by every change to
a scheme, an item or a run: assessment_models) and the areas' and memberships' versions, two queries
whatever the number of schemes or areas."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers

from dashboards import assessment
from dashboards.api import StatsReadMixin, stats_read_doc
from dashboards.assessment_models import (
    ASSESSMENTS_VERSION,
    AssessmentItem,
    AssessmentResult,
    AssessmentScheme,
)
from governance.access import get_visible_or_404
from governance.api import AreaSubtreeFilter, ChoiceFilter
from governance.models import Area, SequenceCounter
from governance.periods import FIRST_YEAR, LAST_YEAR
from governance.workflow import ActionInvalid


class AssessmentItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentItem
        fields = [
            "id",
            "order",
            "name",
            "max_points",
            "method",
            "indicator",
            "target",
            "zero_at",
            "full_at",
            "deduction_cap",
            "bonus_cap",
        ]


class AssessmentSchemeSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    items = AssessmentItemSerializer(many=True, read_only=True)
    published_run = serializers.IntegerField(source="published_run_id", read_only=True, allow_null=True)

    class Meta:
        model = AssessmentScheme
        fields = [
            "id",
            "year",
            "name",
            "area",
            "area_name",
            "level",
            "excellent_share_cap",
            "tie_rule",
            "published_run",
            "items",
        ]


class YearFilter(filters.NumberFilter):
    """A whole year of the calendar the app knows: a plain NumberFilter read 2026.5 as 2026."""

    field_class = forms.IntegerField


class AssessmentSchemeFilter(filters.FilterSet):
    area = AreaSubtreeFilter(
        field_name="area", help_text=gettext_lazy("area code: schemes of the areas in its subtree")
    )
    year = YearFilter(
        min_value=FIRST_YEAR, max_value=LAST_YEAR, help_text=gettext_lazy("a whole year, 1900 to 2999")
    )
    # An area level: a misspelt one answered 200 with no schemes, read as "none set up".
    level = ChoiceFilter(choices=Area.Level.choices, help_text=gettext_lazy("the level assessed"))

    class Meta:
        model = AssessmentScheme
        fields = ["year", "level", "area"]


class AssessmentReadMixin(StatsReadMixin):
    """The statistics reads' JSON/CSV and conditional GET, versioned by the assessment data."""

    def _version(self) -> tuple[str, dt.datetime | None]:
        value, changed = (
            SequenceCounter.objects.filter(key=ASSESSMENTS_VERSION, year=0)
            .values_list("value", "changed_at")
            .first()
        ) or (0, None)
        return f"{ASSESSMENTS_VERSION} {value}", changed


@extend_schema(
    summary=gettext_lazy("List assessment schemes"),
    description=stats_read_doc(
        gettext_lazy(
            "The assessment schemes with their items, newest year first: those whose assessing area is in your "
            "scope, and those assessing an area you are staff of or inside. Filters `year`, `level` (the level "
            "assessed) and `area` (a subtree, by code); any other value of them is a 400 naming the filter."
        ),
    ),
)
class AssessmentListApi(AssessmentReadMixin, generics.ListAPIView):
    serializer_class = AssessmentSchemeSerializer
    filterset_class = AssessmentSchemeFilter
    params = tuple(AssessmentSchemeFilter.base_filters)
    csv_name = "assessments"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)  # every filter validated here, else a 400
        # The CSV's name: the filters as the form cleaned them ("２０２６" is 2026, the area's code
        # stripped), the form alone, no query; a blank one is no filter, and not named.
        form = self.filterset_class(self.request.query_params, queryset=queryset.none()).form
        form.is_valid()
        given = form.cleaned_data
        self.csv_name_parts = [str(given[name]) for name in ("year", "level", "area") if given.get(name)]
        return queryset

    def get_queryset(self):
        return (
            AssessmentScheme.objects.readable_by(self.request.user)
            .select_related("area")
            .prefetch_related(Prefetch("items", queryset=AssessmentItem.objects.order_by("order", "id")))
            .order_by("-year", "area__code", "level")
        )


class ItemScoreSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    name = serializers.CharField()
    method = serializers.CharField()
    max_points = serializers.DecimalField(max_digits=7, decimal_places=2)
    indicator = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    base = serializers.DecimalField(max_digits=7, decimal_places=2)
    deductions = serializers.DecimalField(max_digits=7, decimal_places=2)
    bonus = serializers.DecimalField(max_digits=7, decimal_places=2)
    score = serializers.DecimalField(max_digits=7, decimal_places=2)


class AssessmentResultSerializer(serializers.ModelSerializer):
    scheme = serializers.IntegerField(source="run.scheme_id", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    published = serializers.SerializerMethodField()
    area = serializers.CharField(source="area.code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    items = ItemScoreSerializer(many=True, read_only=True)
    rank_of = serializers.IntegerField(
        read_only=True,
        help_text=gettext_lazy("how many areas the run ranked: the page's rank 2/5 is rank 2, rank_of 5"),
    )
    rules = serializers.JSONField(
        source="run.rules",
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy(
            "the rules the run was graded by, recorded when it was computed: thresholds (excellent, good, "
            "pass), veto_effect, excellent_share_cap, excellent_allowed, areas, tie_rule; null for a run "
            "computed before runs recorded them"
        ),
    )

    class Meta:
        model = AssessmentResult
        fields = [
            "scheme",
            "run",
            "published",
            "area",
            "area_name",
            "total",
            "deductions",
            "bonus",
            "vetoed",
            "veto_events",
            "grade",
            "capped",
            "rank",
            "rank_of",
            "previous_rank",
            "rank_change",
            "items",
            "rules",
        ]

    def get_published(self, obj: AssessmentResult) -> bool:
        # The scheme's published run, not any run once published: one published before another
        # was published in its place is no longer the published result.
        return obj.run_id == self.context.get("published_run")


@extend_schema(
    parameters=[
        OpenApiParameter(
            "run",
            OpenApiTypes.INT,
            description=gettext_lazy("a run of this scheme (default: the published run, else the newest)"),
        )
    ],
    summary=gettext_lazy("Results of an assessment scheme"),
    description=stats_read_doc(
        gettext_lazy(
            "A scheme's results per area in rank order: total, item scores, deductions, bonus, veto, grade, "
            "rank with `rank_of`, and the change since the previous run; of the published run, else the "
            "newest, or of the run `run` names. Staff of an assessed area read their own area's row of the "
            "published run only (`run` naming another is a 400). A scheme you may not read is a 404."
        ),
    ),
)
class AssessmentResultListApi(AssessmentReadMixin, generics.ListAPIView):
    serializer_class = AssessmentResultSerializer
    filter_backends: list = []
    params = ("run",)
    csv_name = "assessments"

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "published_run": getattr(self, "published_run", None)}

    def get_queryset(self):
        scheme = get_visible_or_404(
            AssessmentScheme.objects.readable_by(self.request.user).select_related("area", "published_run"),
            pk=self.kwargs["pk"],
        )
        self.published_run = scheme.published_run_id
        # An assessed area's staff: their areas' rows of the published run only.
        own = scheme.own_areas(self.request.user)
        try:
            run = assessment.readable_run(scheme, self.request.query_params.get("run"), own)
        except ActionInvalid as err:
            raise exceptions.ValidationError({err.field: [err.message]}) from None
        # The CSV's name: the scheme's id (not the path's text: "/0012/" is scheme 12) and the run the
        # file holds, asked for or shown by default, so two downloads either side of a publication
        # are told apart.
        self.csv_name_parts = [str(scheme.pk), "results", f"run_{run.pk}" if run else ""]
        if run is None:
            return AssessmentResult.objects.none()
        rows = AssessmentResult.objects.filter(run=run)
        if own is not None:
            rows = rows.filter(area__code__in=own)
        # The rank's "of N" counts every area of the run, not the rows read: the assessed read their own
        # row alone, and a page holds some of the rows. A subquery of the one statement, index
        # assessresult_unique_run_area: no query more, none per row.
        ranked = AssessmentResult.objects.filter(run=OuterRef("run")).order_by().values("run")
        return (
            rows.annotate(rank_of=Subquery(ranked.annotate(n=Count("pk")).values("n")))
            .select_related("area", "run")
            .order_by("rank", "area__code")
        )
