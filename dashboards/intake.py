"""Importers of survey answers and police preventable-case counts (API uploads and commands).

Every row is validated first and every bad row is reported with its line number, the field and the
reason; nothing is written unless all rows are good (STYLE.md "Commands"). Areas are looked up in one
query per import; the rows are written with one bulk insert in one transaction, as one ``ImportBatch``.

Line numbers: a CSV file counts its header as line 1, so the first data row is line 2; a JSON list
counts its items from 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.models import (
    AgeGroup,
    ImportBatch,
    PreventableCaseCount,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyResponse,
    preventable_case_kinds,
)
from governance.access import area_in_scope
from governance.models import Area

IMPORT_ROLES = {"analyst", "admin"}
MAX_COUNT = 1_000_000  # cases of one kind in one area and month: anything above is a typing error

# Questionnaires are often exported with the Chinese labels: accept them as well as the codes.
SAFETY_LABELS = {
    "很安全": "very_safe",
    "安全": "safe",
    "基本安全": "basically_safe",
    "不太安全": "not_very_safe",
    "不安全": "unsafe",
    "不清楚": "dont_know",
    "不知道": "dont_know",
}
SATISFACTION_LABELS = {
    "满意": "satisfied",
    "比较满意": "fairly_satisfied",
    "基本满意": "basically_satisfied",
    "不太满意": "not_very_satisfied",
    "不满意": "dissatisfied",
    "不清楚": "dont_know",
    "不知道": "dont_know",
}
SURVEY_COLUMNS = ["area", "date", "age_group", "safety", "satisfaction", "weight"]
CASE_COUNT_COLUMNS = ["area", "month", "kind", "count"]


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class ImportRejected(Exception):
    """Some rows are bad; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} invalid row(s)")
        self.errors = errors


@dataclass
class Table:
    """Rows to import, each with the line number it came from."""

    rows: list[tuple[int, Mapping[str, Any]]]


def table_from_csv(text: str) -> Table:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    # reader.line_num is the physical line the row ended on (the header is line 1).
    rows = []
    for record in reader:
        rows.append((reader.line_num, {(k or "").strip(): v for k, v in record.items()}))
    return Table(rows)


def table_from_list(items: Iterable[Any]) -> Table:
    return Table([(i, item if isinstance(item, Mapping) else {"": item}) for i, item in enumerate(items, 1)])


def max_rows() -> int:
    return int(getattr(settings, "INTAKE_MAX_ROWS", 200_000))


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    return "" if value is None else str(value).strip()


class _Validator:
    def __init__(self, table: Table, user: Any) -> None:
        self.table, self.user = table, user
        self.errors: list[RowError] = []
        codes = {_text(row, "area") for _, row in table.rows} - {""}
        self.areas = {a.code: a for a in Area.objects.filter(code__in=codes)}

    def error(self, line: int, field: str, message: str) -> None:
        self.errors.append(RowError(line, field, str(message)))

    def area(self, line: int, row: Mapping[str, Any]) -> Area | None:
        code = _text(row, "area")
        if not code:
            self.error(line, "area", _("This field is required."))
            return None
        area = self.areas.get(code)
        # Out of the importer's scope reads like an unknown code: no existence leak.
        if area is None or (self.user is not None and not area_in_scope(self.user, area, IMPORT_ROLES)):
            self.error(line, "area", _("No area with code %(code)s in your scope.") % {"code": code})
            return None
        return area

    def choice(
        self, line: int, row: Mapping[str, Any], field: str, choices, labels: dict[str, str]
    ) -> str | None:
        text = _text(row, field)
        value = labels.get(text, text)
        if value not in choices.values:
            allowed = ", ".join(choices.values)
            self.error(
                line, field, _("%(value)r is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
            )
            return None
        return value

    def check_size(self) -> None:
        if not self.table.rows:
            self.error(0, "rows", _("There are no rows to import."))
        elif len(self.table.rows) > max_rows():
            self.error(0, "rows", _("At most %(n)d rows per import.") % {"n": max_rows()})


def validate_survey(table: Table, user: Any) -> list[SurveyResponse]:
    v = _Validator(table, user)
    v.check_size()
    today = timezone.localdate()
    out: list[SurveyResponse] = []
    for line, row in table.rows:
        before = len(v.errors)
        area = v.area(line, row)
        day = None
        try:
            day = dt.date.fromisoformat(_text(row, "date"))
            if day > today:
                v.error(line, "date", _("The date is in the future."))
        except ValueError:
            v.error(line, "date", _("Enter a date as YYYY-MM-DD."))
        age = v.choice(line, row, "age_group", AgeGroup, {})
        safety = v.choice(line, row, "safety", SafetyAnswer, SAFETY_LABELS)
        satisfaction = v.choice(line, row, "satisfaction", SatisfactionAnswer, SATISFACTION_LABELS)
        weight = Decimal("1")
        if _text(row, "weight"):
            try:
                weight = Decimal(_text(row, "weight"))
                if not (Decimal("0.001") <= weight <= Decimal("99999")) or weight != weight.quantize(
                    Decimal("0.001")
                ):
                    raise InvalidOperation
            except InvalidOperation:
                v.error(line, "weight", _("Enter a positive number up to 99999 with at most 3 decimals."))
        if len(v.errors) == before:
            out.append(
                SurveyResponse(
                    area=area,
                    date=day,
                    age_group=age,
                    safety=safety,
                    satisfaction=satisfaction,
                    weight=weight,
                )
            )
    if v.errors:
        raise ImportRejected(v.errors)
    return out


def validate_case_counts(table: Table, user: Any) -> list[PreventableCaseCount]:
    v = _Validator(table, user)
    v.check_size()
    kinds = preventable_case_kinds()
    seen: dict[tuple, int] = {}
    this_month = timezone.localdate().replace(day=1)
    out: list[PreventableCaseCount] = []
    for line, row in table.rows:
        before = len(v.errors)
        area = v.area(line, row)
        month = None
        try:
            month = dt.datetime.strptime(_text(row, "month"), "%Y-%m").date()
            if month > this_month:
                v.error(line, "month", _("The month is in the future."))
        except ValueError:
            v.error(line, "month", _("Enter a month as YYYY-MM."))
        kind = _text(row, "kind")
        if kind not in kinds:
            v.error(
                line,
                "kind",
                _("%(value)r is not one of: %(allowed)s.") % {"value": kind, "allowed": ", ".join(kinds)},
            )
        count = None
        try:
            count = int(_text(row, "count"))
            if not 0 <= count <= MAX_COUNT:
                raise ValueError
        except ValueError:
            v.error(line, "count", _("Enter a whole number from 0 to %(max)d.") % {"max": MAX_COUNT})
        if area is not None and month is not None and kind in kinds:
            key = (area.pk, month, kind)
            if key in seen:
                v.error(line, "kind", _("Same area, month and kind as line %(line)d.") % {"line": seen[key]})
            seen.setdefault(key, line)
        if len(v.errors) == before:
            out.append(PreventableCaseCount(area=area, month=month, kind=kind, count=count))
    if v.errors:
        raise ImportRejected(v.errors)
    return out


@transaction.atomic
def survey_responses_import(*, table: Table, actor: Any, source: str = "") -> ImportBatch:
    """Validate every row, then write them all (or raise ImportRejected and write nothing)."""
    responses = validate_survey(table, actor)
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.SURVEY, source=source[:200], rows=len(responses), created_by=_user(actor)
    )
    for r in responses:
        r.batch = batch
    SurveyResponse.objects.bulk_create(responses, batch_size=2000)
    return batch


@transaction.atomic
def case_counts_import(*, table: Table, actor: Any, source: str = "") -> ImportBatch:
    """Validate every row, then upsert them all: a re-sent (area, month, kind) replaces the count."""
    counts = validate_case_counts(table, actor)
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.CASE_COUNTS, source=source[:200], rows=len(counts), created_by=_user(actor)
    )
    now = timezone.now()
    for c in counts:
        c.batch, c.updated_at = batch, now
    PreventableCaseCount.objects.bulk_create(
        counts,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["area", "month", "kind"],
        update_fields=["count", "batch", "updated_at"],
    )
    return batch


def _user(actor: Any):
    return actor if getattr(actor, "pk", None) else None
