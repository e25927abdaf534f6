"""Importers of survey answers and police preventable-case counts (API uploads and commands).

Every row is validated first and every bad row is reported with its line number, the field and the
reason; nothing is written unless all rows are good (STYLE.md "Commands"). Areas are looked up in one
query per import; the rows are written with one bulk insert in one transaction, as one ``ImportBatch``.

Line numbers: a CSV file counts its header as line 1, so the first data row is line 2, and a row
is numbered by the line it starts on; a JSON list counts its items from 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards import rollup
from dashboards.models import (
    POPULATION_TRIGGER,
    AgeGroup,
    AreaPopulation,
    ImportBatch,
    PreventableCaseCount,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyResponse,
    preventable_case_kinds,
    queue_rollup,
)
from governance.access import area_in_scope
from governance.models import Area
from governance.services import advisory_xact_lock

IMPORT_ROLES = {"analyst", "admin"}
MAX_COUNT = 1_000_000  # cases of one kind in one area and month: anything above is a typing error

# Questionnaires are often exported with the Chinese labels: accept them as well as the codes. The
# labels of each five-point scale are settings (SURVEY_SAFETY_LABELS, SURVEY_SATISFACTION_LABELS), top
# to bottom: a city asking 安全 / 比较安全 / 一般 / 不太安全 / 不安全 stores its n-th answer as the n-th code.
DONT_KNOW_LABELS = ("不清楚", "不知道")
DEFAULT_SAFETY_LABELS = ("很安全", "安全", "基本安全", "不太安全", "不安全")
DEFAULT_SATISFACTION_LABELS = ("满意", "比较满意", "基本满意", "不太满意", "不满意")


def answer_labels(name: str, default: tuple[str, ...], choices) -> dict[str, str]:
    """{label: code} of a scale's setting, checked as read like the settings of which answers count:
    a scale of four labels, or one naming an answer twice, would file answers under the wrong code."""
    value = getattr(settings, name, default)
    labels = () if isinstance(value, str) else tuple(value)
    codes = [c for c in choices.values if c != choices.DONT_KNOW]
    words = [label.strip() for label in labels if isinstance(label, str)]
    if len(words) != len(codes) or len(set(words)) != len(codes) or set(words) & {"", *DONT_KNOW_LABELS}:
        raise ImproperlyConfigured(
            f"{name} must be {len(codes)} different labels, top to bottom, none of them "
            f"{' or '.join(DONT_KNOW_LABELS)}; it is {value!r}."
        )
    return dict(zip(words, codes, strict=True)) | dict.fromkeys(DONT_KNOW_LABELS, choices.DONT_KNOW)


DEFAULT_CASE_KIND_LABELS = (
    "burglary=入室盗窃",
    "home_robbery=入户抢劫",
    "motor_vehicle_theft=盗窃机动车",
    "ebike_theft=盗窃电动自行车",
)


def case_kind_labels() -> dict[str, str]:
    """{name: code} of the police kinds counted, from PREVENTABLE_CASE_KIND_LABELS (code=name pairs),
    checked as read like the survey's labels: a name given twice, empty, or another kind's code
    would file counts under the wrong kind. A name of a kind not counted is left out (a deployment
    that counts other kinds keeps the default names without an error)."""
    value = getattr(settings, "PREVENTABLE_CASE_KIND_LABELS", DEFAULT_CASE_KIND_LABELS)
    try:
        kinds = preventable_case_kinds()
    except ImproperlyConfigured:
        kinds = ()  # that setting's own error says it (dashboards.E005); the import reads it first
    labels: dict[str, str] = {}
    for item in () if isinstance(value, str) else value:
        code, sep, name = item.partition("=") if isinstance(item, str) else ("", "", "")
        code, name = code.strip(), name.strip()
        if not (sep and code and name) or name in labels or name in kinds:
            labels = {}
            break
        labels[name] = code
    if isinstance(value, str) or len(labels) != len(value):
        raise ImproperlyConfigured(
            "PREVENTABLE_CASE_KIND_LABELS must be code=name pairs, each name different and none of "
            f"them a kind's code; it is {value!r}."
        )
    return {name: code for name, code in labels.items() if code in kinds}


# The age groups as a Chinese questionnaire labels them: 35-44岁, and the last 65岁及以上 or 65岁以上.
AGE_GROUP_LABELS = {f"{code}岁": code for code in AgeGroup.values if code != "65+"} | {
    "65岁及以上": "65+",
    "65岁以上": "65+",
    "65+岁": "65+",
}


# An area code as a spreadsheet saves it when it took the code for a number (3.40102E+11).
SCIENTIFIC = re.compile(r"[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+")
# Year first, so never ambiguous (_Validator.day): 2026-11-05, 2026/11/5, 2026.11.5, 2026年11月5日.
_DATES = (
    re.compile(r"(?P<y>[0-9]{4})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日"),
)
_MONTHS = (
    re.compile(r"(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月"),
)

SURVEY_COLUMNS = ["area", "date", "age_group", "safety", "satisfaction", "weight"]
# The Chinese names a CSV header may give the columns (a sheet made in a Chinese office heads them
# so; every one was an unknown column), the first of each as the import page shows it. An error
# names the column by its English name, as the documentation and the page list them.
COLUMN_NAMES_ZH = {
    "area": ("区域代码", "区划代码", "地区代码"),
    "date": ("日期", "调查日期"),
    "age_group": ("年龄段", "年龄组"),
    "safety": ("安全感",),
    "satisfaction": ("满意度",),
    "weight": ("权重",),
    "month": ("月份",),
    "kind": ("案件类型", "类型"),
    "count": ("案件数", "数量"),
    "year": ("年份", "年度"),
    "population": ("人口", "常住人口"),
}
_COLUMN_OF_NAME = {name: column for column, names in COLUMN_NAMES_ZH.items() for name in names}
# Spaces of every kind around a header name or a value (an ideographic one, U+3000, included: Python's
# whitespace), and the invisible characters a paste or a second BOM leaves there (U+200B, U+FEFF).
_INVISIBLE = "\u200b\ufeff"
_AROUND = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
CASE_COUNT_COLUMNS = ["area", "month", "kind", "count"]
POPULATION_COLUMNS = ["area", "year", "population"]
MAX_POPULATION = 100_000_000  # residents of one area: anything above is a typing error


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        # As the messages, in the request's language (the API's detail quotes the first five).
        return _("line %(line)d: %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


MAX_ERRORS_LISTED = 100


class ImportRejected(Exception):
    """Some rows are bad; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        # In file order (a stable sort keeps each line's fields in column order): the header's and
        # the row-shape checks run before the values', so a surplus value on line 40 came before a
        # bad date on line 2, and the five errors the API's detail quotes were not the first five.
        self.errors = sorted(errors, key=lambda e: e.line)
        # The first MAX_ERRORS_LISTED are listed (API, command); a file of 200,000 bad lines
        # answered with 200,000 errors, megabytes of JSON nobody reads past the first screen.
        self.listed = self.errors[:MAX_ERRORS_LISTED]
        self.not_listed = len(self.errors) - len(self.listed)

    def summary(self) -> str:
        """ "3 errors; nothing was imported." in the reader's language (one sentence for the API's
        detail, the import page and the command: it said "3 error(s)" in every language)."""
        n = len(self.errors)
        return ngettext("%(n)d error; nothing was imported.", "%(n)d errors; nothing was imported.", n) % {
            "n": n
        }


@dataclass
class Table:
    """Rows to import, each with the line number it came from. A CSV file also has its header (line
    1) and, by line, the values found beyond its named columns."""

    rows: list[tuple[int, Mapping[str, Any]]]
    header: list[str] | None = None
    header_line: int = 1  # the first line with a value (a blank line may come before the header)
    surplus: dict[int, int] = field(default_factory=dict)
    # The header's names as the file gives them (trimmed): an error names a column given twice by both.
    header_names: list[str] = field(default_factory=list)
    # The line of a CSV record the reader could not read, where reading stopped.
    unreadable: int | None = None


class _Unreadable(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


# The first bytes of a ZIP file (.xlsx, .ods) and of an OLE compound file (.xls).
WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
# The byte order marks of UTF-16, little- and big-endian.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def csv_text(data: bytes) -> str:
    """The text of an uploaded CSV file: UTF-8 (a BOM is dropped) or, failing that, GB18030.

    Excel's plain "CSV (逗号分隔)" on a Chinese Windows saves GBK, of which GB18030 is the superset:
    each line with Chinese in it was refused "not UTF-8". A file that is neither (or mixes lines in
    UTF-8 with lines in GBK, which GB18030 would read as other characters) is ONE error on line 0
    saying to save it as "CSV UTF-8"; it was an error for each line, 200,000 for a large file. A
    workbook sent in place of its CSV (.xlsx, .ods: a ZIP; .xls: an OLE file) and a UTF-16 file
    (Excel's "Unicode Text") are one error on line 0 saying so."""
    if data.startswith(WORKBOOK_SIGNATURES):
        raise _file_refused(
            _('A spreadsheet workbook (.xlsx or .xls), not a CSV file: save it as "CSV UTF-8".')
        )
    if data.startswith(UTF16_BOMS):
        # Excel's "Unicode Text": split on its 0x0A and 0x0D bytes, it had lines that are not the
        # file's ("line 3" of two), each "saved as GBK?". (It is tab-separated besides.)
        raise _file_refused(
            _('UTF-16 text (Excel\'s "Unicode Text"), not a CSV file: save it as "CSV UTF-8".')
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or any(_utf8_chinese(line) for line in data.splitlines()):
        raise _file_refused(_('Neither UTF-8 nor GBK text throughout: save the file as "CSV UTF-8".'))
    return text


def _file_refused(message: str) -> ImportRejected:
    """The one error of a file that cannot be read as CSV text at all, on line 0."""
    return ImportRejected([RowError(0, "file", message)])


def _utf8_chinese(line: bytes) -> bool:
    """Whether ``line`` is UTF-8 with Chinese in it (three bytes a character, which GBK's two-byte
    characters rarely make)."""
    try:
        return re.search("[\u3400-\u9fff]", line.decode("utf-8")) is not None
    except UnicodeDecodeError:
        return False


def table_from_csv(text: str) -> Table:
    """The rows of a CSV text, each numbered by the line it starts on (the header is line 1). A
    quoted value may run over several lines: its row was numbered by the line it ended on, so an
    error pointed into the middle of the value, and the row's own line went unnamed."""
    # newline="": the csv module splits the records itself, as its documentation asks. Without it a
    # file saved with CR line ends ("CSV (Macintosh)") or a bare CR in a value was one unreadable
    # record: every column "missing" and a quotation mark "never closed".
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header: list[str] = []
    names: list[str] = []
    header_line, rows, surplus, unreadable = 1, [], {}, None
    try:
        for n, record in enumerate(_records(reader)):
            line, values = record
            if n == 0:
                names = [_trim(_halfwidth(name)) for name in values]
                header, header_line = [_column(name) for name in names], line
                continue
            if len(rows) == max_rows():
                raise ImportRejected([_too_many_rows()])  # before reading (and checking) the rest
            row = dict(zip(header, values, strict=False))
            row.update(dict.fromkeys(header[len(values) :]))  # a short row: the missing values are None
            # A value with no column ("1,5" for a weight, a trailing comma in a row) would be dropped
            # without a word, and a column without a name (a trailing comma in the header) too.
            extra = [*values[len(header) :], row.pop("", None)]
            if any(v and v.strip() for v in extra):
                surplus[line] = sum(1 for v in extra if v and v.strip())
            rows.append((line, row))
    except _Unreadable as err:
        unreadable = err.line  # the rows before it are still checked, and all errors reported
    return Table(
        rows,
        header=header,
        header_line=header_line,
        surplus=surplus,
        unreadable=unreadable,
        header_names=names,
    )


def _column(name: str) -> str:
    """The column a (trimmed) header name names: its English name in any case (``Area``, ``AGE_GROUP``:
    an Excel export, a hand-edited file; each was an unknown column), or the one its Chinese name
    stands for; an unknown name as it is, for its error."""
    if name.casefold() in COLUMN_NAMES_ZH:
        return name.casefold()
    return _COLUMN_OF_NAME.get(name, name)


def _trim(text: str) -> str:
    text = text.strip()
    # The regular expression only when an invisible character is at an end: on every cell it
    # added a second to the checking of 200,000 rows.
    if text and (text[0] in _INVISIBLE or text[-1] in _INVISIBLE):
        return _AROUND.sub("", text)
    return text


def _column_letter(index: int) -> str:
    """The letter a spreadsheet shows above the column at ``index`` (0: A, 26: AA)."""
    letters, n = "", index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _records(reader) -> Iterable[tuple[int, list[str]]]:
    """(the line it starts on, its values) for each record of a csv.reader. Blank lines are no
    records, nor are lines of empty cells (",,,,,": the rows Excel leaves below the data), and a
    blank line before the header does not make the header a row. A record the reader refuses
    raises _Unreadable with the line it starts on."""
    while True:
        start = reader.line_num + 1  # lines read so far, plus the one the record begins on
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # A value longer than csv.field_size_limit() (131,072 characters): in these files only a
            # quotation mark never closed makes one, taking in the rest of the file. It was a 500.
            raise _Unreadable(start) from None
        if any(v.strip() for v in values):
            yield start, values


def table_from_list(items: list[Any]) -> Table:
    if len(items) > max_rows():
        raise ImportRejected([_too_many_rows()])
    return Table([(i, item if isinstance(item, Mapping) else {"": item}) for i, item in enumerate(items, 1)])


def max_rows() -> int:
    return int(getattr(settings, "INTAKE_MAX_ROWS", 200_000))


def _too_many_rows() -> RowError:
    return RowError(0, "rows", _("At most %(n)d rows per import.") % {"n": max_rows()})


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    return "" if value is None else _trim(_halfwidth(str(value)))


def _halfwidth(text: str) -> str:
    """Full-width digits and signs (２０２６－１１－０２, typed with a Chinese input method in
    full-width mode) as ASCII, and the ideographic space as a space (NFKC): the row was refused with
    "Enter a date as YYYY-MM-DD" or "No area with code ３４０１…", naming what the cell seemed to
    hold. The scale labels (很安全 ...) are unchanged by it."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


class _Validator:
    def __init__(self, table: Table, user: Any) -> None:
        self.table, self.user = table, user
        self.errors: list[RowError] = []
        self.missing: set[str] = set()  # columns the CSV header lacks (reported once, on line 1)
        self.shapeless: set[int] = set()  # JSON items that are not objects (reported once each)
        self.seen: dict[tuple, int] = {}  # the first line of each key (``once``)
        # A code with a NUL character names no area, and PostgreSQL refuses it in a query (psycopg
        # raised ValueError: a 500 for one bad cell); its row gets the "no area" error of its line.
        codes = {c for c in (_text(row, "area") for _, row in table.rows) if c and "\x00" not in c}
        self.areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
        # Read once per import, not once per row: Choices.values builds its list on every access, and
        # today's date asks for the time zone; with the scope check of each row's area they took
        # most of the 12 s the checking of 50,000 survey rows took.
        self.today, self.first = timezone.localdate(), rollup.first_month()
        self.codes: dict[str, dict[str, str]] = {}  # {field: {folded code: code}} (``choice``)
        self.in_scope: dict[str, bool] = {}

    def rows(self) -> Iterable[tuple[int, Mapping[str, Any]]]:
        """The rows whose values are to be checked: not an item that is no object, whose one error
        says so (its fields are not "required" five times over)."""
        return [(line, row) for line, row in self.table.rows if line not in self.shapeless]

    def error(self, line: int, field: str, message: str) -> None:
        if field in self.missing and line != self.table.header_line:
            return  # the header's error says it: not the same "required" again on every row
        self.errors.append(RowError(line, field, str(message)))

    def area(self, line: int, row: Mapping[str, Any]) -> Area | None:
        code = _text(row, "area")
        if not code:
            self.error(line, "area", _("This field is required."))
            return None
        area = self.areas.get(code)
        if area is not None and self.user is not None and code not in self.in_scope:
            self.in_scope[code] = area_in_scope(self.user, area, IMPORT_ROLES)
        # Out of the importer's scope reads like an unknown code: no existence leak.
        if area is None or (self.user is not None and not self.in_scope[code]):
            # The command imports for no user, hence with no scope to speak of.
            message = (
                _("No area with code %(code)s.")
                if self.user is None
                else _("No area with code %(code)s in your scope.")
            )
            if area is None and SCIENTIFIC.fullmatch(code):
                # Excel reads a 12- or 15-digit code as a number and saves it as 3.40102E+11: the
                # digits are lost, and "no area with code 3.40102E+11" did not say why.
                message = _(
                    "%(code)s is a number in scientific notation, as a spreadsheet saves a long code "
                    "it took for a number: format the area column as text and enter the codes again."
                )
            self.error(line, "area", message % {"code": code})
            return None
        return area

    def whole(
        self, line: int, row: Mapping[str, Any], field: str, low: int, high: int, message: str | None = None
    ) -> int | None:
        """A whole number from ``low`` to ``high`` (``_whole_number``), or None and the error."""
        try:
            value = _whole_number(row.get(field))
            if low <= value <= high:
                return value
        except ValueError:
            pass
        self.error(
            line,
            field,
            message or _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
        )
        return None

    def once(self, line: int, key: tuple, field: str, message: str) -> None:
        """An error on ``field`` when an earlier line had the same ``key`` (``message`` names that
        line as ``%(line)d``): one file may not give one count or figure twice."""
        if key in self.seen:
            self.error(line, field, message % {"line": self.seen[key]})
        self.seen.setdefault(key, line)

    def choice(
        self, line: int, row: Mapping[str, Any], field: str, codes: Iterable[str], labels: dict[str, str]
    ) -> str | None:
        """The code a (trimmed) value names: one of ``codes`` in any case (``Safe``, ``VERY_SAFE``,
        as a spreadsheet capitalises a cell or a hand types it), stored as the code is written, or a
        label of ``labels``; else None and the error, quoting the value as it was written."""
        text = _text(row, field)
        if field not in self.codes:
            # A code as written wins over another that folds to it (a deployment's kinds Burglary
            # and burglary): only a value that is no code as written is folded.
            codes = tuple(codes)
            self.codes[field] = {code.casefold(): code for code in codes} | {code: code for code in codes}
        lookup = self.codes[field]
        value = labels.get(text) or lookup.get(text) or lookup.get(text.casefold())
        if value is None:
            allowed = ", ".join([*dict.fromkeys(lookup.values()), *labels])  # the codes, then the labels
            self.error(
                line, field, _("%(value)r is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
            )
        return value

    def check_size(self) -> None:
        # (Too many rows were refused while the table was read, before building the rest.)
        if not self.table.rows:
            # A CSV file (it has a header, if only an empty one) is the file's fault, named as the
            # other errors of a file as a whole are (``_file_refused``) and as the import page's form
            # names it; an empty JSON list is the rows'.
            field = "rows" if self.table.header is None else "file"
            self.error(0, field, _("There are no rows to import."))

    def check_columns(self, columns: list[str], optional: Iterable[str] = ()) -> None:
        """Every column or field is one the import reads: a misspelt one ("Weight") would otherwise
        be ignored and its values replaced by the default. A CSV header names each column once (a
        second "weight" silently replaced the first one's values) and every required column (one
        missing was reported as a required value on each of 200,000 lines)."""
        known = ", ".join(columns)
        if self.table.header == [] and not self.table.rows and self.table.unreadable is None:
            # No line that is not blank (0 bytes, a BOM alone): no header to miss columns on a line 1
            # the file lacks; its one error is line 0's "no rows" (``check_size``).
            return
        if self.table.header is not None:
            header = self.table.header
            for name in header:
                if name and name not in columns:
                    self.error(
                        self.table.header_line,
                        name,
                        _("Unknown column; the columns are: %(known)s.") % {"known": known},
                    )
            for name in sorted({n for n in header if n and header.count(n) > 1}):
                # Area and area, or area and 区域代码, name one column now: which holds the codes?
                places = [
                    _("“%(name)s” (column %(letter)s)")
                    % {"name": self.table.header_names[i], "letter": _column_letter(i)}
                    for i, n in enumerate(header)
                    if n == name
                ]
                self.error(
                    self.table.header_line,
                    name,
                    _("This column appears more than once in the header: %(names)s.")
                    % {"names": get_text_list(places, _("and"))},
                )
            self.missing = {n for n in columns if n not in header and n not in optional}
            for name in [n for n in columns if n in self.missing]:
                self.error(
                    self.table.header_line,
                    name,
                    _("Missing column; the columns are: %(known)s.") % {"known": known},
                )
            if self.table.unreadable is not None:
                self.error(
                    self.table.unreadable,
                    "row",
                    _(
                        "The file cannot be read from this line on: a value runs over more than "
                        "%(n)d characters (a quotation mark that is never closed?)."
                    )
                    % {"n": csv.field_size_limit()},
                )
            for line, n in self.table.surplus.items():
                self.error(
                    line,
                    "row",
                    ngettext(
                        "%(n)d value beyond the named columns (a decimal comma, or a comma in a text?).",
                        "%(n)d values beyond the named columns (a decimal comma, or a comma in a text?).",
                        n,
                    )
                    % {"n": n},
                )
            return
        for line, row in self.table.rows:
            if set(row) == {""}:
                self.error(
                    line, "row", _("Each row is an object with the fields: %(known)s.") % {"known": known}
                )
                self.shapeless.add(line)
                continue
            for name in row:
                if name not in columns:
                    self.error(line, name, _("Unknown field; the fields are: %(known)s.") % {"known": known})

    def day(self, line: int, row: Mapping[str, Any], name: str, *, month: bool = False) -> dt.date | None:
        """A date written YYYY-MM-DD (a month YYYY-MM), no later than today (this month) and no earlier
        than the first month the statistics cover (the rollup reads nothing before it).

        The year first, "/" is read like "-" and the month and day may have one digit: Excel on
        Chinese Windows saves a date cell as 2026/11/5 (a month 2026/11), and year first the order is
        unambiguous. 11/5/2026 or 5/11/2026 (November or May?) stays refused. Typed by hand, a date
        also reads 2026年11月5日 or 2026.11.5, and a month 2026年10月; not 2026.10, which Excel keeps as
        the number 2026.1 (January)."""
        text = _text(row, name)
        if not text:  # as an empty area: not "enter a date as YYYY-MM-DD" to a cell left blank
            self.error(line, name, _("This field is required."))
            return None
        found = next(filter(None, (form.fullmatch(text) for form in (_MONTHS if month else _DATES))), None)
        if not found:
            self.error(
                line, name, _("Enter a month as YYYY-MM.") if month else _("Enter a date as YYYY-MM-DD.")
            )
            return None
        parts = found.groupdict()
        try:
            day = dt.date(int(parts["y"]), int(parts["m"]), int(parts.get("d") or 1))
        except ValueError:  # written as asked, but not on the calendar: 2026-02-30, 2026-13
            self.error(
                line,
                name,
                (_("There is no month %(text)s.") if month else _("There is no date %(text)s."))
                % {"text": text},
            )
            return None
        today = self.today
        if day > (today.replace(day=1) if month else today):
            self.error(
                line, name, _("The month is in the future.") if month else _("The date is in the future.")
            )
        elif day < self.first:
            self.error(
                line,
                name,
                _("Before %(first)s, the first month the statistics cover (setting ROLLUP_FIRST_MONTH).")
                % {"first": self.first.strftime("%Y-%m")},
            )
        return day


def validate_survey(table: Table, user: Any) -> list[SurveyResponse]:
    v = _Validator(table, user)
    v.check_size()
    v.check_columns(SURVEY_COLUMNS, optional=["weight"])
    safety_labels = answer_labels("SURVEY_SAFETY_LABELS", DEFAULT_SAFETY_LABELS, SafetyAnswer)
    satisfaction_labels = answer_labels(
        "SURVEY_SATISFACTION_LABELS", DEFAULT_SATISFACTION_LABELS, SatisfactionAnswer
    )
    # Read once per import, not per row: Choices.values builds its list on every access.
    ages, safeties, satisfactions = AgeGroup.values, SafetyAnswer.values, SatisfactionAnswer.values
    out: list[SurveyResponse] = []
    for line, row in v.rows():
        before = len(v.errors)
        area = v.area(line, row)
        day = v.day(line, row, "date")
        age = v.choice(line, row, "age_group", ages, AGE_GROUP_LABELS)
        safety = v.choice(line, row, "safety", safeties, safety_labels)
        satisfaction = v.choice(line, row, "satisfaction", satisfactions, satisfaction_labels)
        weight = Decimal("1")
        if _text(row, "weight"):
            try:
                if "_" in _text(row, "weight"):
                    raise InvalidOperation  # Decimal() reads 1_5 as 15, as int() would a count's 1_000
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
    v.check_columns(CASE_COUNT_COLUMNS)
    kinds = preventable_case_kinds()
    kind_labels = case_kind_labels()
    out: list[PreventableCaseCount] = []
    # The population each (area, year) has for the rate: that year's figure, else the area's own.
    yearly = {
        (area_id, year): population
        for area_id, year, population in AreaPopulation.objects.filter(
            area__in=list(v.areas.values())
        ).values_list("area_id", "year", "population")
    }
    for line, row in v.rows():
        before = len(v.errors)
        area = v.area(line, row)
        checked = len(v.errors)
        month = v.day(line, row, "month", month=True)
        if len(v.errors) > checked:
            month = None  # in the future or before the first month: no population to ask for
        if area is not None and month is not None and not yearly.get((area.pk, month.year), area.population):
            # The rate divides by the population; counts without it would be left out of every rate
            # (dashboards.indicators.police_preventable_cases), so they are refused instead.
            v.error(
                line,
                "area",
                _(
                    "Area %(code)s has no population recorded for %(year)d; record it before the "
                    "area's case counts."
                )
                % {"code": area.code, "year": month.year},
            )
        kind = v.choice(line, row, "kind", kinds, kind_labels)
        count = v.whole(line, row, "count", 0, MAX_COUNT)
        if area is not None and month is not None and kind is not None:
            v.once(line, (area.pk, month, kind), "kind", _("Same area, month and kind as line %(line)d."))
        if len(v.errors) == before:
            out.append(PreventableCaseCount(area=area, month=month, kind=kind, count=count))
    if v.errors:
        raise ImportRejected(v.errors)
    return out


# Key of the PostgreSQL transaction advisory lock a survey import holds ("survey" in ASCII).
SURVEY_IMPORT_LOCK_KEY = 0x737572766579


class AlreadyImported(Exception):
    """The same survey answers were imported before (``batch``); nothing was written."""

    def __init__(self, batch: ImportBatch) -> None:
        super().__init__(f"already imported as batch {batch.pk}")
        self.batch = batch

    def message(self, how: str = "again=true") -> str:
        return _(
            "These answers were imported already, as batch %(batch)d on %(day)s: importing them again "
            "would count every answer twice. Nothing was imported; to count them a second time on "
            "purpose, add %(how)s."
        ) % {
            "batch": self.batch.pk,
            "day": timezone.localtime(self.batch.created_at).strftime("%Y-%m-%d"),
            "how": how,
        }


def answers_digest(responses: list[SurveyResponse]) -> str:
    """The SHA-256 of the answers in a canonical order: the same answers in any row order (a file
    exported again, or sorted otherwise) give the same digest."""
    lines = sorted(
        f"{r.area_id}|{r.date.isoformat()}|{r.age_group}|{r.safety}|{r.satisfaction}|{r.weight.normalize()}"
        for r in responses
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def refuse_answers_imported_before(digest: str) -> None:
    """AlreadyImported when a batch of these very answers (``answers_digest``) exists."""
    earlier = ImportBatch.objects.filter(kind=ImportBatch.Kind.SURVEY, digest=digest).order_by("pk").first()
    if earlier is not None:
        raise AlreadyImported(earlier)


@transaction.atomic
def survey_responses_import(
    *, table: Table, actor: Any, source: str = "", again: bool = False
) -> ImportBatch:
    """Validate every row, then write them all (or raise ImportRejected and write nothing). Answers
    identical to an earlier batch's raise AlreadyImported unless ``again``: importing a file twice
    counted every answer twice, and the safety and satisfaction rates moved on nothing new."""
    responses = validate_survey(table, actor)
    digest = answers_digest(responses)
    # Two sends of one file at once take turns until this transaction ends: the second finds the
    # first's batch, committed by then.
    advisory_xact_lock(SURVEY_IMPORT_LOCK_KEY)
    if not again:
        refuse_answers_imported_before(digest)
    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.SURVEY,
        source=source[:200],
        rows=len(responses),
        created_by=_user(actor),
        digest=digest,
    )
    for r in responses:
        r.batch = batch
    SurveyResponse.objects.bulk_create(responses, batch_size=2000)
    return batch


@transaction.atomic
def case_counts_import(*, table: Table, actor: Any, source: str = "") -> ImportBatch:
    """Validate every row, then upsert them all: a re-sent (area, month, kind) replaces the count."""
    counts = validate_case_counts(table, actor)
    return _upsert(ImportBatch.Kind.CASE_COUNTS, counts, ["area", "month", "kind"], "count", actor, source)


def _upsert(kind: str, rows: list, key: list[str], value: str, actor: Any, source: str) -> ImportBatch:
    """Write validated rows as one batch, replacing the stored row of each ``key`` (its ``value``,
    batch and time of change: the nightly run asks which changed)."""
    batch = ImportBatch.objects.create(
        kind=kind, source=source[:200], rows=len(rows), created_by=_user(actor)
    )
    now = timezone.now()
    for row in rows:
        row.batch, row.updated_at = batch, now
    # Rows are locked in the order they are written: two files with the same rows in another order
    # (one sorted by area, one by month) each waited for the other's rows, a deadlock and a 500.
    # Written in one order, the second waits for the first and then replaces its rows.
    columns = [f"{name}_id" if name == "area" else name for name in key]
    rows.sort(key=lambda row: tuple(getattr(row, c) for c in columns))
    type(rows[0]).objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=key,
        update_fields=[value, "batch", "updated_at"],
    )
    return batch


def validate_populations(table: Table, user: Any) -> list[AreaPopulation]:
    v = _Validator(table, user)
    v.check_size()
    v.check_columns(POPULATION_COLUMNS)
    first, this_year = rollup.first_month().year, timezone.localdate().year
    out: list[AreaPopulation] = []
    for line, row in v.rows():
        before = len(v.errors)
        area = v.area(line, row)
        year = v.whole(
            line,
            row,
            "year",
            first,
            this_year,
            _("Enter a year from %(first)d (setting ROLLUP_FIRST_MONTH) to %(last)d.")
            % {"first": first, "last": this_year},
        )
        population = v.whole(line, row, "population", 1, MAX_POPULATION)
        if area is not None and year is not None:
            v.once(line, (area.pk, year), "year", _("Same area and year as line %(line)d."))
        if len(v.errors) == before:
            out.append(AreaPopulation(area=area, year=year, population=population))
    if v.errors:
        raise ImportRejected(v.errors)
    return out


@transaction.atomic
def populations_import(*, table: Table, actor: Any, source: str = "") -> ImportBatch:
    """Validate every row, then upsert them all: a re-sent (area, year) replaces the figure, and the
    next nightly run recomputes the rates of that year's months."""
    populations = validate_populations(table, actor)
    batch = _upsert(ImportBatch.Kind.POPULATION, populations, ["area", "year"], "population", actor, source)
    # The per-10,000 rates of those years divide by these figures: a run once they commit, not the
    # nightly one. Incremental: the police source reports every month of a year whose figure changed.
    queue_rollup(POPULATION_TRIGGER)
    return batch


# The columns of each import, by the name the command and the import page give it.
IMPORT_COLUMNS = {
    "surveys": SURVEY_COLUMNS,
    "case-counts": CASE_COUNT_COLUMNS,
    "populations": POPULATION_COLUMNS,
}

# The three imports by the name the command and the import page give them: (validation, import).
IMPORTS = {
    "surveys": (validate_survey, survey_responses_import),
    "case-counts": (validate_case_counts, case_counts_import),
    "populations": (validate_populations, populations_import),
}


def check_only(kind: str, table: Table, actor: Any, *, again: bool = False) -> int:
    """The number of rows an import of ``kind`` would write, writing nothing (ImportRejected as the
    import would). Survey answers imported before are refused as the import refuses them
    (AlreadyImported) unless ``again``: a dry run said "valid" for a file the import then refused."""
    valid = IMPORTS[kind][0](table, actor)
    if kind == "surveys" and not again:
        refuse_answers_imported_before(answers_digest(valid))
    return len(valid)


THOUSANDS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")


def _whole_number(value: Any) -> int:
    """Digits (a CSV cell, a JSON string), grouped by thousands or not (15,230), or a JSON number
    without a fraction (3 or 3.0); not "1_000", which int() takes, nor a boolean."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = "" if value is None else _trim(_halfwidth(str(value)))
    if THOUSANDS.fullmatch(text):
        # 15,230: a number cell Excel formats with the thousands separator (#,##0), saved so in the
        # CSV. Groups of three digits only: 1,5 (a decimal comma) and 12,34 stay refused.
        text = text.replace(",", "")
    if not re.fullmatch(r"[0-9]{1,12}", text):
        raise ValueError
    return int(text)


def _user(actor: Any):
    return actor if getattr(actor, "pk", None) else None
