"""Survey and police imports: all rows checked first, every bad line reported, all or nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from dashboards import intake
from dashboards.models import (
    DEFAULT_PREVENTABLE_CASE_KINDS,
    AreaPopulation,
    ImportBatch,
    PreventableCaseCount,
    SurveyResponse,
)
from governance.models import Area, Role
from tests.base import api_client, make_user

SURVEYS = "/api/v1/surveys/responses/"
COUNTS = "/api/v1/stats/case-counts/"

GOOD_CSV = (
    "area,date,age_group,safety,satisfaction,weight\n"
    "340102001001001,2026-11-02,35-44,很安全,满意,\n"
    "340102001001002,2026-11-03,65+,dont_know,not_very_satisfied,1.5\n"
    "340102000000,2026-10-30,16-24,unsafe,不清楚,2\n"
)
BAD_CSV = (
    "area,date,age_group,safety,satisfaction,weight\n"
    "340102001001001,2026-11-02,35-44,safe,satisfied,\n"
    "999999999999,2026-11-02,35-44,safe,satisfied,\n"  # line 3: unknown area
    "340102001001001,2026-13-02,35-44,safe,satisfied,\n"  # line 4: bad date
    "340102001001001,2026-11-02,12-15,maybe,satisfied,-1\n"  # line 5: age, safety, weight
    "340103001001001,2026-11-02,35-44,safe,satisfied,\n"  # line 6: district B, fine for a city analyst
)


def upload(text: str, name: str = "survey.csv") -> dict:
    return {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")}


def test_a_good_csv_upload_is_imported_with_the_raw_answers(cast):
    response = api_client(cast.analyst).post(SURVEYS, upload(GOOD_CSV), format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["rows"] == 3
    rows = list(
        SurveyResponse.objects.order_by("date", "id").values_list(
            "area__code", "safety", "satisfaction", "weight"
        )
    )
    assert ("340102001001001", "very_safe", "satisfied", 1) in rows
    assert ("340102000000", "unsafe", "dont_know", 2) in rows
    assert ImportBatch.objects.get().created_by == cast.analyst


def test_a_json_list_is_imported(cast):
    rows = [
        {
            "area": cast.grid_a.code,
            "date": "2026-11-01",
            "age_group": "25-34",
            "safety": "safe",
            "satisfaction": "satisfied",
        }
    ]
    response = api_client(cast.analyst).post(SURVEYS, rows, format="json")
    assert response.status_code == 201 and SurveyResponse.objects.count() == 1


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_written(cast):
    response = api_client(cast.analyst).post(SURVEYS, upload(BAD_CSV), format="multipart")
    assert response.status_code == 400
    errors = {(e["line"], e["field"]) for e in response.json()["errors"]["rows"]}
    assert errors == {(3, "area"), (4, "date"), (5, "age_group"), (5, "safety"), (5, "weight")}
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_unknown_columns_and_values_beyond_the_columns_are_reported_not_ignored(cast, settings):
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    text = (
        "area,date,age_group,safety,satisfaction,Wieght\n"  # line 1: "Wieght" is no column
        "340102001001001,2026-11-02,35-44,safe,satisfied,2\n"
        "340102001001001,2026-11-02,35-44,safe,satisfied,1,250\n"  # line 3: a decimal comma
        "340102001001001,20261102,35-44,safe,satisfied,\n"  # line 4: not YYYY-MM-DD
        "340102001001001,2023-12-31,35-44,safe,satisfied,\n"  # line 5: before ROLLUP_FIRST_MONTH
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    errors = response.json()["errors"]["rows"]
    assert [(e["line"], e["field"]) for e in errors] == [
        (1, "Wieght"),
        (3, "row"),
        (4, "date"),
        (5, "date"),
    ]
    assert "the columns are: area, date, age_group, safety, satisfaction, weight" in errors[0]["message"]
    assert "Before 2024-01" in errors[3]["message"]
    # A JSON row names its fields: an unknown one is reported on its row; so is a row that is no object.
    rows = [
        {"area": cast.grid_a.code, "date": "2026-11-01", "age_group": "25-34", "safety": "safe",
         "satisfaction": "satisfied", "wieght": "2"},
        "340102001001001,2026-11-02",
    ]  # fmt: skip
    response = api_client(cast.analyst).post(SURVEYS, rows, format="json")
    got = {(e["line"], e["field"]) for e in response.json()["errors"]["rows"]}
    assert response.status_code == 400 and {(1, "wieght"), (2, "row")} <= got
    counts = api_client(cast.analyst).post(
        COUNTS, [{"area": cast.community_a1a.code, "month": "2023-12", "kind": "burglary", "count": 1}],
        format="json",
    )  # fmt: skip
    assert counts.status_code == 400 and counts.json()["errors"]["rows"][0]["field"] == "month"
    rows = [
        {"area": cast.community_a1a.code, "month": "2026-10", "kind": kind, "count": count}
        for kind, count in (("burglary", "1_000"), ("home_robbery", True), ("ebike_theft", 2.5))
    ]
    counts = api_client(cast.analyst).post(COUNTS, rows, format="json")
    assert [(e["line"], e["field"]) for e in counts.json()["errors"]["rows"]] == [
        (1, "count"), (2, "count"), (3, "count"),
    ]  # fmt: skip
    rows = [{"area": cast.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 3.0}]
    assert api_client(cast.analyst).post(COUNTS, rows, format="json").status_code == 201
    assert PreventableCaseCount.objects.get().count == 3
    PreventableCaseCount.objects.all().delete()
    assert SurveyResponse.objects.count() == 0 and PreventableCaseCount.objects.count() == 0


def test_a_header_naming_a_column_twice_or_missing_one_is_reported_once_on_line_1(cast):
    # A second "weight" silently replaced the first one's values; a missing "satisfaction" came back
    # as a required value on every line (200,000 errors for a big file) and never said "column".
    text = (
        "area,date,age_group,safety,weight,weight\n"
        "340102001001001,2026-11-02,35-44,safe,2,3\n"
        "340102001001001,2026-11-02,35-44,maybe,1,1\n"  # line 3: and a bad answer of its own
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    errors = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert errors == [(1, "weight"), (1, "satisfaction"), (3, "safety")]
    messages = [e["message"] for e in response.json()["errors"]["rows"]]
    assert messages[0] == (
        "This column appears more than once in the header: “weight” (column E) and “weight” (column F)."
    )
    assert messages[1].startswith("Missing column; the columns are: area, date")
    # "weight" is optional: a survey file without it imports with weight 1, as before.
    text = "area,date,age_group,safety,satisfaction\n340102001001001,2026-11-02,35-44,safe,satisfied\n"
    assert api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart").status_code == 201
    counts = api_client(cast.analyst).post(
        COUNTS, upload("area,month,kind\n340102001001,2026-10,burglary\n", "cases.csv"), format="multipart"
    )
    assert [(e["line"], e["field"]) for e in counts.json()["errors"]["rows"]] == [(1, "count")]
    assert SurveyResponse.objects.get().weight == 1 and PreventableCaseCount.objects.count() == 0


def test_an_area_outside_the_importers_scope_is_reported_like_an_unknown_one(cast):
    from governance.models import Membership

    Membership.objects.create(user=cast.outsider, role="analyst", area=cast.district_b)
    rows = [
        {
            "area": cast.grid_a.code,
            "date": "2026-11-01",
            "age_group": "25-34",
            "safety": "safe",
            "satisfaction": "satisfied",
        }
    ]
    response = api_client(cast.outsider).post(SURVEYS, rows, format="json")
    assert response.status_code == 400
    assert (
        response.json()["errors"]["rows"][0]["message"]
        == f"No area with code {cast.grid_a.code} in your scope."
    )
    assert SurveyResponse.objects.count() == 0


def test_only_analysts_and_admins_may_import(cast):
    rows = [
        {
            "area": cast.grid_a.code,
            "date": "2026-11-01",
            "age_group": "25-34",
            "safety": "safe",
            "satisfaction": "satisfied",
        }
    ]
    assert api_client(cast.worker_a).post(SURVEYS, rows, format="json").status_code == 403
    assert api_client().post(SURVEYS, rows, format="json").status_code == 401
    assert api_client(cast.admin).post(SURVEYS, rows, format="json").status_code == 201


def test_a_body_that_is_neither_a_list_nor_a_file_names_the_field(cast):
    response = api_client(cast.analyst).post(SURVEYS, {"area": "x"}, format="json")
    assert response.status_code == 400 and "file" in response.json()["errors"]


def test_a_json_import_may_be_larger_than_other_json_bodies_but_not_unbounded(cast, settings):
    """Ordinary JSON bodies stop at API_JSON_MAX_BYTES (1 MB); an import's rows at
    IMPORT_JSON_MAX_BYTES, sized for INTAKE_MAX_ROWS rows, over which it is a 413 naming the limit."""
    row = {
        "area": cast.grid_a.code,
        "date": "2026-11-01",
        "age_group": "25-34",
        "safety": "basically_safe",
        "satisfaction": "basically_satisfied",
        "weight": "1.000",
    }
    assert settings.IMPORT_JSON_MAX_BYTES >= settings.INTAKE_MAX_ROWS * 200
    settings.API_JSON_MAX_BYTES = 1000
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, [row] * 20, format="json")  # about 3 KB
    assert response.status_code == 201, response.json()
    settings.IMPORT_JSON_MAX_BYTES = 2048
    response = client.post(SURVEYS, [row] * 20, format="json")
    assert response.status_code == 413
    assert "larger than 2 KB" in response.json()["detail"]
    assert SurveyResponse.objects.count() == 20 and ImportBatch.objects.count() == 1
    # A CSV upload is multipart: the JSON limits do not apply to it.
    response = client.post(
        COUNTS, upload("area,month,kind,count\n" + "x,2026-10,burglary,1\n" * 100), format="multipart"
    )
    assert response.status_code == 400 and len(response.json()["errors"]["rows"]) >= 100


def test_an_item_that_is_not_an_object_is_reported_once_on_its_line(cast):
    """[1, "a", null] was "each row is an object" and then "required" for each of the fields on
    the same line: six errors for one item, and detail quoted only the first five of them."""
    good = {"area": cast.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 3}
    for url, item in ((SURVEYS, 7), (COUNTS, "burglary"), (COUNTS, None), (COUNTS, [good])):
        response = api_client(cast.analyst).post(url, [good, item], format="json")
        rows = response.json()["errors"]["rows"]
        assert [e["field"] for e in rows if e["line"] == 2] == ["row"]
    assert PreventableCaseCount.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_the_detail_names_each_line_in_the_language_of_the_request(cast, monkeypatch):
    """The messages were translated but "line 3:" before each was not: a zh-hans detail read
    "line 3: kind: 与第 1 行的区域、月份和类型重复。". The prefix is a message of the catalogue."""
    prefix = {"line %(line)d: %(field)s: %(message)s": "第 %(line)d 行，%(field)s：%(message)s"}
    monkeypatch.setattr(intake, "_", lambda text: prefix.get(text, text))
    row = {"area": cast.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 3}
    response = api_client(cast.analyst).post(COUNTS, [row, row], format="json")
    assert response.status_code == 400
    assert "第 2 行，kind：Same area, month and kind as line 1." in response.json()["detail"]


def test_no_rows_too_many_rows_and_a_file_not_in_utf8_are_refused_and_nothing_written(cast, settings):
    """docs/statistics.md section 4: line 0 is the import as a whole (no rows, or more than
    INTAKE_MAX_ROWS); a CSV is UTF-8."""
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, [], format="json")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(0, "rows")]
    response = client.post(
        SURVEYS, upload("area,date,age_group,safety,satisfaction,weight\n"), format="multipart"
    )
    # A file with a header and no rows: the file's error, as the import page names it.
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(0, "file")]
    settings.INTAKE_MAX_ROWS = 2
    response = client.post(SURVEYS, upload(GOOD_CSV), format="multipart")  # three rows
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(0, "rows")]
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_an_upload_over_the_request_limit_is_a_413_in_the_request_s_language(cast, settings):
    # The limit is checked before the language is chosen: an English client read the site's Chinese
    # (and a Chinese one, on a site in English, read English).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = "area,month,kind,count\n" + "340102001001,2026-10,burglary,1\n" * 40_000  # about 1.3 MB
    for language, detail in (("en", "The request is larger than 1 MB."), ("zh-hans", "请求内容超过 1 MB。")):
        response = api_client(cast.analyst).post(
            COUNTS, upload(big), format="multipart", HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 413
        assert response.json() == {"detail": detail}
    assert ImportBatch.objects.count() == 0


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\n", b"\xef\xbb\xbf,,,,,\r\n"])
def test_an_empty_file_is_the_one_error_of_no_rows_not_a_missing_header_on_a_line_1_it_lacks(
    cast, tmp_path, data
):
    """A file with no line that is not blank (0 bytes, a BOM alone, Excel's empty sheet) has no
    header and no rows: the one error of line 0, the import as a whole. It was that error and each
    column "missing" on a line 1 the file does not have, six errors for one empty file. It names the
    file, as the import page does; an empty JSON list names the rows."""
    for url in (SURVEYS, COUNTS):
        response = api_client(cast.analyst).post(
            url, {"file": SimpleUploadedFile("empty.csv", data)}, format="multipart"
        )
        assert response.status_code == 400
        assert response.json()["errors"]["rows"] == [
            {"line": 0, "field": "file", "message": "There are no rows to import."}
        ]
    path = tmp_path / "empty.csv"
    path.write_bytes(data)
    out = StringIO()
    with pytest.raises(CommandError, match="^1 error"):
        call_command("dashboards_import", "case-counts", str(path), stdout=out, stderr=out)
    assert "empty.csv:0: file:" in out.getvalue() and ":1:" not in out.getvalue()
    assert api_client(cast.analyst).post(SURVEYS, [], format="json").json()["errors"]["rows"] == [
        {"line": 0, "field": "rows", "message": "There are no rows to import."}
    ]
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_file_saved_in_gbk_is_read_as_gb18030(cast, tmp_path, bom):
    """Excel's plain "CSV (逗号分隔)" on Chinese Windows saves GBK: every line with Chinese in it was
    refused "not UTF-8", and the analyst had to find Excel's other CSV. A file that is not UTF-8
    but is GB18030 (GBK's superset) throughout is read as such, by the API and the command."""
    data = bom + GOOD_CSV.encode("gbk")
    response = api_client(cast.analyst).post(
        SURVEYS, {"file": SimpleUploadedFile("s.csv", data)}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert SurveyResponse.objects.filter(safety="very_safe", satisfaction="satisfied").count() == 1
    assert SurveyResponse.objects.filter(satisfaction="dont_know").count() == 1
    path = tmp_path / "gbk.csv"
    path.write_bytes(data)
    call_command("dashboards_import", "surveys", str(path), "--again", stdout=StringIO())
    assert SurveyResponse.objects.count() == 6


def test_a_file_neither_utf8_nor_gb18030_is_one_error_saying_to_save_it_as_csv_utf8(cast, tmp_path):
    """Lines in UTF-8 and lines in GBK in one file (read as GB18030 the UTF-8 Chinese would be other
    characters), or bytes neither encoding has: one error on line 0, not one per line."""
    lines = GOOD_CSV.splitlines(keepends=True)  # lines 2 and 4 have Chinese; line 3 is ASCII
    mixed = lines[0].encode() + lines[1].encode("gbk") + lines[2].encode() + lines[3].encode("utf-8")
    neither = GOOD_CSV.encode() + b"\x80\xff\n" * 1000
    for data in (mixed, neither):
        response = api_client(cast.analyst).post(
            SURVEYS, {"file": SimpleUploadedFile("s.csv", data)}, format="multipart"
        )
        assert response.status_code == 400
        rows = response.json()["errors"]["rows"]
        assert [(e["line"], e["field"]) for e in rows] == [(0, "file")]
        assert '"CSV UTF-8"' in rows[0]["message"]
    path = tmp_path / "bad.csv"
    path.write_bytes(neither)
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert err.getvalue().count(f"{path}:0: file: ") == 1 and "position" not in err.getvalue()
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


@pytest.mark.parametrize("end", ["\r", "\r\n"])
def test_a_gbk_file_with_cr_line_ends_names_the_right_lines(cast, end):
    # Excel's "CSV (Macintosh)" ends lines in a bare CR: the whole file was one line, and every
    # error was reported as line 1.
    lines = [*BAD_CSV.splitlines()[:3], "340102001001001,2026-11-02,35-44,很安全,满意,"]
    data = end.join(lines).encode("gbk") + end.encode()
    response = api_client(cast.analyst).post(
        SURVEYS, {"file": SimpleUploadedFile("s.csv", data)}, format="multipart"
    )
    assert response.status_code == 400
    assert [e["line"] for e in response.json()["errors"]["rows"]] == [3]
    assert SurveyResponse.objects.count() == 0


def test_a_file_with_many_bad_lines_lists_the_first_100_errors_and_counts_the_rest(cast, tmp_path):
    """A 200,000-line file in the wrong layout answered with 200,000 errors (megabytes of JSON, and
    as many lines from the command); the first 100 are listed, and the total and the number left
    out are said."""
    text = "area,date,age_group,safety,satisfaction,weight\n" + "x,2026-11-02,35-44,safe,satisfied,\n" * 250
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert [e["line"] for e in body["errors"]["rows"]] == list(range(2, 102))
    assert body["error_count"] == 250 and body["errors_not_listed"] == 150
    assert body["detail"].startswith("250 errors; nothing was imported.")
    assert "first 100" in body["detail"]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    err = StringIO()
    with pytest.raises(CommandError, match="250 error"):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    printed = err.getvalue().splitlines()
    assert len(printed) == 101 and printed[-1].endswith(": 150 more errors not listed.")
    few = api_client(cast.analyst).post(SURVEYS, upload(BAD_CSV), format="multipart").json()
    assert few["error_count"] == len(few["errors"]["rows"]) and few["errors_not_listed"] == 0


def test_year_first_dates_with_slashes_or_unpadded_are_read_and_ambiguous_ones_refused(cast):
    """Excel on Chinese Windows saves a date cell as 2026/11/5 (a month as 2026/11): every row was
    refused with "Enter a date as YYYY-MM-DD". Year first, the order is unambiguous; 11/5/2026 and
    5/11/2026 (November or May?) are still refused with that message."""
    head = "area,date,age_group,safety,satisfaction,weight\n"
    code = cast.grid_a.code
    good = ["2026/11/5", "2026/11/05", "2026/1/5", "2026-1-5", "2026-11-05"]
    text = head + "".join(f"{code},{day},35-44,safe,satisfied,\n" for day in good)
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    days = sorted(SurveyResponse.objects.values_list("date", flat=True))
    assert days == [dt.date(2026, 1, 5)] * 2 + [dt.date(2026, 11, 5)] * 3
    bad = ["11/5/2026", "5/11/2026", "2026/11-5", "2026/13/1", "2026/11/31", "2026/011/5", "26/11/5"]
    text = head + "".join(f"{code},{day},35-44,safe,satisfied,\n" for day in bad)
    response = client.post(SURVEYS, upload(text), format="multipart")
    errors = response.json()["errors"]["rows"]
    assert [(e["line"], e["field"]) for e in errors] == [(n, "date") for n in range(2, 9)]
    messages = [e["message"] for e in errors]
    # Written as asked but not on the calendar, a date is named as no date, not sent back to the form.
    assert messages[3:5] == ["There is no date 2026/13/1.", "There is no date 2026/11/31."]
    assert set(messages[:3] + messages[5:]) == {"Enter a date as YYYY-MM-DD."}
    # A cell left blank is required, as an empty area is, not a date to write in another form.
    text = head + f"{code},,35-44,safe,satisfied,\n"
    errors = client.post(SURVEYS, upload(text), format="multipart").json()["errors"]["rows"]
    assert [(e["line"], e["field"], e["message"]) for e in errors] == [(2, "date", "This field is required.")]
    rows = [
        {"area": cast.community_a1a.code, "month": month, "kind": "burglary", "count": 1}
        for month in ("2026/10", "2026/9", "2026-8")
    ]
    assert client.post(COUNTS, rows, format="json").status_code == 201
    assert sorted(m.month for m in PreventableCaseCount.objects.values_list("month", flat=True)) == [8, 9, 10]
    response = client.post(COUNTS, [dict(rows[0], month="10/2026")], format="json")
    assert response.json()["errors"]["rows"][0]["message"] == "Enter a month as YYYY-MM."
    for month, message in (("2026-13", "There is no month 2026-13."), ("", "This field is required.")):
        response = client.post(COUNTS, [dict(rows[0], month=month)], format="json")
        assert response.json()["errors"]["rows"][0]["message"] == message


def test_dates_written_the_chinese_way_or_with_points_are_read(cast):
    """Typed by hand in WPS or Excel, a date reads 2026年11月5日 or 2026.11.5 (a month 2026年10月):
    each row was refused with "Enter a date as YYYY-MM-DD", though year first nothing is ambiguous.
    Mixed or half-written forms stay refused."""
    head = "area,date,age_group,safety,satisfaction,weight\n"
    code = cast.grid_a.code
    good = ["2026年11月5日", "2026年1月05日", "2026.11.5", "2026.1.05"]
    text = head + "".join(f"{code},{day},35-44,safe,satisfied,\n" for day in good)
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    days = sorted(SurveyResponse.objects.values_list("date", flat=True))
    assert days == [dt.date(2026, 1, 5)] * 2 + [dt.date(2026, 11, 5)] * 2
    bad = ["2026年11月5", "2026年11-5日", "2026.11/5", "2026年13月1日", "11.5.2026", "2026年11月"]
    text = head + "".join(f"{code},{day},35-44,safe,satisfied,\n" for day in bad)
    errors = client.post(SURVEYS, upload(text), format="multipart").json()["errors"]["rows"]
    assert [(e["line"], e["field"]) for e in errors] == [(n, "date") for n in range(2, 8)]
    rows = [
        {"area": cast.community_a1a.code, "month": month, "kind": "burglary", "count": 1}
        for month in ("2026年10月", "2026年9月")
    ]
    assert client.post(COUNTS, rows, format="json").status_code == 201, rows
    assert sorted(m.month for m in PreventableCaseCount.objects.values_list("month", flat=True)) == [9, 10]
    # Not a month with a point: Excel takes 2026.10 for the number 2026.1, which would read as January.
    for month in ("2026年10", "2026.10"):
        response = client.post(COUNTS, [dict(rows[0], month=month)], format="json")
        assert response.json()["errors"]["rows"][0]["message"] == "Enter a month as YYYY-MM."


def test_case_counts_are_imported_and_a_resent_row_replaces_the_count(cast):
    client = api_client(cast.analyst)
    rows = [
        {"area": cast.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 3},
        {"area": cast.community_a1a.code, "month": "2026-10", "kind": "ebike_theft", "count": 0},
    ]
    assert client.post(COUNTS, rows, format="json").status_code == 201
    rows[0]["count"] = 4
    assert client.post(COUNTS, rows[:1], format="json").status_code == 201
    assert PreventableCaseCount.objects.get(kind="burglary").count == 4
    assert PreventableCaseCount.objects.count() == 2


def test_bad_case_count_rows_are_all_reported(cast, settings):
    settings.PREVENTABLE_CASE_KINDS = ["burglary"]
    text = (
        "area,month,kind,count\n"
        f"{cast.community_a1a.code},2026-10,burglary,3\n"
        f"{cast.community_a1a.code},2026-10,ebike_theft,1\n"  # line 3: kind not in the setting
        # line 4: month format. Not 2026/10, which Excel on Chinese Windows saves and is read as
        # October (year first is unambiguous); the month before the year is refused.
        f"{cast.community_a1a.code},10/2026,burglary,1\n"
        f"{cast.community_a1a.code},2026-09,burglary,-2\n"  # line 5: negative
        f"{cast.community_a1a.code},2026-10,burglary,5\n"  # line 6: duplicate of line 2
        f"{cast.community_a1a.code},2099-01,burglary,5\n"  # line 7: future
        f"{cast.community_a1a.code},2026-08,burglary,99999999999\n"  # line 8: absurd
    )
    response = api_client(cast.analyst).post(COUNTS, upload(text, "counts.csv"), format="multipart")
    assert response.status_code == 400
    got = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert got == [(3, "kind"), (4, "month"), (5, "count"), (6, "kind"), (7, "month"), (8, "count")]
    assert "line 6" not in response.json()["errors"]["rows"][3]["message"]
    assert "line 2" in response.json()["errors"]["rows"][3]["message"]
    assert PreventableCaseCount.objects.count() == 0


def test_counts_of_an_area_without_a_population_are_refused_naming_the_area(cast):
    # The rate divides by the population: cases without residents would inflate the street's rate.
    Area.objects.filter(pk=cast.community_a1b.pk).update(population=0)
    rows = [
        {"area": cast.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 3},
        {"area": cast.community_a1b.code, "month": "2026-10", "kind": "burglary", "count": 2},
    ]
    response = api_client(cast.analyst).post(COUNTS, rows, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]["rows"]
    assert (error["line"], error["field"]) == (2, "area")
    assert cast.community_a1b.code in error["message"] and "population" in error["message"]
    assert PreventableCaseCount.objects.count() == 0


POPULATIONS = "/api/v1/stats/populations/"


def test_populations_by_year_are_imported_and_a_resent_row_replaces_the_figure(cast, settings):
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    client = api_client(cast.analyst)
    text = f"area,year,population\n{cast.community_a1a.code},2025,1480\n{cast.community_a1a.code},2026,1520\n"
    response = client.post(POPULATIONS, upload(text, "pop.csv"), format="multipart")
    assert response.status_code == 201 and response.json()["rows"] == 2
    rows = [{"area": cast.community_a1a.code, "year": 2026, "population": 1600}]
    assert client.post(POPULATIONS, rows, format="json").status_code == 201
    assert dict(AreaPopulation.objects.values_list("year", "population")) == {2025: 1480, 2026: 1600}
    assert ImportBatch.objects.filter(kind="population").count() == 2


def test_bad_population_rows_are_all_reported_and_nothing_written(cast, settings):
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    this_year = timezone.localdate().year
    rows = [
        {"area": cast.community_a1a.code, "year": 2025, "population": 1500},
        {"area": "999999999999", "year": 2025, "population": 1500},  # line 2: unknown area
        {"area": cast.community_a1a.code, "year": this_year + 1, "population": 1500},  # 3: future
        {"area": cast.community_a1a.code, "year": 2023, "population": "15OO"},  # 4: too early, not digits
        {"area": cast.community_a1a.code, "year": 2025, "population": 0},  # 5: zero; same as line 1
        {"area": cast.community_a1a.code, "year": "2024", "population": 1500, "households": 500},  # 6
    ]
    response = api_client(cast.analyst).post(POPULATIONS, rows, format="json")
    assert response.status_code == 400
    errors = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert errors == [
        (2, "area"), (3, "year"), (4, "year"), (4, "population"), (5, "population"), (5, "year"),
        (6, "households"),
    ]  # fmt: skip
    # A district analyst may not set another district's figure: refused like an unknown code.
    district = make_user("district_analyst", Role.ANALYST, cast.district_a)
    rows = [{"area": cast.community_b1a.code, "year": 2025, "population": 900}]
    response = api_client(district).post(POPULATIONS, rows, format="json")
    assert response.status_code == 400 and response.json()["errors"]["rows"][0]["field"] == "area"
    assert not AreaPopulation.objects.exists() and not ImportBatch.objects.exists()
    assert api_client(cast.community_handler).post(POPULATIONS, rows, format="json").status_code == 403


def test_case_counts_need_a_population_for_their_year_and_the_command_imports_populations(cast, tmp_path):
    Area.objects.filter(pk=cast.community_a1b.pk).update(population=0)
    rows = [{"area": cast.community_a1b.code, "month": "2026-10", "kind": "burglary", "count": 2}]
    assert api_client(cast.analyst).post(COUNTS, rows, format="json").status_code == 400
    path = tmp_path / "pop.csv"
    path.write_text(f"area,year,population\n{cast.community_a1b.code},2026,1400\n", encoding="utf-8")
    out = StringIO()
    call_command("dashboards_import", "populations", str(path), stdout=out)
    assert "imported 1 rows" in out.getvalue()
    assert api_client(cast.analyst).post(COUNTS, rows, format="json").status_code == 201
    # A month refused as in the future or too early is not also asked for a population of its year.
    rows[0]["month"] = f"{timezone.localdate().year + 1}-01"
    response = api_client(cast.analyst).post(COUNTS, rows, format="json")
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(1, "month")]
    # Its figure is for 2026: a count of 2025 still has no population to divide by.
    rows[0]["month"] = "2025-10"
    response = api_client(cast.analyst).post(COUNTS, rows, format="json")
    assert response.status_code == 400 and "2025" in response.json()["errors"]["rows"][0]["message"]


def test_the_import_command_reports_every_bad_line_and_writes_nothing(cast, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="5 error"):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert f"{path}:3: area:" in err.getvalue() and f"{path}:5: weight:" in err.getvalue()
    assert SurveyResponse.objects.count() == 0


def test_the_import_command_imports_a_good_file_and_dry_runs(cast, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    out = StringIO()
    call_command("dashboards_import", "surveys", str(path), "--dry-run", stdout=out)
    assert "3 rows are valid" in out.getvalue() and SurveyResponse.objects.count() == 0
    call_command("dashboards_import", "surveys", str(path), stdout=out)
    assert SurveyResponse.objects.count() == 3
    # A dry run of the same file says what the import would: already imported (it said "valid").
    with pytest.raises(CommandError, match="imported already"):
        call_command("dashboards_import", "surveys", str(path), "--dry-run", stdout=out)
    call_command("dashboards_import", "surveys", str(path), "--dry-run", "--again", stdout=out)
    assert SurveyResponse.objects.count() == 3
    counts = tmp_path / "counts.csv"
    counts.write_text(
        f"area,month,kind,count\n{cast.community_a1a.code},2026-10,burglary,2\n", encoding="utf-8"
    )
    call_command("dashboards_import", "case-counts", str(counts), stdout=out)
    assert PreventableCaseCount.objects.get().month == dt.date(2026, 10, 1)


def test_a_city_asking_another_scale_names_its_labels_and_the_nth_label_is_the_nth_answer(cast, settings):
    # DOMAIN.md: some cities ask 安全 / 比较安全 / 一般 / 不太安全 / 不安全. Their 安全 is the top answer,
    # the default scale's 安全 the second one: the labels are a setting, read by position.
    settings.SURVEY_SAFETY_LABELS = ("安全", "比较安全", "一般", "不太安全", "不安全")
    text = (
        "area,date,age_group,safety,satisfaction\n"
        "340102001001001,2026-11-02,35-44,安全,满意\n"
        "340102001001001,2026-11-02,35-44,比较安全,满意\n"
        "340102001001001,2026-11-02,35-44,一般,满意\n"
        "340102001001001,2026-11-02,35-44,不知道,满意\n"
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    assert list(SurveyResponse.objects.order_by("id").values_list("safety", flat=True)) == [
        "very_safe",
        "safe",
        "basically_safe",
        "dont_know",
    ]
    # The default scale's top label is no answer on this one: reported on its line, nothing written.
    response = api_client(cast.analyst).post(
        SURVEYS, upload(text.replace("比较安全", "很安全")), format="multipart"
    )
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(3, "safety")]
    assert SurveyResponse.objects.count() == 4


def test_a_city_asking_another_satisfaction_scale_is_read_by_position(cast, settings):
    # DOMAIN.md: the satisfaction scale is measured "by the same method", so its labels are a setting
    # too (SURVEY_SATISFACTION_LABELS): the n-th label is the n-th answer of the scale.
    settings.SURVEY_SATISFACTION_LABELS = ("非常满意", "满意", "一般", "不满意", "非常不满意")
    day = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    text = (
        "area,date,age_group,safety,satisfaction\n"
        f"340102001001001,{day},35-44,安全,非常满意\n"
        f"340102001001001,{day},35-44,安全,满意\n"
        f"340102001001001,{day},35-44,安全,一般\n"
        f"340102001001001,{day},35-44,安全,非常不满意\n"
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    assert list(SurveyResponse.objects.order_by("id").values_list("satisfaction", flat=True)) == [
        "satisfied",
        "fairly_satisfied",
        "basically_satisfied",
        "dissatisfied",
    ]
    # The default scale's 比较满意 is no answer on this one: reported on its line, nothing written.
    response = api_client(cast.analyst).post(
        SURVEYS, upload(text.replace("一般", "比较满意")), format="multipart"
    )
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(4, "satisfaction")]
    assert SurveyResponse.objects.count() == 4


@pytest.mark.parametrize(
    "labels",
    [
        ("安全", "比较安全", "一般", "不安全"),  # four: the fifth answer would have no label
        ("安全", "安全", "一般", "不太安全", "不安全"),  # one label for two answers
        ("安全", "比较安全", "一般", "不太安全", "不清楚"),  # "don't know" as an answer that counts
        "安全,比较安全,一般,不太安全,不安全",  # a string, read letter by letter
    ],
)
def test_a_scale_setting_that_cannot_be_read_by_position_fails_loudly(cast, settings, labels):
    settings.SURVEY_SAFETY_LABELS = labels
    with pytest.raises(ImproperlyConfigured, match="SURVEY_SAFETY_LABELS must be 5 different labels"):
        api_client(cast.analyst).post(SURVEYS, upload(GOOD_CSV), format="multipart")
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_errors_are_reported_in_the_order_of_the_lines(cast, tmp_path):
    """The shape checks (a value beyond the columns, an item that is no object, an unknown field)
    ran before the values', so their lines came first: line 4 before line 3, line 9 before line 2,
    and the detail's "first five" skipped the first bad lines of the file."""
    text = (
        "area,date,age_group,safety,satisfaction,weight\n"
        "340102001001001,2026-11-02,35-44,safe,satisfied,1\n"
        "340102001001001,2026-11-02,35-44,safe,satisfied,0\n"  # line 3: weight
        "340102001001001,2026-11-02,35-44,safe,satisfied,1,5\n"  # line 4: a decimal comma
        "340102001001001,2026-13-02,12-15,safe,satisfied,1\n"  # line 5: date, age_group
    )
    response = api_client(cast.analyst).post(
        SURVEYS, upload(text), format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    got = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert got == [(3, "weight"), (4, "row"), (5, "date"), (5, "age_group")]
    assert response.json()["detail"].index("line 3") < response.json()["detail"].index("line 4")
    good = {"area": cast.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 3}
    rows = [{**good, "count": -1}, "x", {**good, "kind": "home_robbery", "extra": 1}]
    response = api_client(cast.analyst).post(COUNTS, rows, format="json")
    got = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert got == [(1, "count"), (2, "row"), (3, "extra")]
    # The command prints them in the same order.
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    lines = [line.split(":")[1] for line in err.getvalue().splitlines()]
    assert lines == ["3", "4", "5", "5"]
    assert SurveyResponse.objects.count() == 0 and PreventableCaseCount.objects.count() == 0


def test_an_area_code_with_a_nul_character_is_a_bad_line_not_a_server_error(cast):
    """PostgreSQL refuses NUL in a query: the import's area lookup raised ValueError, a 500."""
    row = {"area": cast.community_a1a.code + "\x00", "month": "2026-10", "kind": "burglary", "count": 3}
    good = {**row, "area": cast.community_a1a.code, "kind": "ebike_theft"}
    response = api_client(cast.analyst).post(COUNTS, [good, row], format="json")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(2, "area")]
    text = "area,date,age_group,safety,satisfaction\n3401020\x0001001001,2026-11-02,35-44,safe,satisfied\n"
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(2, "area")]
    assert PreventableCaseCount.objects.count() == 0 and SurveyResponse.objects.count() == 0


def test_a_row_is_numbered_by_the_line_it_starts_on_when_a_value_runs_over_lines(cast, tmp_path):
    """A quoted value over two lines numbered its row by the line it ended on: the error pointed
    into the middle of the value, and a blank line in between still counts as a line."""
    text = (
        "area,date,age_group,safety,satisfaction,weight\n"
        '340102001001001,2026-11-02,35-44,"很安全\n多行",满意,1\n'  # lines 2-3: safety
        "\n"  # line 4: blank, no row
        "340102001001001,2026-11-02,35-44,safe,satisfied,0\n"  # line 5: weight
        '340102001001001,2026-11-02,35-44,safe,"satisfied\n\n",1,7\n'  # lines 6-8: a surplus value
        "340102001001001,2026-13-01,35-44,safe,satisfied,1\n"  # line 9: date
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    got = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert got == [(2, "safety"), (5, "weight"), (6, "row"), (9, "date")]
    path = tmp_path / "multi.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert f"{path}:2: safety:" in err.getvalue() and f"{path}:9: date:" in err.getvalue()
    assert SurveyResponse.objects.count() == 0


def test_a_quotation_mark_never_closed_is_a_bad_line_not_a_server_error(cast, tmp_path):
    """A stray quotation mark takes in the rest of the file as one value; past 131,072 characters
    Python's csv reader raised csv.Error, a 500 from the API and a traceback from the command."""
    good = "340102001001001,2026-11-02,35-44,safe,satisfied,1\n"
    text = (
        "area,date,age_group,safety,satisfaction,weight\n"
        + good  # line 2
        + "340102001001001,2026-13-02,35-44,safe,satisfied,1\n"  # line 3: date
        + '340102001001001,2026-11-02,35-44,"safe,satisfied,1\n'  # line 4: the quote never closed
        + good * 3000
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    rows = response.json()["errors"]["rows"]
    assert [(e["line"], e["field"]) for e in rows] == [(3, "date"), (4, "row")]
    assert "quotation mark" in rows[1]["message"]
    path = tmp_path / "quote.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="2 error"):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert f"{path}:4: row:" in err.getvalue()
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_a_file_with_carriage_return_line_ends_is_read_line_by_line(cast):
    """Saved as "CSV (Macintosh)" (lines ending in CR alone) the file was one unreadable record:
    "There are no rows to import", every column "missing" and a quotation mark "never closed"."""
    text = (
        "area,date,age_group,safety,satisfaction\r"
        f"{cast.grid_a.code},2026-11-02,35-44,safe,satisfied\r"
        f"{cast.grid_b.code},2026-13-03,65+,unsafe,dissatisfied\r"  # line 3: the date
    )
    client = api_client(cast.analyst)
    refused = client.post(SURVEYS, upload(text), format="multipart")
    assert refused.status_code == 400
    assert [(e["line"], e["field"]) for e in refused.json()["errors"]["rows"]] == [(3, "date")]
    response = client.post(SURVEYS, upload(text.replace("2026-13-03", "2026-11-03")), format="multipart")
    assert response.status_code == 201 and SurveyResponse.objects.count() == 2


def test_the_same_answers_imported_twice_are_refused_unless_asked_for_again(cast, tmp_path):
    """Importing the same file twice counted every answer twice and moved the rates on nothing new."""
    client = api_client(cast.analyst)
    assert client.post(SURVEYS, upload(GOOD_CSV), format="multipart").status_code == 201
    header, *lines = GOOD_CSV.strip("\n").split("\n")
    resorted = "\n".join([header, *reversed(lines)]) + "\n"  # the same answers, exported in another order
    response = client.post(SURVEYS, upload(resorted), format="multipart")
    batch = ImportBatch.objects.get()
    assert response.status_code == 409 and list(response.json()["errors"]) == ["again"]
    assert f"batch {batch.pk}" in response.json()["detail"] and SurveyResponse.objects.count() == 3
    assert client.post(f"{SURVEYS}?again=maybe", upload(GOOD_CSV), format="multipart").status_code == 400
    again = client.post(f"{SURVEYS}?again=true", upload(GOOD_CSV), format="multipart")
    assert again.status_code == 201 and SurveyResponse.objects.count() == 6
    # One answer more is another batch, not the same one.
    more = GOOD_CSV + "340102001001001,2026-11-03,35-44,safe,satisfied,\n"
    assert client.post(SURVEYS, upload(more), format="multipart").status_code == 201
    path = tmp_path / "good.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="--again"):
        call_command("dashboards_import", "surveys", str(path), stdout=StringIO())
    call_command("dashboards_import", "surveys", str(path), "--again", stdout=StringIO())
    assert SurveyResponse.objects.count() == 4 + 6 + 3


@pytest.mark.django_db(transaction=True)
def test_one_file_sent_three_times_at_once_is_imported_once_on_postgres(postgres, cast):
    """The sends take turns on a transaction lock: the later ones find the first's batch."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(3)
    results: list = []

    def send():
        try:
            barrier.wait()
            results.append(
                intake.survey_responses_import(table=intake.table_from_csv(GOOD_CSV), actor=cast.analyst)
            )
        except Exception as exc:  # collected and asserted below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyImported", "AlreadyImported", "ImportBatch"]
    assert ImportBatch.objects.count() == 1 and SurveyResponse.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_case_count_files_with_the_same_rows_in_another_order_at_once_both_land(postgres, cast):
    """Each upsert locked its rows in file order: one file sorted by area, one by month waited for
    each other's rows, a deadlock and a 500. Written in one order, both are 201."""
    from tests.base import race

    areas = [cast.community_a1a, cast.community_a1b, cast.community_b1a, cast.street_a1, cast.street_b1]
    rows = [
        {"area": a.code, "month": f"2025-{m:02d}", "kind": k, "count": 1}
        for a in areas
        for m in range(1, 13)
        for k in ("burglary", "ebike_theft")
    ]

    def send(body):
        client = api_client(cast.analyst)
        client.raise_request_exception = False
        return client.post(COUNTS, body, format="json").status_code

    for _ in range(5):
        assert race(lambda: send(rows), lambda: send(rows[::-1])) == [201, 201]
    assert PreventableCaseCount.objects.count() == len(rows)


def test_a_workbook_sent_in_place_of_its_csv_is_one_error_saying_so(cast, tmp_path):
    # An .xlsx uploaded as it is gave a score of "line N: not UTF-8 (a spreadsheet saved as GBK?)"
    # errors, one per binary chunk, pointing at the wrong fix.
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["area", "month", "kind", "count"])
    book.active.append([cast.community_a1a.code, "2026-10", "burglary", 3])
    path = tmp_path / "cases.xlsx"
    book.save(path)
    response = api_client(cast.analyst).post(
        COUNTS, {"file": SimpleUploadedFile("cases.xlsx", path.read_bytes())}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        {
            "line": 0,
            "field": "file",
            "message": 'A spreadsheet workbook (.xlsx or .xls), not a CSV file: save it as "CSV UTF-8".',
        }
    ]
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("dashboards_import", "case-counts", str(path), stderr=err)
    assert (
        err.getvalue()
        == f'{path}:0: file: A spreadsheet workbook (.xlsx or .xls), not a CSV file: save it as "CSV UTF-8".\n'
    )
    assert PreventableCaseCount.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_rows_of_empty_cells_and_a_blank_line_before_the_header_are_no_rows(cast):
    # Excel leaves ",,,,," rows below the data; a blank first line made the header a data row
    # (every column "missing", every line "6 values beyond the named columns").
    text = "\r\n" + GOOD_CSV.replace("\n", "\r\n") + ",,,,,\r\n , ,,,,\r\n"
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["rows"] == 3 and SurveyResponse.objects.count() == 3
    # A header on line 2 is reported there, and the rows keep their own lines.
    text = (
        "\n"
        + "area,date,age_group,safety,satisfaction,wieght\n"
        + "340102001001001,2026-13-02,35-44,safe,satisfied,\n"
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [
        (2, "wieght"),
        (3, "date"),
    ]


def test_too_many_rows_are_refused_before_the_rows_are_checked(cast, settings):
    settings.INTAKE_MAX_ROWS = 5
    text = "area,date,age_group,safety,satisfaction,weight\n" + "999,2026-13-45,x,y,z,-1\n" * 31
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        {"line": 0, "field": "rows", "message": "At most 5 rows per import."}
    ]
    rows = [{"area": "999"}] * 6
    response = api_client(cast.analyst).post(SURVEYS, rows, format="json")
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(0, "rows")]
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_the_error_count_has_its_plural_form_in_the_api_and_the_command(cast, tmp_path):
    """ "1 error(s); nothing was imported." in the API's detail and the command's error: one error is
    "1 error", more are "errors", and in Chinese 个错误 (zh_Hans has one form)."""
    one = [
        {
            "area": "999",
            "date": "2026-11-01",
            "age_group": "25-34",
            "safety": "safe",
            "satisfaction": "satisfied",
        }
    ]
    client = api_client(cast.analyst)
    for language, said in (
        ("en", "1 error; nothing was imported. "),
        ("zh-hans", "1 个错误；未导入任何数据。"),
    ):
        response = client.post(SURVEYS, one, format="json", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400
        body = response.json()
        assert body["detail"].startswith(said) and body["error_count"] == 1
        assert body["errors"]["rows"][0]["field"] == "area"
    path = tmp_path / "one.csv"
    path.write_text("area,date,age_group,safety,satisfaction,weight\n999,2026-11-01,25-34,safe,satisfied,\n")
    for language, said in (
        ("en", "1 error; nothing was imported."),
        ("zh-hans", "1 个错误；未导入任何数据。"),
    ):
        with translation.override(language), pytest.raises(CommandError) as refused:
            call_command("dashboards_import", "surveys", str(path), stderr=StringIO())
        assert str(refused.value) == said
    # A line with one value too many: "1 value beyond the named columns".
    path.write_text(
        "area,date,age_group,safety,satisfaction,weight\n999,2026-11-01,25-34,safe,satisfied,,x\n"
    )
    err = StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert "2: row: 1 value beyond the named columns" in err.getvalue()
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_the_detail_counts_errors_and_an_address_parameter_is_refused(cast):
    # One bad row with four errors was "4 invalid row(s)"; ?dry_run=true (the command's option)
    # imported for real.
    rows = [{"area": "999", "date": "x", "age_group": "y", "safety": "very_safe", "satisfaction": "q"}]
    response = api_client(cast.analyst).post(SURVEYS, rows, format="json")
    assert response.json()["detail"].startswith("4 errors; nothing was imported.")
    good = [
        {
            "area": cast.grid_a.code,
            "date": "2026-11-01",
            "age_group": "25-34",
            "safety": "safe",
            "satisfaction": "satisfied",
        }
    ]
    response = api_client(cast.analyst).post(SURVEYS + "?dry_run=true", good, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["dry_run"]
    response = api_client(cast.analyst).post(COUNTS + "?again=true", [{"area": "x"}], format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["again"]
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0
    response = api_client(cast.analyst).post(SURVEYS + "?again=false", good, format="json")
    assert response.status_code == 201


def test_the_command_speaks_the_site_language_and_refuses_again_for_case_counts(cast, tmp_path, settings):
    path = tmp_path / "cases.csv"
    path.write_text("area,month,kind,count\n999999999999,2026-10,burglary,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="--again is for surveys only"):
        call_command("dashboards_import", "case-counts", str(path), "--again")
    from django.utils import translation

    err = StringIO()
    with translation.override("zh-hans"), pytest.raises(CommandError) as refused:
        call_command("dashboards_import", "case-counts", str(path), stderr=err)
    assert str(refused.value) == "1 个错误；未导入任何数据。"
    # No user, no scope: the code is unknown, not "outside your scope".
    assert err.getvalue() == f"{path}:2: area: 没有代码为 999999999999 的区域。\n"
    assert PreventableCaseCount.objects.count() == 0


FULL_WIDTH = str.maketrans("0123456789-.+", "０１２３４５６７８９－．＋")


def test_full_width_digits_typed_with_a_chinese_input_method_are_read_as_digits(cast, settings):
    # A clerk typing with a Chinese input method in full-width mode enters ２０２６－１１－０２: the
    # row was refused with "Enter a date as YYYY-MM-DD" and "No area with code ３４０１…", messages
    # naming exactly what the cell seemed to hold.
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    client = api_client(cast.analyst)
    text = (
        "area,date,age_group,safety,satisfaction,weight\r\n"
        + f"{cast.grid_a.code},2026-11-02,65+,很安全,满意,1.5\r\n".translate(FULL_WIDTH)
    )
    response = client.post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    row = SurveyResponse.objects.get()
    assert (row.area, row.date, row.age_group, row.weight) == (cast.grid_a, dt.date(2026, 11, 2), "65+", 1.5)
    text = "area,month,kind,count\n" + f"{cast.community_a1a.code},2026-10,burglary,12\n".translate(
        FULL_WIDTH
    )
    response = client.post(COUNTS, upload(text, "counts.csv"), format="multipart")
    assert response.status_code == 201, response.json()
    assert PreventableCaseCount.objects.get().count == 12


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_text_file_is_one_error_saying_how_to_save_it(cast, encoding):
    # Excel's "Unicode Text" saves UTF-16 (with a BOM): its bytes split on each 0x0A and 0x0D gave
    # lines that are not the file's ("line 3" of a file of two lines), each "saved as GBK?".
    text = "area,month,kind,count\r\n" + f"{cast.community_a1a.code},2026-10,burglary,3\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    response = api_client(cast.analyst).post(
        COUNTS, {"file": SimpleUploadedFile("cases.txt", data)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["rows"] == [
        {
            "line": 0,
            "field": "file",
            "message": 'UTF-16 text (Excel\'s "Unicode Text"), not a CSV file: save it as "CSV UTF-8".',
        }
    ]
    assert PreventableCaseCount.objects.count() == 0


def test_an_area_code_a_spreadsheet_wrote_in_scientific_notation_is_named_as_such(cast):
    # Excel reads a 12- or 15-digit code as a number and saves it as 3.40102E+11: every row was
    # "No area with code 3.40102E+11", a code the clerk never typed, with nothing to say why.
    text = "area,month,kind,count\r\n3.40102E+11,2026-10,burglary,3\r\n340102001001,2026-10,burglary,3\r\n"
    response = api_client(cast.analyst).post(COUNTS, upload(text, "cases.csv"), format="multipart")
    assert response.status_code == 400
    (error,) = response.json()["errors"]["rows"]
    assert (error["line"], error["field"]) == (2, "area")
    assert "3.40102E+11" in error["message"] and "scientific notation" in error["message"]
    assert "as text" in error["message"]
    assert PreventableCaseCount.objects.count() == 0


def test_survey_weights_and_dates_at_their_limits_are_read_or_reported_on_their_lines(cast, settings):
    """Weights from 0.001 to 99999 with at most 3 decimals (a CSV cell or a JSON number), dates from
    ROLLUP_FIRST_MONTH to today (the local day), an area of any level; the rest each on its line,
    and nothing written."""
    settings.ROLLUP_FIRST_MONTH = "2020-01-01"
    today = timezone.localdate()
    good = {"area": cast.city.code, "date": today.isoformat(), "age_group": "65+", "safety": "safe",
            "satisfaction": "satisfied"}  # fmt: skip
    rows = [
        {**good, "weight": 0.001},  # 1: the smallest weight, a JSON number
        {**good, "weight": "99999"},  # 2: the largest
        {**good, "weight": "1E2"},  # 3: 100, written in exponent form
        {**good, "weight": None},  # 4: no weight: 1
        {**good, "weight": 0},  # 5
        {**good, "weight": "-1"},  # 6
        {**good, "weight": "NaN"},  # 7
        {**good, "weight": "Infinity"},  # 8
        {**good, "weight": 1e-05},  # 9: str() writes it 1e-05
        {**good, "weight": "1.0005"},  # 10: four decimals
        {**good, "weight": "100000"},  # 11
        {**good, "weight": True},  # 12
        {**good, "date": (today + dt.timedelta(days=1)).isoformat()},  # 13: tomorrow
        {**good, "date": "2019-12-31"},  # 14: before ROLLUP_FIRST_MONTH
        {**good, "date": "2020-01-01", "area": cast.grid_d.code},  # 15: the first day, a grid
        {**good, "weight": "1_5"},  # 16: Decimal() reads 15 (a count refuses it: _whole_number)
    ]
    response = api_client(cast.analyst).post(SURVEYS, rows, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    got = [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]]
    assert got == [(n, "weight") for n in range(5, 13)] + [(13, "date"), (14, "date"), (16, "weight")]
    assert response.json()["errors"]["rows"][-3]["message"] == "The date is in the future."
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0
    ok = [r for n, r in enumerate(rows, 1) if n in (1, 2, 3, 4, 15)]
    assert api_client(cast.analyst).post(SURVEYS, ok, format="json").status_code == 201
    weights = SurveyResponse.objects.order_by("weight").values_list("area__level", "weight")
    assert [(level, float(w)) for level, w in weights] == [
        ("city", 0.001), ("city", 1), ("grid", 1), ("city", 100), ("city", 99999)
    ]  # fmt: skip


def test_a_header_of_chinese_column_names_is_read_as_the_columns(cast, settings):
    """A sheet made in a Chinese office heads its columns 区域代码, 日期 ...: every row was refused
    with ten header errors, the file had to be re-headed in English."""
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    client = api_client(cast.analyst)
    survey = "区域代码,日期,年龄段,安全感,满意度,权重\n340102001001001,2026/11/2,35-44,很安全,满意,2\n"
    assert client.post(SURVEYS, upload(survey), format="multipart").status_code == 201
    assert list(SurveyResponse.objects.values_list("safety", "weight")) == [("very_safe", 2)]
    code = cast.community_a1a.code
    counts = f"区划代码,月份,案件类型,案件数\n{code},2026-10,burglary,3\n"
    assert client.post(COUNTS, upload(counts, "cases.csv"), format="multipart").status_code == 201
    populations = f" 区域代码 ,年份,常住人口\n{code},2025,1480\n"
    assert client.post(POPULATIONS, upload(populations, "pop.csv"), format="multipart").status_code == 201
    assert PreventableCaseCount.objects.get().count == 3 and AreaPopulation.objects.get().population == 1480
    # A column given twice, once in each language, is named once; an unknown one keeps its name.
    twice = "area,区域代码,日期,年龄段,安全感,满意度,备注\n340102001001001,340102001001001,2026-11-02,35-44,safe,satisfied,x\n"
    response = client.post(SURVEYS, upload(twice), format="multipart")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(1, "备注"), (1, "area")]
    assert SurveyResponse.objects.count() == 1


def test_police_kinds_may_be_given_by_their_chinese_names(cast, settings):
    """A police export names the kinds 入室盗窃, 盗窃电动自行车 ...: every row was refused, while a
    survey's answers were already read by their Chinese labels."""
    code = cast.community_a1a.code
    text = f"area,month,kind,count\n{code},2026-10,入室盗窃,3\n{code},2026-10,盗窃电动自行车,1\n{code},2026-10,burglary,2\n"
    response = api_client(cast.analyst).post(COUNTS, upload(text, "cases.csv"), format="multipart")
    assert response.status_code == 400  # line 4 is line 2's kind again, by its code
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(4, "kind")]
    response = api_client(cast.analyst).post(
        COUNTS, upload(text.rsplit("\n", 2)[0] + "\n", "c.csv"), format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert dict(PreventableCaseCount.objects.values_list("kind", "count")) == {
        "burglary": 3,
        "ebike_theft": 1,
    }
    unknown = [{"area": code, "month": "2026-09", "kind": "诈骗", "count": 1}]
    message = (
        api_client(cast.analyst).post(COUNTS, unknown, format="json").json()["errors"]["rows"][0]["message"]
    )
    assert message == (
        "'诈骗' is not one of: burglary, home_robbery, motor_vehicle_theft, ebike_theft, "
        "入室盗窃, 入户抢劫, 盗窃机动车, 盗窃电动自行车."
    )
    # The names are a setting, code=name; a kind not counted keeps no name.
    settings.PREVENTABLE_CASE_KINDS = ("burglary", "fraud")
    settings.PREVENTABLE_CASE_KIND_LABELS = (
        "burglary=入室盗窃",
        "fraud=电信诈骗",
        "ebike_theft=盗窃电动自行车",
    )
    rows = [
        {"area": code, "month": "2026-08", "kind": kind, "count": 1}
        for kind in ("电信诈骗", "盗窃电动自行车")
    ]
    response = api_client(cast.analyst).post(COUNTS, rows, format="json")
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(2, "kind")]


@pytest.mark.parametrize(
    "labels",
    [
        ("burglary",),
        ("burglary=入室盗窃", "home_robbery=入室盗窃"),
        ("burglary=",),
        ("burglary=home_robbery",),
    ],
)
def test_kind_names_that_cannot_be_read_stop_the_import(cast, settings, labels):
    settings.PREVENTABLE_CASE_KIND_LABELS = labels
    with pytest.raises(ImproperlyConfigured, match="PREVENTABLE_CASE_KIND_LABELS"):
        intake.case_kind_labels()


def test_whole_numbers_may_have_thousands_separators_as_excel_saves_them(cast, settings):
    """A population formatted 15,230 in Excel (the usual number format of a statistics sheet) is
    saved so in the CSV: every row was refused "Enter a whole number", with no word of the commas."""
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    code = cast.community_a1a.code
    client = api_client(cast.analyst)
    populations = f'area,year,population\n{code},2025,"15,230"\n{code},2026,"1,015,230"\n'
    assert client.post(POPULATIONS, upload(populations, "pop.csv"), format="multipart").status_code == 201
    assert dict(AreaPopulation.objects.values_list("year", "population")) == {2025: 15230, 2026: 1015230}
    counts = (
        f'area,month,kind,count\n{code},2026-10,burglary,"1,200"\n{code},2026-10,ebike_theft,１，２００\n'
    )
    assert client.post(COUNTS, upload(counts, "cases.csv"), format="multipart").status_code == 201
    assert set(PreventableCaseCount.objects.values_list("count", flat=True)) == {1200}
    # Not a decimal comma, nor groups of other than three digits.
    bad = [
        {"area": code, "month": "2026-09", "kind": kind, "count": count}
        for kind, count in zip(
            DEFAULT_PREVENTABLE_CASE_KINDS, ("1,5", "12,34", ",200", "1,2000"), strict=True
        )
    ]
    response = client.post(COUNTS, bad, format="json")
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [
        (1, "count"), (2, "count"), (3, "count"), (4, "count")
    ]  # fmt: skip


def test_age_groups_may_be_written_as_a_chinese_questionnaire_labels_them(cast):
    """A questionnaire export labels the groups 35-44岁 and 65岁及以上: every row was refused."""
    text = "area,date,age_group,safety,satisfaction\n" + "".join(
        f"340102001001001,2026-11-02,{age},safe,satisfied\n"
        for age in ("16-24岁", "35-44岁", "65岁及以上", "65岁以上", "65+")
    )
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    assert sorted(SurveyResponse.objects.values_list("age_group", flat=True)) == [
        "16-24", "35-44", "65+", "65+", "65+"
    ]  # fmt: skip
    bad = "area,date,age_group,safety,satisfaction\n340102001001001,2026-11-02,12-15岁,safe,satisfied\n"
    response = api_client(cast.analyst).post(SURVEYS, upload(bad), format="multipart")
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(2, "age_group")]


# A header as Excel exports and hands edit it: a BOM, capitals, spaces and ideographic spaces
# around the names. Each value padded with spaces, ideographic spaces (U+3000) and a zero-width
# space (U+200B, pasted from a web page) around it.
LOOSE_SURVEY = (
    "\ufeff Area ,DATE,\u3000Age_Group\u3000,SAFETY,Satisfaction,  Weight \r\n"
    "\u3000340102001001001\u3000, 2026-11-02 ,\u300035-44 ,很安全\u3000, 满意 ,\u200b2 \r\n"
    "340102001001002\u200b,\u30002026/11/3,65岁及以上\u3000,\tdont_know , satisfied\u3000, \r\n"
)


def test_header_names_match_whatever_their_case_and_spaces_and_values_are_trimmed(cast, tmp_path):
    """``Area``, `` date ``, ``AGE_GROUP`` (an Excel export, a hand-edited file) were each an unknown
    column and the file was refused; a value with a space or an ideographic space around it is the
    value."""
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, upload(LOOSE_SURVEY), format="multipart")
    assert response.status_code == 201, response.json()
    rows = SurveyResponse.objects.order_by("date").values_list(
        "area__code", "date", "age_group", "safety", "satisfaction", "weight"
    )
    assert [tuple(map(str, r)) for r in rows] == [
        ("340102001001001", "2026-11-02", "35-44", "very_safe", "satisfied", "2.000"),
        ("340102001001002", "2026-11-03", "65+", "dont_know", "satisfied", "1.000"),
    ]
    # The command reads a file the same way (case counts here: the answers are imported already).
    path = tmp_path / "cases.csv"
    path.write_bytes(
        "\ufeff AREA\u3000,Month,KIND , Count\r\n"
        f"\u3000{cast.community_a1a.code} , 2026-10\u3000,入室盗窃\u3000, 3 \r\n".encode()
    )
    out = StringIO()
    call_command("dashboards_import", "case-counts", str(path), stdout=out)
    assert "imported 1 rows" in out.getvalue()
    assert list(PreventableCaseCount.objects.values_list("area", "kind", "count")) == [
        (cast.community_a1a.pk, "burglary", 3)
    ]
    # Chinese names with full-width spaces around them, in a GBK file.
    populations = (
        f"\u3000区域代码\u3000,  年份 ,常住人口\u3000\r\n {cast.community_a1a.code}\u3000,2025, 1480 \r\n"
    )
    response = client.post(
        POPULATIONS,
        {"file": SimpleUploadedFile("pop.csv", populations.encode("gb18030"))},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert AreaPopulation.objects.get().population == 1480


@pytest.mark.parametrize(
    "header, named",
    [
        ("Area,area,date,age_group,safety,satisfaction", ["“Area” (column A)", "“area” (column B)"]),
        ("区域代码,date,age_group,safety,satisfaction, AREA", ["“区域代码” (column A)", "“AREA” (column F)"]),
        (
            "area,date,age_group,safety,satisfaction,weight,weight",
            ["“weight” (column F)", "“weight” (column G)"],
        ),
    ],
)
def test_two_header_names_that_mean_one_column_are_refused_naming_both(cast, tmp_path, header, named):
    """``Area`` and ``area``, or ``area`` and 区域代码, now name one column: which of the two holds
    the codes? The file is refused on line 1, both names and their places in the sheet given."""
    text = f"{header}\r\n340102001001001,340102001001001,2026-11-02,35-44,safe,satisfied,1\r\n"
    response = api_client(cast.analyst).post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 400
    errors = [e for e in response.json()["errors"]["rows"] if e["line"] == 1]
    twice = [e for e in errors if "more than once" in e["message"]]
    assert len(twice) == 1, errors
    assert twice[0]["field"] == ("weight" if "weight,weight" in header else "area")
    assert all(name in twice[0]["message"] for name in named), twice[0]["message"]
    path = tmp_path / "survey.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert all(name in err.getvalue() for name in named), err.getvalue()
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_json_keys_stay_exact_while_their_values_are_trimmed(cast):
    """A JSON row is written by a program against the documented field names: ``Area`` is reported
    as an unknown field (a client with a misspelt key learns it at once), while its values are
    trimmed as a CSV cell's are."""
    good = {"area": "\u3000340102001001001 ", "date": " 2026-11-02", "age_group": "35-44\u3000",
            "safety": " 很安全 ", "satisfaction": "满意\u200b"}  # fmt: skip
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, [{**good, "Area": good["area"]}], format="json")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]["rows"]] == [(1, "Area")]
    assert client.post(SURVEYS, [good], format="json").status_code == 201
    assert list(SurveyResponse.objects.values_list("area__code", "safety")) == [
        ("340102001001001", "very_safe")
    ]


def test_answer_and_kind_codes_are_read_in_any_case_and_stored_canonical(cast, tmp_path):
    """``Safe``, ``VERY_SAFE`` or `` safe `` (a spreadsheet's capitalisation, a value typed by hand)
    were refused although the codes are only ever lower case: they are the documented code, in a CSV
    cell and a JSON value alike. An unknown answer is still refused on its line."""
    text = (
        "area,date,age_group,safety,satisfaction\n"
        "340102001001001,2026-11-02,35-44,Safe,SATISFIED\n"
        "340102001001001,2026-11-03,65+,VERY_SAFE, Fairly_Satisfied \n"
        "340102001001001,2026-11-04,16-24, safe ,Dont_Know\n"
    )
    client = api_client(cast.analyst)
    response = client.post(SURVEYS, upload(text), format="multipart")
    assert response.status_code == 201, response.json()
    assert list(SurveyResponse.objects.order_by("date").values_list("safety", "satisfaction")) == [
        ("safe", "satisfied"), ("very_safe", "fairly_satisfied"), ("safe", "dont_know")
    ]  # fmt: skip
    row = {"area": "340102001001001", "date": "2026-11-05", "age_group": "25-34",
           "safety": "Basically_Safe", "satisfaction": "\u3000NOT_VERY_SATISFIED"}  # fmt: skip
    response = client.post(SURVEYS, [row], format="json")
    assert response.status_code == 201, response.json()
    assert SurveyResponse.objects.get(date=dt.date(2026, 11, 5)).safety == "basically_safe"
    assert SurveyResponse.objects.get(date=dt.date(2026, 11, 5)).satisfaction == "not_very_satisfied"
    # Still no guessing: a misspelt code is refused on its line, as it was written, and nothing saved.
    bad = [row | {"date": "2026-11-06"}, row | {"date": "2026-11-06", "safety": "Very-Safe"}]
    response = client.post(SURVEYS, bad, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["rows"]
    assert [(e["line"], e["field"]) for e in errors] == [(2, "safety")]
    assert "'Very-Safe'" in errors[0]["message"]
    assert SurveyResponse.objects.count() == 4
    # The command reads the file the same way; police kinds are codes too.
    path = tmp_path / "survey.csv"
    path.write_text(
        "area,date,age_group,safety,satisfaction\n340102001001001,2026-11-07,45-54,UNSAFE,Dissatisfied\n",
        encoding="utf-8",
    )
    call_command("dashboards_import", "surveys", str(path), stdout=StringIO())
    assert SurveyResponse.objects.get(date=dt.date(2026, 11, 7)).safety == "unsafe"
    counts = tmp_path / "counts.csv"
    counts.write_text(
        f"area,month,kind,count\n{cast.community_a1a.code},2026-10,Burglary,2\n"
        f"{cast.community_a1a.code},2026-10, EBIKE_THEFT ,1\n",
        encoding="utf-8",
    )
    call_command("dashboards_import", "case-counts", str(counts), stdout=StringIO())
    assert sorted(PreventableCaseCount.objects.values_list("kind", "count")) == [
        ("burglary", 2), ("ebike_theft", 1)
    ]  # fmt: skip
    response = client.post(
        COUNTS, [{"area": cast.community_a1a.code, "month": "2026-09", "kind": "Motor_Vehicle_Theft",
                  "count": 4}], format="json"
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert PreventableCaseCount.objects.get(month=dt.date(2026, 9, 1)).kind == "motor_vehicle_theft"
    path.write_text(
        "area,date,age_group,safety,satisfaction\n340102001001001,2026-11-08,45-54,Fairly,satisfied\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("dashboards_import", "surveys", str(path), stderr=err)
    assert f"{path}:2: safety:" in err.getvalue()


def test_a_kind_code_as_written_wins_over_one_differing_only_in_case(cast, settings):
    """Folding reads a value that is no code as written: two kinds a deployment spells apart stay apart."""
    settings.PREVENTABLE_CASE_KINDS = ("Theft", "theft")
    settings.PREVENTABLE_CASE_KIND_LABELS = ()
    code = cast.community_a1a.code
    rows = [
        {"area": code, "month": "2026-10", "kind": k, "count": n} for k, n in (("Theft", 1), ("theft", 2))
    ]
    response = api_client(cast.analyst).post(COUNTS, rows, format="json")
    assert response.status_code == 201, response.json()
    assert sorted(PreventableCaseCount.objects.values_list("kind", "count")) == [("Theft", 1), ("theft", 2)]
