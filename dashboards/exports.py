"""CSV and XLSX of exactly what the league table shows (same rows, same order, same columns)."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dashboards import assessment
from dashboards.ranking import two_decimals
from governance import indicators as registry

# A text cell starting with one of these is a formula to Excel, LibreOffice and openpyxl (OWASP "CSV
# injection"): area, item and veto texts are typed by staff, so an exported name "=HYPERLINK(...)"
# would run in whoever opens the file. Such text gets a leading apostrophe; numbers, also numbers
# as text ("-2.67" from a serializer), are left alone.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` as a spreadsheet shows it as text: formula-starting text gets a leading apostrophe."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def excel_text(code: str) -> str:
    """An area code as a cell Excel keeps as text: ="340102000000".

    Excel (and WPS) read a cell of 12 digits as a number and show it as 3.40102E+11; a statistical
    code is an identifier, never a quantity, and the staff opening the export could not read it.
    Only digits go in (a code), so the formula is never anything but that text. For the exports
    people open (the league table, the assessment results); the API's CSV keeps the bare code."""
    return f'="{code}"' if code.isdigit() else code


def _codes_as_text(rows: list[list], *, column: int) -> list[list]:
    """The rows of a CSV with the codes of ``column`` as Excel's text (after ``_safe_rows``, which
    would take the "=" for a formula typed by someone)."""
    return [[*row[:column], excel_text(str(row[column])), *row[column + 1 :]] for row in rows]


def _safe_rows(rows) -> list[list]:
    return [[spreadsheet_safe(cell) for cell in row] for row in rows]


def _shown(value: float | None) -> float | None:
    """A number as the table shows it: 2 decimals, halves away from zero (``two_decimals``)."""
    return None if value is None else float(two_decimals(value))


def _units(spec: registry.IndicatorSpec) -> tuple[str, str]:
    """What the value columns and the change columns of an export count, "" for a count. The page
    writes "93.20%" and "+2.67 pts"; the file's cells are bare numbers, and a change of 2.67 under
    "Change" read as a relative 2.67%, not as percentage points."""
    if spec.unit == registry.PERCENT:
        return "%", _("percentage points")
    per = {
        registry.PER_10K: _("per 10,000 residents"),
        registry.SCORE: pgettext("unit of a score", "points"),
    }.get(spec.unit, "")
    return per, per


def _with_unit(label: str, unit: str) -> str:
    return _("%(label)s (%(unit)s)") % {"label": label, "unit": unit} if unit else label


def _table(ctx: dict) -> tuple[list[str], list[list]]:
    value_unit, change_unit = _units(ctx["spec"])
    header = [
        _("Rank"),
        _("Area code"),
        _("Area"),
        _with_unit(_("Value"), value_unit),
        _("Numerator"),
        _("Denominator"),
        # With a context: a bare "Change" would also translate the admin's "Change" links.
        _with_unit(pgettext("difference from the previous period", "Change"), change_unit),
        _("Rank change"),
        _with_unit(_("Previous value"), value_unit),
        _with_unit(_("Same period last year"), value_unit),
        _with_unit(_("Year on year"), change_unit),
    ]
    rows = []
    for row in ctx["rows"]:
        v = row.value
        rows.append(
            [
                v.rank if v.rank is not None else _("not ranked"),
                row.area.code,
                row.area.name,
                _shown(v.value),
                # As stored (survey weights have 3 decimals): to 2, a sample of 29.995 read "30.0"
                # beside "not ranked" under a minimum of 30, as the page's sample no longer does.
                v.numerator,
                v.denominator,
                _shown(v.delta),
                v.rank_change,
                _shown(v.previous_value),
                _shown(v.yoy_value),
                _shown(v.yoy_delta),
            ]
        )
    own = ctx.get("own")
    if own:  # the records filed at the parent itself, after its children, as on the page: no code, no rank
        rows.append(
            [
                _("not ranked"),
                "",
                own.label,
                None if own.stock else _shown(own.value),
                own.numerator,
                own.denominator,
                *[None] * 5,
            ]
        )
    return header, rows


def _title(ctx: dict) -> str:
    """The first line of an export: indicator, period as the page names it ("2026年12月"), area,
    and, for a period not over yet, the page's warning: a spreadsheet of the current month went
    round as the month's league, nothing in it saying its values covered a few days."""
    period = ctx["period"]
    title = f"{ctx['spec'].name} {period.label} {ctx['parent'].name}"
    if ctx.get("running"):
        title += " · " + _(
            "%(period)s is not over yet: its values cover only the days so far, and its changes "
            "compare them with whole periods."
        ) % {"period": period.label}
    return spreadsheet_safe(title)


def _filename(ctx: dict, ext: str) -> str:
    return f"{ctx['spec'].code}_{ctx['period'].code}_{ctx['parent'].code}.{ext}"


def league_csv(ctx: dict) -> HttpResponse:
    header, rows = _table(ctx)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_title(ctx)])
    writer.writerow(header)
    writer.writerows(_codes_as_text(_safe_rows(rows), column=1))
    # A BOM so that spreadsheet programs open the Chinese names as UTF-8.
    response = HttpResponse(
        ("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(ctx, "csv")}"'
    return response


def league_xlsx(ctx: dict) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header, rows = _table(ctx)
    book = Workbook()
    sheet = book.active
    sheet.title = ctx["period"].code
    sheet.append([_title(ctx)])
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in _safe_rows(rows):
        sheet.append(row)
    # As the table writes them: General showed its 93.20% and +2.67 pts as 93.2 and 2.67, and a
    # count's 1,204 as 1204. The cells keep the numbers (the same as the CSV's); the format shows them.
    count = ctx["spec"].unit == registry.COUNT
    shown = "#,##0" if count else "0.00"
    signed = "+#,##0;-#,##0;0" if count else "+0.00;-0.00;0.00"
    for column, number_format in (("D", shown), ("G", signed), ("I", shown), ("J", shown), ("K", signed)):
        for cell in sheet[column][2:]:
            cell.number_format = number_format
    sheet.column_dimensions["C"].width = 24
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(ctx, "xlsx")}"'
    return response


def assessment_csv(scheme, run, items: list, results: list, state: str, ranked: int) -> HttpResponse:
    """The results table of an assessment run: rank and the number of areas ranked (``ranked``, the
    page's "2/5" and the API's ``rank_of``: every area of the run, also in the file of an assessed
    area's own row), area, total, grade, places, each item (the run's columns, ``run_columns``), veto.
    ``state`` is the run's ``run_state``: published, replaced (by a later publication) or draft; with
    no run, "none" (never computed) or "unpublished" (for the assessed, who read published runs only).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    # A word alone in its cell is capitalised, as the results page shows it ("Good", "Draft"); no run
    # is said in the page's words.
    states = {
        "published": _("published"),
        "replaced": _("replaced"),
        "draft": _("draft"),
        "none": _("Not computed yet."),
        "unpublished": _("No result published yet."),
    }
    rows = [
        # The year only when the name lacks it: "2026 年度平安建设考核 (2026)" read it twice.
        [
            str(scheme),
            capfirst(states.get(state, _("draft"))),
            # As the league's exports: a file of this year's result says the year is not over.
            *filter(None, [assessment.year_running(scheme)]),
        ],
        [_("Rank"), _("Areas ranked"), _("Area code"), _("Area"), _("Total"), _("Grade"), _("Rank change")]
        + [i["name"] for i in items]
        + [_("Deductions"), _("Bonus"), _("Veto"), _("Moved down by the excellent cap")],
    ]
    for r in results:
        scores = {entry["item"]: entry["score"] for entry in r.items}
        rows.append(
            [
                r.rank,
                ranked,
                r.area.code,
                r.area.name,
                r.total,
                capfirst(r.get_grade_display()),
                r.rank_change,
            ]
            + [scores.get(i["item"], "") for i in items]
            # The page marks a grade the excellent-share cap moved down with "*": so does the file.
            + [
                r.deductions,
                r.bonus,
                pgettext("between the veto events of an area", "; ").join(r.veto_events),
                capfirst(_("yes")) if r.capped else "",
            ]
        )
    writer.writerows(_safe_rows(rows[:2]))
    writer.writerows(_codes_as_text(_safe_rows(rows[2:]), column=2))
    response = HttpResponse(
        ("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="assessment_{scheme.year}_{scheme.area.code}.csv"'
    )
    return response
